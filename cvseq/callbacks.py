"""Callbacks for fault-tolerant, reproducible training with `fit`.

    model.fit(data, epochs=10, callbacks=cvseq.callbacks.fault_tolerant("runs/x"))

`fault_tolerant(run_dir)` returns `BackupAndRestore` (a run killed at any
point and started again with the same command resumes from the last
finished epoch and ends after the same total number of epochs), a CSV log
that the resumed run appends to, and `StopOnDivergence` (stops at the first
NaN or infinite loss with a message that says what to try).
"""

import math
import os

import keras


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


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


def fault_tolerant(run_dir, *, save_freq="epoch"):
    """The callbacks of a run that survives being killed.

    Args:
        run_dir: str. Where the backup and `log.csv` live; start the same
            run again with the same `run_dir` to resume.
        save_freq: `"epoch"` or an int (every N batches). Defaults to
            `"epoch"`.

    Returns:
        A list: `BackupAndRestore`, `CSVLogger` (appending), `StopOnDivergence`.
    """
    os.makedirs(run_dir, exist_ok=True)
    return [
        keras.callbacks.BackupAndRestore(
            os.path.join(run_dir, "backup"), save_freq=save_freq,
            # Keep the previous backup too: a kill while writing one must
            # not lose both.
            double_checkpoint=True,
        ),
        keras.callbacks.CSVLogger(os.path.join(run_dir, "log.csv"), append=True),
        StopOnDivergence(),
    ]


def divergence(callbacks):
    """The `StopOnDivergence` message of a finished run, or None."""
    for callback in callbacks:
        if isinstance(callback, StopOnDivergence) and callback.message:
            return callback.message
    return None
