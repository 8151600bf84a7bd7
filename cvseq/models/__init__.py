"""One factory per use case; each returns a (compiled) `keras.Model`."""

from cvseq.models.image_captioner import image_captioner
from cvseq.models.trajectory_predictor import trajectory_predictor
from cvseq.models.video_classifier_3d import video_classifier_3d
from cvseq.models.video_tagger import video_tagger

__all__ = ["image_captioner", "trajectory_predictor", "video_classifier_3d", "video_tagger"]
