"""One factory per use case; each returns a (compiled) `cvseq.Task`."""

from cvseq.models.task import Task
from cvseq.models.generative import GenerativeModel
from cvseq.models.image_captioner import ImageCaptioner, image_captioner
from cvseq.models.image_classifier import image_classifier
from cvseq.models.image_segmenter import DiceCrossEntropy, image_segmenter
from cvseq.models.language_model import LanguageModel, language_model
from cvseq.models.object_detector import ObjectDetector, object_detector
from cvseq.models.sequence_generator import SequenceGenerator, sequence_generator
from cvseq.models.text_classifier import text_classifier
from cvseq.models.trajectory_predictor import trajectory_predictor
from cvseq.models.translator import Translator, translator
from cvseq.models.video_classifier_3d import video_classifier_3d
from cvseq.models.video_tagger import video_tagger
from cvseq.models.video_predictor import VideoPredictor, video_predictor

__all__ = [
    "DiceCrossEntropy",
    "GenerativeModel",
    "ImageCaptioner",
    "LanguageModel",
    "ObjectDetector",
    "SequenceGenerator",
    "Task",
    "Translator",
    "image_captioner",
    "image_classifier",
    "image_segmenter",
    "language_model",
    "object_detector",
    "sequence_generator",
    "text_classifier",
    "trajectory_predictor",
    "translator",
    "video_classifier_3d",
    "video_tagger",
    "VideoPredictor",
    "video_predictor",
]

from cvseq.models.instance_segmenter import (  # noqa: E402
    InstanceCenterLoss,
    InstanceSegmenter,
    instance_segmenter,
)

__all__ += ["InstanceCenterLoss", "InstanceSegmenter", "instance_segmenter"]
