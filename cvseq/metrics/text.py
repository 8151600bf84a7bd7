"""Metrics for text and token sequences: F1, perplexity, BLEU, exact match.

BLEU is sacrebleu's corpus BLEU; F1 is scikit-learn's. The next-token
scores take a model's probabilities and the target ids, skipping padding
(and any other ids asked), so a held-out figure and its baseline are
computed on exactly the same tokens.
"""

import numbers

import numpy as np

from cvseq._validation import check_int


def _texts(name, texts):
    """`texts` as a list of str (`cvseq.text.text_list`; bytes are refused
    here, not decoded: a score of undecoded text would mislead)."""
    from cvseq.text import text_list

    return text_list(name, texts, allow_empty=True, decode_bytes=False)


def _paired(references, hypotheses):
    references = _texts("references", references)
    hypotheses = _texts("hypotheses", hypotheses)
    if len(references) != len(hypotheses):
        raise ValueError(f"Got {len(references)} references but {len(hypotheses)} "
                         "hypotheses: give one hypothesis per reference.")
    if not references:
        raise ValueError("No references and hypotheses to score: both are empty.")
    return references, hypotheses


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
    probabilities = np.asarray(probabilities)
    if probabilities.ndim < 2 or probabilities.shape[0] != len(y_true) or not len(y_true):
        raise ValueError(
            f"`probabilities` must be (n, num_classes) for the n={len(y_true)} labels "
            f"of `y_true` (at least one). Received shape {probabilities.shape}.")
    y_pred = probabilities.argmax(-1).ravel()
    return {
        "accuracy": float((y_true == y_pred).mean()),
        "f1": float(f1_score(y_true, y_pred, average="macro")),
    }


def _id_tuple(ids):
    """`ignore_ids` as a tuple (one int is one id)."""
    return (ids,) if isinstance(ids, numbers.Integral) else tuple(ids)


def _kept(target_ids, ignore_ids):
    target_ids = np.asarray(target_ids)
    if target_ids.dtype.kind == "f" and np.array_equal(target_ids, np.round(target_ids)):
        target_ids = target_ids.astype(np.int64)  # 2.0 is id 2
    if target_ids.dtype.kind not in "iu":
        raise TypeError(f"`target_ids` must be integer token ids. Received dtype "
                        f"{target_ids.dtype}.")
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
    ignore_ids = _id_tuple(ignore_ids)
    keep, target_ids = _kept(target_ids, ignore_ids)
    probabilities = np.asarray(probabilities, "float64")
    if target_ids.shape != probabilities.shape[:-1]:
        raise ValueError(
            f"`target_ids` must have the shape of `probabilities` without its last "
            f"axis, {probabilities.shape[:-1]}. Received shape {target_ids.shape}.")
    vocabulary_size = probabilities.shape[-1]
    if not np.all(np.isfinite(probabilities)) or probabilities.min() < 0 or not np.allclose(
            probabilities.sum(-1), 1.0, atol=1e-3):
        raise ValueError(
            "`probabilities` must be probability rows (each in [0, 1], summing to 1). "
            "Received rows that do not sum to 1, or negative or NaN values: logits? "
            "Apply a softmax first (keras.ops.softmax(logits)).")
    if target_ids.size and (target_ids.min() < 0 or target_ids.max() >= vocabulary_size):
        raise ValueError(
            f"`target_ids` must be ids from 0 to {vocabulary_size - 1} (the "
            f"probabilities' last axis). Received ids from {target_ids.min()} to "
            f"{target_ids.max()}.")
    if not keep.any():
        raise ValueError(f"Every target id is ignored ({sorted(ignore_ids)}): no token "
                         "to score.")
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
    vocabulary_size = check_int("vocabulary_size", vocabulary_size)
    ignore_ids = _id_tuple(ignore_ids)
    keep, train_ids = _kept(train_ids, ignore_ids)
    counted = train_ids[keep]
    if not counted.size:
        raise ValueError("`train_ids` holds no token to count (empty, or every id "
                         "ignored).")
    if counted.min() < 0 or counted.max() >= vocabulary_size:
        raise ValueError(
            f"`train_ids` must be ids from 0 to {vocabulary_size - 1} "
            f"(vocabulary_size={vocabulary_size}). Received ids from {counted.min()} "
            f"to {counted.max()}.")
    outside = [i for i in ignore_ids if not 0 <= i < vocabulary_size]
    if outside:
        raise ValueError(f"`ignore_ids` {outside} are not ids of a vocabulary of "
                         f"{vocabulary_size}.")
    counts = np.bincount(counted, minlength=vocabulary_size).astype("float64")
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

    references, hypotheses = _paired(references, hypotheses)
    return float(
        sacrebleu.corpus_bleu(hypotheses, [references], tokenize=tokenize).score
    )


def exact_match(references, hypotheses):
    """Fraction of hypotheses equal to their reference (whitespace-trimmed).

    `references` and `hypotheses` are lists of str of one length (at least
    one pair); anything else is an error, not a score."""
    references, hypotheses = _paired(references, hypotheses)
    return float(np.mean([r.strip() == h.strip() for r, h in zip(references, hypotheses)]))


__all__ = [
    "bleu",
    "classification_scores",
    "exact_match",
    "next_token_scores",
    "unigram_baseline",
]
