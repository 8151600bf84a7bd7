"""One factory per use case; each returns a (compiled) `keras.Model`."""

from cvseq.models.image_captioner import ImageCaptioner, image_captioner
from cvseq.models.language_model import LanguageModel, language_model
from cvseq.models.sequence_generator import SequenceGenerator, sequence_generator
from cvseq.models.text_classifier import text_classifier
from cvseq.models.trajectory_predictor import trajectory_predictor
from cvseq.models.translator import Translator, translator
from cvseq.models.video_classifier_3d import video_classifier_3d
from cvseq.models.video_tagger import video_tagger

__all__ = [
    "ImageCaptioner",
    "LanguageModel",
    "SequenceGenerator",
    "Translator",
    "image_captioner",
    "language_model",
    "sequence_generator",
    "text_classifier",
    "trajectory_predictor",
    "translator",
    "video_classifier_3d",
    "video_tagger",
]
