"""cvseq.layers.BatchNormalization: the same layer as Keras' synchronized
batch norm, on one device (tests/test_distribute.py checks replicas: a tagger mirrored
on two CPUs trains the same weights as on one)."""

import keras
import numpy as np

import cvseq

INPUTS = np.random.default_rng(0).normal(3.0, 2.0, (8, 5, 5, 4)).astype("float32")


def _pair():
    ours = cvseq.layers.BatchNormalization(momentum=0.9)
    reference = keras.layers.BatchNormalization(momentum=0.9, synchronized=True)
    ours.build(INPUTS.shape)
    reference.build(INPUTS.shape)
    gamma = np.linspace(0.5, 1.5, 4).astype("float32")
    for layer in (ours, reference):
        layer.gamma.assign(gamma)
    return ours, reference


def test_matches_keras_synchronized_batch_norm_on_one_device():
    ours, reference = _pair()
    for _ in range(3):  # training output and the moving statistics
        np.testing.assert_allclose(ours(INPUTS, training=True),
                                   reference(INPUTS, training=True), atol=1e-5)
    np.testing.assert_allclose(ours.moving_mean, reference.moving_mean, atol=1e-6)
    np.testing.assert_allclose(ours.moving_variance, reference.moving_variance, atol=1e-5)
    np.testing.assert_allclose(ours(INPUTS), reference(INPUTS), atol=1e-5)


def test_the_statistics_are_those_of_the_batch():
    ours, _ = _pair()
    ours.gamma.assign(np.ones(4, "float32"))
    out = np.asarray(ours(INPUTS, training=True))
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1.0, atol=1e-3)


def test_defaults_to_synchronized_and_round_trips(tmp_path):
    inputs = keras.Input((5, 5, 4))
    model = keras.Model(inputs, cvseq.layers.BatchNormalization()(inputs))
    assert model.layers[-1].synchronized
    path = str(tmp_path / "bn.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.layers[-1]) is cvseq.layers.BatchNormalization
    np.testing.assert_allclose(loaded.predict(INPUTS, verbose=0),
                               model.predict(INPUTS, verbose=0), atol=1e-6)


def test_config_keeps_the_requested_synchronization():
    # Off TensorFlow the layer runs unsynchronized (one replica, same
    # numbers) but saves what was asked, so files load on every backend
    # (tests/backends/ round-trips them between TensorFlow and JAX).
    for requested in (True, False):
        layer = cvseq.layers.BatchNormalization(synchronized=requested)
        assert layer.get_config()["synchronized"] is requested
        assert layer.synchronized is (requested and keras.backend.backend() == "tensorflow")
        clone = cvseq.layers.BatchNormalization.from_config(layer.get_config())
        assert clone.get_config()["synchronized"] is requested
