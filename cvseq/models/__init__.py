"""One factory per use case; each returns a (compiled) `keras.Model`."""

from cvseq.models.language_model import LanguageModel, language_model
from cvseq.models.sequence_generator import SequenceGenerator, sequence_generator
from cvseq.models.text_classifier import text_classifier
from cvseq.models.translator import Translator, translator
from cvseq.models.video_tagger import video_tagger

__all__ = [
    "LanguageModel",
    "SequenceGenerator",
    "Translator",
    "language_model",
    "sequence_generator",
    "text_classifier",
    "translator",
    "video_tagger",
]
