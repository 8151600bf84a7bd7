import os
import tempfile

import keras
import numpy as np
import pytest

from factory_checks import check_factory

import cvseq
from cvseq import trajectory_predictor
from cvseq.datasets import vessel_tracks
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


def _vessels(split, count=None, history=10, horizon=5):
    """Real ship tracks in metres (AIS, New York Harbor), `count` windows."""
    past, future, _ = vessel_tracks.generate_windows(split, history=history, horizon=horizon)
    if count is not None:
        keep = np.random.default_rng(0).permutation(len(past))[:count]
        past, future = past[keep], future[keep]
    return past, future


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


def test_untrained_model_is_constant_velocity():
    """Zero residual head: the model predicts constant velocity, in any unit
    and origin, before and after the scale is learned."""
    past, _ = _vessels("test", count=64)
    model = trajectory_predictor(history=10, horizon=5, units=8)
    for shifted in (past, (past + 1e5) * 1000.0, past / 1000.0 - 7.0):
        expected = constant_velocity(shifted, 5)
        tolerance = 1e-6 * float(np.abs(shifted).max())
        model.get_layer("step_normalization").adapt(shifted)
        np.testing.assert_allclose(model(shifted), expected, rtol=0, atol=tolerance)
    untrained = trajectory_predictor(history=10, horizon=5, units=8)  # scale 1
    np.testing.assert_allclose(untrained(past), constant_velocity(past, 5), rtol=0,
                               atol=1e-6 * float(np.abs(past).max()))


def test_adapt_learns_the_step_length():
    past, future = _vessels("train", count=256)
    layer = trajectory_predictor(history=10, horizon=5).get_layer("step_normalization")
    layer.adapt(past)
    rms = np.sqrt(np.mean(np.sum(np.diff(past.astype(np.float64), axis=1) ** 2, -1)))
    np.testing.assert_allclose(float(layer.scale), rms, rtol=1e-5)
    assert 50 < rms < 1000  # metres a minute: ships, not pixels or degrees
    # The same from a batched data set of (past, future) pairs.
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((past, future)).batch(100)
    layer.adapt(ds)
    np.testing.assert_allclose(float(layer.scale), rms, rtol=1e-5)
    with pytest.raises(ValueError, match="history >= 2"):
        layer.adapt(np.zeros((4, 1, 2)))


def test_fit_learns_the_scale_and_save_keeps_it():
    """A plain `model.fit` (no `adapt`) sets the scale from the training
    batches; the `.keras` file keeps it."""
    past, future = _vessels("train", count=256)
    model = trajectory_predictor(history=10, horizon=5, units=8)
    model.fit(past, future, batch_size=64, epochs=1, verbose=0)
    scale = float(model.get_layer("step_normalization").scale)
    reference = trajectory_predictor(history=10, horizon=5).get_layer("step_normalization")
    reference.adapt(past)
    np.testing.assert_allclose(scale, float(reference.scale), rtol=1e-4)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
    assert float(loaded.get_layer("step_normalization").scale) == scale
    np.testing.assert_allclose(loaded(past[:64]), model(past[:64]), rtol=1e-5, atol=1e-2)


def test_same_relative_error_in_any_unit_and_origin():
    """Training on positions shifted by 1e5 and scaled by 1000 gives the same
    predictions, shifted and scaled: the same relative ADE."""
    train_past, train_future = _vessels("train", count=256)
    test_past, test_future = _vessels("test", count=256)

    def relative_ade(shift, factor):
        keras.utils.set_random_seed(0)
        model = trajectory_predictor(history=10, horizon=5, units=8)
        model.fit((train_past + shift) * factor, (train_future + shift) * factor,
                  batch_size=64, epochs=2, verbose=0)
        predicted = model.predict((test_past + shift) * factor, verbose=0)
        return average_displacement_error((test_future + shift) * factor, predicted) / factor

    metres = relative_ade(0.0, 1.0)
    moved = relative_ade(1e5, 1000.0)
    np.testing.assert_allclose(moved, metres, rtol=1e-3)
    # ...and training did change the model (not two constant-velocity runs).
    cv = average_displacement_error(test_future, constant_velocity(test_past, 5))
    assert abs(metres - cv) > 1e-3 * cv


def test_digit_trajectories_shapes():
    ds = cvseq.datasets.load(
        "digit_trajectories", "test", num_trajectories=10, history=6, horizon=4,
        batch_size=5,
    )
    past, future = next(iter(ds))
    assert past.shape == (5, 6, 2) and future.shape == (5, 4, 2)
    assert 0 <= float(np.min(past)) and float(np.max(past)) <= 1


@pytest.mark.slow
def test_beats_constant_velocity_on_real_ship_tracks():
    """Factory defaults, real AIS tracks in metres, held-out vessels: ADE and
    FDE clearly below constant velocity after a short `fit`."""
    keras.utils.set_random_seed(0)
    train = cvseq.datasets.load("vessel_trajectories", "train", batch_size=64, stride=10)
    past, future = _vessels("test")
    model = trajectory_predictor(history=10, horizon=5)
    model.fit(train, epochs=4, verbose=0)
    predicted = model.predict(past, verbose=0, batch_size=1024)

    ade = average_displacement_error(future, predicted)
    fde = final_displacement_error(future, predicted)
    baseline = constant_velocity(past, 5)
    cv_ade = average_displacement_error(future, baseline)
    cv_fde = final_displacement_error(future, baseline)
    assert ade < 0.9 * cv_ade, (ade, cv_ade)
    assert fde < 0.9 * cv_fde, (fde, cv_fde)
    # The Keras metric agrees with the numpy function.
    logs = model.evaluate(past, future, verbose=0, return_dict=True, batch_size=1024)
    np.testing.assert_allclose(logs["ade"], ade, rtol=1e-4)
