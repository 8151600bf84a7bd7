"""Run as a script: cvseq on a non-TensorFlow backend with TensorFlow blocked.

    python tests/backends/no_tensorflow.py [jax|torch] [LOAD_DIR SAVE_DIR]

Blocks `import tensorflow` (as in an environment without it, like the GPU
machine that has JAX but no TensorFlow), then checks that `import cvseq`
works, that the TensorFlow-only parts raise one clear error naming what to
install, and runs `check_factory` for every vision and video factory (argument checks are
plain Python, tested once under TensorFlow by tests/models/).
With LOAD_DIR and SAVE_DIR, also loads the `.keras` files another backend
saved in LOAD_DIR and saves its own in SAVE_DIR (cross_backend.py), so one
process (one set of imports) does both.
Prints "ALL OK" at the end; any failure raises.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _block_tensorflow  # noqa: E402,F401  (before keras and cvseq)
os.environ["KERAS_BACKEND"] = sys.argv[1] if len(sys.argv) > 1 else "jax"
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from factory_checks import check_factory  # noqa: E402

import cvseq  # noqa: E402
from cvseq._tf import TensorFlowRequiredError  # noqa: E402
import cross_backend  # noqa: E402  (in this folder)
import instance_segmenter_check  # noqa: E402  (in this folder)

assert keras.backend.backend() == os.environ["KERAS_BACKEND"], keras.backend.backend()
assert "tensorflow" not in {m.split(".")[0] for m, v in sys.modules.items() if v}


def _raises_clear_error(what, call):
    try:
        call()
    except TensorFlowRequiredError as error:
        assert "pip install tensorflow" in str(error), str(error)
        return
    raise AssertionError(f"{what} did not raise TensorFlowRequiredError")


_raises_clear_error("cvseq.datasets.load (tf.data)",
                    lambda: cvseq.datasets.load("moving_digits", num_clips=2))
_raises_clear_error("a text data set",
                    lambda: cvseq.datasets.load("hamlet", format="numpy"))
_raises_clear_error("cvseq.export", lambda: cvseq.export)
_raises_clear_error("cvseq.distribute.strategy", cvseq.distribute.strategy)
_raises_clear_error("cvseq.text", lambda: cvseq.text.build_vocabulary(["a b"]))
_raises_clear_error("cvseq.translator", lambda: cvseq.translator(source_vocabulary=["a"], target_vocabulary=["b"]))
# No GPU here; bfloat16 only on a CPU with AMX.
expected = "mixed_bfloat16" if cvseq.distribute.cpu_has_amx() else "float32"
assert cvseq.distribute.mixed_precision("auto") == expected
try:
    assert cvseq.distribute.mixed_precision("bfloat16") == "mixed_bfloat16"
    model = cvseq.video_tagger(2, frames=2, image_size=16, units=4)
    assert model.get_layer("lstm").compute_dtype == "bfloat16"
    assert model.output.dtype == "float32"
    loss = model.fit(np.zeros((2, 2, 16, 16, 3), "uint8"), np.array([0, 1]),
                     verbose=0).history["loss"][0]
    assert np.isfinite(loss), loss
finally:
    keras.config.set_dtype_policy("float32")
print("mixed_precision OK", flush=True)

rng = np.random.default_rng(0)
images = rng.integers(0, 256, (2, 16, 16, 3)).astype("uint8")
clips = rng.integers(0, 256, (2, 4, 16, 16, 3)).astype("uint8")
masks = rng.integers(0, 4, (2, 16, 16)).astype("int32")
past = rng.uniform(0, 1, (2, 5, 2)).astype("float32")

check_factory(cvseq.video_tagger, args=(3,),
              kwargs=dict(frames=4, image_size=16, units=8),
              inputs=clips, targets=np.array([0, 2]), output_shape=(2, 3))
print("video_tagger OK", flush=True)
check_factory(cvseq.video_classifier_3d, args=(3,),
              kwargs=dict(frames=4, image_size=16, filters=(4, 8)),
              inputs=clips, targets=np.array([0, 2]), output_shape=(2, 3))
print("video_classifier_3d OK", flush=True)
check_factory(cvseq.image_classifier, args=(3,), kwargs=dict(image_size=16),
              inputs=images, targets=np.array([0, 2]), output_shape=(2, 3))
print("image_classifier OK", flush=True)
check_factory(cvseq.image_segmenter, args=(4,), kwargs=dict(image_size=16),
              inputs=images, targets=masks, output_shape=(2, 16, 16, 4))
print("image_segmenter OK", flush=True)
check_factory(cvseq.trajectory_predictor,
              kwargs=dict(history=5, horizon=3, units=8),
              inputs=past, targets=np.zeros((2, 3, 2), "float32"),
              output_shape=(2, 3, 2))
print("trajectory_predictor OK", flush=True)
frames = rng.integers(0, 256, size=(2, 4, 8, 8, 1)).astype("uint8")
check_factory(cvseq.video_predictor,
              kwargs=dict(frames_in=2, frames_out=2, image_size=8, filters=(4,),
                          kernel_size=3),
              inputs=frames[:, :2], targets=frames[:, 2:],
              output_shape=(2, 2, 8, 8, 1))
print("video_predictor OK", flush=True)
instance_segmenter_check.run()
print("instance_segmenter OK", flush=True)
# Data sets as NumPy batches (format="numpy"), fitted on this backend.
train, info = cvseq.datasets.load(
    "moving_digits", "train", frames=4, image_size=16, num_clips=12,
    batch_size=4, format="numpy", with_info=True)
assert isinstance(train, keras.utils.PyDataset) and len(train) == 3
assert info.element_spec[0].shape == (4, 16, 16, 3)
model = cvseq.video_tagger(info.num_classes, frames=4, image_size=16, units=8)
history = model.fit(train, epochs=1, verbose=0)
assert np.all(np.isfinite(history.history["loss"])), history.history
print("moving_digits numpy fit OK", flush=True)
images = cvseq.datasets.load("digits", "validation", image_size=16,
                             examples_per_class=2, format="numpy")
x, y = images.arrays
model = cvseq.image_classifier(10, image_size=16)
model.fit(images, epochs=1, verbose=0)
assert model.predict(x[:3], verbose=0).shape == (3, 10)
print("digits numpy fit OK", flush=True)
if len(sys.argv) > 3:
    cross_backend.load(sys.argv[2])
    cross_backend.save(sys.argv[3])
print("ALL OK")
