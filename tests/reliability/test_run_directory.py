"""A trained run is never lost or silently replaced (issue 11, points 1-3, 14).

`cvseq train` is killed with SIGKILL at each phase of a run (mid-epoch,
between epochs, during the final evaluation, at three instants of the
final save) through the `CVSEQ_KILL_AT` hook; after every kill the same
command is run again, and the run ends as one complete, consistent run.
"""

import csv
import json
import os
import shutil
import signal

import keras
import pytest

from cvseq import training

RUN_FILES = sorted(["model.keras", "run.json", "metrics.json", "log.csv",
                    "curves.png", "predictions.png"])
STEPS_PER_EPOCH = 2  # tiny_train: 16 clips in batches of 8


def _logged_epochs(out):
    path = os.path.join(out, "log.csv")
    if not os.path.isfile(path):
        return []
    with open(path) as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


def assert_consistent_run(out, epochs):
    """model.keras, run.json, metrics.json and log.csv describe one run of
    `epochs` epochs, and nothing else is left in the directory."""
    assert sorted(os.listdir(out)) == RUN_FILES
    run = json.load(open(os.path.join(out, "run.json")))
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    with open(os.path.join(out, "log.csv")) as f:
        rows = list(csv.DictReader(f))
    assert run["epochs"] == epochs
    assert [int(row["epoch"]) for row in rows] == list(range(epochs))
    assert metrics["history"]["loss"] == [float(row["loss"]) for row in rows]
    model = keras.saving.load_model(os.path.join(out, "model.keras"))
    # The saved optimizer counted exactly the steps of `epochs` epochs: the
    # model is the one trained for them, not a restart nor a stale one.
    assert int(model.optimizer.iterations) == epochs * STEPS_PER_EPOCH
    assert model.output_shape[-1] == len(run["class_names"])


def _kill_at_each(phases, command, cvseq_subprocess, out):
    """Runs `command` once per phase, killed there, then once to the end."""
    for phase in phases:
        killed = cvseq_subprocess(*command, env={training.KILL_ENV: phase})
        assert killed.returncode == -signal.SIGKILL, (phase, killed.stderr[-2000:])
        # Not finished yet: the backup is kept until the model is saved.
        assert training.RunDirectory(out).state == "interrupted", phase
        epochs = _logged_epochs(out)
        assert epochs == sorted(set(epochs)), (phase, epochs)
        if phase in ("batch:2:1", "epoch_end:2", "evaluate", "save:model"):
            assert not os.path.exists(os.path.join(out, "model.keras")), phase
    final = cvseq_subprocess(*command)
    assert final.returncode == 0, final.stderr[-2000:]


def test_killed_at_every_phase_the_rerun_ends_one_consistent_run(
        tmp_path, tiny_train, cvseq_subprocess):
    """Mid-epoch, between epochs, during the final evaluation, and during
    the save (the new model renamed into place, metrics and run.json not
    yet): each re-run continues from where the kill left it."""
    out = str(tmp_path / "run")
    command = ["train", *tiny_train, "--epochs", "3", "--out", out]
    _kill_at_each(["batch:2:1", "epoch_end:2", "evaluate", "save:model_replaced"],
                  command, cvseq_subprocess, out)
    assert_consistent_run(out, 3)


@pytest.mark.slow
def test_killed_while_saving_or_continuing_a_finished_run(
        tmp_path, tiny_train, cvseq_subprocess, finished_run):
    """The other instants of the save (model written under its temporary
    name; everything renamed, backup not yet deleted), in a run that
    continues a finished one with --resume: the finished model stays until
    the longer run replaces it."""
    out = str(tmp_path / "run")
    shutil.copytree(finished_run, out)
    before = open(os.path.join(out, "model.keras"), "rb").read()
    command = ["train", *tiny_train, "--epochs", "3", "--out", out, "--resume"]
    killed = cvseq_subprocess(*command, env={training.KILL_ENV: "batch:3:1"})
    assert killed.returncode == -signal.SIGKILL
    assert open(os.path.join(out, "model.keras"), "rb").read() == before
    _kill_at_each(["save:model", "save:committed"], command, cvseq_subprocess, out)
    assert_consistent_run(out, 3)
