"""cvseq: CNNs, RNNs and both together on video, as Keras 3 models."""

__version__ = "0.1.0"

from cvseq import backbones, datasets, layers  # noqa: E402
from cvseq.models import video_classifier_3d, video_tagger  # noqa: E402

__all__ = [
    "backbones",
    "datasets",
    "layers",
    "video_classifier_3d",
    "video_tagger",
    "__version__",
]
