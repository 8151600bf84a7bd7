import os
import warnings

import cv2
import numpy as np
import pytest

import cvseq
from cvseq.datasets import video_folder


def _write_video(path, frames=12, size=(40, 30), value=None, fourcc="MJPG"):
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*fourcc), 10, size
    )
    for i in range(frames):
        level = value if value is not None else (5 * i) % 256
        frame = np.full((size[1], size[0], 3), level, np.uint8)
        frame[:, :, 0] = (i * 20) % 256  # B channel counts the frame index
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture
def video_root(tmp_path):
    for label, value in (("cats", 50), ("dogs", 200)):
        folder = tmp_path / label
        folder.mkdir()
        for i in range(3):
            _write_video(folder / f"{label}{i}.avi", value=value)
    _write_video(tmp_path / "dogs" / "extra.mp4", value=200, fourcc="mp4v")
    return tmp_path


def test_reads_labels_and_samples_uniformly(video_root):
    ds, info = cvseq.datasets.load(
        "video_folder", "train", root=str(video_root), frames=4,
        image_size=(16, 20), batch_size=16, shuffle=False, with_info=True,
        random_sampling=False,
    )
    assert info.class_names == ["cats", "dogs"] and info.num_examples == 7
    clips, labels = next(iter(ds))
    assert clips.shape == (7, 4, 16, 20, 3)
    assert sorted(labels.numpy().tolist()) == [0, 0, 0, 1, 1, 1, 1]
    # The green channel holds the label's grey level.
    green = clips.numpy()[..., 1].mean(axis=(1, 2, 3))
    for g, label in zip(green, labels.numpy()):
        assert abs(g - (50, 200)[label]) < 8
    # Uniform sampling of 12 frames at 4: frames 1, 4, 7, 10 (the frame
    # index was written in OpenCV's blue channel, RGB channel 2).
    blue = clips.numpy()[0, :, :, :, 2].mean(axis=(1, 2))
    np.testing.assert_allclose(blue, [20, 80, 140, 200], atol=8)


def test_frame_indices():
    np.testing.assert_array_equal(video_folder.frame_indices(12, 4), [1, 4, 7, 10])
    np.testing.assert_array_equal(video_folder.frame_indices(2, 4), [0, 0, 1, 1])
    rng = np.random.default_rng(0)
    picks = video_folder.frame_indices(100, 5, rng=rng)
    assert all(20 * k <= p < 20 * (k + 1) for k, p in enumerate(picks))


def test_corrupt_and_truncated_files_are_skipped_with_warning(video_root):
    (video_root / "cats" / "garbage.avi").write_bytes(b"not a video at all" * 10)
    good = (video_root / "dogs" / "dogs0.avi").read_bytes()
    (video_root / "dogs" / "truncated.avi").write_bytes(good[: len(good) // 2])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds, info = cvseq.datasets.load(
            "video_folder", "train", root=str(video_root), frames=4,
            image_size=16, batch_size=4, with_info=True,
        )
        batches = list(ds)  # a whole epoch: never ends early
    assert sum(len(b[1]) for b in batches) == 7
    skipped = sorted(os.path.basename(p) for p, _ in info.skipped)
    assert skipped == ["garbage.avi", "truncated.avi"]
    messages = [str(w.message) for w in caught if "Skipped" in str(w.message)]
    assert len(messages) == 2
    assert any("garbage.avi" in m for m in messages)
    assert any("2 file(s) skipped" in m for m in messages)


def test_read_clip_reports_truncation(tmp_path):
    path = _write_video(tmp_path / "a.avi", frames=30)
    data = path.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    with pytest.raises(video_folder.VideoReadError):
        video_folder.read_clip(str(cut), 8, (16, 16))


def test_validation_split_is_disjoint(video_root):
    def files(split):
        _, info = cvseq.datasets.load(
            "video_folder", split, root=str(video_root), frames=2, image_size=16,
            validation_split=0.34, with_info=True,
        )
        return info.num_examples

    assert files("train") + files("validation") == 7
    assert files("validation") == 2


def test_layout_errors(tmp_path):
    with pytest.raises(ValueError, match="no such|must be a folder"):
        cvseq.datasets.load("video_folder", root=str(tmp_path / "missing"))
    _write_video(tmp_path / "loose.avi")
    with pytest.raises(ValueError, match="subfolder per label"):
        cvseq.datasets.load("video_folder", root=str(tmp_path))
    (tmp_path / "empty_label").mkdir()
    with pytest.raises(ValueError, match="No video files"):
        cvseq.datasets.load("video_folder", root=str(tmp_path))
    with pytest.raises(TypeError, match="root"):
        cvseq.datasets.load("video_folder")
    (tmp_path / "empty_label" / "x.avi").write_bytes(b"")
    with pytest.raises(ValueError, match="validation_split"):
        cvseq.datasets.load("video_folder", "test", root=str(tmp_path))
