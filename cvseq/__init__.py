"""cvseq: CNNs, RNNs and both together on video, as Keras 3 models."""

__version__ = "0.1.0"

import os as _os

# TensorFlow logs a screenful at import; keep errors only unless the user
# chose a level.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from cvseq import backbones, datasets, distribute, layers  # noqa: E402
from cvseq.models import video_tagger  # noqa: E402

__all__ = ["backbones", "datasets", "distribute", "layers", "video_tagger", "__version__"]
