"""Callbacks for fault-tolerant, reproducible training with `fit`.

    model.fit(data, epochs=10, callbacks=cvseq.callbacks.fault_tolerant("runs/x"))

`fault_tolerant(run_dir)` returns an `EpochLog` (`log.csv`, one row per
finished epoch, never two rows for one epoch), `BackupAndRestore` (a run
killed at any point and started again with the same command resumes from
the last finished epoch and ends after the same total number of epochs) and
`StopOnDivergence` (stops at the first NaN or infinite loss with a message
that says what to try).
"""

import csv
import math
import os

import keras


class StopOnDivergence(keras.callbacks.Callback):
    """Stops training when the loss is NaN or infinite, and says why.

    Like `keras.callbacks.TerminateOnNaN`, but it records where it happened
    (`self.diverged_at`) and the message (`self.message`), so a script can
    report it after `fit` returns.
    """

    def __init__(self):
        super().__init__()
        self.diverged_at = None
        self.message = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(float(loss)):
            return
        self.diverged_at = (self._epoch + 1, batch + 1)
        self.message = (
            f"Training stopped: the loss became {float(loss)} at epoch "
            f"{self._epoch + 1}, batch {batch + 1}. Lower the learning rate, "
            "check the data for NaN/inf values or labels out of range, or "
            "clip gradients (optimizer clipnorm=1.0)."
        )
        print(f"\n{self.message}")
        self.model.stop_training = True


def read_log(path):
    """The complete rows of an `EpochLog` file as dicts (`[]` when there is
    none); a row cut short by a kill is left out."""
    if not os.path.isfile(path):
        return []
    with open(path, newline="") as f:
        text = f.read()
    if not text.endswith("\n"):  # the last line was being written
        text = text[:text.rfind("\n") + 1]
    rows = []
    for row in csv.DictReader(text.splitlines()):
        if None in row.values() or None in row or not row["epoch"].isdigit():
            continue
        rows.append(row)
    return rows


def _replace_text(path, text):
    """Writes `text` to `path` atomically (temporary file, then rename)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class EpochLog(keras.callbacks.Callback):
    """A CSV log of the epoch metrics that a resumed run continues.

    Like `keras.callbacks.CSVLogger(path, append=True)` (an `epoch` column,
    then the metrics in sorted order), but when training starts at epoch
    `k` (a resumed run) the rows of epochs `k` and later, left by a run
    killed after logging an epoch and before backing it up, are dropped
    first: the file never holds two rows for one epoch. Each row is flushed
    to disk at the end of its epoch; put this callback before
    `BackupAndRestore` so an epoch is logged before it is backed up.
    """

    def __init__(self, path):
        super().__init__()
        self.path = os.fspath(path)
        self._started = False

    def on_train_begin(self, logs=None):
        self._started = False

    def on_epoch_begin(self, epoch, logs=None):
        if self._started:
            return
        self._started = True
        if not os.path.isfile(self.path):
            return
        kept = [row for row in read_log(self.path) if int(row["epoch"]) < epoch]
        text = "".join(",".join(line) + "\n" for line in (
            [list(kept[0]), *(list(row.values()) for row in kept)] if kept else []))
        with open(self.path, newline="") as f:
            if f.read() == text:
                return
        _replace_text(self.path, text)

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: v for k, v in (logs or {}).items()}
        header = []
        if os.path.isfile(self.path):
            with open(self.path) as f:
                header = next(csv.reader([f.readline()]), [])
        fields = header if header[:1] == ["epoch"] else ["epoch", *sorted(logs)]
        row = [str(epoch)] + [_number(logs.get(k, "")) for k in fields[1:]]
        with open(self.path, "a" if header[:1] == ["epoch"] else "w", newline="") as f:
            if header[:1] != ["epoch"]:
                f.write(",".join(fields) + "\n")
            f.write(",".join(row) + "\n")
            f.flush()
            os.fsync(f.fileno())


def _number(value):
    try:
        return repr(float(value))
    except (TypeError, ValueError):
        return str(value)


def fault_tolerant(run_dir, *, save_freq="epoch", keep_backup=False):
    """The callbacks of a run that survives being killed.

    Args:
        run_dir: str. Where the backup (`backup/`) and `log.csv` live; start
            the same run again with the same `run_dir` to resume.
        save_freq: `"epoch"` or an int (every N batches). Defaults to
            `"epoch"`.
        keep_backup: bool. Keep `backup/` when `fit` returns, to delete it
            yourself once the trained model is saved (`cvseq train` does:
            a kill between `fit` and the save then loses nothing). Defaults
            to False (deleted when `fit` returns).

    Returns:
        A list: `EpochLog`, `BackupAndRestore`, `StopOnDivergence`.
    """
    os.makedirs(run_dir, exist_ok=True)
    return [
        EpochLog(os.path.join(run_dir, "log.csv")),
        keras.callbacks.BackupAndRestore(
            os.path.join(run_dir, "backup"), save_freq=save_freq,
            # Keep the previous backup too: a kill while writing one must
            # not lose both.
            double_checkpoint=True,
            delete_checkpoint=not keep_backup,
        ),
        StopOnDivergence(),
    ]


def divergence(callbacks):
    """The `StopOnDivergence` message of a finished run, or None."""
    for callback in callbacks:
        if isinstance(callback, StopOnDivergence) and callback.message:
            return callback.message
    return None
