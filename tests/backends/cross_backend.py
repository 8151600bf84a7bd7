"""`.keras` files across Keras backends, on whatever backend Keras runs.

`save(directory)` builds a video tagger and an image segmenter, fits one
step (so batch-norm statistics are not the initial ones) and writes each
model, its inputs, targets and predictions to `directory`. `load(directory)`
loads them (saved under another backend) and checks the predictions are
equal, then fits one step (optimizer state and compile config load too).

tests/backends/test_backends_jax.py saves and loads in the pytest process
(TensorFlow); no_tensorflow.py loads and saves in its JAX process, where
`import tensorflow` is blocked. Each step prints "NAME save OK" or
"NAME load OK".
"""

import os

import keras
import numpy as np

import cvseq


def _models():
    rng = np.random.default_rng(0)
    return {
        "video_tagger": (
            lambda: cvseq.video_tagger(3, frames=4, image_size=16, units=8),
            rng.integers(0, 256, (2, 4, 16, 16, 3)).astype("uint8"),
            np.array([0, 2]),
        ),
        "image_segmenter": (
            lambda: cvseq.image_segmenter(4, image_size=16),
            rng.integers(0, 256, (2, 16, 16, 3)).astype("uint8"),
            rng.integers(0, 4, (2, 16, 16)).astype("int32"),
        ),
    }


def save(directory):
    for name, (build, inputs, targets) in _models().items():
        keras.utils.set_random_seed(0)
        model = build()
        model.fit(inputs, targets, epochs=1, verbose=0)
        model.save(os.path.join(directory, f"{name}.keras"))
        np.savez(os.path.join(directory, f"{name}.npz"), inputs=inputs, targets=targets,
                 predictions=model.predict(inputs, verbose=0))
        print(f"{name} save OK", flush=True)


def load(directory):
    for name in _models():
        saved = np.load(os.path.join(directory, f"{name}.npz"))
        loaded = keras.saving.load_model(os.path.join(directory, f"{name}.keras"),
                                         safe_mode=True)
        predictions = loaded.predict(saved["inputs"], verbose=0)
        np.testing.assert_allclose(predictions, saved["predictions"], atol=1e-5)
        # The saving backend's jit default is not carried over: jit on JAX
        # (off there means op by op), XLA off on TensorFlow (the task's).
        expected = keras.backend.backend() == "jax"
        assert loaded.jit_compile is expected, (name, loaded.jit_compile)
        # Trains on after loading (optimizer state and compile config).
        loaded.fit(saved["inputs"], saved["targets"], epochs=1, verbose=0)
        print(f"{name} load OK", flush=True)
