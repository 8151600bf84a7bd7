"""The task contract: `.keras` files saved by earlier commits keep loading."""

import glob
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import cvseq  # noqa: F401  (registers the classes the files name)

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "0d9c082")


def _unflatten(arrays, prefix):
    keys = sorted(k for k in arrays if k == prefix or k.startswith(prefix + "_"))
    if keys == [prefix]:
        return arrays[prefix]
    return {k[len(prefix) + 1:]: arrays[k] for k in keys}


def _as_model_input(value):
    # Keras itself takes strings only as tensors (or 1-D object arrays).
    value = np.asarray(value)
    return tf.constant(value.astype(object)) if value.dtype.kind == "U" else value


def _generated(name, model):
    """The decoding calls `make_fixtures.py` made, in the API of this commit."""
    if name == "language_model":
        return [model.generate("to be", max_length=6), model.generate(["that is"], 5)]
    if name == "sequence_generator":
        return [model.generate(["60:1"], 4, sampler="greedy")]
    if name == "translator":
        sources = ["Germany", "Spain", "France"]
        return [model.translate(sources), model.translate(sources[:2], beam_width=2)]
    if name == "image_captioner":
        images = model._fixture_images
        return [model.caption(images), model.caption(images[:1], beam_width=2)]
    return []


@pytest.mark.parametrize(
    "path", sorted(glob.glob(os.path.join(FIXTURES, "*.keras"))),
    ids=lambda p: os.path.basename(p)[:-6],
)
def test_fixture_loads_and_predicts_the_same(path):
    name = os.path.basename(path)[:-len(".keras")]
    arrays = dict(np.load(path[:-len(".keras")] + ".npz"))
    model = keras.saving.load_model(path)  # safe mode
    inputs = keras.tree.map_structure(_as_model_input, _unflatten(arrays, "x"))
    expected = _unflatten(arrays, "y")
    predicted = model.predict(inputs, verbose=0)
    keras.tree.assert_same_structure(predicted, expected)
    for got, want in zip(keras.tree.flatten(predicted), keras.tree.flatten(expected)):
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)
    if isinstance(inputs, dict) and "images" in inputs:
        model._fixture_images = inputs["images"]
    generated = [str(g) for g in _generated(name, model)]
    stored = [str(arrays[f"g_{i}"][0]) for i in range(len(generated))]
    assert generated == stored


def test_fixtures_are_small():
    total = sum(os.path.getsize(p) for p in glob.glob(os.path.join(FIXTURES, "*")))
    assert 0 < total < 3 * 2**20
