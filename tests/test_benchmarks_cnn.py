"""The CNN benchmark's plain Keras baselines compute the same functions as
the cvseq models: same parameters, and with cvseq's weights copied in, the
same predictions, the same loss and metrics, and the same optimizer."""

import json
import os
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import cvseq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks"))
import cnn_factories  # noqa: E402

SIZE = 16
rng = np.random.default_rng(0)
IMAGES = rng.integers(0, 256, (2, SIZE, SIZE, 3)).astype("uint8")
CLIPS = rng.integers(0, 256, (2, 4, SIZE, SIZE, 3)).astype("uint8")


def _pair(name, **kwargs):
    keras.utils.set_random_seed(0)
    kit = getattr(cvseq, name)(**kwargs["kit"])
    keras.utils.set_random_seed(1)  # different weights, until copied
    plain = getattr(cnn_factories, f"plain_{name}")(**kwargs["plain"])
    return kit, plain


def _copy_weights(kit, plain):
    """Copies cvseq's weights into the plain model; they must line up."""
    assert kit.count_params() == plain.count_params()
    assert [tuple(w.shape) for w in kit.weights] == [tuple(w.shape) for w in plain.weights]
    plain.set_weights(kit.get_weights())


def _same_training_setup(kit, plain, inputs, targets):
    """Same optimizer settings, and the same loss and metrics on a batch
    (computed eagerly: tracing `evaluate` for each model costs seconds)."""
    def optimizer(model):
        return {k: v for k, v in model.optimizer.get_config().items() if k != "name"}

    assert optimizer(kit) == optimizer(plain)
    scores = []
    for model in (kit, plain):
        predictions = model(inputs, training=False)
        loss = model.compute_loss(x=inputs, y=targets, y_pred=predictions)
        metrics = model.compute_metrics(inputs, targets, predictions)
        scores.append({**{k: float(v) for k, v in metrics.items()}, "loss": float(loss)})
    assert set(scores[0]) == set(scores[1])
    for key in scores[0]:
        np.testing.assert_allclose(scores[1][key], scores[0][key], rtol=1e-4, atol=1e-5,
                                   err_msg=key)


def _same_gradients(kit, plain, inputs, targets):
    """One training-mode forward pass (batch statistics), the loss and its
    gradients agree, eagerly. Only for models without dropout, whose masks
    would differ."""
    gradients = []
    for model in (kit, plain):
        with tf.GradientTape() as tape:
            predictions = model(inputs, training=True)
            loss = model.compute_loss(x=inputs, y=targets, y_pred=predictions)
        gradients.append(tape.gradient(loss, model.trainable_variables))
    assert len(gradients[0]) == len(gradients[1])
    for kit_gradient, plain_gradient in zip(*gradients):
        scale = float(keras.ops.max(keras.ops.abs(kit_gradient))) + 1e-12
        np.testing.assert_allclose(plain_gradient / scale, kit_gradient / scale, atol=1e-4)


@pytest.mark.parametrize("name, kwargs, inputs, targets", [
    ("image_classifier",
     {"kit": dict(num_classes=3, image_size=SIZE), "plain": dict(num_classes=3, image_size=SIZE)},
     IMAGES, np.array([0, 2])),
    ("image_segmenter",
     {"kit": dict(num_classes=4, image_size=SIZE), "plain": dict(num_classes=4, image_size=SIZE)},
     IMAGES, rng.integers(0, 4, (2, SIZE, SIZE)).astype("int32")),
    ("video_classifier_3d",
     {"kit": dict(num_classes=3, frames=4, image_size=SIZE),
      "plain": dict(num_classes=3, frames=4, image_size=SIZE)},
     CLIPS, np.array([1, 2])),
])
def test_plain_baseline_is_the_same_function(name, kwargs, inputs, targets):
    kit, plain = _pair(name, **kwargs)
    assert not np.allclose(kit(inputs), plain(inputs))
    _copy_weights(kit, plain)
    np.testing.assert_allclose(plain(inputs), kit(inputs), atol=1e-5)
    _same_training_setup(kit, plain, inputs, targets)
    if name == "image_segmenter":
        _same_gradients(kit, plain, inputs, targets)


def test_plain_detector_is_the_same_function():
    size = 32  # YOLOv8 reads strides 8, 16 and 32
    images = rng.integers(0, 256, (2, size, size, 3)).astype("uint8")
    kit, plain = _pair("object_detector",
                       kit=dict(num_classes=3, image_size=size, backbone="yolo_v8_tiny"),
                       plain=dict(num_classes=3, image_size=size, backbone="yolo_v8_tiny"))
    _copy_weights(kit, plain)
    # Raw head outputs (what the loss reads) ...
    kit_raw, plain_raw = kit(images), plain(images)
    for key in ("boxes", "classes"):
        np.testing.assert_allclose(plain_raw[key], kit_raw[key], atol=1e-5)
    # ... decoded by the same non-max suppression (cvseq's `predict` renames
    # keras-cv's keys, which its own tests check; tracing it here costs seconds).
    def decoder(model):
        return {k: v for k, v in model.prediction_decoder.get_config().items() if k != "name"}

    assert decoder(kit) == decoder(plain)
    # The benchmark's targets carry cvseq's "labels" and keras-cv's "classes".
    labels = np.array([[1, -1], [0, 2]], "int32")
    targets = {"boxes": np.array([[[2, 3, 15, 20], [-1] * 4], [[5, 5, 10, 25], [15, 1, 30, 10]]],
                                 "float32"),
               "labels": labels, "classes": labels}
    _same_training_setup(kit, plain, images, targets)
    _same_gradients(kit, plain, images, targets)


def test_main_prints_one_row_per_factory(capsys):
    result = cnn_factories.main(["--only", "image_classifier", "--steps", "1", "--rounds", "1",
                                 "--batch-size", "4", "--image-size", str(SIZE)])
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(json.dumps(result))
    assert set(printed) == {"machine", "settings", "image_classifier"}
    assert printed["settings"]["image_sizes"] == {"image_classifier": SIZE}
    row = printed["image_classifier"]
    assert row["unit"] == "images/s" and row["parameters"] > 0
    assert row["data"] == f"digits, {SIZE}x{SIZE}, batch 4"
    assert row["cvseq"] > 0 and row["plain_keras"] > 0
    assert row["ratio_cvseq_over_plain_keras"] == pytest.approx(
        row["cvseq"] / row["plain_keras"], rel=1e-2)


def test_a_failing_factory_is_recorded_not_raised(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no baseline")

    monkeypatch.setattr(cnn_factories, "build", broken)
    row = cnn_factories.measure("image_segmenter", batch_size=2, steps=1, rounds=1)
    assert row == {"error": "RuntimeError: no baseline"}


def test_plain_losses_match_cvseq_losses():
    from cvseq.models import DiceCrossEntropy
    from cvseq.models.object_detector import ClassCrossEntropy

    rng = np.random.default_rng(3)
    logits = rng.normal(0, 4, (2, 8, 8, 5)).astype("float32")
    probabilities = keras.ops.softmax(logits)
    masks = rng.integers(0, 5, (2, 8, 8)).astype("int32")
    np.testing.assert_allclose(
        keras.ops.mean(cnn_factories.dice_cross_entropy(5)(masks, probabilities)),
        DiceCrossEntropy(5)(masks, probabilities), rtol=1e-5)
    # Class scores of detector anchors, some far below keras-cv's 1e-7 clip.
    scores = keras.ops.sigmoid(rng.normal(-10, 6, (2, 30, 3)).astype("float32"))
    targets = rng.uniform(0, 1, (2, 30, 3)).astype("float32")
    np.testing.assert_allclose(cnn_factories.ClassCrossEntropy()(targets, scores),
                               ClassCrossEntropy()(targets, scores), rtol=1e-5)
