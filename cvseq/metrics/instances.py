"""Instance segmentation metrics: COCO mask AP (pycocotools) and panoptic quality.

Ground truth is what `cvseq.datasets.load("digit_instances")` gives:
`{"semantic": (n, H, W) class ids, "instances": (n, H, W) instance ids}`
(0: no instance). Predictions are what `InstanceSegmenter.predict_instances`
returns: `{"instance_ids": (n, H, W), "labels": (n, k), "scores": (n, k)}`,
id `j` on the pixels of the instance at index `j - 1`.
"""

import numpy as np

from cvseq.metrics.detection import check_pair, coco_evaluate


def _check_pair(y_true, y_pred, num_classes=None):
    """Dicts of the right keys, as arrays: `(n, H, W)` integer maps of one
    size, labels and scores `(n, k)`, finite scores, labels below
    `num_classes`. pycocotools and the matching would drop or mis-pair the
    rest without a word."""
    check_pair(y_true, y_pred, ("instances", "semantic"),
               ("instance_ids", "labels", "scores"))
    y_true = {key: np.asarray(y_true[key]) for key in ("semantic", "instances")}
    y_pred = {key: np.asarray(y_pred[key]) for key in ("instance_ids", "labels", "scores")}
    maps = {f"y_true[{k!r}]": y_true[k] for k in ("semantic", "instances")}
    maps["y_pred['instance_ids']"] = y_pred["instance_ids"]
    for name, value in maps.items():
        if value.ndim != 3:
            raise ValueError(
                f"`{name}` must be (n, H, W) maps, one per image. Received shape "
                f"{value.shape}" + (": one image? Add the batch axis, x[None]."
                                    if value.ndim == 2 else "."))
        if value.dtype.kind not in "iubf":
            raise TypeError(f"`{name}` must hold integer ids. Received dtype "
                            f"{value.dtype}.")
        if value.dtype.kind == "f" and not np.all(value == np.round(value)):
            raise ValueError(f"`{name}` must hold integer ids. Received float ids "
                             "with fractions, NaN or infinity.")
        if value.size and value.min() < 0:
            raise ValueError(f"`{name}` must hold ids >= 0 (0: background, no "
                             f"instance). Received {value.min().item()}.")
    shapes = {value.shape for value in maps.values()}
    if len(shapes) > 1:
        raise ValueError(
            "The maps must all have one shape (n, H, W). Received "
            + ", ".join(f"{name} {value.shape}" for name, value in maps.items()) + ".")
    labels, scores = y_pred["labels"], y_pred["scores"]
    if labels.ndim != 2 or scores.shape != labels.shape or len(labels) != len(
            y_pred["instance_ids"]):
        raise ValueError(
            "`y_pred['labels']` and `y_pred['scores']` must both be (n, k), one row "
            f"per image. Received shapes {labels.shape} and {scores.shape} for "
            f"{len(y_pred['instance_ids'])} images.")
    if not np.all(np.isfinite(scores)):
        raise ValueError("`y_pred['scores']` holds NaN or infinite values.")
    too_many = int(y_pred["instance_ids"].max(initial=0))
    if too_many > labels.shape[1]:
        raise ValueError(
            f"`y_pred['instance_ids']` holds id {too_many}, but labels and scores "
            f"have {labels.shape[1]} columns (id k is the instance at column k - 1).")
    if num_classes is not None:
        for name, value in (("y_true['semantic']", y_true["semantic"]),
                            ("y_pred['labels']", labels)):
            if value.size and value.max() >= num_classes:
                raise ValueError(
                    f"`{name}` holds class {int(value.max())}, but num_classes="
                    f"{num_classes} (classes 0 to {num_classes - 1}).")
    as_int = {key: value.astype(np.int64) if value.dtype.kind in "fb" else value
              for key, value in (*y_true.items(), ("instance_ids", y_pred["instance_ids"]))}
    return ({key: as_int[key] for key in y_true},
            {**y_pred, "instance_ids": as_int["instance_ids"]})


def true_instances(semantic, instances):
    """The instances of one image: a list of `(mask, label)`, the label being
    the majority class of the instance's pixels."""
    semantic, instances = np.asarray(semantic), np.asarray(instances)
    found = []
    for k in np.unique(instances):
        if k <= 0:
            continue
        mask = instances == k
        classes = np.bincount(semantic[mask])
        found.append((mask, int(np.argmax(classes))))
    return found


def predicted_instances(instance_ids, labels, scores):
    """The instances of one image: a list of `(mask, label, score)`."""
    instance_ids = np.asarray(instance_ids)
    found = []
    for k, (label, score) in enumerate(zip(labels, scores)):
        if label < 0:
            continue
        mask = instance_ids == k + 1
        if mask.any():
            found.append((mask, int(label), float(score)))
    return found


def mask_average_precision(y_true, y_pred, *, num_classes=None):
    """COCO mask AP of predicted instances, with pycocotools (`iouType="segm"`).

    Args:
        y_true: dict of `"semantic"` and `"instances"` `(n, H, W)` int maps.
        y_pred: dict of `"instance_ids"` `(n, H, W)`, `"labels"` and
            `"scores"` `(n, k)` (label -1: no instance).
        num_classes: int or None. Classes `1 .. num_classes - 1` are
            scored (0 is the background); None takes those in `y_true`.

    Returns:
        A dict of floats, as `cvseq.metrics.mean_average_precision`:
        `"map"` (AP@[0.5:0.95]), `"map_50"`, `"map_75"`, ..., `"mar_100"`
        (-1 where COCO has nothing to average).
    """
    from pycocotools import mask as mask_utils

    y_true, y_pred = _check_pair(y_true, y_pred, num_classes)
    images, annotations, detections = [], [], []
    seen = set()

    def encode(mask):
        rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        return rle

    for i in range(len(y_true["instances"])):
        images.append({"id": i, "height": int(y_true["instances"][i].shape[0]),
                       "width": int(y_true["instances"][i].shape[1])})
        for mask, label in true_instances(y_true["semantic"][i], y_true["instances"][i]):
            rle = encode(mask)
            seen.add(label)
            annotations.append({
                "id": len(annotations) + 1, "image_id": i, "category_id": label,
                "segmentation": rle, "area": float(mask.sum()),
                "bbox": [float(v) for v in mask_utils.toBbox(rle)], "iscrowd": 0,
            })
        for mask, label, score in predicted_instances(
                y_pred["instance_ids"][i], y_pred["labels"][i], y_pred["scores"][i]):
            detections.append({"image_id": i, "category_id": label,
                               "segmentation": encode(mask), "score": score})
    categories = range(1, num_classes) if num_classes else sorted(seen)
    return coco_evaluate(images, annotations, detections, categories, iou_type="segm")


def panoptic_quality(y_true, y_pred, *, num_classes=None):
    """Panoptic quality of the object classes: PQ = SQ x RQ (Kirillov et al. 2019).

    A predicted and a true instance of the same class match when their IoU
    is above 0.5 (so each matches at most once). Per class: SQ is the mean
    IoU of the matches, RQ = TP / (TP + FP / 2 + FN / 2), PQ = SQ x RQ; the
    results average over the classes that occur in the truth or the
    predictions. The background (class 0) is not a class here: every other
    class is a "thing".

    Args:
        y_true, y_pred, num_classes: as `mask_average_precision`.

    Returns:
        A dict of floats `"pq"`, `"sq"`, `"rq"`, and `"per_class"`: `{class:
        {"pq", "sq", "rq", "tp", "fp", "fn"}}`.
    """
    y_true, y_pred = _check_pair(y_true, y_pred, num_classes)
    stats = {}

    def entry(label):
        return stats.setdefault(label, {"iou": 0.0, "tp": 0, "fp": 0, "fn": 0})

    for i in range(len(y_true["instances"])):
        truths = true_instances(y_true["semantic"][i], y_true["instances"][i])
        preds = predicted_instances(
            y_pred["instance_ids"][i], y_pred["labels"][i], y_pred["scores"][i])
        matched_pred = set()
        for mask, label in truths:
            hit = None
            for j, (pmask, plabel, _) in enumerate(preds):
                if plabel != label or j in matched_pred:
                    continue
                union = np.logical_or(mask, pmask).sum()
                iou = np.logical_and(mask, pmask).sum() / union
                if iou > 0.5:
                    hit = (j, iou)
                    break
            if hit is None:
                entry(label)["fn"] += 1
            else:
                matched_pred.add(hit[0])
                entry(label)["tp"] += 1
                entry(label)["iou"] += float(hit[1])
        for j, (_, plabel, _) in enumerate(preds):
            if j not in matched_pred:
                entry(plabel)["fp"] += 1
    per_class = {}
    for label in sorted(stats):
        if num_classes is not None and not 0 < label < num_classes:
            continue
        s = stats[label]
        sq = s["iou"] / s["tp"] if s["tp"] else 0.0
        rq = s["tp"] / (s["tp"] + 0.5 * s["fp"] + 0.5 * s["fn"])
        per_class[label] = {"pq": sq * rq, "sq": sq, "rq": rq,
                            "tp": s["tp"], "fp": s["fp"], "fn": s["fn"]}
    if not per_class:
        return {"pq": 0.0, "sq": 0.0, "rq": 0.0, "per_class": {}}
    return {key: float(np.mean([c[key] for c in per_class.values()]))
            for key in ("pq", "sq", "rq")} | {"per_class": per_class}


def connected_components(semantic, *, max_instances=16, min_area=4):
    """The baseline: each connected blob of one class is an instance.

    What a semantic segmenter alone can say about instances. Blobs are
    8-connected (OpenCV); scores are the mean probability of the blob's
    class over it.

    Args:
        semantic: float `(n, H, W, num_classes)` class probabilities.
        max_instances: int. Largest blobs kept per image. Defaults to 16.
        min_area: int. Smaller blobs are dropped. Defaults to 4.

    Returns:
        The dict `predict_instances` returns.
    """
    import cv2

    semantic = np.asarray(semantic)
    n, height, width, _ = semantic.shape
    classes = semantic.argmax(-1)
    ids = np.zeros((n, height, width), np.int32)
    labels = np.full((n, max_instances), -1, np.int32)
    scores = np.full((n, max_instances), -1.0, np.float32)
    for i in range(n):
        blobs = []
        for label in np.unique(classes[i]):
            if label == 0:
                continue
            count, components = cv2.connectedComponents(
                (classes[i] == label).astype(np.uint8), connectivity=8)
            for c in range(1, count):
                mask = components == c
                if mask.sum() >= min_area:
                    blobs.append((mask.sum(), mask, label))
        blobs.sort(key=lambda b: -b[0])
        for k, (_, mask, label) in enumerate(blobs[:max_instances]):
            ids[i][mask] = k + 1
            labels[i, k] = label
            scores[i, k] = semantic[i][mask, label].mean()
    return {"instance_ids": ids, "labels": labels, "scores": scores}


def evaluate_instance_segmenter(model, dataset, *, baseline=False):
    """Runs `model.predict_instances` on a data set: mask AP and PQ.

    Args:
        model: an `instance_segmenter` model.
        dataset: `tf.data.Dataset` of `(images, {"semantic", "instances"})`
            batches, e.g. `cvseq.datasets.load("digit_instances", "test")`.
        baseline: bool. Also score the connected components of the model's
            own semantic map (`connected_components`), under `"baseline"`.

    Returns:
        A dict: `"mask_ap"` (the dict of `mask_average_precision`), `"pq"`
        (the dict of `panoptic_quality`), and `"baseline"` with the same
        two keys when asked.
    """
    if isinstance(dataset, (tuple, list)) and len(dataset) == 2 and isinstance(
            dataset[1], dict):
        dataset = [dataset]  # one (images, targets) batch in memory
    truth = {"semantic": [], "instances": []}
    images = []
    for element in dataset:
        if not (isinstance(element, (tuple, list)) and len(element) == 2
                and isinstance(element[1], dict)):
            raise ValueError(
                "`dataset` must give (images, {\"semantic\", \"instances\"}) batches "
                "(e.g. cvseq.datasets.load(\"digit_instances\", \"test\")), or be one "
                f"such pair of arrays. Received elements of type {type(element).__name__}.")
        batch, targets = element
        images.append(np.asarray(batch))
        for key in truth:
            truth[key].append(np.asarray(targets[key]))
    images = np.concatenate(images)
    truth = {key: np.concatenate(value) for key, value in truth.items()}
    found = model.predict_instances(images)
    num_classes = model.num_classes
    report = {"mask_ap": mask_average_precision(truth, found, num_classes=num_classes),
              "pq": panoptic_quality(truth, found, num_classes=num_classes)}
    if baseline:
        semantic = model.predict(images, verbose=0)["semantic"]
        blobs = connected_components(semantic, max_instances=model.max_instances,
                                     min_area=model.min_area)
        report["baseline"] = {
            "mask_ap": mask_average_precision(truth, blobs, num_classes=num_classes),
            "pq": panoptic_quality(truth, blobs, num_classes=num_classes)}
    return report
