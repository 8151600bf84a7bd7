"""cvseq: CNNs, RNNs and both together on video, as Keras 3 models."""

__version__ = "0.1.0"

from cvseq import backbones, datasets, distribute, layers  # noqa: E402
from cvseq import boxes, metrics, training  # noqa: E402
from cvseq.models import (  # noqa: E402
    image_classifier,
    image_segmenter,
    object_detector,
    video_tagger,
)

__all__ = [
    "backbones", "boxes", "datasets", "distribute", "layers", "metrics", "training",
    "image_classifier", "image_segmenter", "object_detector", "video_tagger",
    "__version__",
]
