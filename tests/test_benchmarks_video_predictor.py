"""benchmarks/video_predictor.py: the plain Keras predictor is the same
model as `cvseq.video_predictor` (same parameters, same frames with the
same weights)."""

import os
import sys

import numpy as np

import cvseq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks"))
import video_predictor as bench  # noqa: E402


def test_plain_keras_predictor_is_the_predictor():
    kit = cvseq.video_predictor(frames_in=2, frames_out=3, image_size=8, filters=(4, 4),
                                kernel_size=3)
    plain = bench.plain_keras_predictor(2, 3, (8, 8), filters=(4, 4), kernel_size=3)
    assert [tuple(w.shape) for w in kit.weights] == [tuple(w.shape) for w in plain.weights]
    rng = np.random.default_rng(0)
    values = [rng.normal(0, 0.3, w.shape).astype("float32") for w in kit.weights]
    kit.set_weights(values)
    plain.set_weights(values)
    frames = rng.integers(0, 256, (2, 2, 8, 8, 1)).astype("uint8")
    expected = kit.predict(frames, verbose=0)
    np.testing.assert_allclose(plain.predict(frames, verbose=0), expected, atol=1e-3)
    assert np.std(expected) > 1.0
