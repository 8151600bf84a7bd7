"""Custom layers of cvseq, each registered and serializable (package "cvseq")."""

from cvseq.layers.frames import FrameMask, TimeDistributed
from cvseq.layers.normalization import BatchNormalization
from cvseq.layers.preprocessing import ImagePreprocessing
from cvseq.layers.text import AtLeastOneToken

__all__ = ["AtLeastOneToken", "BatchNormalization", "FrameMask", "ImagePreprocessing", "TimeDistributed"]
