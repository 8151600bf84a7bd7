"""The plain Keras baselines of benchmarks/sequence_factories.py are the
factories' models: same parameters and, with the cvseq weights copied in,
the same outputs."""

import json
import os
import sys

import numpy as np
import pytest

import cvseq
from cvseq import text
from cvseq.datasets import captions

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks"))
import sequence_factories as bench  # noqa: E402

LINES = ["to be or not to be that is the question",
         "whether tis nobler in the mind to suffer",
         "the slings and arrows of outrageous fortune"]
SPECIALS = (text.START, text.END)


def _strings(items):
    return np.array(items, dtype=object)


def assert_same_function(kit, plain, inputs):
    """Equal parameter counts; with kit's weights, plain predicts the same."""
    assert kit.count_params() == plain.count_params()
    kit_shapes = [tuple(w.shape) for w in kit.weights]
    plain_shapes = [tuple(w.shape) for w in plain.weights]
    assert kit_shapes == plain_shapes, "weights do not line up in order"
    # Random, non-trivial values (BN statistics included), then copied.
    rng = np.random.default_rng(0)
    values = [rng.normal(0.5, 0.1, w.shape).astype("float32") if "variance" in w.path
              else rng.normal(0, 0.3, w.shape).astype("float32") for w in kit.weights]
    kit.set_weights(values)
    plain.set_weights(kit.get_weights())
    expected = kit.predict(inputs, verbose=0)
    np.testing.assert_allclose(plain.predict(inputs, verbose=0), expected, atol=1e-5)
    assert np.std(expected) > 1e-3  # the comparison is not between constants


def test_text_classifier():
    vocabulary = text.build_vocabulary(LINES, max_tokens=50)
    kit = cvseq.text_classifier(2, vocabulary=vocabulary, sequence_length=6, units=8)
    tokens, tokenizer = bench.tokenizer_of(vocabulary)
    plain = bench.plain_text_classifier(2, tokens, sequence_length=6, units=8, **tokenizer)
    assert_same_function(kit, plain, _strings(LINES + ["Unknown words, THE END"]))


@pytest.mark.parametrize("level", ["word", "character"])
def test_language_model(level):
    vocabulary = text.build_vocabulary(LINES, level=level)
    windows, _ = text.language_model_windows(LINES, vocabulary=vocabulary, sequence_length=6)
    kit = cvseq.language_model(vocabulary=vocabulary, sequence_length=6, units=8)
    tokens, tokenizer = bench.tokenizer_of(vocabulary)
    plain = bench.plain_language_model(tokens, sequence_length=6, units=8, **tokenizer)
    assert_same_function(kit, plain, windows)


def test_translator():
    sources, targets = ["Germany", "Spain", "France"], ["Alemania", "España", "Francia"]
    source = text.build_vocabulary(sources, level="character")
    target = text.build_vocabulary(targets, level="character")
    kit = cvseq.translator(source_vocabulary=source, target_vocabulary=target,
                           sequence_length=(10, 12), units=8)
    tokens, tokenizer = bench.tokenizer_of(source)
    plain = bench.plain_translator(tokens, text.vocabulary_size(target, SPECIALS),
                                   sequence_length=(10, 12), units=8, **tokenizer)
    inputs, _ = text.teacher_forcing_inputs(sources, targets, target_vocabulary=target,
                                            sequence_length=(10, 12))
    assert_same_function(kit, plain, inputs)
    assert_same_next_token_compile(kit, plain)


def assert_same_next_token_compile(kit, plain):
    """The plain model compiles as the factory does: the optimizer's rate and
    clipping, the loss (padding ignored), metric names, and an accuracy that
    skips padding like the factory's."""
    for key in ("learning_rate", "clipnorm"):
        assert plain.optimizer.get_config()[key] == kit.optimizer.get_config()[key], key
    assert plain.loss.get_config() == kit.loss.get_config()
    assert plain.jit_compile == kit.jit_compile is False

    def metrics(model):
        return [m for m in model._compile_metrics._user_metrics]

    assert [m.name for m in metrics(plain)] == [m.name for m in metrics(kit)]
    y_true = np.array([[3, 1, 0, 0]])
    y_pred = np.eye(4)[[[3, 2, 0, 0]]].astype("float32")  # right, wrong, padding
    for ours, theirs in zip(metrics(kit), metrics(plain)):
        ours.update_state(y_true, y_pred)
        theirs.update_state(y_true, y_pred)
        np.testing.assert_allclose(float(theirs.result()), float(ours.result()), rtol=1e-6)


def test_sequence_generator():
    vocabulary = ["60:1", "62:1", "64:1", "64:2", "62:0.5"]
    melodies = [["60:1", "62:1", "64:2"], ["64:1", "62:1", "60:1", "60:1", "62:0.5"]]
    inputs, _ = text.token_sequence_inputs(melodies, vocabulary=vocabulary, sequence_length=4)
    kit = cvseq.sequence_generator(vocabulary=vocabulary, sequence_length=4, units=8)
    plain = bench.plain_sequence_generator(vocabulary, sequence_length=4, units=8)
    assert_same_function(kit, plain, inputs)


def test_image_captioner():
    images, texts = captions.generate_captions("train", num_images=4, image_size=(24, 24))
    inputs, _ = captions.caption_inputs(images, texts, vocabulary=captions.VOCABULARY,
                                        sequence_length=8)
    kit = cvseq.image_captioner(vocabulary=captions.VOCABULARY, image_size=24,
                                sequence_length=8, units=8)
    plain = bench.plain_image_captioner(
        text.vocabulary_size(captions.VOCABULARY, SPECIALS), image_size=(24, 24),
        sequence_length=8, units=8)
    assert_same_function(kit, plain, inputs)


def test_trajectory_predictor():
    past = np.random.default_rng(1).uniform(size=(4, 5, 2)).astype("float32")
    kit = cvseq.trajectory_predictor(history=5, horizon=3, units=8)
    plain = bench.plain_trajectory_predictor(history=5, horizon=3, units=8)
    assert_same_function(kit, plain, past)


def test_main_prints_one_row_per_factory(capsys):
    result = bench.main(["--only", "trajectory_predictor", "--steps", "1",
                         "--rounds", "1", "--batch-size", "4", "--batches", "2"])
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(json.dumps(result))
    assert {"machine", "settings", "trajectory_predictor"} <= set(printed)
    assert "language_model" not in printed
    row = printed["trajectory_predictor"]
    assert "error" not in row, row
    assert row["unit"] == "trajectories/s" and row["batch_size"] == 4
    assert row["cvseq"] > 0 and row["plain_keras"] > 0 and not row["synthetic_data"]
    assert row["parameters"] == cvseq.trajectory_predictor().count_params()


def test_a_failing_factory_is_recorded_not_fatal(monkeypatch, capsys):
    def broken(batch_size, num_batches):
        raise RuntimeError("no baseline")

    monkeypatch.setitem(bench.SETUPS, "translator", broken)
    result = bench.main(["--only", "translator", "--steps", "1", "--rounds", "1"])
    assert result["translator"] == {"error": "RuntimeError: no baseline"}
