"""One factory per use case; each returns a (compiled) `keras.Model`."""

from cvseq.models.trajectory_predictor import trajectory_predictor
from cvseq.models.video_classifier_3d import video_classifier_3d
from cvseq.models.video_tagger import video_tagger

__all__ = ["trajectory_predictor", "video_classifier_3d", "video_tagger"]
