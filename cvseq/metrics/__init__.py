"""Task metrics that Keras lacks, on well-kept libraries where they exist.

One module per family (detection, text, tracking, ...); each function is
re-exported here.
"""

from cvseq.metrics.detection import evaluate_detector, mean_average_precision  # noqa: E402
from cvseq.metrics.segmentation import evaluate_segmenter, segmentation_report  # noqa: E402
from cvseq.metrics.text import (  # noqa: E402
    bleu,
    classification_scores,
    exact_match,
    next_token_scores,
    unigram_baseline,
)
from cvseq.metrics.tracking import TrackingEvaluator, box_iou  # noqa: E402
from cvseq.metrics.trajectory import (  # noqa: E402
    AverageDisplacementError,
    DisplacementLoss,
    FinalDisplacementError,
    average_displacement_error,
    constant_velocity,
    displacement_errors,
    final_displacement_error,
)
from cvseq.metrics.instances import (  # noqa: E402
    connected_components,
    evaluate_instance_segmenter,
    mask_average_precision,
    panoptic_quality,
)
