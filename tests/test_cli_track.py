import csv
import json
import os

import cv2
import keras
import numpy as np
import pytest

import cvseq
from cvseq import cli
from cvseq.metrics import box_iou

# Measured: Kalman + blob detector, 6 test clips of 40 frames, 3 digits:
# MOTA 0.875, IDF1 0.876 (50 clips: MOTA 0.850, IDF1 0.857).
MOTA_BAR = 0.75


@pytest.fixture(scope="module")
def motion_model(tmp_path_factory):
    """A tiny trajectory_predictor, trained for one epoch."""
    keras.utils.set_random_seed(0)
    train = cvseq.datasets.load("digit_trajectories", "train", batch_size=32,
                                num_trajectories=64)
    model = cvseq.trajectory_predictor(units=8)
    model.fit(train, epochs=1, verbose=0)
    path = str(tmp_path_factory.mktemp("motion") / "motion.keras")
    model.save(path)
    return path


@pytest.fixture(scope="module")
def other_model(tmp_path_factory):
    """A saved model that is neither a motion model nor a detector."""
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs), name="classifier")
    path = str(tmp_path_factory.mktemp("other") / "other.keras")
    model.save(path)
    return path


def _read_rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_track_digit_clips_with_kalman(tmp_path, capsys):
    out = str(tmp_path / "track")
    assert cli.main(["track", "--dataset", "digit_tracks", "--clips", "6",
                     "--out", out]) == 0
    printed = capsys.readouterr().out
    assert "MOTA" in printed and "IDF1" in printed and "ID switches" in printed
    report = json.load(open(os.path.join(out, "metrics.json")))
    assert report["clips"] == 6 and report["motion"] == "kalman"
    assert report["metrics"]["mota"] > MOTA_BAR
    assert report["metrics"]["idf1"] > MOTA_BAR
    assert report["metrics"]["num_objects"] == 6 * 40 * 3
    assert cv2.imread(os.path.join(out, "tracks.png")) is not None


def test_track_with_a_learned_motion_model(motion_model, tmp_path, capsys):
    out = str(tmp_path / "learned")
    assert cli.main(["track", "--dataset", "digit_tracks", "--clips", "3",
                     "--data", "frames=24", "--motion", motion_model,
                     "--out", out]) == 0, capsys.readouterr().err
    report = json.load(open(os.path.join(out, "metrics.json")))
    assert report["motion"] == motion_model
    # One epoch on 64 paths barely moves the model off "keep the last
    # step"; the Kalman filter still smooths, so tracking stays usable.
    assert report["metrics"]["mota"] > 0.5


def _write_video(path, size=64, frames=20):
    """Two bright squares crossing a dark frame; returns their true boxes."""
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 10, (size, size))
    truth = []
    for t in range(frames):
        frame = np.zeros((size, size, 3), np.uint8)
        boxes = [(4 + 2 * t, 8, 14 + 2 * t, 18), (50 - 2 * t, 44, 60 - 2 * t, 54)]
        for x1, y1, x2, y2 in boxes:
            frame[y1:y2, x1:x2] = 255
        writer.write(frame)
        truth.append(np.array(boxes, np.float32))
    writer.release()
    return truth


def test_track_video_writes_a_csv(tmp_path, capsys):
    video = str(tmp_path / "squares.avi")
    truth = _write_video(video)
    out = str(tmp_path / "csv")
    assert cli.main(["track", video, "--out", out]) == 0, capsys.readouterr().err
    assert "20 frames, 2 tracks" in capsys.readouterr().out
    rows = _read_rows(os.path.join(out, "squares.csv"))
    assert list(rows[0]) == ["frame", "track_id", "x1", "y1", "x2", "y2", "score"]
    assert {int(r["track_id"]) for r in rows} == {1, 2}
    assert sorted({int(r["frame"]) for r in rows}) == list(range(20))
    for row in rows:
        box = [float(row[k]) for k in ("x1", "y1", "x2", "y2")]
        assert box_iou([box], truth[int(row["frame"])]).max() > 0.7, row
        assert 0 < float(row["score"]) <= 1

    # A second run does not replace the results without --overwrite.
    csv_path = os.path.join(out, "squares.csv")
    before = open(csv_path, "rb").read()
    assert cli.main(["track", video, "--out", out]) == 2
    err = capsys.readouterr().err
    assert "squares.csv" in err and "--overwrite" in err and err.count("\n") == 1
    assert open(csv_path, "rb").read() == before
    assert cli.main(["track", video, "--out", out, "--overwrite"]) == 0
    assert open(csv_path, "rb").read() == before  # same video, same tracks
    assert sorted(os.listdir(out)) == ["squares.csv"]  # no .part left


def test_track_dataset_does_not_replace_an_earlier_report(tmp_path, capsys):
    out = tmp_path / "track"
    out.mkdir()
    (out / "metrics.json").write_text("{}")
    assert cli.main(["track", "--dataset", "digit_tracks", "--clips", "1",
                     "--out", str(out)]) == 2
    assert "metrics.json" in capsys.readouterr().err
    assert (out / "metrics.json").read_text() == "{}"


def test_track_dataset_overwrite_that_fails_keeps_the_earlier_report(tmp_path, capsys,
                                                                      monkeypatch):
    """--overwrite replaces the report only once the new one is complete."""
    from cvseq import reporting

    out = tmp_path / "track"
    out.mkdir()
    (out / "metrics.json").write_text("{}")
    (out / "tracks.png").write_bytes(b"old")

    def fail(clip, rows, path):
        open(path, "wb").close()
        raise OSError("disk full")

    monkeypatch.setattr(reporting, "draw_tracks", fail)
    with pytest.raises(OSError, match="disk full"):
        cli.main(["track", "--dataset", "digit_tracks", "--clips", "1",
                  "--out", str(out), "--overwrite"])
    assert (out / "metrics.json").read_text() == "{}"
    assert (out / "tracks.png").read_bytes() == b"old"


class _StubDetector:
    """Stands in for a saved object_detector with 32x32 inputs: one box a
    frame at (8, 8, 16, 16) of its input, scoring 0.9, and one scoring 0.2."""

    name = "object_detector"
    inputs = [np.zeros((1, 32, 32, 3))]
    bounding_box_format = "xyxy"

    def detect(self, images):
        raise AssertionError("not called")

    def predict(self, images, verbose=0):
        assert images.shape[1:3] == (32, 32)
        n = len(images)
        return {
            "boxes": np.tile([[[8.0, 8.0, 16.0, 16.0], [0.0, 0.0, 4.0, 4.0],
                               [-1.0, -1.0, -1.0, -1.0]]], (n, 1, 1)),
            "labels": np.tile([[0, 1, -1]], (n, 1)),
            "scores": np.tile([[0.9, 0.2, -1.0]], (n, 1)),
            "num_detections": np.full(n, 2),
        }


def test_track_video_with_a_detector_model(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_load_model", lambda path: _StubDetector())
    detector = tmp_path / "model.keras"
    detector.write_bytes(b"stub")
    video = str(tmp_path / "clip.avi")
    _write_video(video, size=64, frames=6)
    out = str(tmp_path / "csv")
    assert cli.main(["track", video, "--detector", str(detector), "--out", out]) == 0
    rows = _read_rows(os.path.join(out, "clip.csv"))
    # The 0.9 box, scaled from 32x32 to the 64x64 frame; the 0.2 one is
    # under the default threshold.
    assert len(rows) == 6 and {r["track_id"] for r in rows} == {"1"}
    assert [float(rows[0][k]) for k in ("x1", "y1", "x2", "y2")] == [16, 16, 32, 32]
    assert float(rows[0]["score"]) == pytest.approx(0.9)


@pytest.mark.parametrize("argv, message", [
    (["--motion", "{other}"], "--motion must be 'kalman' or a trajectory_predictor"),
    (["--motion", "kalmn"], "--motion takes 'kalman' or a .keras file. No such file"),
    (["--motion", "{text}"], "Cannot load"),
    (["--detector", "{other}"], "--detector must be 'blobs' or an object_detector"),
    (["--dataset", "digits"], "--dataset must be a tracking data set"),
    (["--threshold", "2"], "--threshold is a score between 0 and 1"),
    (["--threshold", "0.3"], "The blob detector scores no boxes"),  # not ignored
])
def test_track_mistakes_print_one_line(argv, message, other_model, tmp_path, capsys):
    text = tmp_path / "notes.keras"
    text.write_text("not a model")
    argv = [a.format(other=other_model, text=text) for a in argv]
    if "--dataset" not in argv:
        argv += ["--dataset", "digit_tracks", "--clips", "1"]
    assert cli.main(["track", *argv, "--out", str(tmp_path)]) == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err.strip()
    assert err.startswith("cvseq: error:") and message in err, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_track_needs_a_dataset_or_videos_but_not_both(tmp_path, capsys):
    assert cli.main(["track", "--out", str(tmp_path)]) == cli.EXIT_USER_ERROR
    assert "Received: neither" in capsys.readouterr().err
    assert cli.main(["track", "a.mp4", "--dataset", "digit_tracks"]) == cli.EXIT_USER_ERROR
    assert "Received: both" in capsys.readouterr().err
    assert cli.main(["track", str(tmp_path / "missing.mp4"),
                     "--out", str(tmp_path)]) == cli.EXIT_USER_ERROR
    assert "No such video file" in capsys.readouterr().err


def test_track_help_and_list(capsys):
    with pytest.raises(SystemExit):
        cli.main(["track", "--help"])
    help_text = capsys.readouterr().out
    assert "MOTA" in help_text and "frame,track_id,x1,y1,x2,y2,score" in help_text
    assert cli.main(["list"]) == 0
    assert "cvseq track" in capsys.readouterr().out
