"""Fine-tuning in two stages, and run directories that never lose a model.

Stage 1 trains a new head on a frozen pretrained backbone; stage 2 unfreezes
the backbone and trains everything at a lower learning rate:

```python
model = cvseq.image_classifier(5, image_size=32, backbone="pretrained.keras",
                               train_backbone=False)        # stage 1
model.fit(train, epochs=5)
cvseq.training.unfreeze_backbone(model, learning_rate=1e-4) # stage 2
model.fit(train, epochs=5)
```

`RunDirectory` is the run directory of `cvseq train` (`model.keras`,
`run.json`, `metrics.json`, `log.csv`, pictures, and `backup/` while
training): the trained model is saved under a temporary name and renamed
into place, `run.json` is written with it (never before), and `backup/` is
deleted only after the model, metrics and run description are on disk, so
a run killed at any instant is resumed by running the same command again,
with the model it began with (`backup/model.json`).
"""

import contextlib
import json
import os
import shutil
import signal

import keras
from keras import ops

from cvseq import backbones
from cvseq._validation import check_bool, check_int, check_number


@keras.saving.register_keras_serializable(package="cvseq")
class WarmUpInverseSqrt(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to `peak`, then decay as `peak * sqrt(warmup_steps / step)`.

    The rate depends on the step alone, not on a planned number of epochs
    (unlike cosine decay), so it suits a default compile whatever `fit`'s
    `epochs` (Vaswani et al. 2017's schedule, without the model-size term).

    Args:
        peak: float. Rate reached at `warmup_steps`. Defaults to 2e-3.
        warmup_steps: int. Steps of the linear warm-up. Defaults to 250.
    """

    def __init__(self, peak=2e-3, warmup_steps=250):
        self.peak = float(check_number("peak", peak))
        self.warmup_steps = check_int("warmup_steps", warmup_steps)

    def __call__(self, step):
        step = ops.cast(step, "float32") + 1.0
        warmup = float(self.warmup_steps)
        return self.peak * ops.minimum(step / warmup, ops.sqrt(warmup / step))

    def get_config(self):
        return {"peak": self.peak, "warmup_steps": self.warmup_steps}


def _check_learning_rate(learning_rate):
    if isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        return learning_rate  # as Keras' optimizers take it
    return check_number("learning_rate", learning_rate)


def _layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _layers(layer)


def unfreeze_backbone(model, learning_rate=1e-4, *, freeze_batch_norm=True):
    """Makes a model's backbone trainable and recompiles it at a lower rate.

    The model is recompiled with what it was compiled with (loss, metrics,
    loss weights, `jit_compile`) and a fresh optimizer of the same kind and
    settings at `learning_rate`. Batch normalization layers of the backbone
    stay frozen by default: their statistics came from the pretraining data
    and a small new data set would shift them (Keras' transfer-learning
    guide does the same).

    Args:
        model: a compiled cvseq model with a backbone (any model built with
            `backbone=...`, e.g. by `image_classifier`).
        learning_rate: float, or a `keras.optimizers.schedules.LearningRateSchedule`.
            Learning rate of stage 2, usually 10 to 100
            times lower than stage 1's. Defaults to 1e-4.
        freeze_batch_norm: bool. Keep the backbone's batch normalization
            frozen (inference mode). Defaults to True.

    Returns:
        The same model, recompiled.

    Example:

    >>> model = image_classifier(3, image_size=32, train_backbone=False)
    >>> unfreeze_backbone(model, learning_rate=1e-4)
    >>> len(cvseq.backbones.get_backbone(model).trainable_weights) > 0
    True
    """
    learning_rate = _check_learning_rate(learning_rate)
    check_bool("freeze_batch_norm", freeze_batch_norm)
    if not isinstance(model, keras.Model):
        raise TypeError(
            "`model` must be a keras.Model. Received: "
            f"model of type {type(model).__name__}."
        )
    backbone = backbones.get_backbone(model)
    if backbone is model and model.name == backbones.BACKBONE_NAME:
        raise ValueError(
            "`model` is a backbone itself; unfreeze_backbone takes the whole model "
            "whose backbone it is (the task's model: its backbone is unfrozen and "
            "the model recompiled). Received: model='backbone'.")
    if backbone is model:
        raise ValueError(
            f"`model` has no layer named {backbones.BACKBONE_NAME!r}, so there "
            f"is no backbone to unfreeze. Received: model={model.name!r}. "
            "Build the model with a cvseq factory (backbone=...)."
        )
    if not model.compiled:
        raise ValueError(
            f"`model` must be compiled: stage 2 recompiles with the same loss "
            f"and metrics. Received: model={model.name!r}, not compiled. "
            "Call model.compile(...) (or build it with compile=True) first."
        )

    # Through the property setter: `backbone.trainable = True` is skipped
    # (TensorFlow's AutoTrackable short-circuits `x.a = x.a`) when the
    # backbone is trainable but holds a frozen part (RetinaNet: the frozen
    # image encoder inside KerasHub's trainable feature pyramid).
    keras.layers.Layer.trainable.fset(backbone, True)
    if freeze_batch_norm:
        for layer in _layers(backbone):
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False

    optimizer = model.optimizer
    if getattr(optimizer, "inner_optimizer", None) is not None:  # loss scaling
        optimizer = optimizer.inner_optimizer
    optimizer_config = optimizer.get_config()
    optimizer_config["learning_rate"] = learning_rate
    from cvseq.models.task import Task

    # Under the strategy the model was built in (tf.distribute): an
    # optimizer made outside it cannot update mirrored variables.
    with _strategy_scope(model):
        fresh = optimizer.__class__.from_config(optimizer_config)
        if isinstance(model, Task) and model.get_compile_arguments():
            # Through the Task's compile: the same arguments as the last
            # compile ("auto" ones resolve to the task's defaults again), a
            # fresh optimizer.
            model.compile(**{**model.get_compile_arguments(), "optimizer": fresh})
            return model
        # A plain keras.Model (or a Task loaded compiled from a file): its
        # compile config, with the fresh optimizer.
        config = model.get_compile_config()
        config["optimizer"] = keras.saving.serialize_keras_object(fresh)
        model.compile_from_config(config)
    return model


def _strategy_scope(model):
    """The scope of the `tf.distribute` strategy `model` was built under
    (TensorFlow backend), else a scope that does nothing."""
    strategy = getattr(model, "distribute_strategy", None)
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


# ---------------------------------------------------------------------------
# Run directories.
# ---------------------------------------------------------------------------

MODEL_FILE = "model.keras"
RUN_FILE = "run.json"
METRICS_FILE = "metrics.json"
LOG_FILE = "log.csv"
BACKUP_DIR = "backup"
# In `backup/`: the model the run began with, as Keras serializes it (its
# architecture and compile settings, no weights).
MODEL_CONFIG_FILE = "model.json"
# What a run's `backup/` may hold: `begin`'s records and Keras'
# BackupAndRestore files (with their `.bkp` copies), and files being written.
_BACKUP_NAMES = frozenset(
    name + suffix
    for name in (RUN_FILE, MODEL_CONFIG_FILE, "training_metadata.json", "latest.weights.h5")
    for suffix in ("", ".bkp", ".tmp"))
PICTURES = ("curves.png", "predictions.png")
# The options of a run: a re-run with other values would train another model
# (or the same one on other data), so it may not continue this one.
RUN_OPTIONS = ("task", "dataset", "data_options", "model_options", "seed", "batch_size")
# Written while the final model is being saved; renamed into place after.
_SAVING = ".model-saving.keras"
_DELETING = ".backup-deleting"
# Test hook: the phase at which the process kills itself with SIGKILL (see
# `kill_point`); tests/reliability/test_run_directory.py uses it.
KILL_ENV = "CVSEQ_KILL_AT"


def kill_point(name):
    """Kills this process (SIGKILL) when `$CVSEQ_KILL_AT` is `name`.

    A test hook to interrupt `cvseq train` at an exact phase ("batch:E:B",
    "epoch_end:E", "evaluate", "save:model", "save:model_replaced",
    "save:committed"; epochs and batches count from 1); nothing happens
    when the variable is unset.
    """
    if os.environ.get(KILL_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


class KillPoints(keras.callbacks.Callback):
    """Calls `kill_point` after each training batch ("batch:E:B"), after each
    epoch ("epoch_end:E", once it is logged and backed up: put it last)
    and, given to the final `evaluate` as `KillPoints(evaluation=True)`,
    after its first batch ("evaluate"; not during `fit`'s validation)."""

    def __init__(self, evaluation=False):
        super().__init__()
        self.evaluation = evaluation
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        kill_point(f"batch:{self._epoch}:{batch + 1}")

    def on_epoch_end(self, epoch, logs=None):
        kill_point(f"epoch_end:{epoch + 1}")

    def on_test_batch_end(self, batch, logs=None):
        if self.evaluation:
            kill_point("evaluate")


def _others(names):
    """The names in a `backup/` folder that no run writes, leaving out the
    files a file browser or file system adds (`.DS_Store`, `._*`, `.nfs*`,
    `Thumbs.db`, `desktop.ini`)."""
    return sorted(n for n in names if n not in _BACKUP_NAMES and not n.startswith(".")
                  and n.lower() not in ("thumbs.db", "desktop.ini"))


def write_json(path, value):
    """Writes `value` as JSON to `path` atomically (temporary file, rename)."""
    # A value JSON cannot hold raises here: no file written.
    _write_atomically(path, json.dumps(value, indent=2))


def _write_atomically(path, text):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _read_json(path):
    try:
        with open(path) as f:
            value = json.load(f)
        return value if isinstance(value, dict) else None
    except (OSError, ValueError):
        return None


def _plain(value):
    """`value` as JSON reads it back (tuples become lists, NumPy scalars and
    arrays plain numbers and lists)."""
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(value):
    if hasattr(value, "tolist"):  # NumPy scalars and arrays, tensors' numpy()
        return value.tolist()
    if hasattr(value, "numpy"):
        return value.numpy().tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class RunDirectory:
    """The files of one training run, and what state they are in.

    `state` is one of:

    - `"new"`: no model and no backup: absent, empty, or holding other
      files. A run's file names there without a model (`foreign_files`:
      another command's, the user's, or those of a run whose model.keras
      was deleted or of an `--overwrite` killed while clearing) are not
      replaced unless asked.
    - `"interrupted"`: `backup/` exists: a run started and not yet saved;
      `pending()` is its description, `epochs_done()` its backed-up epochs.
    - `"finished"`: `model.keras` and no `backup/`; `finished()` is its
      `run.json`.

    Args:
        path: str. The directory (created by `begin`).
    """

    def __init__(self, path):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"`path` must be the run's folder (a str). Received: "
                            f"path={path!r}.")
        self.path = os.fspath(path)

    def file(self, name):
        return os.path.join(self.path, name)

    @property
    def backup(self):
        return self.file(BACKUP_DIR)

    def _runs_backup(self):
        """Whether `backup/` is a run's: a folder holding only what `begin`
        and Keras' `BackupAndRestore` write there (or nothing yet)."""
        if not os.path.isdir(self.backup):
            return False
        return not _others(os.listdir(self.backup))

    @property
    def state(self):
        if self._runs_backup():
            return "interrupted"
        if os.path.isfile(self.file(MODEL_FILE)):
            return "finished"
        return "new"

    def finished(self):
        """The `run.json` of the finished run (`{}` when it has none)."""
        return _read_json(self.file(RUN_FILE)) or {}

    def pending(self):
        """The description of the interrupted run, or None when unknown.

        Written into `backup/` by `begin`; a backup left by cvseq before
        0.1.1 has none, and its run wrote `run.json` when it started.
        """
        return (_read_json(os.path.join(self.backup, RUN_FILE))
                or _read_json(self.file(RUN_FILE)))

    def epochs_done(self):
        """Epochs of the interrupted run that `backup/` holds (0 if none)."""
        for name in ("training_metadata.json", "training_metadata.json.bkp"):
            metadata = _read_json(os.path.join(self.backup, name))
            if metadata and isinstance(metadata.get("epoch"), int):
                return metadata["epoch"]
        return 0

    def backup_weights(self):
        """The backed-up weights files, newest first (may be empty)."""
        path = os.path.join(self.backup, "latest.weights.h5")
        return [p for p in (path, path + ".bkp") if os.path.isfile(p)]

    def pending_model(self):
        """The interrupted run's model as `begin` recorded it, or None.

        Rebuilt from `backup/model.json` (architecture and compile
        settings, untrained): a resumed run continues the model it began
        with, even where cvseq's defaults have changed since. None when the
        backup has no readable record (one left by a cvseq from before
        2026-12-01 has none). Raises what Keras raises for a config it
        cannot rebuild (`TypeError`, `ValueError`, `KeyError`).
        """
        config = _read_json(os.path.join(self.backup, MODEL_CONFIG_FILE))
        if config is None:
            return None
        return keras.saving.deserialize_keras_object(config)

    def foreign_backup(self):
        """What `backup/` holds when it is not a run's backup (a file of
        that name, or a folder with files no run writes: the user's), else
        None. A run writes its backup there, so it refuses the directory
        (`check_foreign_files`), overwrite or not: it never deletes them."""
        if not os.path.lexists(self.backup):
            return None
        if not os.path.isdir(self.backup):
            return ["(a file, not a folder)"]
        return _others(os.listdir(self.backup)) or None

    def foreign_files(self):
        """The names of a run's files (`run.json`, `metrics.json`, `log.csv`,
        the pictures) in a "new" directory, with no model beside them
        (another command's, the user's, or those of a run whose
        `model.keras` was deleted), which a new run must not replace
        unasked. Empty in the other states."""
        if self.state != "new":
            return []
        return [name for name in (RUN_FILE, METRICS_FILE, LOG_FILE, *PICTURES)
                if os.path.exists(self.file(name))]

    def check_foreign_files(self, *, overwrite=False):
        """`FileExistsError` when `backup/` is not a run's (`foreign_backup`),
        or `foreign_files` holds any and not `overwrite`: a run must not
        replace them unasked."""
        other = self.foreign_backup()
        if other is not None:
            listed = ", ".join(other[:4]) + (", ..." if len(other) > 4 else "")
            raise FileExistsError(
                f"{self.path!r} holds a backup/ that no cvseq run wrote ({listed}); "
                "a run keeps its own backup there and deletes it when it ends, so "
                "it will not start here, with --overwrite or not. Move or rename "
                "that backup/, or choose another directory.")
        foreign = self.foreign_files()
        if foreign and not overwrite:
            raise FileExistsError(
                f"{self.path!r} holds {', '.join(foreign)} but no model.keras beside "
                "them (another command's files, yours, or those of a run whose "
                "model was deleted); a new run would replace them. Move them, "
                "choose another directory, or pass overwrite=True (--overwrite) to "
                "replace them.")

    def begin(self, run, *, model=None, overwrite=False, resume=False):
        """Creates the directory and records `run` as the run in progress.

        `overwrite=True` first removes what an earlier run left: its model,
        metrics, log, pictures and backup. Without it, a "new" directory
        that holds files of those names (`foreign_files`) is a
        `FileExistsError`, not replaced, and so is a "finished" one unless
        `resume=True` (the run goes on from the finished model; `begin`
        keeps its files until `commit` replaces them). An "interrupted" run
        is continued. `model`, when given, is recorded too (see
        `pending_model`).
        """
        check_bool("overwrite", overwrite)
        check_bool("resume", resume)
        self.check_foreign_files(overwrite=overwrite)
        if self.state == "finished" and not (overwrite or resume):
            raise FileExistsError(
                f"{self.path!r} holds a finished run (model.keras); a new run would "
                "replace it. Pass resume=True (--resume) to train it further, "
                "overwrite=True (--overwrite) to replace it, or choose another "
                "directory.")
        # What the backup will hold, as JSON, before anything is removed or
        # made: a value JSON cannot hold left an empty backup/ (a phantom
        # interrupted run).
        recorded = json.dumps(_plain(run), indent=2)
        config = None if model is None else json.dumps(
            keras.saving.serialize_keras_object(model), indent=2)
        if overwrite or self.state == "new":
            self.clear()
        os.makedirs(self.backup, exist_ok=True)
        if config is not None:
            _write_atomically(os.path.join(self.backup, MODEL_CONFIG_FILE), config)
        _write_atomically(os.path.join(self.backup, RUN_FILE), recorded)

    def clear(self):
        """Removes every file a run writes (nothing else in the directory)."""
        for name in (MODEL_FILE, RUN_FILE, METRICS_FILE, LOG_FILE, *PICTURES, _SAVING,
                     *(n + ".tmp" for n in (RUN_FILE, METRICS_FILE, LOG_FILE))):
            if os.path.isfile(self.file(name)):
                os.remove(self.file(name))
        if self._runs_backup():  # never a backup/ of the user's
            shutil.rmtree(self.backup)
        if os.path.isdir(self.file(_DELETING)):
            shutil.rmtree(self.file(_DELETING))

    def abandon(self, created):
        """After a failed fresh run: removes what it wrote if it backed up no
        epoch (and the directory itself if `created` and now empty)."""
        if self.state != "interrupted" or self.epochs_done() or self.backup_weights():
            return
        if (self.pending() or {}).get("initial_epoch", 0) > 0:
            return  # continues a finished model: keep it as it is
        shutil.rmtree(self.backup)
        if not os.path.isfile(self.file(MODEL_FILE)):
            for name in (LOG_FILE, *PICTURES):
                if os.path.isfile(self.file(name)):
                    os.remove(self.file(name))
        if created and os.path.isdir(self.path) and not os.listdir(self.path):
            os.rmdir(self.path)

    def commit(self, model, run, metrics):
        """Saves the trained model with its description and metrics.

        The model goes to a temporary file first; then the model, then
        `metrics.json`, then `run.json` are renamed into place and `backup/`
        is deleted last. Until then the directory stays "interrupted" and a
        re-run restores the backup and saves again, so a kill at any instant
        loses nothing.
        """
        # As JSON first: a value JSON cannot hold fails before anything is written.
        plain = {METRICS_FILE: _plain(metrics), RUN_FILE: _plain(run)}
        saving = self.file(_SAVING)
        model.save(saving)
        with open(saving, "rb+") as f:
            os.fsync(f.fileno())
        for name, value in plain.items():
            tmp = self.file(name + ".tmp")
            with open(tmp, "w") as f:
                json.dump(value, f, indent=2)
                f.flush()
                os.fsync(f.fileno())
        kill_point("save:model")
        os.replace(saving, self.file(MODEL_FILE))
        kill_point("save:model_replaced")
        for name in (METRICS_FILE, RUN_FILE):
            os.replace(self.file(name + ".tmp"), self.file(name))
        kill_point("save:committed")
        # Renamed first, so a kill while deleting never leaves half a backup.
        if os.path.isdir(self.file(_DELETING)):
            shutil.rmtree(self.file(_DELETING))
        os.replace(self.backup, self.file(_DELETING))
        shutil.rmtree(self.file(_DELETING))


def option_changes(recorded, run):
    """`["model_options: {'units': 8} in the run, {'units': 32} now", ...]`
    for the `RUN_OPTIONS` in which `run` differs from `recorded`."""
    recorded, run = _plain(recorded), _plain(run)
    return [
        f"{key}: {recorded.get(key)!r} in the run, {run.get(key)!r} now"
        for key in RUN_OPTIONS
        if key in recorded and recorded.get(key) != run.get(key)
    ]
