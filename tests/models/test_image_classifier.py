import numpy as np
import pytest

from factory_checks import check_factory

import cvseq
from cvseq import image_classifier

BAD_ARGUMENTS = {
    "image_size": (8, "a"),
    "dropout": 1.5,
    "backbone": "no_such_backbone",
    "weights": "missing/file.weights.h5",
    "multi_label": "yes",
    "train_backbone": "no",
}


def _images(batch=2, size=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (batch, size, size, 3)).astype("uint8")


def test_single_label():
    model = check_factory(
        image_classifier,
        args=(3,),
        kwargs=dict(image_size=16),
        inputs=_images(),
        targets=np.array([0, 2]),
        output_shape=(2, 3),
        bad_arguments=BAD_ARGUMENTS,
    )
    probabilities = model.predict(_images(), verbose=0)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-5)
    assert model.get_layer("predictions").dtype_policy.name == "float32"


def test_multi_label():
    model = check_factory(
        image_classifier,
        args=(4,),
        kwargs=dict(image_size=(16, 24), multi_label=True),
        inputs=np.random.default_rng(1).integers(0, 256, (2, 16, 24, 3)).astype("uint8"),
        targets=np.array([[1, 0, 1, 0], [0, 0, 0, 1]], "float32"),
        output_shape=(2, 4),
    )
    assert model.get_layer("predictions").activation.__name__ == "sigmoid"


def test_frozen_backbone_trains_only_the_head():
    model = image_classifier(3, image_size=16, train_backbone=False)
    assert cvseq.backbones.get_backbone(model).trainable_weights == []
    assert [w.path for w in model.trainable_weights] == [
        "predictions/kernel", "predictions/bias"
    ]


def test_single_label_needs_two_classes():
    with pytest.raises(ValueError, match="num_classes"):
        image_classifier(1, image_size=16)
