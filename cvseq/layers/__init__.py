"""Custom layers of cvseq, each registered and serializable (package "cvseq")."""

from cvseq.layers.frames import FrameMask, TimeDistributed
from cvseq.layers.preprocessing import ImagePreprocessing

__all__ = ["FrameMask", "ImagePreprocessing", "TimeDistributed"]
