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
import warnings

import keras

from cvseq._validation import check_bool


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
    then the metrics in sorted order), but the file never holds two rows for
    one epoch and never loses an earlier `fit`'s rows:

    - When training resumes at epoch `k`, the rows from `k` on (logged by a
      run killed before it backed them up) are dropped: the resumed run logs
      them again. With `backup_dir` (as `fault_tolerant` passes it), a fit
      resumes when that folder exists as it begins; without, the log's last
      row alone, of epoch `k`, is taken for such a row.
    - Otherwise, rows from `k` on are an earlier `fit`'s (e.g. stage 1 of a
      fine-tuning before `unfreeze_backbone`): the earlier log is kept as
      `log.1.csv` (the first free number), with a warning, and this `fit`
      starts a new one; pass `initial_epoch` (the epochs done) to continue
      one log across fits instead.
    - A metric that appears later (validation from stage 2 on) adds its
      column; earlier rows leave it empty.

    Args:
        path: str. The CSV file.
        backup_dir: str or None. The `BackupAndRestore` folder of the same
            run, if any (see above). It is created when training begins,
            so a kill before the first backup is known as a run begun.

    Each row is flushed to disk at the end of its epoch; put this callback
    before `BackupAndRestore` so an epoch is logged before it is backed up.
    """

    def __init__(self, path, *, backup_dir=None):
        super().__init__()
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"`path` must be a path (a str). Received: path={path!r}.")
        if backup_dir is not None and not isinstance(backup_dir, (str, os.PathLike)):
            raise TypeError(f"`backup_dir` must be None or a path (a str). Received: "
                            f"backup_dir={backup_dir!r}.")
        self.path = os.fspath(path)
        self.backup_dir = None if backup_dir is None else os.fspath(backup_dir)
        self._started = False
        self._resuming = None

    def on_train_begin(self, logs=None):
        self._started = False
        # Before the first epoch, not after it: a missing folder is made.
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        if self.backup_dir is not None:
            self._resuming = os.path.isdir(self.backup_dir)
            os.makedirs(self.backup_dir, exist_ok=True)

    def on_epoch_begin(self, epoch, logs=None):
        if self._started:
            return
        self._started = True
        if not os.path.isfile(self.path):
            return
        with open(self.path, newline="") as f:
            header = next(csv.reader([f.readline()]), [])
        if header and header[:1] != ["epoch"]:
            # A file of the user's own: the log would have replaced it.
            raise FileExistsError(
                f"{self.path} exists and is no epoch log (its first line: "
                f"{','.join(header)[:80]!r}); EpochLog writes its rows there and "
                "would replace it. Move that file, or give EpochLog another path.")
        rows = read_log(self.path)
        later = [row for row in rows if int(row["epoch"]) >= epoch]
        if self._resuming is not None:
            earlier_fit = bool(later) and not self._resuming
        else:  # no backup to tell: one last row of epoch k is a killed run's
            earlier_fit = len(later) > 1 or (bool(later) and later[0] is not rows[-1])
        if earlier_fit:
            moved = _free_name(self.path)
            os.replace(self.path, moved)
            warnings.warn(
                f"{self.path} held epochs {later[0]['epoch']} to {later[-1]['epoch']} "
                f"of an earlier fit, and this fit starts at epoch {epoch}: the "
                f"earlier log is kept as {moved} and a new log begins. To continue "
                "one log across fits, pass initial_epoch= the epochs done.",
                stacklevel=2)
        kept = [row for row in rows if int(row["epoch"]) < epoch]
        text = _rows_text(list(kept[0]), kept) if kept else ""
        if os.path.isfile(self.path):
            with open(self.path, newline="") as f:
                if f.read() == text:
                    return
        elif not text:
            return
        _replace_text(self.path, text)

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: v for k, v in (logs or {}).items()}
        header = []
        if os.path.isfile(self.path):
            with open(self.path) as f:
                header = next(csv.reader([f.readline()]), [])
        if header[:1] == ["epoch"] and set(logs) - set(header):
            # A metric the header lacks: rewrite the rows with its column.
            header = ["epoch", *sorted(set(header[1:]) | set(logs))]
            _write_rows(self.path, header, read_log(self.path))
        fields = header if header[:1] == ["epoch"] else ["epoch", *sorted(logs)]
        row = [str(epoch)] + [_number(logs.get(k, "")) for k in fields[1:]]
        with open(self.path, "a" if header[:1] == ["epoch"] else "w", newline="") as f:
            if header[:1] != ["epoch"]:
                f.write(",".join(fields) + "\n")
            f.write(",".join(row) + "\n")
            f.flush()
            os.fsync(f.fileno())


def _rows_text(fields, rows):
    return "".join(",".join(line) + "\n" for line in (
        [fields, *([row.get(k) or "" for k in fields] for row in rows)]))


def _write_rows(path, fields, rows):
    _replace_text(path, _rows_text(fields, rows))


def _free_name(path):
    """`log.1.csv`, `log.2.csv`, ...: the first that does not exist."""
    stem, ext = os.path.splitext(path)
    n = 1
    while os.path.exists(f"{stem}.{n}{ext}"):
        n += 1
    return f"{stem}.{n}{ext}"


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
    if not isinstance(run_dir, (str, os.PathLike)):
        raise TypeError(f"`run_dir` must be a folder path (str). Received: "
                        f"run_dir={run_dir!r}.")
    check_bool("keep_backup", keep_backup)
    if not (save_freq == "epoch" or (isinstance(save_freq, int)
                                     and not isinstance(save_freq, bool) and save_freq > 0)):
        raise ValueError(f"`save_freq` must be 'epoch' or a number of batches (an int "
                         f"of at least 1). Received: save_freq={save_freq!r}.")
    if os.path.exists(run_dir) and not os.path.isdir(run_dir):
        raise ValueError(f"`run_dir` must be a folder; {os.fspath(run_dir)!r} is a file.")
    from cvseq.training import RunDirectory

    # A backup/ of the user's own files: BackupAndRestore would write into it
    # and delete it when fit ends (only that refusal: there is no run to
    # overwrite here).
    RunDirectory(run_dir).check_foreign_files(overwrite=True)
    os.makedirs(run_dir, exist_ok=True)
    backup = os.path.join(run_dir, "backup")
    return [
        EpochLog(os.path.join(run_dir, "log.csv"), backup_dir=backup),
        keras.callbacks.BackupAndRestore(
            backup, save_freq=save_freq,
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
