"""The TFDS `coco/2017` detection adapter, offline on `tfds.testing.mock_data`."""

import numpy as np
import tensorflow_datasets as tfds

import cvseq


def test_coco_adapter_drops_crowd_boxes_and_pads():
    with tfds.testing.mock_data(num_examples=4):
        raw = list(tfds.load("coco/2017", split="validation").take(4))
        ds, info = cvseq.datasets.load(
            "coco", "validation", image_size=(64, 96), max_boxes=40,
            batch_size=4, with_info=True,
        )
        images, targets = next(iter(ds))
    assert images.shape == (4, 64, 96, 3) and images.dtype.name == "uint8"
    boxes, labels = targets["boxes"].numpy(), targets["labels"].numpy()
    assert boxes.shape == (4, 40, 4) and labels.shape == (4, 40)
    # Per image: the non-crowd objects, in order, then -1 padding.
    for example, image_labels, image_boxes in zip(raw, labels, boxes):
        objects = {key: value.numpy() for key, value in example["objects"].items()}
        count = min(len(objects[key]) for key in ("bbox", "label", "is_crowd"))
        crowd = objects["is_crowd"][:count].astype(bool)
        expected = objects["label"][:count][~crowd][:40]
        np.testing.assert_array_equal(image_labels[:len(expected)], expected)
        assert np.all(image_labels[len(expected):] == -1)
        assert np.all(image_boxes[len(expected):] == -1)
    real = labels >= 0
    assert real.any()
    # TFDS rel_yxyx -> xyxy pixels: x within the width, y within the height.
    assert np.all((boxes[real][:, [0, 2]] >= 0) & (boxes[real][:, [0, 2]] <= 96))
    assert np.all((boxes[real][:, [1, 3]] >= 0) & (boxes[real][:, [1, 3]] <= 64))
    assert info.task == "object_detector" and len(info.class_names) == 80

