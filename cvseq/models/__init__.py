"""One factory per use case; each returns a (compiled) `keras.Model`."""

from cvseq.models.image_classifier import image_classifier
from cvseq.models.image_segmenter import DiceCrossEntropy, image_segmenter
from cvseq.models.object_detector import ObjectDetector, object_detector
from cvseq.models.video_tagger import video_tagger

__all__ = [
    "DiceCrossEntropy",
    "ObjectDetector",
    "image_classifier",
    "image_segmenter",
    "object_detector",
    "video_tagger",
]
