"""Motion prediction: past positions in, future positions out (an RNN).

The model is built to hold in any unit and origin (pixels, fractions of a
frame, metres, degrees): it reads displacements, never absolute positions;
it divides them by a typical step length learned from the training data
(`StepNormalization`, saved with the model); and it predicts a residual over
constant velocity, so an untrained model already is the constant-velocity
baseline. Shifting every position by a constant and scaling it by a factor
thus shifts and scales the predictions the same way, before and after
training.
"""

import keras
import numpy as np
from keras import ops

from cvseq._validation import check_bool, check_choice, check_fraction, check_int
from cvseq.metrics.trajectory import (
    AverageDisplacementError,
    DisplacementLoss,
    FinalDisplacementError,
)
from cvseq.models._common import RECURRENT, recurrent_layer
from cvseq.models.task import Task


def _steps(positions):
    """Steps between consecutive positions, `(batch, time - 1, features)`."""
    return positions[:, 1:] - positions[:, :-1]


def _step_statistics(positions):
    """Sum of squared step lengths and number of steps (numpy float64)."""
    positions = np.asarray(positions, np.float64)
    if positions.ndim == 3 and not np.all(np.isfinite(positions)):
        raise ValueError(
            "`data` holds NaN or infinite positions: drop or repair those tracks "
            "first (a NaN scale would make every prediction NaN).")
    if positions.ndim != 3 or positions.shape[1] < 2:
        raise ValueError(
            "`data` must hold past positions of shape (batch, history >= 2, "
            f"features). Received an array of shape {positions.shape}."
        )
    steps = np.diff(positions, axis=1)
    return float(np.sum(np.square(steps))), steps.shape[0] * steps.shape[1]


@keras.saving.register_keras_serializable(package="cvseq")
class StepNormalization(keras.layers.Layer):
    """Displacement features in units of a typical step, and that unit.

    Input: past positions `(batch, history, features)`, in any unit and
    origin. Outputs `[features, scale]`:

    - features `(batch, history, 2 * features)`: at each time, the step from
      the previous position (zero at the first) and the offset from the last
      observed position, both divided by `scale`. They do not change when
      every position is shifted, nor when every position and the scale are
      multiplied by the same factor.
    - scale `(batch, 1, 1)`: the root-mean-square length of one step in the
      training data (the same value for every example), to turn normalised
      predictions back into positions.

    The scale is the square root of a non-trainable weight, the mean
    squared step length, saved with the model beside the number of steps it
    averages. `adapt(data)` sets both from a whole data set (like
    `keras.layers.Normalization.adapt`); every training batch then adds its
    steps to the running mean, like the moving statistics of
    `BatchNormalization`, so `model.fit` alone also yields a model in the
    data's units (and more epochs on the same data leave an adapted scale
    where it is). An untrained, unadapted layer has scale 1.
    """

    def build(self, input_shape):
        self.step_variance = self.add_weight(
            shape=(), initializer="ones", trainable=False, autocast=False,
            name="step_variance",
        )
        self.count = self.add_weight(
            shape=(), initializer="zeros", trainable=False, autocast=False, name="count"
        )

    def adapt(self, data, steps=None):
        """Sets the scale from past positions.

        Args:
            data: past positions `(n, history, features)` as a NumPy array
                or tensor, a `(past, future)` pair of them, or batches
                (a `tf.data.Dataset`, or `format="numpy"` batches) of past
                positions or of `(past, future)` pairs, such as
                `cvseq.datasets.load("vessel_trajectories", "train")`.
            steps: int or None. Batches to read from a data set; None reads
                all of it. Defaults to None.
        """
        if not self.built:
            self.build(None)
        steps = check_int("steps", steps, allow_none=True)
        total, count = 0.0, 0
        if hasattr(data, "take") and hasattr(data, "element_spec"):
            batches = (data.take(steps) if steps is not None else data).as_numpy_iterator()
        elif isinstance(data, keras.utils.PyDataset):  # format="numpy" batches
            batches = (data[i] for i in range(min(len(data), steps or len(data))))
        elif isinstance(data, tuple) and len(data) == 2:  # (past, future) arrays
            batches = [keras.ops.convert_to_numpy(data[0])]
        else:
            batches = [keras.ops.convert_to_numpy(data)]
        for batch in batches:
            past = batch[0] if isinstance(batch, tuple) else batch
            batch_total, batch_count = _step_statistics(past)
            total, count = total + batch_total, count + batch_count
        if count == 0:
            raise ValueError("`data` holds no past positions to adapt on.")
        self.step_variance.assign(total / count)
        self.count.assign(count)

    @property
    def scale(self):
        """The unit of the normalised features: the RMS step length."""
        variance = ops.convert_to_tensor(self.step_variance)
        # Tracks that never move give no unit: keep 1.
        return ops.sqrt(ops.where(variance > 0, variance, 1.0))

    def call(self, positions, training=False):
        positions = ops.cast(positions, self.compute_dtype)
        steps = _steps(positions)
        if training and self.trainable:
            # Running mean of the squared step length over all the training
            # steps seen (those of `adapt` included). A frozen layer keeps
            # its statistic, as a frozen BatchNormalization does.
            batch_count = ops.cast(
                ops.shape(steps)[0] * ops.shape(steps)[1], self.compute_dtype
            )
            count = self.count + batch_count
            self.step_variance.assign(
                (self.step_variance * self.count + ops.sum(ops.square(steps))) / count
            )
            self.count.assign(count)
        scale = self.scale
        last = positions[:, -1:]
        steps = ops.concatenate([ops.zeros_like(positions[:, :1]), steps], axis=1)
        features = ops.concatenate([steps, positions - last], axis=-1) / scale
        scale = ops.ones_like(positions[:, :1, :1]) * scale
        return features, scale

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 2 * input_shape[-1]), (input_shape[0], 1, 1)


@keras.saving.register_keras_serializable(package="cvseq")
class ConstantVelocityResidual(keras.layers.Layer):
    """Future positions: constant velocity plus the predicted correction.

    Inputs `[past (batch, history, features), residual (batch, horizon,
    features), scale (batch, 1, 1)]`; output `(batch, horizon, features)`:
    position `k` (1-based) is `last + k * velocity + scale *
    cumsum(residual)[k]`, where `velocity` is the last observed step. A
    zero residual gives exactly the constant-velocity baseline
    (`cvseq.metrics.constant_velocity(past, horizon)`).
    """

    def call(self, inputs):
        past, residual, scale = inputs
        past = ops.cast(past, self.compute_dtype)
        residual = ops.cast(residual, self.compute_dtype)
        last = past[:, -1:]
        velocity = last - past[:, -2:-1]
        horizon = ops.shape(residual)[1]
        k = ops.reshape(ops.arange(1, horizon + 1, dtype=self.compute_dtype), (1, -1, 1))
        return last + k * velocity + scale * ops.cumsum(residual, axis=1)

    def compute_output_shape(self, input_shape):
        return input_shape[1]


def trajectory_predictor(
    *,
    history=12,
    horizon=8,
    features=2,
    recurrent="lstm",
    units=64,
    dropout=0.0,
    compile=True,
    name=None,
):
    """Predicts the next `horizon` positions of a moving object from its last
    `history` positions (many-to-many regression with an encoder-decoder RNN).

    Positions may be in any unit and origin: pixels, fractions of a frame,
    metres, degrees. `StepNormalization` turns the past into steps and
    offsets from the last position, divided by the typical step length of
    the training data (a saved, non-trainable weight). An encoder RNN reads
    them; its final state starts a decoder RNN that runs `horizon` steps and
    predicts a correction to each future step; `ConstantVelocityResidual`
    adds the corrections (times the scale) to the constant-velocity
    extrapolation of the last step. The correction layer starts at zero, so
    the untrained model predicts constant velocity exactly and training
    only learns what constant velocity misses (turns, speed changes).

    The scale comes from the data: call
    `model.get_layer("step_normalization").adapt(train_ds)` before `fit` to
    set it from the whole training set, or just `fit`: training batches set
    it on the way (a running root-mean-square step). Both save with the
    model.

    Args:
        history: int >= 2. Past positions the model reads. Defaults to 12.
        horizon: int. Future positions it predicts. Defaults to 8.
        features: int. Coordinates per position (2 for `(x, y)`).
            Defaults to 2.
        recurrent: `"lstm"` or `"gru"`. Defaults to `"lstm"`.
        units: int. Recurrent units of the encoder and the decoder.
            Defaults to 64.
        dropout: float in [0, 1). Dropout on the encoder's summary.
            Defaults to 0.0.
        compile: bool. Compile with Adam(5e-3, epsilon=1e-12: gradients
            scale with the unit, and a larger epsilon would damp learning in
            small units such as degrees), the mean Euclidean distance as the
            loss (`cvseq.metrics.DisplacementLoss`: on real ship tracks and
            on the digit paths it beats mean squared error, which makes the
            model hedge against rare turns everywhere), and the average and
            final displacement errors (`ade`, `fde`) as metrics.
            Defaults to True.
        name: str or None. Model name. Defaults to `"trajectory_predictor"`.

    Returns:
        A `keras.Model` from past positions `(batch, history, features)` to
        future positions `(batch, horizon, features)`, in the same unit.

    Example:

    >>> model = trajectory_predictor(history=10, horizon=5)
    >>> train = cvseq.datasets.load("vessel_trajectories", "train")  # metres
    >>> model.get_layer("step_normalization").adapt(train)
    >>> model.fit(train, epochs=1)
    >>> model.predict(np.zeros((1, 10, 2))).shape
    (1, 5, 2)
    """
    # Arguments.
    history = check_int("history", history, minimum=2)
    horizon = check_int("horizon", horizon)
    features = check_int("features", features)
    check_choice("recurrent", recurrent, RECURRENT)
    units = check_int("units", units)
    dropout = check_fraction("dropout", dropout)
    check_bool("compile", compile)

    # Layers. Float32 where positions and the scale meet (mixed precision).
    past = keras.Input((history, features), name="past")
    x, scale = StepNormalization(dtype="float32", name="step_normalization")(past)
    x = keras.layers.Dense(units, activation="relu", name="input_projection")(x)
    summary, *states = recurrent_layer(recurrent, units, return_state=True,
                                       name="encoder")(x)
    if dropout:
        summary = keras.layers.Dropout(dropout, name="summary_dropout")(summary)
    x = keras.layers.RepeatVector(horizon, name="repeat_summary")(summary)
    x = recurrent_layer(recurrent, units, return_sequences=True, name="decoder")(
        x, initial_state=states)
    residual = keras.layers.Dense(
        features, kernel_initializer="zeros", dtype="float32", name="residual"
    )(x)
    future = ConstantVelocityResidual(dtype="float32", name="future")(
        [past, residual, scale]
    )

    # Model.
    model = Task(past, future, name=name or "trajectory_predictor", targets="values",
                 compile_defaults=dict(
            jit_compile=False,
            optimizer=keras.optimizers.Adam(5e-3, epsilon=1e-12),
            loss=DisplacementLoss(),
            metrics=[AverageDisplacementError(), FinalDisplacementError()],
        ))
    if compile:
        model.compile()
    return model


# Layers of the absolute-position model (cvseq 0.1.0 up to commit 0d9c082),
# kept registered so that `.keras` files saved then still load and predict
# the same (tests/test_task.py checks a fixture). New models do not use them.


@keras.saving.register_keras_serializable(package="cvseq")
class MotionFeatures(keras.layers.Layer):
    """Positions and the step since the previous one, side by side (legacy).

    Input `(batch, time, features)`; output `(batch, time, 2 * features)`.
    """

    def call(self, positions):
        steps = positions[:, 1:] - positions[:, :-1]
        steps = ops.concatenate([ops.zeros_like(positions[:, :1]), steps], axis=1)
        return ops.concatenate([positions, steps], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 2 * input_shape[-1])


@keras.saving.register_keras_serializable(package="cvseq")
class AccumulateSteps(keras.layers.Layer):
    """`past[:, -1] + cumsum(steps)` (legacy).

    Inputs `[past (batch, history, features), steps (batch, horizon,
    features)]`; output `(batch, horizon, features)`.
    """

    def call(self, inputs):
        past, steps = inputs
        last = ops.cast(past[:, -1:], steps.dtype)
        return last + ops.cumsum(steps, axis=1)

    def compute_output_shape(self, input_shape):
        return input_shape[1]


# ---------------------------------------------------------------------------
# The task as `cvseq` commands, the examples and the tests see it.
# ---------------------------------------------------------------------------

from cvseq import tasks as _tasks  # noqa: E402


def _shape(info, data_options):
    history, features = info.element_spec[0].shape
    return {"history": int(history), "horizon": _tasks.sequence_length(info),
            "features": int(features)}


def _predict_trajectory(model, inputs, run):
    """Each input is a CSV file of positions, one `x,y` row per time step."""
    UserInputError = _tasks.UserInputError
    history, features = model.inputs[0].shape[1:3]
    lines = []
    for path in inputs:
        try:
            track = np.loadtxt(path, delimiter=",", ndmin=2, dtype="float32")
        except (OSError, ValueError) as err:
            raise UserInputError(f"Cannot read positions from {path!r}: {err}.") from err
        if track.size and track.shape[1] != features:
            raise UserInputError(
                f"{path!r} has {track.shape[1]} columns; the model reads {features} "
                "(one `x,y` row per time step).")
        bad = np.flatnonzero(~np.isfinite(track).all(axis=1))
        if len(bad):
            raise UserInputError(
                f"{path!r} has NaN or infinite positions (row {bad[0] + 1} of "
                f"{len(track)}); every row must hold finite numbers.")
        if len(track) < history:
            raise UserInputError(
                f"{path!r} has {len(track)} positions; the model reads the last "
                f"{history}."
            )
        future = model.predict(track[None, -history:], verbose=0)[0]
        lines.append(" ".join(f"({x:.1f},{y:.1f})" for x, y in future[:, :2]))
    return lines


_tasks.register_task(_tasks.TaskSpec(
    name="trajectory_predictor",
    description="RNN motion prediction (past positions -> future)",
    factory=trajectory_predictor,
    dataset="digit_trajectories",
    shape=_shape,
    predict=_predict_trajectory,
    metric="ade",
    small_data={"num_trajectories": 8},
    example="vehicle_tracking.py",
))
