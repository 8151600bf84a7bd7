import os
import shutil
import struct
import warnings

import cv2
import numpy as np
import pytest

import cvseq
from cvseq.errors import UserInputError
from cvseq.datasets import video_folder


def _write_video(path, frames=12, size=(40, 30), value=None, fourcc="MJPG",
                 color=True, fps=10):
    """A video whose frame i has blue = 20 i (OpenCV BGR) and green = `value`
    (or 5 i); grayscale files hold 20 i everywhere."""
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size, isColor=color
    )
    assert writer.isOpened(), f"this OpenCV cannot write {fourcc}"
    for i in range(frames):
        if color:
            level = value if value is not None else (5 * i) % 256
            frame = np.full((size[1], size[0], 3), level, np.uint8)
            frame[:, :, 0] = (i * 20) % 256  # B channel counts the frame index
        else:
            frame = np.full((size[1], size[0]), (i * 20) % 256, np.uint8)
        writer.write(frame)
    writer.release()
    return path


def _mp4_box(data, path, start=0, end=None):
    """Offset and size of the box at `path` (e.g. moov/trak/tkhd) of an MP4."""
    end = len(data) if end is None else end
    while start < end:
        size, kind = struct.unpack(">I4s", data[start:start + 8])
        if kind == path[0]:
            if len(path) == 1:
                return start, size
            return _mp4_box(data, path[1:], start + 8, start + size)
        start += size
    raise KeyError(path)


def _set_rotation(path, degrees):
    """Writes a phone's rotation into an MP4's track header (display matrix),
    as phones record portrait video: landscape frames plus metadata."""
    data = bytearray(path.read_bytes())
    offset, _ = _mp4_box(data, [b"moov", b"trak", b"tkhd"])
    version = data[offset + 8]
    # version/flags, times, track id, reserved, duration, reserved, layer...
    matrix = offset + 8 + 4 + (32 if version == 1 else 20) + 16
    one, minus_one = 0x00010000, 0xFFFF0000
    a, b, c, d = {90: (0, one, minus_one, 0), 180: (minus_one, 0, 0, minus_one),
                  270: (0, minus_one, one, 0)}[degrees]
    data[matrix:matrix + 36] = struct.pack(">9I", a, b, 0, c, d, 0, 0, 0, 0x40000000)
    path.write_bytes(bytes(data))


def _set_frame_durations(path, durations):
    """Gives an MP4's frames these durations (in its time scale): a variable
    frame rate file. Rewrites the `stts` table and the sizes of the boxes
    around it; OpenCV writes `moov` after the media data, so no chunk offset
    moves."""
    data = bytearray(path.read_bytes())
    chain = [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stts"]
    offset, size = _mp4_box(data, chain)
    assert _mp4_box(data, [b"mdat"])[0] < _mp4_box(data, [b"moov"])[0]
    entries = b"".join(struct.pack(">II", 1, d) for d in durations)
    box = struct.pack(">I4sII", 16 + len(entries), b"stts", 0, len(durations)) + entries
    grow = len(box) - size
    data[offset:offset + size] = box
    for depth in range(1, len(chain)):
        parent, parent_size = _mp4_box(data, chain[:depth])
        data[parent:parent + 4] = struct.pack(">I", parent_size + grow)
    path.write_bytes(bytes(data))


@pytest.fixture
def video_root(tmp_path):
    for label, value in (("cats", 50), ("dogs", 200)):
        folder = tmp_path / "train" / label
        folder.mkdir(parents=True)
        for i in range(3):
            _write_video(folder / f"{label}{i}.avi", value=value)
    _write_video(tmp_path / "train" / "dogs" / "extra.mp4", value=200, fourcc="mp4v")
    return tmp_path


def _flat_root(root, per_label=10, labels=("cats", "dogs"), frames=4):
    for index, label in enumerate(labels):
        (root / label).mkdir(parents=True)
        for i in range(per_label):
            _write_video(root / label / f"{label}{i}.avi", frames=frames,
                         size=(16, 16), value=(50 + 150 * index) % 256)
    return root


def _files(split, root, **options):
    _, info = cvseq.datasets.load("video_folder", split, root=str(root), frames=2,
                                  image_size=16, with_info=True, **options)
    return info


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


def test_truncated_file_is_sampled_from_the_frames_that_decode(tmp_path):
    path = _write_video(tmp_path / "a.mkv", frames=30, size=(16, 16))
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(path.read_bytes()[: int(path.stat().st_size * 0.5)])
    assert video_folder.header_frame_count(str(cut)) == 30
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clip = video_folder.read_clip(str(cut), 4, (16, 16))
        again = video_folder.read_clip(str(cut), 4, (16, 16))
    decoded = video_folder.decoded_frame_count(str(cut))
    assert 4 <= decoded < 30
    # Uniform over the decoded frames, not over the 30 the header claims.
    expected = video_folder.frame_indices(decoded, 4) * 20 % 256
    np.testing.assert_allclose(clip[..., 2].mean(axis=(1, 2)), expected, atol=8)
    np.testing.assert_array_equal(clip, again)
    notes = [str(w.message) for w in caught if "header says" in str(w.message)]
    assert len(notes) == 1  # counted once, cached, warned once
    assert f"header says 30 frames but {decoded} decode" in notes[0]
    assert "cut.mkv" in notes[0]


def test_header_without_a_count_is_counted(tmp_path, monkeypatch):
    path = _write_video(tmp_path / "a.avi", frames=10, size=(16, 16))
    monkeypatch.setattr(video_folder, "header_frame_count", lambda path: 0)
    clip = video_folder.read_clip(str(path), 2, (16, 16))
    np.testing.assert_allclose(clip[..., 2].mean(axis=(1, 2)), [40, 140], atol=8)
    assert video_folder.decoded_frame_count(str(path)) == 10


def test_variable_frame_rate_is_sampled_by_frame(tmp_path):
    path = _write_video(tmp_path / "vfr.mp4", frames=10, size=(16, 16), fourcc="mp4v")
    # Frames last 1 to 10 time units: the rate changes tenfold within the file.
    _set_frame_durations(path, [1, 1, 1, 1, 1, 10, 10, 10, 10, 10])
    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    assert fps != 10  # the file's rate really changed
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clip = video_folder.read_clip(str(path), 5, (16, 16))
    assert video_folder.decoded_frame_count(str(path)) == 10
    np.testing.assert_allclose(clip[..., 2].mean(axis=(1, 2)),
                               [20, 60, 100, 140, 180], atol=8)
    assert not [w for w in caught if "header says" in str(w.message)]


@pytest.mark.parametrize("degrees, turn", [(90, -1), (180, 2), (270, 1)])
def test_rotated_phone_video_comes_upright(tmp_path, degrees, turn):
    path = tmp_path / f"phone{degrees}.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (32, 16))
    frame = np.zeros((16, 32, 3), np.uint8)
    frame[:8, :16] = 255  # a white top-left quarter shows the orientation
    for _ in range(3):
        writer.write(frame)
    writer.release()
    _set_rotation(path, degrees)
    # Displayed upright means turned clockwise by `degrees` (np.rot90 turns
    # counterclockwise by 90 per step).
    upright = np.rot90(frame[..., 0], turn)
    clip = video_folder.read_clip(str(path), 2, upright.shape)
    assert clip.shape == (2, *upright.shape, 3)
    assert np.abs(clip[0, ..., 0].astype(int) - upright).mean() < 20
    first = next(video_folder.read_frames(str(path)))
    assert first.shape[1:3] == upright.shape


def test_rotation_is_applied_where_opencv_does_not(tmp_path, monkeypatch):
    path = tmp_path / "phone.mp4"
    _write_video(path, frames=2, size=(32, 16), fourcc="mp4v")
    _set_rotation(path, 90)
    auto = video_folder.read_clip(str(path), 2, (32, 16))

    real_capture = cv2.VideoCapture

    class NoAutoRotation:
        """A backend that reads the rotation but does not apply it."""

        def __init__(self, *args):
            self.capture = real_capture(*args)
            self.capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)

        def set(self, prop, value):
            if prop == cv2.CAP_PROP_ORIENTATION_AUTO:
                return False
            return self.capture.set(prop, value)

        def __getattr__(self, name):
            return getattr(self.capture, name)

    monkeypatch.setattr(cv2, "VideoCapture", NoAutoRotation)
    video_folder._frame_counts.clear()
    capture, rotation = video_folder._open(str(path))
    ok, raw = capture.read()
    capture.release()
    assert raw.shape[:2] == (16, 32) and rotation == cv2.ROTATE_90_CLOCKWISE
    np.testing.assert_array_equal(video_folder.read_clip(str(path), 2, (32, 16)), auto)


def test_grayscale_file_reads_as_rgb(tmp_path):
    path = _write_video(tmp_path / "gray.avi", frames=8, size=(16, 16),
                        fourcc="FFV1", color=False)
    clip = video_folder.read_clip(str(path), 4, (16, 16))
    assert clip.shape == (4, 16, 16, 3) and clip.dtype == np.uint8
    np.testing.assert_array_equal(clip[..., 0], clip[..., 2])
    np.testing.assert_allclose(clip[..., 1].mean(axis=(1, 2)), [20, 60, 100, 140],
                               atol=3)


def test_opencv_failing_on_a_frame_is_a_video_read_error(tmp_path, monkeypatch):
    """Every reader's caller catches `VideoReadError` alone: an OpenCV
    error on a frame (here a conversion that fails) arrives as one, so
    `cvseq predict` says which file, and `video_frames` leaves it out."""
    from cvseq import tasks
    from cvseq.datasets import frame_sequences

    path = str(_write_video(tmp_path / "clip.avi"))

    def fail(*args, **kwargs):
        raise cv2.error("OpenCV(4.x) resize.cpp:4208: error: (-215:Assertion failed) !ssize.empty()")

    monkeypatch.setattr(video_folder.cv2, "cvtColor", fail)
    for read in (lambda: video_folder.read_clip(path, 4, (8, 8)),
                 lambda: next(video_folder.read_frames(path)),
                 lambda: frame_sequences.decoded_file(path, (9, 9))):
        with pytest.raises(video_folder.VideoReadError,
                           match=r"OpenCV fails on it \(.*!ssize.empty\(\)\)"):
            read()
    import keras

    clips = keras.Input((4, 8, 8, 3))  # what read_video_inputs reads of a model
    model = keras.Model(clips, keras.layers.GlobalAveragePooling3D()(clips))
    with pytest.raises(UserInputError, match=r"Cannot read video '.*clip.avi': OpenCV fails"):
        tasks.read_video_inputs([path], model)
    assert video_folder.unreadable_reason(path) is None  # its first frame decodes


def test_flat_layout_holds_out_a_fixed_share_of_each_label(tmp_path):
    root = _flat_root(tmp_path, per_label=10)
    infos = {split: _files(split, root) for split in video_folder.SPLITS}
    sizes = {split: info.num_examples for split, info in infos.items()}
    assert sizes == {"train": 12, "validation": 4, "test": 4}  # 6/2/2 a label
    assert all(info.class_names == ["cats", "dogs"] for info in infos.values())
    # Whatever the seed: `cvseq evaluate` must find the files train held out.
    again = _files("test", root, seed=7)
    assert again.description == infos["test"].description
    shares = {}
    for split in video_folder.SPLITS:
        items, _, _ = video_folder._plan(str(root), split, None, None)
        shares[split] = {p for p, _ in items}
    assert not shares["train"] & shares["test"]
    assert not shares["train"] & shares["validation"]
    assert not shares["validation"] & shares["test"]
    assert len(set.union(*shares.values())) == 20
    seeded, _, _ = video_folder._plan(str(root), "test", None, None)
    assert {p for p, _ in seeded} == shares["test"]
    # Shares that the user sets.
    assert _files("test", root, test_split=0.3).num_examples == 6
    assert _files("train", root, validation_split=0.0).num_examples == 16
    with pytest.raises(ValueError, match="validation_split=0 holds out no"):
        _files("validation", root, validation_split=0.0)


def test_split_folders_and_held_out_shares(video_root):
    assert _files("train", video_root).num_examples == 7
    with pytest.raises(ValueError, match="no 'test' subfolder.*test_split=0.15"):
        _files("test", video_root)
    train = _files("train", video_root, validation_split=0.34)
    validation = _files("validation", video_root, validation_split=0.34)
    assert train.num_examples + validation.num_examples == 7
    assert validation.num_examples == 2
    # A test folder that lacks a label keeps the training label indices.
    (video_root / "test" / "dogs").mkdir(parents=True)
    _write_video(video_root / "test" / "dogs" / "d.avi", value=200)
    with pytest.warns(UserWarning, match="no file of label.*'cats'.*says nothing"):
        ds, info = cvseq.datasets.load("video_folder", "test", root=str(video_root),
                                       frames=2, image_size=16, with_info=True)
    assert info.class_names == ["cats", "dogs"]
    assert next(iter(ds))[1].numpy().tolist() == [1]
    with pytest.raises(ValueError, match="has a 'test' folder, so test_split"):
        _files("train", video_root, test_split=0.2)
    # root/val/ is named, not passed over: cvseq train would lose its
    # validation set without a word.
    (video_root / "val" / "dogs").mkdir(parents=True)
    _write_video(video_root / "val" / "dogs" / "d.avi", value=200)
    with pytest.raises(UserInputError, match="rename root/val/ to root/validation/"):
        cvseq.datasets.load_splits("video_folder", root=str(video_root), frames=2,
                                   image_size=16)


def test_unreadable_files_are_left_out_when_loaded(video_root):
    (video_root / "train" / "cats" / "garbage.avi").write_bytes(b"not a video" * 10)
    good = (video_root / "train" / "dogs" / "dogs0.avi").read_bytes()
    (video_root / "train" / "dogs" / "header_only.avi").write_bytes(good[:400])
    whole = _write_video(video_root / "whole.mkv", value=200).read_bytes()
    (video_root / "train" / "dogs" / "truncated.mkv").write_bytes(whole[: len(whole) // 2])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds, info = cvseq.datasets.load(
            "video_folder", "train", root=str(video_root), frames=4,
            image_size=16, batch_size=4, with_info=True,
        )
        batches = list(ds)  # a whole epoch: never ends early
    # The truncated file has decodable frames: it is kept and sampled.
    assert info.num_examples == 8
    assert sum(len(b[1]) for b in batches) == 8
    skipped = sorted(os.path.basename(p) for p, _ in info.skipped)
    assert skipped == ["garbage.avi", "header_only.avi"]
    messages = [str(w.message) for w in caught if "Skipped" in str(w.message)]
    assert len(messages) == 1
    assert "Skipped 2 of 10" in messages[0]
    assert "garbage.avi" in messages[0] and "OpenCV cannot open it" in messages[0]
    assert ds.cardinality().numpy() == 2  # known: Keras counts its steps


def test_a_file_that_fails_while_training_gives_its_place(video_root, monkeypatch):
    """A file readable when loaded that fails later (changed on disk) is
    replaced by the next readable one: the epoch keeps its length."""
    ds = cvseq.datasets.load("video_folder", "train", root=str(video_root), frames=2,
                             image_size=16, batch_size=4, shuffle=False)
    read = video_folder.read_clip

    def failing(path, *args, **kwargs):
        if os.path.basename(path) == "cats1.avi":
            raise video_folder.VideoReadError("it changed on disk")
        return read(path, *args, **kwargs)

    monkeypatch.setattr(video_folder, "read_clip", failing)
    with pytest.warns(UserWarning, match="cats1.avi.*changed on disk.*takes its place"):
        labels = [int(t) for _, y in ds for t in y]
    # cats1's place is taken by cats2: one cat fewer is not one example fewer.
    assert labels == [0, 0, 0, 1, 1, 1, 1]


def test_layout_errors(tmp_path):
    with pytest.raises(ValueError, match="must be a folder"):
        cvseq.datasets.load("video_folder", root=str(tmp_path / "missing"))
    _write_video(tmp_path / "loose.avi")
    with pytest.raises(ValueError, match="subfolder per label"):
        cvseq.datasets.load("video_folder", root=str(tmp_path))
    (tmp_path / "empty_label").mkdir()
    with pytest.raises(ValueError, match="'empty_label' of .* hold no video file"):
        cvseq.datasets.load("video_folder", root=str(tmp_path))
    with pytest.raises(TypeError, match="root"):
        cvseq.datasets.load("video_folder")
    with pytest.raises(ValueError, match="split` must be one of train, validation"):
        cvseq.datasets.load("video_folder", "val", root=str(tmp_path))
    with pytest.raises(ValueError, match="must leave files for training"):
        cvseq.datasets.load("video_folder", root=str(tmp_path), validation_split=0.9)
    with pytest.raises(ValueError, match=r"test_split.*\[0, 1\)"):
        cvseq.datasets.load("video_folder", root=str(tmp_path), test_split=1.5)
    with pytest.raises(TypeError, match="unknown option"):
        cvseq.datasets.load("video_folder", root=str(tmp_path), test_fraction=0.2)


def test_labels_follow_the_class_names_given(tmp_path):
    """A model's classes index a folder that has some of them (cvseq
    evaluate passes run.json's); a label it lacks is refused, an empty
    label folder is refused, nested videos and labels too small to hold
    any out are said."""
    root = _flat_root(tmp_path / "all", per_label=3, labels=("ants", "bees", "cats"))
    _, info = cvseq.datasets.load("video_folder", "test", root=str(root / "cats" / ".."),
                                  frames=2, image_size=16, with_info=True)
    assert info.class_names == ["ants", "bees", "cats"]
    subset = _flat_root(tmp_path / "subset", per_label=3, labels=("cats",))
    ds, info = cvseq.datasets.load("video_folder", "test", root=str(subset), frames=2,
                                   image_size=16, with_info=True,
                                   class_names=["ants", "bees", "cats"])
    assert info.class_names == ["ants", "bees", "cats"]
    assert [int(t) for _, y in ds for t in y] == [2]  # not 0, its own sorted index
    with pytest.raises(ValueError, match="'cats' that are not among class_names"):
        cvseq.datasets.load("video_folder", "test", root=str(subset),
                            class_names=["ants", "bees"])
    with pytest.raises(ValueError, match="distinct label names"):
        cvseq.datasets.load("video_folder", "test", root=str(subset), class_names="cats")
    # Too few files to hold any out, and videos one level too deep.
    _write_video(root / "ants" / "more.avi", frames=4, size=(16, 16))
    (root / "dogs" / "day1").mkdir(parents=True)
    _write_video(root / "dogs" / "day1" / "d.avi", frames=4, size=(16, 16))
    _write_video(root / "dogs" / "d.avi", frames=4, size=(16, 16))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _files("test", root)
    said = " ".join(str(w.message) for w in caught)
    assert "'test' split has no file of label(s) 'dogs'" in said
    assert "subfolders with videos ('day1') that are not read" in said


def test_a_root_under_the_home_folder_may_start_with_a_tilde(tmp_path, monkeypatch):
    _flat_root(tmp_path / "clips", per_label=3)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert _files("train", "~/clips").num_examples == 2  # 3 a label, 1 held out twice


def test_a_label_with_no_readable_training_video_is_refused(video_root):
    # A label only in test/, or whose files all fail to decode, was a class
    # the model trained without a single example of.
    (video_root / "test" / "birds").mkdir(parents=True)
    _write_video(video_root / "test" / "birds" / "b.avi")
    with pytest.raises(ValueError, match=r"train split .* no readable video of "
                                         r"label\(s\) 'birds'"):
        cvseq.datasets.load("video_folder", "train", root=str(video_root), frames=2,
                            image_size=16)
    shutil.rmtree(video_root / "test")
    (video_root / "train" / "birds").mkdir()
    (video_root / "train" / "birds" / "b.avi").write_bytes(b"not a video" * 10)
    with pytest.warns(UserWarning, match="Skipped 1"), \
            pytest.raises(ValueError, match="no readable video of label\\(s\\) 'birds'"):
        cvseq.datasets.load("video_folder", "train", root=str(video_root), frames=2,
                            image_size=16)


def test_hidden_files_are_no_videos(video_root):
    # macOS writes ._name resource forks beside copied files.
    (video_root / "train" / "cats" / "._cats0.avi").write_bytes(b"\0\5\26\7" * 20)
    info = _files("train", video_root)
    assert info.num_examples == 7 and info.skipped == []
