"""The CNN TFDS adapters, offline on `tfds.testing.mock_data`."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

import cvseq


@pytest.mark.parametrize("name", ["cifar10", "fashion_mnist"])
def test_classification_adapters(name):
    with tfds.testing.mock_data(num_examples=4):
        ds, info = cvseq.datasets.load(
            name, "train", image_size=16, batch_size=4, with_info=True
        )
        images, labels = next(iter(ds))
    assert images.shape == (4, 16, 16, 3) and images.dtype.name == "uint8"
    assert labels.dtype.name == "int32"
    assert np.all((labels.numpy() >= 0) & (labels.numpy() < 10))
    assert info.num_classes == 10 and info.task == "image_classifier"
    model = cvseq.image_classifier(10, image_size=16)
    model.fit(ds.take(1), verbose=0)


def test_voc_adapter_gives_padded_pixel_boxes():
    with tfds.testing.mock_data(num_examples=3):
        ds, info = cvseq.datasets.load(
            "voc", "train", image_size=(64, 96), max_boxes=20, batch_size=3,
            with_info=True,
        )
        images, targets = next(iter(ds))
    assert images.shape == (3, 64, 96, 3)
    boxes, labels = targets["boxes"].numpy(), targets["labels"].numpy()
    assert boxes.shape == (3, 20, 4) and labels.shape == (3, 20)
    real = labels >= 0
    assert real.any() and (~real).any()  # mock examples have 1..n objects
    assert np.all(boxes[~real] == -1)
    # TFDS rel_yxyx -> xyxy pixels: x within the width, y within the height.
    assert np.all((boxes[real][:, [0, 2]] >= 0) & (boxes[real][:, [0, 2]] <= 96))
    assert np.all((boxes[real][:, [1, 3]] >= 0) & (boxes[real][:, [1, 3]] <= 64))
    assert len(info.class_names) == 20 and info.class_names[0] == "aeroplane"
    model = cvseq.object_detector(20, image_size=(64, 96), backbone="yolo_v8_tiny")
    # The detector takes these targets: its losses and metrics on them
    # (a test step traces in half the time of a train step).
    assert all(np.isfinite(v) for v in model.evaluate(ds.take(1), verbose=0))


def test_pet_adapter_maps_the_trimap_to_classes():
    with tfds.testing.mock_data(num_examples=3):
        ds, info = cvseq.datasets.load(
            "oxford_iiit_pet", "test", image_size=32, batch_size=3, with_info=True
        )
        images, masks = next(iter(ds))
    assert images.shape == (3, 32, 32, 3) and masks.shape == (3, 32, 32)
    assert set(np.unique(masks.numpy())) <= {0, 1, 2}
    assert info.class_names == ["background", "pet", "outline"]
    model = cvseq.image_segmenter(3, image_size=32)
    model.fit(ds.take(1), verbose=0)


def test_trimap_lookup():
    from cvseq.datasets.tfds_vision import _PET_TRIMAP_TO_CLASS, PET_CLASSES

    # TFDS: 1 pet, 2 background, 3 outline.
    assert [PET_CLASSES[_PET_TRIMAP_TO_CLASS[v]] for v in (1, 2, 3)] == [
        "pet", "background", "outline"
    ]


@pytest.mark.parametrize(
    "name, fallback",
    [("cifar10", "digits"), ("voc", "digit_detection"),
     ("oxford_iiit_pet", "digit_segmentation")],
)
def test_without_network_the_error_names_the_embedded_set(name, fallback, tmp_path):
    with pytest.raises(cvseq.datasets.DatasetUnavailableError, match=fallback):
        cvseq.datasets.load(name, "train", data_dir=str(tmp_path))
