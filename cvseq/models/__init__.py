"""One factory per use case; each returns a (compiled) `keras.Model`."""

from cvseq.models.video_tagger import video_tagger

__all__ = ["video_tagger"]
