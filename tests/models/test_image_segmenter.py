import keras
import numpy as np
import pytest

from factory_checks import check_factory

import cvseq
from cvseq import image_segmenter
from cvseq.models import DiceCrossEntropy

BAD_ARGUMENTS = {
    "image_size": (30, 32),  # not a multiple of small_cnn's stride 8
    "backbone": "no_such_backbone",
    "weights": "missing/file.weights.h5",
    "train_backbone": "no",
}


def _images(batch=2, size=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (batch, size, size, 3)).astype("uint8")


def test_segmenter():
    masks = np.random.default_rng(1).integers(0, 4, (2, 16, 16))
    model = check_factory(
        image_segmenter,
        args=(4,),
        kwargs=dict(image_size=16),
        inputs=_images(),
        targets=masks,
        output_shape=(2, 16, 16, 4),
        bad_arguments=BAD_ARGUMENTS,
    )
    probabilities = model.predict(_images(), verbose=0)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-5)
    names = [m.name for m in model.metrics[-1].metrics]
    assert {"accuracy", "mean_iou"} <= set(names)
    # U-Net: transposed convolutions up, one per stride, each with a skip.
    ups = [l for l in model.layers if isinstance(l, keras.layers.Conv2DTranspose)]
    skips = [l for l in model.layers if isinstance(l, keras.layers.Concatenate)]
    assert len(ups) == len(skips) == 3  # small_cnn: strides 8 -> 4 -> 2 -> 1


def test_keras_application_encoder_and_size_check():
    model = image_segmenter(3, image_size=32, backbone="mobilenet_v3_small", compile=False)
    assert model.output.shape == (None, 32, 32, 3)
    with pytest.raises(ValueError, match="multiple of the backbone's output stride"):
        image_segmenter(3, image_size=48, backbone="mobilenet_v3_small")


def test_frozen_encoder_and_backbone_reuse(tmp_path):
    model = image_segmenter(3, image_size=16, train_backbone=False)
    encoder = cvseq.backbones.get_backbone(model)
    assert encoder.trainable_weights == [] and model.trainable_weights
    path = str(tmp_path / "encoder.keras")
    encoder.save(path)
    # The encoder serves a classifier (its coarsest map) and another segmenter.
    classifier = cvseq.image_classifier(5, image_size=16, backbone=path)
    assert classifier.output.shape == (None, 5)
    again = image_segmenter(3, image_size=24, backbone=path)
    assert again.output.shape == (None, 24, 24, 3)


def test_dice_cross_entropy():
    loss = DiceCrossEntropy(3)
    truth = np.array([[[0, 1], [2, 2]]])
    perfect = np.eye(3, dtype="float32")[truth]
    assert float(loss(truth, perfect)) < 1e-3 + float(
        keras.losses.sparse_categorical_crossentropy(truth, perfect).numpy().mean()
    )
    uniform = np.full((1, 2, 2, 3), 1 / 3, "float32")
    assert float(loss(truth, uniform)) > float(loss(truth, perfect)) + 1.0
    restored = DiceCrossEntropy.from_config(loss.get_config())
    assert restored.num_classes == 3


def test_default_rate_warms_up_then_decays_whatever_the_epochs():
    from cvseq.training import WarmUpInverseSqrt

    config = image_segmenter(3, image_size=16).optimizer.get_config()
    schedule = keras.saving.deserialize_keras_object(config["learning_rate"])
    assert isinstance(schedule, WarmUpInverseSqrt)
    rates = [float(schedule(step)) for step in (0, 124, 249, 999, 9999)]
    assert rates[0] < rates[1] < rates[2] and rates[2] == pytest.approx(2e-3)
    assert rates[3] == pytest.approx(1e-3, rel=1e-3)
    assert rates[2] > rates[3] > rates[4] > 0


@pytest.mark.parametrize("argument, value", [("peak", 0), ("peak", "2e-3"),
                                             ("warmup_steps", 0), ("warmup_steps", 2.5)])
def test_the_schedule_names_a_bad_argument(argument, value):
    from cvseq.training import WarmUpInverseSqrt

    with pytest.raises((ValueError, TypeError), match=f"`{argument}`.*Received"):
        WarmUpInverseSqrt(**{argument: value})
