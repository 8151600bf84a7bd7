"""Run as a script: `.keras` files across Keras backends.

    python tests/backends/cross_backend.py BACKEND [load DIR] [save DIR]

Steps run in the order given. `save` builds a video tagger and an image segmenter under BACKEND, fits one
step (so batch-norm statistics are not the initial ones) and writes each
model, its inputs and its predictions to DIR. `load` loads them under
BACKEND (another one) and checks the predictions are equal. Under a
backend other than TensorFlow, `import tensorflow` is blocked, as on a
machine without it. Prints "ALL OK" at the end.
"""

import os
import sys

backend = sys.argv[1]
steps = list(zip(sys.argv[2::2], sys.argv[3::2]))
if backend != "tensorflow":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _block_tensorflow  # noqa: F401  (before keras and cvseq)
os.environ["KERAS_BACKEND"] = backend

import keras  # noqa: E402
import numpy as np  # noqa: E402

import cvseq  # noqa: E402

assert keras.backend.backend() == backend

rng = np.random.default_rng(0)
MODELS = {
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

for (mode, directory), (name, (build, inputs, targets)) in (
    (step, model) for step in steps for model in MODELS.items()
):
    path = os.path.join(directory, f"{name}.keras")
    data = os.path.join(directory, f"{name}.npz")
    if mode == "save":
        keras.utils.set_random_seed(0)
        model = build()
        model.fit(inputs, targets, epochs=1, verbose=0)
        model.save(path)
        np.savez(data, inputs=inputs, predictions=model.predict(inputs, verbose=0))
    else:
        saved = np.load(data)
        loaded = keras.saving.load_model(path, safe_mode=True)
        predictions = loaded.predict(saved["inputs"], verbose=0)
        np.testing.assert_allclose(predictions, saved["predictions"], atol=1e-5)
        # Trains on after loading (optimizer state and compile config).
        loaded.fit(saved["inputs"], targets, epochs=1, verbose=0)
    print(f"{name} {mode} OK", flush=True)
print("ALL OK")
