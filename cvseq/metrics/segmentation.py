"""Intersection over union for semantic segmentation, on Keras' `MeanIoU`.

Keras' metric accumulates the confusion matrix; these helpers also read the
IoU of each class from it (the part users look at when the mean is low).
"""

import keras
import numpy as np

from cvseq._validation import check_num_classes


def _report(confusion):
    confusion = np.asarray(confusion, np.float64)
    true_positives = np.diag(confusion)
    union = confusion.sum(0) + confusion.sum(1) - true_positives
    present = union > 0
    iou = np.where(present, true_positives / np.maximum(union, 1), np.nan)
    return {
        "mean_iou": float(np.mean(iou[present])) if present.any() else 0.0,
        "per_class_iou": [None if np.isnan(v) else float(v) for v in iou],
        "pixel_accuracy": float(true_positives.sum() / max(confusion.sum(), 1)),
        "confusion_matrix": confusion.astype(np.int64),
    }


def segmentation_report(y_true, y_pred, num_classes):
    """Mean IoU, IoU per class and pixel accuracy of predicted masks.

    Classes absent from both the truth and the prediction are left out of
    the mean (their IoU is undefined), as in Keras' `MeanIoU`.

    Args:
        y_true: int array `(..., H, W)` of class ids.
        y_pred: int array `(..., H, W)` of class ids, or float
            probabilities `(..., H, W, num_classes)` (argmax is taken).
        num_classes: int. Number of classes, the background included.

    Returns:
        A dict: `"mean_iou"` (float), `"per_class_iou"` (list, None for
        absent classes), `"pixel_accuracy"` (float) and
        `"confusion_matrix"` (`(num_classes, num_classes)` counts, rows are
        true classes).

    Example:

    >>> truth = np.array([[0, 0, 1, 1]])
    >>> segmentation_report(truth, np.array([[0, 1, 1, 1]]), 2)["mean_iou"]
    0.5833333333333333
    """
    num_classes = check_num_classes(num_classes)
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_pred.ndim == y_true.ndim + 1:
        y_pred = y_pred.argmax(-1)
    if y_pred.shape != y_true.shape:
        raise ValueError(
            "`y_true` and `y_pred` must have the same shape (or `y_pred` one "
            f"more axis of class probabilities). Received: {y_true.shape} and "
            f"{y_pred.shape}."
        )
    metric = keras.metrics.MeanIoU(num_classes)
    metric.update_state(y_true.reshape(-1), y_pred.reshape(-1))
    return _report(keras.ops.convert_to_numpy(metric.total_cm))


def evaluate_segmenter(model, dataset, *, num_classes=None):
    """Runs a segmenter over a data set and returns `segmentation_report`.

    Args:
        model: an `image_segmenter` model (per-pixel probabilities out).
        dataset: `tf.data.Dataset` of `(images, masks)` batches.
        num_classes: int or None. Defaults to the model's output channels.

    Returns:
        The dict of `segmentation_report` over the whole data set.
    """
    num_classes = num_classes or int(model.outputs[0].shape[-1])
    metric = keras.metrics.MeanIoU(num_classes)
    for images, masks in dataset:
        predicted = np.asarray(model.predict_on_batch(images)).argmax(-1)
        metric.update_state(np.asarray(masks).reshape(-1), predicted.reshape(-1))
    return _report(keras.ops.convert_to_numpy(metric.total_cm))
