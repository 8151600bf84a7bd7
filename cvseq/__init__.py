"""cvseq: CNNs, RNNs and both together on video, as Keras 3 models."""

__version__ = "0.1.0"

import os as _os

# TensorFlow logs a screenful at import; keep errors only unless the user
# chose a level.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from cvseq import backbones, datasets, distribute, generation, layers  # noqa: E402
from cvseq import metrics, music, text, tracking  # noqa: E402
from cvseq.models import (  # noqa: E402
    image_captioner,
    language_model,
    sequence_generator,
    text_classifier,
    trajectory_predictor,
    translator,
    video_classifier_3d,
    video_tagger,
)

__all__ = [
    "backbones",
    "datasets",
    "distribute",
    "generation",
    "image_captioner",
    "language_model",
    "layers",
    "metrics",
    "music",
    "sequence_generator",
    "text",
    "text_classifier",
    "tracking",
    "trajectory_predictor",
    "translator",
    "video_classifier_3d",
    "video_tagger",
    "__version__",
]
