"""Bounding boxes: format converters and padding, one convention throughout.

cvseq's detection data and models use dicts `{"boxes": (..., max_boxes, 4),
"labels": (..., max_boxes)}`, boxes in pixels of the input image, rows that
hold no box padded with -1 (boxes and label). The arithmetic of the
conversions is keras-cv's `bounding_box.convert_format`; this module keeps
the -1 padding intact through a conversion (keras-cv would turn it into
other numbers) and adds the TFDS conversion.

Formats (case-insensitive):

- `"xyxy"`: left, top, right, bottom (pixels).
- `"yxyx"`: top, left, bottom, right (pixels).
- `"xywh"`: left, top, width, height (COCO's format).
- `"center_xywh"`: centre x, centre y, width, height (YOLO's format).
- `"center_yxhw"`: centre y, centre x, height, width.
- `"rel_xyxy"`, `"rel_yxyx"`, `"rel_xywh"`: as above, divided by the image
  width (x) and height (y). TFDS stores boxes as `"rel_yxyx"`.
"""

import numpy as np

from cvseq._tf import tensorflow as _tensorflow

from cvseq._validation import check_choice, check_image_size, check_int

FORMATS = (
    "xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw",
    "rel_xyxy", "rel_yxyx", "rel_xywh",
)
PADDING = -1


def check_format(name, value):
    """Validates a box format name; returns it in lower case."""
    if isinstance(value, str):
        value = value.lower()
    return check_choice(name, value, FORMATS)


def convert_format(boxes, source, target, *, image_size=None):
    """Converts boxes between formats, keeping -1 padding rows as they are.

    Args:
        boxes: array or tensor `(..., 4)`: one box, a list of boxes, or a
            batch of padded lists.
        source: str. Format of `boxes` (see `FORMATS`).
        target: str. Format wanted.
        image_size: int or (height, width). Needed when either format is
            relative (`rel_*`). Defaults to None.

    Returns:
        The converted boxes, float32: a numpy array for numpy input, a
        tensor for tensor input.

    Example:

    >>> convert_format(np.array([[10, 20, 30, 60]]), "xyxy", "xywh")
    array([[10., 20., 20., 40.]], dtype=float32)
    >>> convert_format(np.array([[0.1, 0.2, 0.5, 0.4]]), "rel_yxyx", "xyxy",
    ...                image_size=(100, 200))
    array([[40., 10., 80., 50.]], dtype=float32)
    """
    tf = _tensorflow("cvseq.boxes.convert_format")
    import keras_cv

    source = check_format("source", source)
    target = check_format("target", target)
    relative = source.startswith("rel") or target.startswith("rel")
    if relative and image_size is None:
        raise ValueError(
            f"Converting from {source!r} to {target!r} needs the image size. "
            "Received: image_size=None. Pass image_size=(height, width)."
        )
    if image_size is not None:
        image_size = check_image_size(image_size, minimum=1)
    as_numpy = not tf.is_tensor(boxes)
    boxes = tf.convert_to_tensor(boxes, tf.float32)
    if boxes.shape[-1] != 4:
        raise ValueError(
            f"`boxes` must have 4 numbers on the last axis. Received shape "
            f"{tuple(boxes.shape)}."
        )
    if source == target:
        return boxes.numpy() if as_numpy else boxes
    padding = tf.reduce_all(tf.equal(boxes, PADDING), axis=-1, keepdims=True)
    # keras-cv wants a batch of box lists: add the axes it lacks.
    rank = boxes.shape.rank
    batched = tf.reshape(boxes, (1, -1, 4)) if rank != 3 else boxes
    converted = keras_cv.bounding_box.convert_format(
        batched, source=source, target=target,
        image_shape=None if image_size is None else (*image_size, 3),
    )
    converted = tf.reshape(tf.cast(converted, tf.float32), tf.shape(boxes))
    converted = tf.where(padding, tf.constant(PADDING, tf.float32), converted)
    return converted.numpy() if as_numpy else converted


def pad(boxes, labels, max_boxes):
    """Pads (or truncates) one image's boxes and labels to `max_boxes` rows.

    Args:
        boxes: array or tensor `(n, 4)`.
        labels: array or tensor `(n,)`.
        max_boxes: int. Rows of the result.

    Returns:
        `{"boxes": (max_boxes, 4) float32, "labels": (max_boxes,) int32}`,
        rows past `n` filled with -1. Same type as the input (numpy or
        tensor).
    """
    max_boxes = check_int("max_boxes", max_boxes)
    try:  # NumPy input pads without TensorFlow
        import tensorflow as tf
    except ImportError:
        tf = None
    if tf is not None and (tf.is_tensor(boxes) or tf.is_tensor(labels)):
        count_boxes, count_labels = tf.shape(boxes)[0], tf.shape(labels)[0]
        if tf.executing_eagerly() and int(count_boxes) != int(count_labels):
            raise ValueError(
                f"`boxes` and `labels` must be one label per box. Received "
                f"{int(count_boxes)} boxes and {int(count_labels)} labels.")
        boxes = tf.cast(boxes, tf.float32)[:max_boxes]
        labels = tf.cast(labels, tf.int32)[:max_boxes]
        extra = max_boxes - tf.shape(labels)[0]
        boxes = tf.pad(boxes, [[0, extra], [0, 0]], constant_values=PADDING)
        labels = tf.pad(labels, [[0, extra]], constant_values=PADDING)
        boxes = tf.ensure_shape(boxes, (max_boxes, 4))
        labels = tf.ensure_shape(labels, (max_boxes,))
        return {"boxes": boxes, "labels": labels}
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    labels = np.asarray(labels, np.int32).reshape(-1)
    if len(boxes) != len(labels):
        raise ValueError(
            f"`boxes` and `labels` must be one label per box. Received {len(boxes)} "
            f"boxes and {len(labels)} labels.")
    boxes, labels = boxes[:max_boxes], labels[:max_boxes]
    out_boxes = np.full((max_boxes, 4), PADDING, np.float32)
    out_labels = np.full((max_boxes,), PADDING, np.int32)
    out_boxes[:len(boxes)] = boxes
    out_labels[:len(labels)] = labels
    return {"boxes": out_boxes, "labels": out_labels}


def from_tfds(bbox, labels, image_size, *, max_boxes, target="xyxy"):
    """Converts TFDS detection features (e.g. `voc`, `coco`) to cvseq targets.

    TFDS `BBoxFeature`s are `rel_yxyx` (`[ymin, xmin, ymax, xmax]` divided
    by the image height and width). Works inside `tf.data` maps.

    Args:
        bbox: tensor `(n, 4)`, `example["objects"]["bbox"]`.
        labels: tensor `(n,)`, `example["objects"]["label"]`.
        image_size: (height, width) of the image the boxes will be drawn on
            (after any resizing).
        max_boxes: int. Rows after padding with -1.
        target: str. Box format wanted. Defaults to `"xyxy"`.

    Returns:
        `{"boxes": (max_boxes, 4), "labels": (max_boxes,)}`.
    """
    tf = _tensorflow("cvseq.boxes.from_tfds")
    boxes = convert_format(
        tf.cast(bbox, tf.float32), "rel_yxyx", target, image_size=image_size
    )
    return pad(boxes, labels, max_boxes)
