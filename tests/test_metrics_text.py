import numpy as np
import pytest

from cvseq import metrics


def test_bleu_and_exact_match():
    references = ["el gato negro duerme en la casa", "hora de Europa central"]
    assert metrics.bleu(references, references) == pytest.approx(100.0)
    assert metrics.bleu(references, ["nada", "nada"]) < 5
    partial = metrics.bleu(references, ["el gato negro duerme", "hora de Europa central"])
    assert 20 < partial < 100
    assert metrics.bleu(["Alemania"], ["Alemana"], tokenize="char") > 50
    assert metrics.exact_match(references, [references[0], "x"]) == 0.5
    with pytest.raises(ValueError, match="hypotheses"):
        metrics.bleu(references, ["one"])


def test_classification_scores():
    scores = metrics.classification_scores([0, 1, 1, 1], [[0.9, 0.1], [0.2, 0.8],
                                                           [0.6, 0.4], [0.3, 0.7]])
    assert scores["accuracy"] == 0.75
    assert scores["f1"] == pytest.approx((2 / 3 + 0.8) / 2)


def test_next_token_scores_skip_ignored_ids():
    probabilities = np.array([[[0.1, 0.7, 0.2], [0.2, 0.2, 0.6], [1 / 3] * 3]])
    targets = np.array([[1, 1, 0]])
    scores = metrics.next_token_scores(probabilities, targets)
    assert scores["tokens"] == 2 and scores["accuracy"] == 0.5
    assert scores["nll"] == pytest.approx(-(np.log(0.7) + np.log(0.2)) / 2)
    assert scores["perplexity"] == pytest.approx(np.exp(scores["nll"]))


def test_unigram_baseline_counts_training_tokens():
    train = np.array([[1, 1, 1, 2, 0, 0]])
    test = np.array([[1, 2, 0]])
    scores = metrics.unigram_baseline(train, test, vocabulary_size=3)
    # Add-one: p(1) = 4/6, p(2) = 2/6; padding neither counted nor scored.
    assert scores["nll"] == pytest.approx(-(np.log(4 / 6) + np.log(2 / 6)) / 2)
    assert scores["accuracy"] == 0.5  # always predicts 1
