import numpy as np
import pytest

from cvseq.metrics import (
    AverageDisplacementError,
    FinalDisplacementError,
    average_displacement_error,
    constant_velocity,
    displacement_errors,
    final_displacement_error,
)

# Two trajectories of three steps; errors by hand: 3-4-5 triangles.
TRUE = np.zeros((2, 3, 2))
PRED = np.array([
    [[3, 4], [0, 0], [6, 8]],     # distances 5, 0, 10
    [[0, 1], [0, 2], [0, 3]],     # distances 1, 2, 3
], float)


def test_numpy_errors():
    np.testing.assert_allclose(displacement_errors(TRUE, PRED), [[5, 0, 10], [1, 2, 3]])
    assert average_displacement_error(TRUE, PRED) == pytest.approx(21 / 6)
    assert final_displacement_error(TRUE, PRED) == pytest.approx(6.5)


def test_keras_metrics_match():
    ade, fde = AverageDisplacementError(), FinalDisplacementError()
    ade.update_state(TRUE, PRED.astype("float32"))
    fde.update_state(TRUE, PRED.astype("float32"))
    assert float(ade.result()) == pytest.approx(21 / 6, rel=1e-6)
    assert float(fde.result()) == pytest.approx(6.5, rel=1e-6)
    assert AverageDisplacementError.from_config(ade.get_config()).name == "ade"


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="same shape"):
        displacement_errors(TRUE, PRED[:, :2])


def test_constant_velocity():
    past = np.array([[[0, 0], [1, 2], [2, 4]]], float)
    np.testing.assert_allclose(constant_velocity(past, 2), [[[3, 6], [4, 8]]])
    bent = np.array([[[0, 0], [2, 0], [3, 0]]], float)  # steps 2 then 1
    np.testing.assert_allclose(constant_velocity(bent, 1), [[[4, 0]]])
    np.testing.assert_allclose(constant_velocity(bent, 1, window=3), [[[4.5, 0]]])


def test_displacement_loss_is_ade_with_finite_gradients():
    import keras
    import tensorflow as tf

    from cvseq.metrics import DisplacementLoss

    loss = DisplacementLoss()
    assert float(loss(TRUE, PRED.astype("float32"))) == pytest.approx(21 / 6)
    # An exact prediction (distance 0 at the middle step) keeps gradients finite.
    pred = tf.Variable(PRED.astype("float32"))
    with tf.GradientTape() as tape:
        value = loss(TRUE.astype("float32"), pred)
    gradient = tape.gradient(value, pred).numpy()
    assert np.all(np.isfinite(gradient)) and np.all(gradient[0, 1] == 0)
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(restored, DisplacementLoss)
