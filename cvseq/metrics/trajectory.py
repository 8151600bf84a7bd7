"""Displacement errors of predicted trajectories (ADE, FDE) and a baseline.

Trajectories are `(batch, horizon, features)` positions. The displacement
error of a step is the Euclidean distance between the predicted and the
true position; ADE averages it over the steps, FDE takes the last step.
Both come as numpy functions (for evaluation scripts) and as Keras metrics
(for `model.compile(metrics=[...])`).
"""

import keras
import numpy as np
from keras import ops

from cvseq._validation import check_int


def displacement_errors(y_true, y_pred):
    """Euclidean distance at every step, float `(batch, horizon)` (numpy)."""
    y_true, y_pred = np.asarray(y_true, np.float64), np.asarray(y_pred, np.float64)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "`y_true` and `y_pred` must have the same shape (batch, horizon, "
            f"features). Received: {y_true.shape} and {y_pred.shape}."
        )
    if y_true.ndim != 3 or not y_true.shape[0] or not y_true.shape[1]:
        raise ValueError(
            "`y_true` and `y_pred` must be (batch, horizon, features) with at least "
            f"one trajectory and one step. Received shape {y_true.shape}.")
    if not (np.all(np.isfinite(y_true)) and np.all(np.isfinite(y_pred))):
        raise ValueError("`y_true` or `y_pred` holds NaN or infinite positions.")
    return np.linalg.norm(y_true - y_pred, axis=-1)


def average_displacement_error(y_true, y_pred):
    """ADE: the mean distance over all steps and trajectories (numpy float)."""
    return float(displacement_errors(y_true, y_pred).mean())


def final_displacement_error(y_true, y_pred):
    """FDE: the mean distance at the last step (numpy float)."""
    return float(displacement_errors(y_true, y_pred)[:, -1].mean())


def constant_velocity(past, horizon, *, window=2):
    """The constant-velocity baseline: extends each track at its recent speed.

    Args:
        past: float `(batch, history, features)` observed positions.
        horizon: int. Steps to predict.
        window: int >= 2. The velocity is the mean step over the last
            `window` positions (2: the last step alone). Defaults to 2.

    Returns:
        float32 `(batch, horizon, features)`.
    """
    horizon = check_int("horizon", horizon)
    window = check_int("window", window, minimum=2)
    past = np.asarray(past, np.float64)
    if past.ndim != 3:
        raise ValueError(f"`past` must be (batch, history, features). Received shape "
                         f"{past.shape}.")
    window = int(min(window, past.shape[1]))
    if window < 2:
        raise ValueError(
            f"`window` must be at least 2 and `past` hold 2 positions. "
            f"Received: window={window}, past of shape {past.shape}."
        )
    velocity = (past[:, -1] - past[:, -window]) / (window - 1)
    steps = np.arange(1, horizon + 1)[None, :, None]
    return (past[:, -1:, :] + steps * velocity[:, None, :]).astype(np.float32)


def _ade(y_true, y_pred):
    diff = ops.cast(y_true, y_pred.dtype) - y_pred
    return ops.mean(ops.sqrt(ops.sum(ops.square(diff), axis=-1)), axis=-1)


def _fde(y_true, y_pred):
    diff = ops.cast(y_true, y_pred.dtype)[:, -1] - y_pred[:, -1]
    return ops.sqrt(ops.sum(ops.square(diff), axis=-1))


@keras.saving.register_keras_serializable(package="cvseq")
class AverageDisplacementError(keras.metrics.MeanMetricWrapper):
    """ADE as a Keras metric: mean Euclidean distance over steps.

    Example:

    >>> model.compile(optimizer="adam", loss="mse",
    ...               metrics=[AverageDisplacementError(), FinalDisplacementError()])
    """

    def __init__(self, name="ade", dtype=None):
        super().__init__(_ade, name=name, dtype=dtype)
        self._direction = "down"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


@keras.saving.register_keras_serializable(package="cvseq")
class FinalDisplacementError(keras.metrics.MeanMetricWrapper):
    """FDE as a Keras metric: mean Euclidean distance at the last step."""

    def __init__(self, name="fde", dtype=None):
        super().__init__(_fde, name=name, dtype=dtype)
        self._direction = "down"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


def _safe_distance(diff):
    # max(., 1e-30): an exact prediction (a moored ship, constant velocity
    # on a straight path) has distance 0, where sqrt's gradient is infinite;
    # the floor is far below any squared error in any unit, and its
    # gradient is 0 there instead of NaN.
    return ops.sqrt(ops.maximum(ops.sum(ops.square(diff), axis=-1), 1e-30))


@keras.saving.register_keras_serializable(package="cvseq")
class DisplacementLoss(keras.losses.Loss):
    """The average displacement error as a loss: mean Euclidean distance.

    Unlike mean squared error it weighs every trajectory by its distance,
    not its square, so a few long, unforeseeable excursions (a ship that
    turns, a digit that bounces) do not pull every prediction toward
    hedging; its minimum is the ADE that models are scored with.

    `y_true`, `y_pred`: `(batch, horizon, features)`; per example the mean
    distance over the horizon.
    """

    def __init__(self, name="displacement", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred)
        diff = ops.cast(y_true, y_pred.dtype) - y_pred
        return ops.mean(_safe_distance(diff), axis=-1)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, "dtype": self.dtype}
