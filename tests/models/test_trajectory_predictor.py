import keras
import numpy as np
import pytest

from factory_checks import check_factory

import cvseq
from cvseq import trajectory_predictor
from cvseq.metrics import (
    average_displacement_error,
    constant_velocity,
    final_displacement_error,
)

BAD_ARGUMENTS = {
    "history": 1,
    "horizon": 0,
    "features": "xy",
    "recurrent": "rnn",
    "units": -3,
    "dropout": 1.5,
}


def _past(batch=2, history=5, features=2, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (batch, history, features)).astype("float32")


@pytest.mark.parametrize("recurrent", ["lstm", "gru"])
def test_factory(recurrent):
    model = check_factory(
        trajectory_predictor,
        kwargs=dict(history=5, horizon=3, units=8, recurrent=recurrent, dropout=0.1),
        inputs=_past(),
        targets=np.zeros((2, 3, 2), "float32"),
        output_shape=(2, 3, 2),
        bad_arguments=BAD_ARGUMENTS,
    )
    assert {"ade", "fde"} <= {m.name for m in model.metrics[-1].metrics}


def test_three_features():
    model = trajectory_predictor(history=4, horizon=6, features=3, units=4)
    assert model.predict(_past(features=3, history=4), verbose=0).shape == (2, 6, 3)


def test_predictions_start_from_the_last_position():
    """With the step layer zeroed, the model predicts "stay where you are"."""
    model = trajectory_predictor(history=5, horizon=3, units=4)
    steps = model.get_layer("steps")
    steps.set_weights([np.zeros_like(w) for w in steps.get_weights()])
    past = _past()
    np.testing.assert_allclose(
        model.predict(past, verbose=0), np.repeat(past[:, -1:], 3, axis=1), atol=1e-6
    )


def test_digit_trajectories_shapes():
    ds = cvseq.datasets.load(
        "digit_trajectories", "test", num_trajectories=10, history=6, horizon=4,
        batch_size=5,
    )
    past, future = next(iter(ds))
    assert past.shape == (5, 6, 2) and future.shape == (5, 4, 2)
    assert 0 <= float(np.min(past)) and float(np.max(past)) <= 1


@pytest.mark.slow
def test_beats_the_constant_velocity_baseline():
    """Held-out ADE below the best of two constant-velocity baselines."""
    keras.utils.set_random_seed(0)
    train = cvseq.datasets.load("digit_trajectories", "train", batch_size=64)
    past, future = cvseq.datasets.digit_tracks.generate_trajectories("test")
    model = trajectory_predictor(history=12, horizon=8, units=64)
    model.fit(train, epochs=20, verbose=0)
    predicted = model.predict(past, verbose=0, batch_size=256)

    ade = average_displacement_error(future, predicted)
    baselines = {
        window: average_displacement_error(future, constant_velocity(past, 8, window=window))
        for window in (2, 3)
    }
    assert ade < 0.8 * min(baselines.values()), (ade, baselines)
    fde = final_displacement_error(future, predicted)
    assert fde < min(
        final_displacement_error(future, constant_velocity(past, 8, window=w))
        for w in (2, 3)
    )
    # The Keras metric agrees with the numpy function.
    logs = model.evaluate(past, future, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["ade"], ade, rtol=1e-4)
