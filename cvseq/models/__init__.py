"""One factory per use case; each returns a (compiled) `keras.Model`."""

from cvseq.models.video_classifier_3d import video_classifier_3d
from cvseq.models.video_tagger import video_tagger

__all__ = ["video_classifier_3d", "video_tagger"]
