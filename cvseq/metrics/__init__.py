"""Task metrics that Keras lacks, on well-kept libraries where they exist.

One module per family (detection, text, tracking, ...); each function is
re-exported here.
"""

from cvseq.metrics.detection import evaluate_detector, mean_average_precision  # noqa: E402
from cvseq.metrics.segmentation import evaluate_segmenter, segmentation_report  # noqa: E402
