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
    if (y_pred.ndim == y_true.ndim and y_true.ndim >= 3 and y_true.shape[-1] == num_classes
            and y_true.dtype.kind == "f" and ((y_true == 0) | (y_true == 1)).all()
            and (y_true.sum(-1) == 1).all()):
        raise ValueError(
            f"`y_true` looks one-hot ({y_true.shape[-1]} classes on its last axis); it "
            "must be class ids (..., H, W): pass y_true.argmax(axis=-1).")
    if y_pred.ndim == y_true.ndim + 1:
        if y_pred.shape[-1] != num_classes:
            raise ValueError(
                f"`y_pred` holds probabilities of {y_pred.shape[-1]} classes; "
                f"num_classes={num_classes}.")
        y_pred = y_pred.argmax(-1)
    if y_pred.shape != y_true.shape:
        raise ValueError(
            "`y_true` and `y_pred` must have the same shape (or `y_pred` one "
            f"more axis of class probabilities). Received: {y_true.shape} and "
            f"{y_pred.shape}."
        )
    if not y_true.size:
        raise ValueError("`y_true` holds no pixels: nothing to score.")
    for name, mask in (("y_true", y_true), ("y_pred", y_pred)):
        _check_class_ids(name, mask, num_classes)
    metric = keras.metrics.MeanIoU(num_classes)
    metric.update_state(y_true.reshape(-1), y_pred.reshape(-1))
    return _report(keras.ops.convert_to_numpy(metric.total_cm))


def _check_class_ids(name, mask, num_classes):
    """Class ids in [0, num_classes): `MeanIoU` drops others without a word,
    and truncates fractions."""
    if mask.dtype.kind == "f" and not np.array_equal(mask, np.round(mask)):
        raise TypeError(f"`{name}` must be class ids (integers). Received fractions "
                        f"such as {mask[mask != np.round(mask)].ravel()[0].item()!r}; pass "
                        "class probabilities with one more axis instead.")
    if mask.dtype.kind not in "iuf" and mask.dtype != bool:
        raise TypeError(f"`{name}` must be class ids. Received dtype {mask.dtype}.")
    if mask.min() < 0 or mask.max() >= num_classes:
        raise ValueError(f"`{name}` holds class ids from {mask.min()} to {mask.max()}; "
                         f"num_classes={num_classes} takes 0 to {num_classes - 1}.")


def evaluate_segmenter(model, dataset, *, num_classes=None):
    """Runs a segmenter over a data set and returns `segmentation_report`.

    Args:
        model: an `image_segmenter` model (per-pixel probabilities out).
        dataset: `tf.data.Dataset` of `(images, masks)` batches.
        num_classes: int or None. Defaults to the model's output channels.

    Returns:
        The dict of `segmentation_report` over the whole data set.
    """
    outputs = int(model.outputs[0].shape[-1])
    num_classes = outputs if num_classes is None else check_num_classes(num_classes)
    if num_classes != outputs:
        raise ValueError(
            f"`num_classes` ({num_classes}) must be the model's number of classes, "
            f"{outputs}: other ids would be dropped from the scores. Leave it out.")
    metric = keras.metrics.MeanIoU(num_classes)
    pixels = 0
    for element in dataset:
        if not (isinstance(element, (tuple, list)) and len(element) >= 2):
            raise ValueError(
                "`dataset` must give (images, masks) batches, e.g. "
                "cvseq.datasets.load(\"digit_segmentation\", \"test\").")
        images, masks = element[0], np.asarray(element[1])
        probabilities = np.asarray(model.predict_on_batch(images))
        if masks.shape != probabilities.shape[:-1]:
            raise ValueError(
                f"The masks must be class ids of shape {probabilities.shape[:-1]} "
                f"(batch, H, W) for these images. Received shape {masks.shape}"
                + (": one-hot? pass masks.argmax(axis=-1)."
                   if masks.shape == probabilities.shape else "."))
        _check_class_ids("masks", masks, num_classes)
        predicted = probabilities.argmax(-1)
        metric.update_state(masks.reshape(-1), predicted.reshape(-1))
        pixels += masks.size
    if not pixels:
        raise ValueError("`dataset` holds no masks: nothing to score.")
    return _report(keras.ops.convert_to_numpy(metric.total_cm))
