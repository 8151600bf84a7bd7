"""COCO-style mean average precision for object detection, with pycocotools.

The ground truth and the detections use the package's one box convention:
`{"boxes": (n, max_boxes, 4), "labels": (n, max_boxes)}` in pixels, padded
with -1; detections also carry `"scores"` (and optionally
`"num_detections"`), as `object_detector(...).predict` returns them.
"""

import contextlib
import io

import numpy as np

from cvseq import boxes as box_utils
from cvseq._validation import check_int, check_num_classes

# The twelve numbers `COCOeval.summarize()` prints, in its order.
COCO_STAT_NAMES = (
    "map", "map_50", "map_75", "map_small", "map_medium", "map_large",
    "mar_1", "mar_10", "mar_100", "mar_small", "mar_medium", "mar_large",
)


def _to_numpy(tree):
    if not isinstance(tree, dict):
        return tree  # check_pair names it
    return {key: np.asarray(value) for key, value in tree.items()}


def check_pair(y_true, y_pred, true_keys, pred_keys):
    """ValueError unless `y_true` and `y_pred` are dicts with these keys that
    hold as many images (the length of their first key)."""
    for name, tree, keys in (("y_true", y_true, true_keys), ("y_pred", y_pred, pred_keys)):
        if not isinstance(tree, dict):
            raise ValueError(f"`{name}` must be a dict with the keys {', '.join(keys)}. "
                             f"Received: {type(tree).__name__}.")
        missing = [k for k in keys if k not in tree]
        if missing:
            raise ValueError(
                f"`{name}` needs the keys {', '.join(keys)}; missing "
                f"{', '.join(missing)}. Received keys: {sorted(tree)}."
            )
    if len(y_true[true_keys[0]]) != len(y_pred[pred_keys[0]]):
        raise ValueError(
            "`y_true` and `y_pred` must hold the same number of images. Received: "
            f"{len(y_true[true_keys[0]])} and {len(y_pred[pred_keys[0]])}."
        )


def _check_detections(y_true, y_pred, num_classes):
    """Shapes that line up, finite boxes and scores, and labels below
    `num_classes`: COCOeval would drop the rest without a word."""
    for name, tree in (("y_true", y_true), ("y_pred", y_pred)):
        boxes, labels = np.asarray(tree["boxes"]), np.asarray(tree["labels"])
        if boxes.ndim != 3 or boxes.shape[-1] != 4 or labels.shape != boxes.shape[:2]:
            raise ValueError(
                f"`{name}` must hold boxes (n, k, 4) and labels (n, k). Received "
                f"shapes {boxes.shape} and {labels.shape}.")
        if not np.all(np.isfinite(boxes)):
            raise ValueError(f"`{name}['boxes']` holds NaN or infinite values.")
        if num_classes is not None and (labels >= num_classes).any():
            raise ValueError(
                f"`{name}['labels']` holds label {int(labels.max())}, but "
                f"num_classes={num_classes} (labels 0 to {num_classes - 1}; -1 pads).")
    scores = np.asarray(y_pred["scores"])
    if scores.shape != np.asarray(y_pred["labels"]).shape:
        raise ValueError(f"`y_pred['scores']` must have the shape of its labels "
                         f"{np.asarray(y_pred['labels']).shape}. Received {scores.shape}.")
    if not np.all(np.isfinite(scores)):
        raise ValueError("`y_pred['scores']` holds NaN or infinite values.")
    count = y_pred.get("num_detections")
    if count is not None and (np.asarray(count) < 0).any():
        raise ValueError("`y_pred['num_detections']` holds a negative count.")


def _valid_rows(boxes, labels, count=None):
    """Rows that are real boxes: label >= 0, not padding (all four values
    -1; a box that starts left of the image is a box), within `count`."""
    keep = (labels >= 0) & ~np.all(boxes == -1, axis=-1)
    if count is not None:
        keep &= np.arange(len(labels)) < count
    return keep


def mean_average_precision(
    y_true,
    y_pred,
    *,
    num_classes=None,
    bounding_box_format="xyxy",
    max_detections=100,
):
    """COCO mAP and mAR of detections against ground-truth boxes.

    Runs pycocotools' `COCOeval` (the reference implementation of the COCO
    detection metrics) on in-memory annotations.

    Args:
        y_true: dict. `"boxes"` `(n, max_boxes, 4)` and `"labels"`
            `(n, max_boxes)`, padded with -1.
        y_pred: dict. `"boxes"` `(n, k, 4)`, `"labels"` `(n, k)`,
            `"scores"` `(n, k)` and optionally `"num_detections"` `(n,)`;
            rows with label -1 (padding) are skipped.
        num_classes: int or None. Classes are `0 .. num_classes - 1`;
            None takes the labels seen in `y_true`. Defaults to None.
        bounding_box_format: str. Format of both sets of boxes (see
            `cvseq.boxes.FORMATS`). Defaults to `"xyxy"`.
        max_detections: int. Detections kept per image (COCO uses 100).
            Defaults to 100.

    Returns:
        A dict of floats: `"map"` (mAP@[0.5:0.95]), `"map_50"`, `"map_75"`,
        `"map_small"`, `"map_medium"`, `"map_large"`, `"mar_1"`, `"mar_10"`,
        `"mar_100"`, `"mar_small"`, `"mar_medium"`, `"mar_large"`. A value
        is -1 where COCO has nothing to average (e.g. no large objects).

    Example:

    >>> truth = {"boxes": np.array([[[10, 10, 30, 40]]], "float32"),
    ...          "labels": np.array([[3]])}
    >>> found = {"boxes": np.array([[[11, 10, 30, 41]]], "float32"),
    ...          "labels": np.array([[3]]), "scores": np.array([[0.9]])}
    >>> mean_average_precision(truth, found)["map_50"]
    1.0
    """
    y_true, y_pred = _to_numpy(y_true), _to_numpy(y_pred)
    check_pair(y_true, y_pred, ("boxes", "labels"), ("boxes", "labels", "scores"))
    max_detections = check_int("max_detections", max_detections)
    if num_classes is not None:
        num_classes = check_num_classes(num_classes, minimum=1)
    _check_detections(y_true, y_pred, num_classes)
    if not len(y_true["boxes"]):
        raise ValueError("`y_true` holds no image: nothing to score.")
    true_xywh = box_utils.convert_format(y_true["boxes"], bounding_box_format, "xywh")
    pred_xywh = box_utils.convert_format(y_pred["boxes"], bounding_box_format, "xywh")
    if num_classes is None:
        labels = y_true["labels"]
        num_classes = int(labels.max()) + 1 if (labels >= 0).any() else 1

    images, annotations, detections = [], [], []
    for i in range(len(true_xywh)):
        images.append({"id": i})
        keep = _valid_rows(y_true["boxes"][i], y_true["labels"][i])
        for box, label in zip(true_xywh[i][keep], y_true["labels"][i][keep]):
            annotations.append({
                "id": len(annotations) + 1, "image_id": i,
                "category_id": int(label), "bbox": [float(v) for v in box],
                "area": float(box[2] * box[3]), "iscrowd": 0,
            })
        count = y_pred.get("num_detections")
        keep = _valid_rows(
            y_pred["boxes"][i], y_pred["labels"][i],
            None if count is None else int(count[i]),
        )
        for box, label, score in zip(
            pred_xywh[i][keep], y_pred["labels"][i][keep], y_pred["scores"][i][keep]
        ):
            detections.append({
                "image_id": i, "category_id": int(label),
                "bbox": [float(v) for v in box], "score": float(score),
            })

    return coco_evaluate(images, annotations, detections, range(num_classes),
                         iou_type="bbox", max_detections=max_detections)


def coco_evaluate(images, annotations, detections, categories, *, iou_type,
                  max_detections=None):
    """pycocotools' COCOeval of `detections` against `annotations`.

    Args:
        images, annotations, detections: lists of COCO dicts (`"id"`,
            `"image_id"`, `"category_id"`, `"bbox"` or `"segmentation"`,
            `"score"` for detections).
        categories: the category ids scored.
        iou_type: `"bbox"` or `"segm"`.
        max_detections: int or None. The largest of COCOeval's `maxDets`
            (None: COCO's 100).

    Returns:
        A dict of floats named by `COCO_STAT_NAMES` (all 0.0 without
        detections).
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    truth = COCO()
    truth.dataset = {"images": images, "annotations": annotations,
                     "categories": [{"id": int(c)} for c in categories]}
    # pycocotools prints progress on stdout; keep the caller's output clean.
    with contextlib.redirect_stdout(io.StringIO()):
        truth.createIndex()
        if not detections:
            return {name: 0.0 for name in COCO_STAT_NAMES}
        found = truth.loadRes(detections)
        evaluation = COCOeval(truth, found, iouType=iou_type)
        if max_detections is not None:
            evaluation.params.maxDets = [1, 10, max_detections]
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return {name: float(v) for name, v in zip(COCO_STAT_NAMES, evaluation.stats)}


def evaluate_detector(model, dataset, *, num_classes=None, max_batches=None):
    """Runs `model.predict` on a data set and scores it with COCO mAP.

    Args:
        model: an `object_detector` model (or any model whose `predict`
            returns `boxes`, `labels`, `scores`, `num_detections`).
        dataset: `tf.data.Dataset` of `(images, {"boxes", "labels"})`
            batches, e.g. `cvseq.datasets.load("digit_detection", "test")`.
        num_classes: int or None. Defaults to the model's `num_classes`.
        max_batches: int or None. Stop after this many batches.

    Returns:
        The dict of `mean_average_precision`.
    """
    max_batches = check_int("max_batches", max_batches, allow_none=True)
    truths, found = [], []
    for step, (images, targets) in enumerate(dataset):
        if max_batches is not None and step >= max_batches:
            break
        truths.append(_to_numpy(targets))
        found.append(_to_numpy(model.predict(images, verbose=0)))
    if not truths:
        raise ValueError("`dataset` gave no batch: nothing to score.")
    y_true = _concatenate(truths)
    y_pred = _concatenate(found)
    if num_classes is None:
        num_classes = getattr(model, "num_classes", None)
    return mean_average_precision(
        y_true, y_pred, num_classes=num_classes,
        bounding_box_format=getattr(model, "bounding_box_format", "xyxy"),
    )


def _concatenate(batches):
    """Concatenates dicts of batches, padding the box axis with -1."""
    out = {}
    for key in batches[0]:
        arrays = [b[key] for b in batches]
        if arrays[0].ndim >= 2:
            width = max(a.shape[1] for a in arrays)
            arrays = [
                np.pad(a, [(0, 0), (0, width - a.shape[1])] + [(0, 0)] * (a.ndim - 2),
                       constant_values=-1)
                for a in arrays
            ]
        out[key] = np.concatenate(arrays)
    return out
