"""cvseq: CNNs, RNNs and both together on video, as Keras 3 models."""

__version__ = "0.1.0"

import os as _os

# TensorFlow logs a screenful at import; keep errors only unless the user
# chose a level.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# FFmpeg (inside OpenCV) prints its own line for a file it cannot read
# ("moov atom not found"); cvseq's errors and warnings name the file and
# why. Read when OpenCV first opens a video; the user's setting wins.
_os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

from cvseq._tf import quiet_tensorflow_import as _quiet  # noqa: E402

# TensorFlow's import (through Keras, KerasHub, TFDS) honours the level set above.
with _quiet():
    from cvseq import backbones, boxes, distribute, generation, layers  # noqa: E402
    from cvseq import metrics, music, text, tracking, training  # noqa: E402
    from cvseq import errors  # noqa: E402
    # Every factory and task class, as `cvseq.<name>`: cvseq.models' `__all__`
    # is the one list (a new factory's module there is exported without a line:
    # cvseq.models imports every module of its package).
    from cvseq import models  # noqa: E402
    from cvseq.models import *  # noqa: E402,F401,F403
    from cvseq import flow  # noqa: E402  (optical flow, OpenCV)
del _quiet



def __getattr__(name):
    # `cvseq.callbacks` and `cvseq.export` on first use, so `import cvseq`
    # does not load the TFLite converter; `cvseq.datasets` too (it imports
    # without TensorFlow: `load(..., format="numpy")` serves any backend,
    # and its tf.data parts raise one clear error when TensorFlow is missing).
    if name in ("callbacks", "datasets", "export"):
        import importlib

        return importlib.import_module(f"cvseq.{name}")
    raise AttributeError(f"module 'cvseq' has no attribute {name!r}")


__all__ = [
    "backbones",
    "boxes",
    "callbacks",
    "datasets",
    "distribute",
    "errors",
    "export",
    "flow",
    "generation",
    "layers",
    "metrics",
    "models",
    "music",
    "text",
    "tracking",
    "training",
    "__version__",
    *models.__all__,
]
