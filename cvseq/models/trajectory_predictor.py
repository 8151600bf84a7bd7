"""Motion prediction: past positions in, future positions out (an RNN)."""

import keras
from keras import ops

from cvseq._validation import check_bool, check_choice, check_fraction, check_int
from cvseq.metrics.trajectory import AverageDisplacementError, FinalDisplacementError
from cvseq.models.task import Task

RECURRENT_LAYERS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


@keras.saving.register_keras_serializable(package="cvseq")
class MotionFeatures(keras.layers.Layer):
    """Positions and the step since the previous position, side by side.

    Input `(batch, time, features)`; output `(batch, time, 2 * features)`:
    each position followed by its step from the previous one (zero at the
    first). The steps make constant motion a constant input; the positions
    tell where the edges of the scene are.
    """

    def call(self, positions):
        steps = positions[:, 1:] - positions[:, :-1]
        steps = ops.concatenate([ops.zeros_like(positions[:, :1]), steps], axis=1)
        return ops.concatenate([positions, steps], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 2 * input_shape[-1])


@keras.saving.register_keras_serializable(package="cvseq")
class AccumulateSteps(keras.layers.Layer):
    """Turns predicted steps into positions, starting at the last observed one.

    Inputs `[past (batch, history, features), steps (batch, horizon,
    features)]`; output `past[:, -1] + cumsum(steps)`, `(batch, horizon,
    features)`. A model that predicts no motion thus predicts "stay", and
    constant motion is a constant output.
    """

    def call(self, inputs):
        past, steps = inputs
        last = ops.cast(past[:, -1:], steps.dtype)
        return last + ops.cumsum(steps, axis=1)

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

    An encoder RNN reads each past position with its step from the one
    before (`MotionFeatures`). Its final state starts a decoder RNN that
    runs `horizon` steps over the encoder's summary and predicts the
    displacement of every future step; `AccumulateSteps` adds them up from
    the last observed position. Positions are best given in a fixed frame
    of reference, e.g. fractions of the image size, as
    `cvseq.datasets.load("digit_trajectories", ...)` does.

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
        compile: bool. Compile with Adam(5e-3), mean squared error, and the
            average and final displacement errors (`ade`, `fde`) as metrics.
            Defaults to True.
        name: str or None. Model name. Defaults to `"trajectory_predictor"`.

    Returns:
        A `keras.Model` from past positions `(batch, history, features)` to
        future positions `(batch, horizon, features)`.

    Example:

    >>> model = trajectory_predictor(history=12, horizon=8)
    >>> ds = cvseq.datasets.load("digit_trajectories", "train")
    >>> model.fit(ds, epochs=1)
    >>> model.predict(np.zeros((1, 12, 2))).shape
    (1, 8, 2)
    """
    # Arguments.
    history = check_int("history", history, minimum=2)
    horizon = check_int("horizon", horizon)
    features = check_int("features", features)
    check_choice("recurrent", recurrent, tuple(RECURRENT_LAYERS))
    units = check_int("units", units)
    dropout = check_fraction("dropout", dropout)
    check_bool("compile", compile)

    # Layers.
    past = keras.Input((history, features), name="past")
    x = MotionFeatures(name="motion_features")(past)
    x = keras.layers.Dense(units, activation="relu", name="input_projection")(x)
    rnn = RECURRENT_LAYERS[recurrent]
    summary, *states = rnn(units, return_state=True, name="encoder")(x)
    if dropout:
        summary = keras.layers.Dropout(dropout, name="summary_dropout")(summary)
    x = keras.layers.RepeatVector(horizon, name="repeat_summary")(summary)
    x = rnn(units, return_sequences=True, name="decoder")(x, initial_state=states)
    # Float32 under mixed precision: steps are small numbers.
    steps = keras.layers.Dense(features, dtype="float32", name="steps")(x)
    future = AccumulateSteps(dtype="float32", name="future")([past, steps])

    # Model.
    model = Task(past, future, name=name or "trajectory_predictor", targets="values",
                 compile_defaults=dict(
            jit_compile=False,
            optimizer=keras.optimizers.Adam(5e-3),
            loss="mse",
            metrics=[AverageDisplacementError(), FinalDisplacementError()],
        ))
    if compile:
        model.compile()
    return model
