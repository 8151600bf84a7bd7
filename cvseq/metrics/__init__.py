"""Task metrics that Keras lacks, on well-kept libraries where they exist.

One module per family (detection, text, tracking, ...); each function is
re-exported here.
"""

from cvseq.metrics.text import (  # noqa: E402
    bleu,
    classification_scores,
    exact_match,
    next_token_scores,
    unigram_baseline,
)
