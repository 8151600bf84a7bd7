import numpy as np
import pytest
import tensorflow as tf

import cvseq
from cvseq.datasets import digits, moving_digits


def test_splits_share_no_digit_image():
    seen = {}
    for split in digits.SPLITS:
        images, labels = digits.digit_images(split)
        seen[split] = {img.tobytes() for img in images}
        assert set(labels.tolist()) == set(range(10)), split
    total = sum(len(v) for v in seen.values())
    assert total > 1700
    # sklearn's set has a handful of exact duplicate scans; the split keeps
    # every *scan* in one split, and identical pixels across splits are rare.
    assert len(seen["train"] & seen["test"]) <= 2
    assert len(seen["train"] & seen["validation"]) <= 2


def test_load_batches_clips_with_labels():
    ds, info = cvseq.datasets.load(
        "moving_digits", "test", frames=5, image_size=24, num_clips=10,
        batch_size=4, with_info=True,
    )
    clips, labels = next(iter(ds))
    assert clips.shape == (4, 5, 24, 24, 3) and clips.dtype == tf.uint8
    assert labels.shape == (4,) and labels.dtype == tf.int32
    assert info.class_names == ["right", "left", "down", "up"]
    assert info.num_examples == 10 and not info.multi_label


def test_generation_is_seeded():
    a = moving_digits.generate("train", frames=3, image_size=16, num_clips=4, seed=7)
    b = moving_digits.generate("train", frames=3, image_size=16, num_clips=4, seed=7)
    c = moving_digits.generate("train", frames=3, image_size=16, num_clips=4, seed=8)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


def test_motion_matches_label():
    clips, labels, names = moving_digits.generate(
        "validation", frames=6, image_size=32, num_clips=20, max_digits=1
    )
    for clip, label in zip(clips, labels):
        # Phase correlation of two consecutive frames recovers the shift.
        a, b = clip[0].mean(-1), clip[1].mean(-1)
        spectrum = np.fft.fft2(b) * np.conj(np.fft.fft2(a))
        corr = np.fft.ifft2(spectrum / (np.abs(spectrum) + 1e-9)).real
        dy, dx = np.unravel_index(np.argmax(corr), corr.shape)
        dy, dx = (dy + 16) % 32 - 16, (dx + 16) % 32 - 16
        moved = {"right": dx > 0 and dy == 0, "left": dx < 0 and dy == 0,
                 "down": dy > 0 and dx == 0, "up": dy < 0 and dx == 0}
        assert moved[names[label]], (names[label], dy, dx)


def test_single_frames_carry_no_direction():
    # Wrapping keeps the digits' positions uniform whatever the direction:
    # the mean row/column of ink in one frame is the same for each class.
    clips, labels, _ = moving_digits.generate(
        "train", frames=4, image_size=32, num_clips=400, max_digits=1
    )
    ink = clips[:, 2].mean(-1)
    cols = (ink.sum(1) * np.arange(32)).sum(-1) / ink.sum((1, 2))
    per_class = [cols[labels == k].mean() for k in range(4)]
    assert np.ptp(per_class) < 3.0, per_class


def test_multi_label_digits_and_motion_labels():
    ds, info = cvseq.datasets.load(
        "moving_digits", "train", frames=2, image_size=16, num_clips=8,
        label="digits", with_info=True, batch_size=8,
    )
    _, tags = next(iter(ds))
    assert info.multi_label and info.num_classes == 10
    assert tags.shape == (8, 10)
    assert set(np.unique(tags.numpy())) <= {0.0, 1.0}
    assert np.all(tags.numpy().sum(-1) >= 1)
    _, info = cvseq.datasets.load(
        "moving_digits", "train", frames=2, image_size=16, num_clips=2,
        label="motion", with_info=True,
    )
    assert info.num_classes == 8 and info.class_names[1] == "right_fast"


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(label="speed"), "label"),
        (dict(frames=0), "frames"),
        (dict(colour="red"), "colour"),
    ],
)
def test_bad_options_are_named(options, message):
    with pytest.raises((ValueError, TypeError), match=message):
        cvseq.datasets.load("moving_digits", "train", num_clips=2, **options)


def test_unknown_split_and_name():
    with pytest.raises(ValueError, match="split"):
        cvseq.datasets.load("moving_digits", "dev")
    with pytest.raises(ValueError, match="moving_digits"):
        cvseq.datasets.load("no_such_data")
