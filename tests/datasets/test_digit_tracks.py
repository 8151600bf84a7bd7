import numpy as np

import cvseq
from cvseq.datasets import digit_tracks, digits
from cvseq.metrics import box_iou


def test_boxes_hold_the_ink_of_their_digit():
    clips, boxes, ids = digit_tracks.generate_tracks("test", num_clips=3, frames=10)
    assert clips.shape == (3, 10, 96, 96, 3) and boxes.shape == (3, 10, 3, 4)
    np.testing.assert_array_equal(ids, [[0, 1, 2]] * 3)
    ink = clips.max(axis=-1) > digit_tracks.INK_THRESHOLD
    for clip_ink, clip_boxes in zip(ink, boxes):
        for frame_ink, frame_boxes in zip(clip_ink, clip_boxes):
            covered = np.zeros_like(frame_ink)
            for x1, y1, x2, y2 in frame_boxes.astype(int):
                assert frame_ink[y1:y2, x1:x2].any()
                covered[y1:y2, x1:x2] = True
            assert not (frame_ink & ~covered).any()  # no ink outside the boxes


def test_digits_stay_in_the_frame_and_bounce():
    clips, boxes, _ = digit_tracks.generate_tracks("train", num_clips=20, frames=60)
    assert boxes.min() >= 0 and boxes[..., 2:].max() <= 96
    centres = (boxes[..., :2] + boxes[..., 2:]) / 2
    steps = np.diff(centres, axis=1)
    # Some digit reverses its direction on an axis: a bounce.
    assert (np.sign(steps[:, 1:]) * np.sign(steps[:, :-1]) < 0).any()


def test_detector_finds_separate_digits_exactly():
    clips, boxes, _ = digit_tracks.generate_tracks("test", num_clips=10, frames=20)
    exact = total = 0
    for clip, clip_boxes in zip(clips, boxes):
        for frame, true in zip(clip, clip_boxes):
            detected, scores = digit_tracks.detect_digits(frame)
            assert ((0 < scores) & (scores <= 1)).all()
            overlap = box_iou(true, true) - np.eye(len(true))
            alone = overlap.max(axis=1) == 0
            iou = box_iou(true, detected)
            exact += int((iou[alone].max(axis=1) == 1).sum()) if len(detected) else 0
            total += int(alone.sum())
    assert exact / total > 0.95


def test_splits_do_not_share_digit_images_or_motion():
    a = digit_tracks.generate_trajectories("train", num_trajectories=50)[0]
    b = digit_tracks.generate_trajectories("test", num_trajectories=50)[0]
    assert not np.allclose(a, b)
    train, _ = digits.digit_images("train")
    test, _ = digits.digit_images("test")
    assert not {t.tobytes() for t in test} & {t.tobytes() for t in train}


def test_seeded():
    a = digit_tracks.generate_tracks("validation", num_clips=2, frames=5, seed=3)
    b = digit_tracks.generate_tracks("validation", num_clips=2, frames=5, seed=3)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_trajectories_continue_the_past():
    past, future = digit_tracks.generate_trajectories(
        "test", num_trajectories=100, history=6, horizon=4
    )
    assert past.shape == (100, 6, 2) and future.shape == (100, 4, 2)
    # One step from the last past position to the first future one.
    gap = np.linalg.norm(future[:, 0] - past[:, -1], axis=-1)
    assert gap.max() < 0.06


def test_digit_tracks_data_set():
    ds = cvseq.datasets.load("digit_tracks", "test", num_clips=2, frames=4, batch_size=2)
    clips, targets = next(iter(ds))
    assert clips.shape == (2, 4, 96, 96, 3)
    assert targets["boxes"].shape == (2, 4, 3, 4) and targets["ids"].shape == (2, 3)
