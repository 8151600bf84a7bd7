"""A trained run is never lost or silently replaced (issue 11, points 1-3, 14).

`cvseq train` is killed with SIGKILL at each phase of a run (mid-epoch,
between epochs, during the final evaluation, at three instants of the
final save) through the `CVSEQ_KILL_AT` hook; after every kill the same
command is run again, and the run ends as one complete, consistent run.
"""

import csv
import json
import os
import re
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


def _kill_at_each(phases, command, cvseq_subprocess, out, old_model=None):
    """Runs `command` once per phase in a new process, killed there, then
    once to the end in this one.

    `phases` maps each phase to the epochs log.csv holds after the kill.
    Until the save renames the new model into place, model.keras is absent
    (a new run) or still the `old_model` bytes (a continued run)."""
    for phase, logged in phases.items():
        killed = cvseq_subprocess(*command, env={training.KILL_ENV: phase})
        assert killed.returncode == -signal.SIGKILL, (phase, killed.stderr[-2000:])
        # Nothing but cvseq's own lines: TensorFlow's start-up records
        # honour TF_CPP_MIN_LOG_LEVEL (cvseq._tf.quiet_tensorflow_import).
        assert not re.search(r"^[IWE]\d{4} |absl::InitializeLog", killed.stderr, re.M), \
            killed.stderr[-2000:]
        # Not finished yet: the backup is kept until the model is saved.
        assert training.RunDirectory(out).state == "interrupted", phase
        assert _logged_epochs(out) == logged, phase
        if phase in ("batch:2:1", "batch:3:1", "epoch_end:2", "evaluate", "save:model"):
            model = os.path.join(out, "model.keras")
            if old_model is None:
                assert not os.path.exists(model), phase
            else:
                assert open(model, "rb").read() == old_model, phase
    # The re-run to the end is not killed: it runs in this process, which
    # has TensorFlow imported already (a `cvseq` process costs ~7 CPU-s of
    # imports). It starts from the files alone, as a new process would.
    from cvseq import cli

    assert cli.main([str(a) for a in command]) == 0


def test_killed_at_every_phase_the_rerun_ends_one_consistent_run(
        tmp_path, tiny_train, cvseq_subprocess):
    """Mid-epoch, between epochs, during the final evaluation, and during
    the save (the new model renamed into place, metrics and run.json not
    yet): each re-run continues from where the kill left it."""
    out = str(tmp_path / "run")
    command = ["train", *tiny_train, "--epochs", "3", "--out", out]
    _kill_at_each({"batch:2:1": [0], "epoch_end:2": [0, 1], "evaluate": [0, 1, 2],
                   "save:model_replaced": [0, 1, 2]}, command, cvseq_subprocess, out)
    assert_consistent_run(out, 3)


@pytest.mark.slow
@pytest.mark.eager
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
    _kill_at_each({"batch:3:1": [0, 1], "save:model": [0, 1, 2],
                   "save:committed": [0, 1, 2]}, command, cvseq_subprocess, out,
                  old_model=before)
    assert_consistent_run(out, 3)


def _copy(finished_run, tmp_path):
    out = str(tmp_path / "run")
    shutil.copytree(finished_run, out)
    return out


@pytest.mark.parametrize("extra, says", [
    ([], "--resume --epochs N"),                      # the same command again
    (["--epochs", "5", "--set", "units=16"], "--overwrite"),
    (["--resume", "--epochs", "2"], "pass 3 or more"),  # --epochs is the total
    (["--resume", "--epochs", "4", "--set", "units=16"], "'units': 16"),
    (["--resume", "--epochs", "4", "--seed", "1"], "seed: 0 in the run, 1 now"),
    (["--epochs", "0"], "--epochs must be at least 1"),
])
def test_a_finished_run_is_not_replaced_unless_asked(
        extra, says, finished_run, tmp_path, tiny_train, cvseq_error, snapshot):
    out = _copy(finished_run, tmp_path)
    before = snapshot(out)
    argv = ["train", *tiny_train, "--epochs", "2", "--out", out, *extra]
    assert says in cvseq_error(argv)
    assert snapshot(out) == before


def test_files_no_run_wrote_are_not_replaced_unless_asked(
        finished_run, tmp_path, tiny_train, cvseq_error, snapshot):
    from cvseq import cli

    # The results of `cvseq track`, a user's own files, or a run whose
    # model.keras was deleted: a directory with no model and no backup.
    out = str(tmp_path / "results")
    os.makedirs(out)
    for name in ("metrics.json", "log.csv", "notes.txt"):
        open(os.path.join(out, name), "w").write("mine")
    before = snapshot(out)
    says = cvseq_error(["train", *tiny_train, "--epochs", "1", "--out", out])
    assert "holds metrics.json, log.csv but no model.keras" in says
    assert "--overwrite" in says
    assert snapshot(out) == before
    with pytest.raises(FileExistsError, match="metrics.json, log.csv"):
        training.RunDirectory(out).begin({"task": "video_tagger"})
    assert snapshot(out) == before
    # Asked: replaced, and the user's other files stay.
    assert cli.main(["train", *tiny_train, "--epochs", "1", "--out", out,
                     "--overwrite"]) == 0
    assert open(os.path.join(out, "notes.txt")).read() == "mine"
    os.remove(os.path.join(out, "notes.txt"))
    assert_consistent_run(out, 1)
    # `cvseq track` does not write its metrics.json into a train run.
    run = _copy(finished_run, tmp_path)
    before = snapshot(run)
    for extra in ([], ["--overwrite"]):
        says = cvseq_error(["track", "--dataset", "digit_tracks", "--clips", "1",
                            "--out", run, *extra])
        assert "holds a cvseq train run" in says
    assert snapshot(run) == before


def test_a_backup_folder_of_the_users_is_never_deleted(
        finished_run, tmp_path, tiny_train, cvseq_error, snapshot):
    # A folder called backup/ with files no run writes: `cvseq train` took
    # it for an interrupted run and deleted it when the run ended.
    for start in ("empty", "finished"):
        out = tmp_path / start
        if start == "finished":
            shutil.copytree(finished_run, out)
        (out / "backup").mkdir(parents=True)
        (out / "backup" / "thesis.txt").write_text("mine")
        before = snapshot(out)
        for extra in ([], ["--overwrite"], ["--resume"]):
            says = cvseq_error(["train", *tiny_train, "--epochs", "3", "--out", out,
                                *extra])
            assert "backup/ that no cvseq run wrote (thesis.txt)" in says, says
        assert snapshot(out) == before
        run_dir = training.RunDirectory(out)
        assert run_dir.state == ("new" if start == "empty" else "finished")
        for overwrite in (False, True):
            with pytest.raises(FileExistsError, match="no cvseq run wrote"):
                run_dir.begin({"task": "video_tagger"}, overwrite=overwrite)
        assert snapshot(out) == before


def test_a_run_json_cannot_hold_leaves_nothing_behind(tmp_path):
    # It left an empty backup/: a phantom interrupted run; write_json left
    # its .tmp file.
    out = tmp_path / "run"
    with pytest.raises(TypeError, match="not JSON serializable"):
        training.RunDirectory(str(out)).begin({"task": {1, 2}})
    assert not out.exists() or os.listdir(out) == []
    assert training.RunDirectory(str(out)).state == "new"
    with pytest.raises(TypeError):
        training.write_json(str(tmp_path / "x.json"), {"a": object()})
    assert sorted(os.listdir(tmp_path)) == (["run"] if out.exists() else [])


def test_files_a_file_browser_adds_to_backup_do_not_block_a_resume(tmp_path):
    run_dir = training.RunDirectory(str(tmp_path / "run"))
    run_dir.begin({"task": "video_tagger"})
    for name in (".DS_Store", "._run.json", "Thumbs.db"):
        (tmp_path / "run" / "backup" / name).write_text("")
    assert run_dir.state == "interrupted" and run_dir.foreign_backup() is None
    run_dir.begin({"task": "video_tagger"})  # continued, not refused


def test_the_library_does_not_replace_a_finished_run_unasked(finished_run, tmp_path,
                                                             snapshot):
    out = _copy(finished_run, tmp_path)
    before = snapshot(out)
    run_dir = training.RunDirectory(out)
    with pytest.raises(FileExistsError, match="holds a finished run.*resume=True"):
        run_dir.begin({"task": "video_tagger"})
    with pytest.raises(TypeError, match="overwrite"):
        run_dir.begin({"task": "video_tagger"}, overwrite="no")
    assert snapshot(out) == before
    run_dir.begin({"task": "video_tagger"}, resume=True)  # kept until commit
    assert os.path.isfile(os.path.join(out, "model.keras"))
    assert run_dir.state == "interrupted"


def test_overwrite_replaces_and_resume_continues(finished_run, tmp_path, tiny_train,
                                                 capsys):
    from cvseq import cli

    out = _copy(finished_run, tmp_path)
    # Exports of the earlier model (cvseq export's default places) stay, said.
    tflite = os.path.join(out, "model.tflite")
    open(tflite, "wb").write(b"earlier model")
    os.makedirs(os.path.join(out, "model_saved_model"))
    for path in (tflite, os.path.join(out, "model_saved_model")):
        os.utime(path, (1e9, 1e9))
    capsys.readouterr()
    assert cli.main(["train", *tiny_train, "--epochs", "3", "--out", out,
                     "--resume"]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines()
             if line.startswith("cvseq: note:")]
    assert len(notes) == 2 and "model.tflite was exported from the earlier" in notes[0]
    assert "model_saved_model" in notes[1] and "cvseq export" in notes[1]
    assert open(tflite, "rb").read() == b"earlier model"
    os.remove(tflite)
    os.rmdir(os.path.join(out, "model_saved_model"))
    assert_consistent_run(out, 3)
    assert cli.main(["train", *tiny_train, "--epochs", "1", "--out", out,
                     "--overwrite"]) == 0
    assert_consistent_run(out, 1)


def test_an_interrupted_run_with_other_options_is_refused(
        finished_run, tmp_path, tiny_train, cvseq_error, snapshot):
    out = _copy(finished_run, tmp_path)
    run_dir = training.RunDirectory(out)
    # As a `--resume --epochs 4` killed in its first epoch leaves it.
    run_dir.begin({**run_dir.finished(), "epochs": 4, "initial_epoch": 2}, resume=True)
    before = snapshot(out)
    message = cvseq_error(["train", *tiny_train, "--epochs", "4", "--out", out,
                           "--set", "units=32"])
    assert "interrupted run" in message and "'units': 32" in message
    assert snapshot(out) == before


@pytest.mark.parametrize("interrupted", [False, True])
def test_a_run_on_data_whose_classes_changed_is_not_continued(
        interrupted, finished_run, tmp_path, tiny_train, cvseq_error, snapshot):
    """Same options, but the data's classes changed since the run began (a
    label folder added or renamed): its labels would name other classes."""
    out = _copy(finished_run, tmp_path)
    run_dir = training.RunDirectory(out)
    record = run_dir.finished()
    renamed = ["cat", *record["class_names"][1:]]
    if interrupted:  # as a `--resume --epochs 4` killed in its first epoch
        run_dir.begin({**record, "class_names": renamed, "epochs": 4,
                       "initial_epoch": 2}, resume=True)
    else:
        training.write_json(os.path.join(out, "run.json"),
                            {**record, "class_names": renamed})
    before = snapshot(out)
    message = cvseq_error(["train", *tiny_train, "--epochs", "4", "--out", out]
                          + ([] if interrupted else ["--resume"]))
    assert "'cat'" in message and repr(record["class_names"][0]) in message
    assert "--overwrite" in message
    assert snapshot(out) == before


def test_a_stale_backup_of_another_model_is_named(
        tmp_path, tiny_train, cvseq_error, snapshot):
    import cvseq

    out = tmp_path / "run"
    (out / "backup").mkdir(parents=True)  # left by an older cvseq: no record
    other = cvseq.video_tagger(4, frames=4, image_size=16, units=32)
    other.save_weights(str(out / "backup" / "latest.weights.h5"))
    before = snapshot(out)
    message = cvseq_error(["train", *tiny_train, "--epochs", "2", "--out", out])
    assert "backup" in message and "--overwrite" in message
    # A former default is offered only where the task had one.
    assert "video_tagger" in message and "--set" not in message
    assert snapshot(out) == before


def test_an_interrupted_run_resumes_the_model_it_began_with(
        tmp_path, tiny_train, monkeypatch, capsys, cvseq_error):
    """A default that changes between the start of a run and its re-run (a
    cvseq upgrade) does not strand the run: the re-run continues the model
    recorded in backup/model.json. Without that record the same re-run
    cannot load the backup."""
    import dataclasses

    from cvseq import cli, tasks

    out = str(tmp_path / "run")
    argv = ["train", *tiny_train, "--epochs", "2", "--out", out]

    def interrupt(name):  # as a kill, without killing pytest
        if os.environ.get(training.KILL_ENV) == name:
            raise KeyboardInterrupt(name)

    monkeypatch.setattr(training, "kill_point", interrupt)
    monkeypatch.setenv(training.KILL_ENV, "epoch_end:1")
    capsys.readouterr()
    # Ctrl-C: one line saying what was kept and how to go on, the shell's 130.
    assert cli.main(argv) == cli.EXIT_INTERRUPTED
    said = capsys.readouterr().err.strip()
    assert said == (f"cvseq: interrupted: the run in {out!r} is 1 epoch(s) backed "
                    "up: run the same command to resume it."), said
    monkeypatch.delenv(training.KILL_ENV)
    assert training.RunDirectory(out).state == "interrupted"
    for path in (os.path.join(out, "model.keras"), out):  # no model yet: said why
        assert "interrupted run" in cvseq_error(["evaluate", path])
    first_epoch = open(os.path.join(out, "log.csv")).read()
    assert _logged_epochs(out) == [0]

    # The next cvseq's video tagger defaults to a GRU: weights of other shapes.
    spec = tasks.get_task("video_tagger")

    def upgraded(*args, recurrent="gru", **kwargs):
        return spec.factory(*args, recurrent=recurrent, **kwargs)

    monkeypatch.setitem(tasks._TASKS, "video_tagger",
                        dataclasses.replace(spec, factory=upgraded))

    # Without the record (an older cvseq's backup) the backup does not fit.
    unrecorded = os.path.join(tmp_path, "unrecorded")
    shutil.copytree(out, unrecorded)
    os.remove(os.path.join(unrecorded, "backup", training.MODEL_CONFIG_FILE))
    message = cvseq_error([*argv[:-1], unrecorded])
    assert "do not fit" in message and "--overwrite" in message
    # A record this cvseq cannot rebuild is said, then treated as none.
    unreadable = os.path.join(tmp_path, "unreadable")
    shutil.copytree(out, unreadable)
    training.write_json(os.path.join(unreadable, "backup", training.MODEL_CONFIG_FILE),
                        {"module": "elsewhere", "class_name": "GoneModel", "config": {}})
    capsys.readouterr()
    assert cli.main([*argv[:-1], unreadable]) == cli.EXIT_USER_ERROR
    note, error = capsys.readouterr().err.strip().splitlines()
    assert note.startswith("cvseq: note:") and "model.json" in note
    assert "do not fit" in error

    # With it, the run continues its LSTM model from the backed-up epoch.
    assert cli.main(argv) == 0
    assert_consistent_run(out, 2)
    assert open(os.path.join(out, "log.csv")).read().startswith(first_epoch)
    config = json.dumps(keras.saving.load_model(os.path.join(out, "model.keras"))
                        .get_config())
    assert '"LSTM"' in config and '"GRU"' not in config


def test_a_backup_that_is_no_weights_file_is_named(
        tmp_path, tiny_train, cvseq_error, snapshot):
    out = tmp_path / "run"
    (out / "backup").mkdir(parents=True)
    (out / "backup" / "latest.weights.h5").write_bytes(b"not an HDF5 file")
    before = snapshot(out)
    message = cvseq_error(["train", *tiny_train, "--epochs", "2", "--out", out])
    assert "backup" in message and "--overwrite" in message
    assert snapshot(out) == before


def test_a_bug_while_checking_the_backup_is_not_a_user_error(
        tmp_path, tiny_train, monkeypatch):
    """Only Keras' and h5py's "does not fit" errors mean "another model's
    backup"; anything else is a bug and propagates."""
    import keras

    from cvseq import cli

    out = tmp_path / "run"
    (out / "backup").mkdir(parents=True)
    (out / "backup" / "latest.weights.h5").write_bytes(b"")

    def broken(self, path, *args, **kwargs):
        raise AttributeError("a bug inside load_weights")

    monkeypatch.setattr(keras.Model, "load_weights", broken)
    with pytest.raises(AttributeError, match="a bug inside"):
        cli.main(["train", *tiny_train, "--epochs", "2", "--out", str(out)])


def test_resume_needs_a_run(tmp_path, tiny_train, cvseq_error):
    out = tmp_path / "none"
    assert "no run to resume" in cvseq_error(
        ["train", *tiny_train, "--out", out, "--resume"])
    assert not out.exists()


@pytest.mark.parametrize("extra", [["--set", "units=0"], ["--data", "num_clips=0"],
                                   ["--frames", "0"], ["--image-size", "-4"]])
def test_bad_options_leave_no_run_directory(extra, tmp_path, tiny_train, cvseq_error):
    out = tmp_path / "new"
    cvseq_error(["train", *tiny_train, "--epochs", "1", "--out", out, *extra])
    assert not out.exists()


def test_a_train_that_fails_leaves_no_empty_run_directory(
        tmp_path, tiny_train, monkeypatch):
    from cvseq import cli

    def fail(*args, **kwargs):
        raise RuntimeError("a fault in the first epoch")

    monkeypatch.setattr(keras.Model, "fit", fail)
    out = tmp_path / "new"
    with pytest.raises(RuntimeError, match="first epoch"):
        cli.main(["train", *tiny_train, "--epochs", "1", "--out", str(out)])
    assert not out.exists()


def test_an_interrupted_run_is_not_cut_shorter_than_it_trained(
        finished_run, tmp_path, tiny_train, cvseq_error, snapshot):
    out = tmp_path / "run"
    run_dir = training.RunDirectory(str(out))
    record = {**json.load(open(os.path.join(finished_run, "run.json"))), "epochs": 3}
    run_dir.begin({**record, "initial_epoch": 0})
    (out / "backup" / "training_metadata.json").write_text('{"epoch": 2, "batch": 0}')
    before = snapshot(out)
    message = cvseq_error(["train", *tiny_train, "--epochs", "1", "--out", out])
    assert "trained 2 epochs" in message and "pass 2 or more" in message
    assert snapshot(out) == before


def test_a_diverged_run_is_not_resumed_into_a_model(
        finished_run, tmp_path, tiny_train, cvseq_error, snapshot):
    out = tmp_path / "run"
    record = json.load(open(os.path.join(finished_run, "run.json")))
    # As `cvseq train` leaves a run whose loss became NaN in its last epoch:
    # a re-run with no epoch left must not save the NaN weights as the model.
    training.RunDirectory(str(out)).begin(
        {**record, "initial_epoch": 0, "diverged": "Training stopped: the loss "
         "became nan at epoch 2, batch 1"})
    (out / "backup" / "training_metadata.json").write_text('{"epoch": 2, "batch": 0}')
    before = snapshot(out)
    message = cvseq_error(["train", *tiny_train, "--epochs", "2", "--out", out])
    assert "diverged" in message and "--overwrite" in message
    assert snapshot(out) == before
