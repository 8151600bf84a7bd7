import json
import os

import cv2
import numpy as np
import pytest

from cvseq import cli, tasks

TINY = ["--frames", "4", "--image-size", "16", "--batch-size", "16",
        "--data", "num_clips=64", "--set", "units=8"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("run"))
    assert cli.main(["train", "video_tagger", "--epochs", "1", "--out", out] + TINY) == 0
    return out


def test_train_writes_a_run_directory(run_dir):
    for name in ("model.keras", "run.json", "metrics.json", "log.csv",
                 "curves.png", "predictions.png"):
        assert os.path.isfile(os.path.join(run_dir, name)), name
    run = json.load(open(os.path.join(run_dir, "run.json")))
    assert run["task"] == "video_tagger" and run["class_names"][0] == "right"
    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    assert 0 <= metrics["test"]["accuracy"] <= 1
    assert len(metrics["history"]["loss"]) == 1


def test_list(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "video_tagger" in out and "small_cnn" in out and "moving_digits" in out
    # The two video use cases of issue 13: next-frame prediction and flow.
    assert "video_predictor" in out and "streams=rgb,flow" in out


def test_evaluate_infers_the_data_shape_from_the_model(run_dir, capsys):
    model = os.path.join(run_dir, "model.keras")
    assert cli.main(["evaluate", model, "--data", "num_clips=32"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dataset"] == "moving_digits" and 0 <= report["accuracy"] <= 1


def test_predict_on_video_files(run_dir, tmp_path, capsys):
    paths = []
    for i in range(2):
        path = str(tmp_path / f"clip{i}.avi")
        writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 10, (24, 24))
        for t in range(10):
            frame = np.zeros((24, 24, 3), np.uint8)
            frame[8:14, t:t + 6] = 255
            writer.write(frame)
        writer.release()
        paths.append(path)
    assert cli.main(["predict", os.path.join(run_dir, "model.keras"), *paths]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(paths[0])
    assert any(name in lines[0] for name in ("right", "left", "down", "up"))
    # A bad file among them is said on its own line; the others are predicted
    # the same, and the exit status says that one failed.
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    assert cli.main(["predict", os.path.join(run_dir, "model.keras"), paths[0], str(bad),
                     paths[1]]) == cli.EXIT_USER_ERROR
    said = capsys.readouterr()
    assert said.out.strip().splitlines() == lines
    assert said.err.strip().startswith("cvseq: error: input 2 of 3: Cannot read video") and \
        "bad.mp4" in said.err and len(said.err.strip().splitlines()) == 1


def test_predict_without_run_json_says_so_and_reads_the_model(run_dir, tmp_path, capsys):
    import shutil

    import keras

    import cvseq

    clip = str(tmp_path / "clip.avi")
    writer = cv2.VideoWriter(clip, cv2.VideoWriter_fourcc(*"MJPG"), 10, (16, 16))
    for t in range(6):
        writer.write(np.full((16, 16, 3), 40 * t, np.uint8))
    writer.release()
    alone = str(tmp_path / "alone.keras")
    shutil.copy(os.path.join(run_dir, "model.keras"), alone)
    capsys.readouterr()
    assert cli.main(["predict", alone, clip]) == 0
    said = capsys.readouterr()
    assert said.err.strip() == (
        f"cvseq: note: no run.json beside {alone!r}: predicting as 'video_tagger' "
        "(the model's name), without the run's class names (classes print as their "
        "indices) or data options.")
    classes = [part.split()[0] for part in said.out.split(": ", 1)[1].split(", ")]
    assert len(classes) == 3 and set(classes) <= {"0", "1", "2", "3"}
    # A tagger (multi-label) without run.json prints the tags over the
    # threshold, not a top 3 as if one class were meant.
    keras.utils.set_random_seed(0)
    tagger = cvseq.video_tagger(3, frames=4, image_size=16, units=4, multi_label=True,
                                compile=False)
    tagger.save(str(tmp_path / "tagger.keras"))
    printed = {}
    for threshold in ("0", "1"):
        assert cli.main(["predict", str(tmp_path / "tagger.keras"), clip,
                         "--threshold", threshold]) == 0
        printed[threshold] = capsys.readouterr().out.strip().split(": ", 1)[1]
    assert [tag.split()[0] for tag in printed["0"].split(", ")] == ["0", "1", "2"]
    assert printed["1"] == "(no tag scores 1 or more)"


def test_export_tflite(run_dir, capsys):
    assert cli.main(["export", os.path.join(run_dir, "model.keras"),
                     "--format", "tflite"]) == 0
    assert os.path.isfile(os.path.join(run_dir, "model.tflite"))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "no_such_task"], "Unknown task 'no_such_task'"),
        (["predict", "missing.keras", "x.mp4"], "No such model file"),
        (["train", "video_tagger", "--dataset", "nope"], "Unknown data set 'nope'"),
        (["train", "video_tagger", "--data", "label"], "KEY=VALUE"),
    ],
)
def test_user_mistakes_print_one_line(argv, message, capsys):
    assert cli.main(argv) == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err.strip()
    assert err.startswith("cvseq: error:") and message in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_unreadable_input_and_data_that_does_not_fit(run_dir, tmp_path, capsys):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    model = os.path.join(run_dir, "model.keras")
    assert cli.main(["predict", model, str(bad)]) == cli.EXIT_USER_ERROR
    assert "Cannot read video" in capsys.readouterr().err
    assert cli.main(["predict", model, str(tmp_path)]) == cli.EXIT_USER_ERROR
    assert "is a folder; give video files" in capsys.readouterr().err
    assert cli.main(["train", "video_tagger", "--dataset", "video_folder"]) == 2
    assert "--data root=path/to/videos" in capsys.readouterr().err
    assert cli.main(["evaluate", model, "--data", "frames=6", "--data",
                     "num_clips=8"]) == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert "does not fit this model" in err and len(err.strip().splitlines()) == 1


def test_same_seed_same_metrics(tmp_path):
    results = []
    for name in ("a", "b"):
        out = str(tmp_path / name)
        assert cli.main(["train", "video_tagger", "--epochs", "2", "--seed", "3",
                         "--out", out] + TINY) == 0
        results.append(json.load(open(os.path.join(out, "metrics.json"))))
    assert results[0] == results[1]


# Killed runs, re-runs into a finished run directory, --resume and
# --overwrite: tests/reliability/test_run_directory.py.


TASK_RUNS = {
    "video_classifier_3d": (
        ["--frames", "4", "--image-size", "16", "--data", "num_clips=32",
         "--set", "filters=(4, 8, 8, 8)"], "video"),
    # 9,195 training reviews: batches of 256 (this later --batch-size wins)
    # make one epoch 36 steps instead of 575 (20.4 -> 9.0 CPU-s).
    "text_classifier": (["--data", "max_tokens=500", "--set", "units=8",
                         "--batch-size", "256"], ["a wonderful film", "dull and boring"]),
    "language_model": (["--data", "sequence_length=8", "--data", "max_tokens=300",
                        "--set", "units=8"], ["to be or"]),
    "translator": (["--set", "units=8"], ["German"]),
    "sequence_generator": (["--data", "sequence_length=16", "--set", "units=8"], ["-"]),
    "image_captioner": (["--data", "num_images=48", "--set", "units=8"], "image"),
    "trajectory_predictor": (["--data", "num_trajectories=48", "--set", "units=8"],
                             "track"),
}


# Traced as users run `cvseq train` (`graph`) where tracing costs less than
# running eagerly: the text tasks, whose RNNs loop over tokens (eagerly, the
# translator's run cost 103 CPU-s against 19 traced, the text classifier 61
# against 12, the language model 48 against 9). The 3D CNN, the captioner
# and the trajectory predictor cost less eagerly (4.0 / 7.1 / 3.9 against
# 7.4 / 12.1 / 6.0); their steps run traced in their learning tests.
TRACED_RUNS = {"language_model", "sequence_generator", "text_classifier", "translator"}


@pytest.mark.parametrize("task", [
    pytest.param(task, marks=pytest.mark.graph) if task in TRACED_RUNS else task
    for task in sorted(TASK_RUNS)])
def test_every_task_trains_predicts_and_evaluates(task, tmp_path, capsys):
    options, inputs = TASK_RUNS[task]
    out = str(tmp_path / task)
    assert cli.main(["train", task, "--epochs", "1", "--batch-size", "16",
                     "--out", out] + options) == 0, capsys.readouterr().err
    model = os.path.join(out, "model.keras")
    assert os.path.isfile(model)
    # predictions.png where the task draws its predictions (TaskSpec.picture),
    # and said in the last line exactly when written.
    drawn = tasks.get_task(task).picture is not None
    assert os.path.isfile(os.path.join(out, "predictions.png")) == drawn
    assert ("predictions.png" in capsys.readouterr().out.splitlines()[-1]) == drawn
    if inputs == "video":
        inputs = [str(tmp_path / "clip.avi")]
        writer = cv2.VideoWriter(inputs[0], cv2.VideoWriter_fourcc(*"MJPG"), 10, (20, 20))
        for t in range(8):
            writer.write(np.full((20, 20, 3), 30 * t, np.uint8))
        writer.release()
    elif inputs == "image":
        inputs = [str(tmp_path / "digit.png")]
        cv2.imwrite(inputs[0], np.random.default_rng(0).integers(0, 255, (40, 40, 3)).astype("uint8"))
    elif inputs == "track":
        inputs = [str(tmp_path / "track.csv")]
        np.savetxt(inputs[0], np.stack([np.arange(20.0), np.arange(20.0)], 1), delimiter=",")
    capsys.readouterr()
    assert cli.main(["predict", model, *inputs]) == 0, capsys.readouterr().err
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(inputs)
    assert all(line.split(": ", 1)[1].strip() for line in lines), lines
    # evaluate: the run's data options and class names, the held-out metric.
    assert cli.main(["evaluate", model]) == 0, capsys.readouterr().err
    scores = json.loads(capsys.readouterr().out)
    assert scores["split"] == "test" and tasks.get_task(task).metric in scores


CNN_RUNS = {
    "image_classifier": ["--image-size", "16", "--data", "examples_per_class=8"],
    "image_segmenter": ["--image-size", "32", "--data", "num_scenes=16"],
    "object_detector": ["--image-size", "64", "--data", "num_scenes=16"],
}


# Eager (tests/conftest.py): the image tasks' steps run traced in their learning
# tests; the detector's traced train step alone costs ~16 CPU-s here.
@pytest.mark.parametrize("task", sorted(CNN_RUNS))
def test_cnn_tasks_train_and_predict(task, tmp_path, capsys):
    out = str(tmp_path / task)
    assert cli.main(["train", task, "--epochs", "1", "--batch-size", "8",
                     "--out", out] + CNN_RUNS[task]) == 0, capsys.readouterr().err
    image = str(tmp_path / "image.png")
    cv2.imwrite(image, np.random.default_rng(0).integers(0, 255, (50, 60, 3)).astype("uint8"))
    capsys.readouterr()
    assert cli.main(["predict", os.path.join(out, "model.keras"), image]) == 0, \
        capsys.readouterr().err
    line = capsys.readouterr().out.strip()
    assert line.startswith(image + ": ") and len(line) > len(image) + 2


class _StubDetector:
    """Stands in for a trained detector: two boxes scoring 0.6 and 0.35."""

    name = "object_detector"
    inputs = [np.zeros((1, 8, 8, 3))]

    def predict(self, images, verbose=0):
        n = len(images)
        return {
            "boxes": np.tile([[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]], (n, 1, 1)),
            "labels": np.tile([[0, 1]], (n, 1)),
            "scores": np.tile([[0.6, 0.35]], (n, 1)),
            "num_detections": np.full(n, 2),
        }


@pytest.mark.parametrize("extra, printed", [
    ([], ["zero 0.60 [1 2 3 4]"]),
    (["--threshold", "0.3"], ["zero 0.60 [1 2 3 4]", "one 0.35 [5 6 7 8]"]),
    (["--threshold", "0.9"], ["(no box scores 0.9 or more)"]),
])
def test_predict_threshold_for_detections(extra, printed, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_load_model", lambda path: _StubDetector())
    with open(tmp_path / "run.json", "w") as f:
        json.dump({"task": "object_detector", "class_names": ["zero", "one"]}, f)
    image = str(tmp_path / "image.png")
    cv2.imwrite(image, np.zeros((12, 12, 3), np.uint8))
    assert cli.main(["predict", str(tmp_path / "model.keras"), image, *extra]) == 0
    line = capsys.readouterr().out.strip()
    assert line == f"{image}: " + "; ".join(printed)


def test_predict_threshold_is_checked_and_documented(capsys):
    assert cli.main(["predict", "m.keras", "x.png", "--threshold", "5"]) == cli.EXIT_USER_ERROR
    assert "--threshold is a score between 0 and 1. Received: 5.0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["predict", "--help"])
    assert "--threshold" in capsys.readouterr().out
