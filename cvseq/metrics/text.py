"""Metrics for text and token sequences: F1, perplexity, BLEU, exact match.

BLEU is sacrebleu's corpus BLEU; F1 is scikit-learn's. The next-token
scores take a model's probabilities and the target ids, skipping padding
(and any other ids asked), so a held-out figure and its baseline are
computed on exactly the same tokens.
"""

import numpy as np


def classification_scores(y_true, probabilities):
    """Accuracy and macro-averaged F1 of class probabilities.

    Args:
        y_true: int array `(n,)`. True classes.
        probabilities: float array `(n, num_classes)`.

    Returns:
        `{"accuracy": float, "f1": float}`.
    """
    from sklearn.metrics import f1_score

    y_true = np.asarray(y_true).ravel()
    y_pred = np.asarray(probabilities).argmax(-1).ravel()
    return {
        "accuracy": float((y_true == y_pred).mean()),
        "f1": float(f1_score(y_true, y_pred, average="macro")),
    }


def _kept(target_ids, ignore_ids):
    target_ids = np.asarray(target_ids)
    return ~np.isin(target_ids, list(ignore_ids)), target_ids


def next_token_scores(probabilities, target_ids, *, ignore_ids=(0,)):
    """Accuracy, negative log-likelihood and perplexity of next-token predictions.

    Args:
        probabilities: float array `(..., vocabulary_size)`.
        target_ids: int array `(...)`. The true next tokens.
        ignore_ids: ids not scored (padding; e.g. also an end token).
            Defaults to `(0,)`.

    Returns:
        `{"accuracy", "nll" (nats per token), "perplexity" (exp of nll),
        "tokens" (number scored)}`.
    """
    keep, target_ids = _kept(target_ids, ignore_ids)
    probabilities = np.asarray(probabilities, "float64")
    p_true = np.take_along_axis(probabilities, target_ids[..., None], axis=-1)[..., 0]
    nll = -np.log(np.clip(p_true[keep], 1e-12, 1.0))
    correct = probabilities.argmax(-1)[keep] == target_ids[keep]
    return {
        "accuracy": float(correct.mean()),
        "nll": float(nll.mean()),
        "perplexity": float(np.exp(nll.mean())),
        "tokens": int(keep.sum()),
    }


def unigram_baseline(train_ids, target_ids, *, vocabulary_size, ignore_ids=(0,)):
    """Scores of a model that ignores context: training token frequencies.

    The unigram distribution (add-one smoothed over the vocabulary, ignored
    ids excluded) predicts every held-out token; its argmax is the
    most-frequent-token baseline.

    Args:
        train_ids: int array. Training targets, to count.
        target_ids: int array. Held-out targets, to score.
        vocabulary_size: int.
        ignore_ids: ids neither counted nor scored. Defaults to `(0,)`.

    Returns:
        The same dict as `next_token_scores`.
    """
    keep, train_ids = _kept(train_ids, ignore_ids)
    counts = np.bincount(train_ids[keep], minlength=vocabulary_size).astype("float64")
    counts += 1.0
    counts[list(ignore_ids)] = 0.0
    unigram = counts / counts.sum()
    target_ids = np.asarray(target_ids)
    probabilities = np.broadcast_to(unigram, target_ids.shape + (vocabulary_size,))
    return next_token_scores(probabilities, target_ids, ignore_ids=ignore_ids)


def bleu(references, hypotheses, *, tokenize="13a"):
    """Corpus BLEU (0-100) of translations against one reference each.

    Args:
        references: list of str.
        hypotheses: list of str, aligned with `references`.
        tokenize: sacrebleu tokenizer: `"13a"` (words, the WMT standard),
            `"char"` (characters, for short names), `"intl"`, ... Defaults to
            `"13a"`.

    Returns:
        float. sacrebleu's corpus BLEU score.
    """
    import sacrebleu

    references, hypotheses = list(references), list(hypotheses)
    if len(references) != len(hypotheses):
        raise ValueError(
            f"Got {len(references)} references but {len(hypotheses)} hypotheses."
        )
    return float(
        sacrebleu.corpus_bleu(hypotheses, [references], tokenize=tokenize).score
    )


def exact_match(references, hypotheses):
    """Fraction of hypotheses equal to their reference (whitespace-trimmed)."""
    pairs = list(zip(references, hypotheses))
    if not pairs:
        return 0.0
    return float(np.mean([r.strip() == h.strip() for r, h in pairs]))


__all__ = [
    "bleu",
    "classification_scores",
    "exact_match",
    "next_token_scores",
    "unigram_baseline",
]
