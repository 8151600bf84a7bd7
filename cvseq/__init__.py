"""cvseq: CNNs, RNNs and both together on video, as Keras 3 models."""

__version__ = "0.1.0"

from cvseq import backbones, datasets, generation, layers, metrics  # noqa: E402
from cvseq.models import (  # noqa: E402
    image_captioner,
    trajectory_predictor,
    video_classifier_3d,
    video_tagger,
)

__all__ = [
    "backbones",
    "datasets",
    "generation",
    "image_captioner",
    "layers",
    "metrics",
    "trajectory_predictor",
    "video_classifier_3d",
    "video_tagger",
    "__version__",
]
