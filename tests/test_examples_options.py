"""The example scripts check their options before anything runs, and never
replace an earlier run's files unasked (examples/_common.checked)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "examples"))

import video_prediction  # noqa: E402
import video_tagging  # noqa: E402


@pytest.mark.parametrize("argv, says", [
    (["--epochs", "0"], "--epochs must be at least 1. Received: 0."),
    (["--batch-size", "-2"], "--batch-size must be at least 1"),
    (["--seed", "-1"], "--seed must be from 0 to 2**32 - 1"),
    (["--backbone", "nosuch"], "no backbone, file or KerasHub preset is called 'nosuch'"),
    (["--weights", "missing.weights.h5"], "no file is at 'missing.weights.h5'"),
    (["--root", "."], "--root is the folder of --dataset video_folder"),
    (["--dataset", "video_folder", "--root", "no/such/dir"], "no such file or folder"),
])
def test_bad_options_are_one_line_before_anything_runs(argv, says, tmp_path, capsys,
                                                       monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        video_tagging.parse_args(argv)
    assert exit_.value.code == 2
    assert says in capsys.readouterr().err
    assert not os.path.exists("runs")


def test_an_earlier_run_is_never_replaced_unasked(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert video_prediction.parse_args([]).out == "runs/video_prediction"
    os.makedirs("runs/video_prediction")
    open("runs/video_prediction/metrics.json", "w").close()
    # The default --out moves on; one the user names is refused.
    assert video_prediction.parse_args([]).out == "runs/video_prediction_2"
    with pytest.raises(SystemExit):
        video_prediction.parse_args(["--out", "runs/video_prediction"])
    assert "already holds files (metrics.json)" in capsys.readouterr().err
    assert video_prediction.parse_args(
        ["--out", "runs/video_prediction", "--overwrite"]).out == "runs/video_prediction"
    # A file as --root is fine where the data set reads one (a video file).
    open("clip.avi", "w").close()
    assert video_prediction.parse_args(["--dataset", "video_frames", "--root",
                                        "clip.avi"]).root == "clip.avi"
