import gzip
import os

import numpy as np
import pytest

import cvseq
from cvseq.datasets import fashion_images
from cvseq.datasets.registry import DatasetUnavailableError

pytestmark = pytest.mark.skipif(
    not os.path.isdir(fashion_images.DEFAULT_DIR) and not os.environ.get("CI"),
    reason="Fashion-MNIST files absent: apt-get install dataset-fashion-mnist "
    "(.ci/run installs it, so CI never skips)",
)


def test_splits_are_disjoint_and_cover_the_official_sets():
    train, train_labels = fashion_images.fashion_images("train")
    validation, _ = fashion_images.fashion_images("validation")
    test, test_labels = fashion_images.fashion_images("test")
    assert train.shape == (50_000, 28, 28) and validation.shape == (10_000, 28, 28)
    assert test.shape == (10_000, 28, 28) and test_labels.dtype == np.int32
    # Every class is there in roughly equal numbers (the official sets are balanced).
    assert np.bincount(test_labels).tolist() == [1000] * 10
    assert np.bincount(train_labels).min() > 4500
    # Train and validation are two parts of the official training set, no
    # image in both (compared byte for byte).
    train_keys = {image.tobytes() for image in train}
    assert not any(image.tobytes() in train_keys for image in validation)


def test_subset_is_fixed_and_resized_to_rgb():
    images, labels = fashion_images.generate("train", image_size=(16, 24),
                                             examples_per_class=3)
    assert images.shape == (30, 16, 24, 3) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [3] * 10
    np.testing.assert_array_equal(images[..., 0], images[..., 2])
    again, again_labels = fashion_images.generate("train", image_size=(16, 24),
                                                  examples_per_class=3)
    np.testing.assert_array_equal(again, images)
    # At 28x28 the pixels are the files' own.
    raw, raw_labels = fashion_images.fashion_images("train")
    native, native_labels = fashion_images.generate("train", image_size=28,
                                                    examples_per_class=3)
    first_bags = raw[raw_labels == 8][:3]
    np.testing.assert_array_equal(native[native_labels == 8][..., 1], first_bags)


def test_load_fits_the_classifier():
    ds, info = cvseq.datasets.load("fashion_products", "validation", image_size=16,
                                   examples_per_class=2, batch_size=8, with_info=True)
    images, labels = next(iter(ds))
    assert images.shape == (8, 16, 16, 3) and labels.dtype.name == "int32"
    assert info.task == "image_classifier" and info.num_classes == 10
    assert info.num_examples == 20 and info.class_names[9] == "ankle boot"
    assert cvseq.datasets.list_datasets()["fashion_products"] == "image_classifier"


def test_missing_files_say_how_to_install(tmp_path):
    with pytest.raises(DatasetUnavailableError, match="apt-get install dataset-fashion-mnist"):
        fashion_images.generate("test", data_dir=str(tmp_path))


def test_data_dir_reads_the_same_files_anywhere(tmp_path):
    # A folder with the four files (here: a tiny hand-made copy) works as well.
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    for prefix, count in (("train", 2), ("t10k", 2)):
        with gzip.open(tmp_path / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(b"\0" * 16 + images[:count].tobytes())
        with gzip.open(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(b"\0" * 8 + bytes([3, 7]))
    test, labels = fashion_images.generate("test", image_size=28, data_dir=str(tmp_path))
    np.testing.assert_array_equal(test[..., 0], images)
    assert labels.tolist() == [3, 7]


def test_bad_options():
    with pytest.raises(TypeError, match="unknown option"):
        cvseq.datasets.load("fashion_products", "test", classes=[1, 2])
    with pytest.raises(ValueError, match="split"):
        fashion_images.generate("dev")
    with pytest.raises(ValueError, match="examples_per_class"):
        fashion_images.generate("test", examples_per_class=0)
