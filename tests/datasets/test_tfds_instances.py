"""The COCO instance-mask adapter, offline on `tfds.testing.mock_data`."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

import cvseq


def _panoptic_example():
    """A 20x30 image: a person (segment 7), a car (300, crowd-free), a crowd
    of persons (5) and grass stuff (70001); label ids as TFDS' 133."""
    segments = np.zeros((20, 30), np.int64)
    segments[2:10, 2:12] = 7
    segments[10:18, 15:28] = 300
    segments[0:4, 20:30] = 5
    segments[15:20, 0:10] = 70001
    png = np.stack([segments % 256, segments // 256 % 256, segments // 65536], -1)
    return {
        "image": np.full((20, 30, 3), 128, np.uint8),
        "image/filename": "x.jpg",
        "image/id": 1,
        "panoptic_image": png.astype(np.uint8),
        "panoptic_image/filename": "x.png",
        "panoptic_objects": {
            "id": np.array([7, 300, 5, 70001]),
            "area": np.array([80, 104, 40, 50]),
            "bbox": np.zeros((4, 4), np.float32),
            "label": np.array([0, 2, 0, 100]),  # person, car, person, stuff
            "is_crowd": np.array([False, False, True, False]),
        },
    }


def _as_dataset(self, *args, **kwargs):
    return tf.data.Dataset.from_generator(
        lambda: (_panoptic_example() for _ in range(2)),
        output_signature=self.info.features.get_tensor_spec(),
    )


def test_coco_panoptic_masks_become_instance_ids():
    with tfds.testing.mock_data(as_dataset_fn=_as_dataset):
        ds, info = cvseq.datasets.load("coco_instances", "validation", image_size=(20, 30),
                                       batch_size=2, with_info=True)
        images, targets = next(iter(ds))
    semantic, instances = targets["semantic"].numpy()[0], targets["instances"].numpy()[0]
    assert images.shape == (2, 20, 30, 3) and semantic.shape == (20, 30)
    assert info.num_classes == 81 and info.class_names[0] == "background"
    # Largest object first: the car is instance 1 (class 1 + 2), the person 2.
    assert set(np.unique(instances)) == {0, 1, 2}
    assert np.all(instances[10:18, 15:28] == 1) and np.all(semantic[10:18, 15:28] == 3)
    assert np.all(instances[2:10, 2:12] == 2) and np.all(semantic[2:10, 2:12] == 1)
    # Crowds and stuff are background.
    assert np.all(semantic[0:2, 20:30] == 0) and np.all(semantic[15:20, 0:10] == 0)


def test_coco_adapter_on_random_mock_data_fits_a_model():
    with tfds.testing.mock_data(num_examples=2):
        ds = cvseq.datasets.load("coco_instances", "train", image_size=16, batch_size=2)
        model = cvseq.instance_segmenter(81, image_size=16, max_instances=4)
        model.fit(ds.take(1), verbose=0)


def test_without_network_the_error_names_digit_instances(monkeypatch):
    # As TFDS fails offline, without its minutes of download retries.
    def offline(*args, **kwargs):
        raise ConnectionError("Failed to resolve 'images.cocodataset.org'")

    monkeypatch.setattr(tfds, "builder", offline)
    with pytest.raises(cvseq.datasets.DatasetUnavailableError, match="digit_instances"):
        cvseq.datasets.load("coco_instances", "train")
