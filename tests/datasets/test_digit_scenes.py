import numpy as np
import pytest

import cvseq
from cvseq.datasets import digit_scenes, digits


@pytest.fixture(scope="module")
def scenes():
    return digit_scenes.generate("train", image_size=48, num_scenes=40, max_digits=3)


def test_boxes_are_the_tight_boxes_of_the_masks(scenes):
    for boxes, labels, mask in zip(scenes["boxes"], scenes["labels"], scenes["masks"]):
        real = labels >= 0
        assert real[0], "every scene shows at least one digit"
        # Padding rows are all -1, and come after the real ones.
        assert np.all(boxes[~real] == -1) and np.all(labels[~real] == -1)
        assert list(real) == sorted(real, reverse=True)
        for box, label in zip(boxes[real], labels[real]):
            x1, y1, x2, y2 = box.astype(int)
            assert 0 <= x1 < x2 <= 48 and 0 <= y1 < y2 <= 48
            inside = mask[y1:y2, x1:x2] == 1 + label
            # Tight: the mask touches all four sides of its box.
            assert inside[0].any() and inside[-1].any()
            assert inside[:, 0].any() and inside[:, -1].any()
        # Every labelled pixel lies in a box of its digit.
        rows, cols = np.nonzero(mask)
        for row, col in zip(rows, cols):
            owners = boxes[labels == mask[row, col] - 1]
            assert any(
                b[0] <= col < b[2] and b[1] <= row < b[3] for b in owners
            )


def test_digits_are_pasted_on_real_photos(scenes):
    images = scenes["images"]
    assert images.dtype == np.uint8 and images.shape == (40, 48, 48, 3)
    background = images[scenes["masks"] == 0]
    # Photos, not flat colour: many distinct colours, wide spread.
    assert len(np.unique(background.reshape(-1, 3), axis=0)) > 1000
    assert background.std() > 30


def test_seeded_and_splits_share_no_photo_or_digit():
    a = digit_scenes.generate("test", image_size=32, num_scenes=5, seed=3)
    b = digit_scenes.generate("test", image_size=32, num_scenes=5, seed=3)
    c = digit_scenes.generate("test", image_size=32, num_scenes=5, seed=4)
    np.testing.assert_array_equal(a["images"], b["images"])
    assert not np.array_equal(a["images"], c["images"])
    photos = {s: set(digit_scenes.PHOTOS[s]) for s in digits.SPLITS}
    assert not photos["train"] & photos["test"]
    assert not photos["train"] & photos["validation"]
    assert not photos["validation"] & photos["test"]
    train_images, _ = digits.digit_images("train")
    test_images, _ = digits.digit_images("test")
    train_set = {im.tobytes() for im in train_images}
    assert not any(im.tobytes() in train_set for im in test_images)


def test_load_detection_and_segmentation_batches():
    ds, info = cvseq.datasets.load(
        "digit_detection", "validation", image_size=32, num_scenes=6,
        max_digits=2, batch_size=4, with_info=True,
    )
    images, targets = next(iter(ds))
    assert images.shape == (4, 32, 32, 3) and images.dtype.name == "uint8"
    assert targets["boxes"].shape == (4, 2, 4) and targets["labels"].shape == (4, 2)
    assert info.class_names == [str(d) for d in range(10)]
    assert info.task == "object_detector"

    ds, info = cvseq.datasets.load(
        "digit_segmentation", "test", image_size=32, num_scenes=6, batch_size=6,
        with_info=True,
    )
    images, masks = next(iter(ds))
    assert masks.shape == (6, 32, 32) and masks.dtype.name == "int32"
    assert info.num_classes == 11 and info.class_names[0] == "background"
    assert 0 < masks.numpy().max() <= 10


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="digit_size"):
        digit_scenes.generate("train", image_size=32, digit_size=(4, 40))
    with pytest.raises(TypeError, match="max_boxes"):
        cvseq.datasets.load("digit_detection", "train", max_boxes=3)
    with pytest.raises(ValueError, match="split"):
        digit_scenes.generate("dev")
