import numpy as np
import pytest

import cvseq
from cvseq.datasets import digit_images, digits


def test_images_are_the_fixed_split_upsampled_to_rgb():
    images, labels, names = digit_images.generate("test", image_size=(16, 24))
    raw, raw_labels = digits.digit_images("test")
    assert images.shape == (len(raw), 16, 24, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(labels, raw_labels)
    np.testing.assert_array_equal(images[..., 0], images[..., 2])
    assert names == [str(d) for d in range(10)]


def test_classes_and_examples_per_class_make_small_tasks():
    images, labels, names = digit_images.generate(
        "train", image_size=8, classes=[7, 3], examples_per_class=4
    )
    assert names == ["7", "3"]
    assert np.bincount(labels).tolist() == [4, 4]
    raw, raw_labels = digits.digit_images("train")
    sevens = raw[raw_labels == 7][:4]
    np.testing.assert_array_equal(images[labels == 0][..., 0], sevens)


def test_load_fits_the_classifier():
    ds, info = cvseq.datasets.load(
        "digits", "validation", image_size=16, batch_size=8, with_info=True
    )
    images, labels = next(iter(ds))
    assert images.shape == (8, 16, 16, 3) and labels.dtype.name == "int32"
    assert info.task == "image_classifier" and info.num_classes == 10
    model = cvseq.image_classifier(10, image_size=16)
    model.fit(ds.take(1), verbose=0)


def test_bad_classes():
    with pytest.raises(ValueError, match="classes"):
        digit_images.generate("train", classes=[3])
    with pytest.raises(ValueError, match="classes"):
        digit_images.generate("train", classes=[3, 12])
