"""Custom layers of cvseq, each registered and serializable (package "cvseq")."""

from cvseq.layers.frames import FrameMask, TimeDistributed
from cvseq.layers.normalization import BatchNormalization
from cvseq.layers.preprocessing import ImagePreprocessing

__all__ = ["BatchNormalization", "FrameMask", "ImagePreprocessing", "TimeDistributed"]
