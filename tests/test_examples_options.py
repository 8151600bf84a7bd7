"""The example scripts check their options before anything runs, and never
replace an earlier run's files unasked (examples/_common.checked)."""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "examples"))

import _common  # noqa: E402
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


def _args(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return video_tagging.parse_args([])


def test_a_value_only_the_factory_can_judge_is_one_line_too(tmp_path, capsys, monkeypatch):
    # Was a traceback: argparse cannot know the backbone's smallest size.
    import cvseq

    args = _args(tmp_path, monkeypatch)  # prog: the script's name, as argparse's errors
    with pytest.raises(SystemExit) as exit_:
        _common.build(args, cvseq.video_tagger, 4, image_size=7)
    assert exit_.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"{args.prog}: error: `image_size` must be at least 8 pixels on each "
                     "side. Received: image_size=(7, 7)."]
    # A data set loader given the options reads the same (its own checks).
    with pytest.raises(SystemExit):
        _common.load_splits(_args(tmp_path, monkeypatch), "moving_digits",
                            options=dict(frames=0))
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"{args.prog}: error:"), err


def test_an_error_inside_the_call_that_is_no_option_check_still_shows_its_traceback(
        tmp_path, monkeypatch):
    def broken(**_):
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        _common.build(_args(tmp_path, monkeypatch), broken, units=8)


def test_video_prediction_from_one_frame_reports_copy_last_alone():
    # `--frames-in 1` ended in a broadcasting traceback after training: there
    # is no second frame to extrapolate from.
    context = np.arange(2 * 1 * 4 * 4).reshape(2, 1, 4, 4, 1).astype("uint8")
    guesses = video_prediction.baselines(context, 3)
    assert list(guesses) == ["copy last frame"]
    assert guesses["copy last frame"].shape == (2, 3, 4, 4, 1)
    two = video_prediction.baselines(np.concatenate([context, context + 1], axis=1), 3)
    np.testing.assert_array_equal(two["linear extrapolation"][:, 2], context[:, 0] + 4)


def test_the_trained_model_is_saved_before_the_run_s_other_files(tmp_path):
    # Every example calls save_model right after fit, so an error in its
    # evaluation or pictures never loses the model (video_prediction.py
    # --frames-in 1 lost one so); save_run then writes the curves and metrics.
    import json

    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile("sgd", "mse")
    history = model.fit(np.zeros((4, 3)), np.zeros((4, 2)), epochs=2, verbose=0)
    path = _common.save_model(str(tmp_path), model, "m.keras")
    assert path == str(tmp_path / "m.keras") and os.path.isfile(path)
    _common.save_run(str(tmp_path), history=history, metrics={"loss": 0.5})
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"loss": 0.5}
    assert (tmp_path / "curves.png").is_file()
    with open(os.path.join(os.path.dirname(__file__), os.pardir, "examples",
                           "video_tagging.py")) as f:
        source = f.read()
    assert source.index("save_model(") < source.index("model.evaluate(")
