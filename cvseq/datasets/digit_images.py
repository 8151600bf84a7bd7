"""Handwritten digit images for `image_classifier`, on the fixed split of
`digits.py` (a test image never appears in training).

The 8x8 scans are upsampled to `image_size` and given three channels, so
they go straight into any cvseq image model. Options make small transfer
tasks out of them: `classes` keeps some digits (relabelled 0..k-1 in the
order given) and `examples_per_class` keeps the first few of each.
"""

import numpy as np

from cvseq._validation import check_image_size, check_int
from cvseq.datasets import digits
from cvseq.datasets.registry import (
    DatasetInfo,
    register_dataset,
)


def _check_classes(classes):
    if classes is None:
        return tuple(range(10))
    if (
        not isinstance(classes, (tuple, list))
        or len(classes) < 2
        or len(set(classes)) != len(classes)
        or not all(isinstance(c, (int, np.integer)) and 0 <= c <= 9 for c in classes)
    ):
        raise ValueError(
            "`classes` must be a list of two or more distinct digits 0-9, or "
            f"None for all ten. Received: classes={classes!r}."
        )
    return tuple(int(c) for c in classes)


def generate(split, *, image_size=(32, 32), classes=None, examples_per_class=None):
    """The images and labels of one split as numpy arrays.

    Args:
        split: `"train"`, `"validation"` or `"test"`.
        image_size: int or (height, width). Defaults to `(32, 32)`.
        classes: list of digits or None. Keep these digits, relabelled
            0..k-1 in this order. Defaults to None (all ten).
        examples_per_class: int or None. Keep the first this many images of
            each class (the split's order is fixed). Defaults to None (all).

    Returns:
        `(images, labels, class_names)`: uint8 `(n, h, w, 3)`, int32 `(n,)`.
    """
    digits.check_split("digits", split)
    image_size = check_image_size(image_size)
    classes = _check_classes(classes)
    examples_per_class = check_int(
        "examples_per_class", examples_per_class, allow_none=True
    )
    images, labels = digits.digit_images(split)
    keep = []
    for digit in classes:
        index = np.flatnonzero(labels == digit)
        keep.append(index[:examples_per_class])
    keep = np.sort(np.concatenate(keep))
    height, width = image_size
    import cv2

    resized = np.stack([
        cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
        for image in images[keep]
    ])
    relabel = {digit: i for i, digit in enumerate(classes)}
    new_labels = np.array([relabel[d] for d in labels[keep]], np.int32)
    rgb = np.repeat(resized[..., None], 3, axis=-1)
    return rgb, new_labels, [str(d) for d in classes]


@register_dataset(
    "digits",
    task="image_classifier",
    source="embedded",
    options_from=generate,
    description="1,797 real handwritten digits (scikit-learn), 10 classes, "
    "upsampled to image_size; fixed leakage-free split. Offline.",
)
def _build(split, *, seed=0, shuffle=None, **options):
    images, labels, class_names = generate(split, **options)
    return (images, labels), DatasetInfo(class_names=class_names)
