"""benchmarks/video_tagger.py times cvseq's tagger against plain Keras
models: the "same architecture" one must be the tagger (same parameters and,
with the tagger's weights, the same outputs)."""

import os
import sys

import numpy as np

import cvseq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks"))
import video_tagger as bench  # noqa: E402


def test_plain_keras_tagger_is_the_tagger():
    kit = cvseq.video_tagger(3, frames=4, image_size=16, dropout=0.2)
    plain = bench.plain_keras_tagger(3, 4, (16, 16))
    assert kit.count_params() == plain.count_params()
    assert [tuple(w.shape) for w in kit.weights] == [tuple(w.shape) for w in plain.weights]
    rng = np.random.default_rng(0)
    values = [rng.normal(0.5, 0.1, w.shape).astype("float32") if "variance" in w.path
              else rng.normal(0, 0.3, w.shape).astype("float32") for w in kit.weights]
    kit.set_weights(values)
    plain.set_weights(values)
    clips = rng.integers(1, 256, (2, 4, 16, 16, 3)).astype("uint8")
    expected = kit.predict(clips, verbose=0)
    np.testing.assert_allclose(plain.predict(clips, verbose=0), expected, atol=1e-4)
    assert np.std(expected) > 1e-3


def test_frontier_points_build_and_the_default_point_is_the_tagger():
    kit = cvseq.video_tagger(2, frames=3, image_size=16)
    assert bench.tagger_variant(2, 3, (16, 16)).count_params() == kit.count_params()
    clips = np.ones((1, 3, 16, 16, 3), "uint8")
    for name, build in bench.FRONTIER.items():
        assert build(2, 3, (16, 16)).predict(clips, verbose=0).shape == (1, 2), name
