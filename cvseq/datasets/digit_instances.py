"""Digit instances: real handwritten digits on real photos, one id per digit.

The scenes of `digit_scenes` (real handwritten digits from scikit-learn
alpha-blended onto crops of scikit-image's real photos), with an instance id
for every pasted digit, and, in a share of the scenes (`touching`, half by
default), two digits of the same class pasted so that they touch or overlap.
Those are the scenes semantic segmentation cannot separate: both digits are
one blob of one class. A later digit covers an earlier one where they
overlap (the earlier one keeps its visible pixels).

`"digit_instances"` gives `(image uint8 (h, w, 3), {"semantic": int32
(h, w), "instances": int32 (h, w)})`: classes 0 background and `1 + digit`
(11 classes, as `digit_segmentation`), instance ids 0 for no digit and
1, 2, ... for the digits. `generate(...)["touching"]` flags the scenes where
two digits of one class touch (8-connected), the subset to report apart.

Splits follow `digit_scenes`: test digits and test photos never appear in
training. Generation is seeded.
"""

import cv2
import numpy as np

from cvseq._validation import check_fraction
from cvseq.datasets import digit_scenes, digits
from cvseq.datasets.registry import register_generated

CLASS_NAMES = ["background", *digit_scenes.DIGIT_NAMES]
# An occluded digit must keep this share of its pixels, so every instance
# is still mostly visible (a sliver is not a digit anyone could label).
_MIN_VISIBLE = 0.6


def touching_same_class(instance_masks, labels):
    """Whether two masks of the same label touch or overlap (8-connected)."""
    kernel = np.ones((3, 3), np.uint8)
    for i in range(len(instance_masks)):
        grown = cv2.dilate(instance_masks[i].astype(np.uint8), kernel) > 0
        for j in range(i + 1, len(instance_masks)):
            if labels[i] == labels[j] and (grown & instance_masks[j]).any():
                return True
    return False


def _paste(rng, image, glyph, top, left, size):
    """Blends one glyph into `image` in place; returns its full mask."""
    alpha = digits.resize_digit(glyph, size).astype(np.float32) / 255.0
    region = image[top:top + size, left:left + size]
    colour = digit_scenes._ink_colour(rng, region)
    region[:] = (1 - alpha[..., None]) * region + alpha[..., None] * colour
    mask = np.zeros(image.shape[:2], bool)
    mask[top:top + size, left:left + size] = alpha >= digit_scenes._MASK_THRESHOLD
    return mask


def _partner_corner(rng, first, size, image_size):
    """A corner for a square of `size` that overlaps `first` (top, left,
    size) by a margin: its centre 40-75% of a side away from the first's."""
    height, width = image_size
    top, left, first_size = first
    for _ in range(20):
        angle = rng.uniform(0, 2 * np.pi)
        distance = rng.uniform(0.4, 0.75) * (size + first_size) / 2
        cy = top + first_size / 2 + distance * np.sin(angle)
        cx = left + first_size / 2 + distance * np.cos(angle)
        new_top, new_left = int(round(cy - size / 2)), int(round(cx - size / 2))
        if 0 <= new_top <= height - size and 0 <= new_left <= width - size:
            return new_top, new_left
    return None


def render_instances(rng, photo, glyphs, labels, image_size, digit_size, pair):
    """Pastes glyphs onto a crop of `photo`, the first two as a touching pair
    when `pair`.

    Returns:
        `(image, masks, labels)`: uint8 `(h, w, 3)`, the visible bool mask
        of each digit placed, and their labels (glyphs that find no room,
        or would be hidden too much, are left out).
    """
    image = digit_scenes._background(rng, photo, image_size)
    taken, masks, kept = [], [], []
    for index, (glyph, label) in enumerate(zip(glyphs, labels)):
        size = int(rng.integers(digit_size[0], digit_size[1] + 1))
        if pair and index == 1 and taken:
            corner = _partner_corner(rng, taken[0], size, image_size)
        else:
            corner = digit_scenes._place(rng, size, image_size, taken)
        if corner is None:
            continue
        # Paste into a copy: an occlusion that hides too much of a digit
        # below is undone.
        candidate = image.copy()
        mask = _paste(rng, candidate, glyph, *corner, size)
        visible = [m & ~mask for m in masks]
        if any(v.sum() < _MIN_VISIBLE * m.sum() for v, m in zip(visible, masks)):
            continue
        if not mask.any():
            continue
        image, masks = candidate, visible + [mask]
        taken.append((*corner, size))
        kept.append(label)
    return np.clip(np.round(image), 0, 255).astype(np.uint8), masks, kept


def generate(
    split,
    *,
    image_size=(64, 64),
    num_scenes=None,
    max_digits=3,
    digit_size=None,
    touching=0.5,
    seed=0,
):
    """Generates the instance scenes of one split as numpy arrays.

    Args:
        split: `"train"`, `"validation"` or `"test"`.
        image_size: int or (height, width). Defaults to `(64, 64)`.
        num_scenes: int or None. Defaults to 2,000 (train) or 300.
        max_digits: int, at least 2. Each scene shows 1 to `max_digits`
            digits (2 or more in a touching scene). Defaults to 3.
        digit_size: (smallest, largest) digit side in pixels, or None for
            30% to 45% of the image's shorter side.
        touching: float in [0, 1]. Share of the scenes that get two digits
            of one class pasted touching or overlapping. Defaults to 0.5.
        seed: int. Defaults to 0.

    Returns:
        A dict of `images` uint8 `(n, h, w, 3)`, `semantic` int32 `(n, h,
        w)` (0 background, `1 + digit`), `instances` int32 `(n, h, w)` (0
        none, 1..k), `labels` int32 `(n, max_digits)` (the digit of
        instance `k` at index `k - 1`, -1 padding) and `touching` bool
        `(n,)` (two same-class digits touch, measured on the masks).
    """
    image_size, num_scenes, max_digits = digit_scenes.check_scene_options(
        "digit instances", split, image_size, num_scenes, max_digits, min_digits=2)
    touching = check_fraction("touching", touching, inclusive_one=True)
    side = min(image_size)
    digit_size = digit_scenes.check_digit_size(digit_size, side)

    pool, pool_labels = digits.digit_images(split)
    digits.check_pool("max_digits", max_digits, len(pool), split)
    by_class = [np.flatnonzero(pool_labels == d) for d in range(10)]
    split_photos = digit_scenes.photos(split)
    rng = np.random.default_rng([seed, digits.SPLITS.index(split), 14])
    out = {
        "images": np.zeros((num_scenes, *image_size, 3), np.uint8),
        "semantic": np.zeros((num_scenes, *image_size), np.int32),
        "instances": np.zeros((num_scenes, *image_size), np.int32),
        "labels": np.full((num_scenes, max_digits), -1, np.int32),
        "touching": np.zeros(num_scenes, bool),
    }
    for i in range(num_scenes):
        pair = rng.random() < touching
        count = int(rng.integers(2 if pair else 1, max_digits + 1))
        chosen = list(rng.choice(len(pool), size=count, replace=False))
        if pair:
            # Another handwritten digit of the first one's class.
            same = by_class[pool_labels[chosen[0]]]
            same = same[~np.isin(same, chosen)]
            chosen[1] = int(rng.choice(same))
        photo = split_photos[rng.integers(len(split_photos))]
        image, masks, labels = render_instances(
            rng, photo, pool[chosen], pool_labels[chosen], image_size, digit_size, pair
        )
        out["images"][i] = image
        for k, (mask, label) in enumerate(zip(masks, labels)):
            out["semantic"][i][mask] = 1 + label
            out["instances"][i][mask] = k + 1
            out["labels"][i, k] = label
        out["touching"][i] = touching_same_class(masks, labels)
    return out


register_generated(
    "digit_instances",
    generate,
    task="instance_segmenter",
    description="Real handwritten digits pasted onto real photos, an instance "
    "id per digit; half the scenes have two same-class digits touching. Offline.",
    class_names=CLASS_NAMES,
    targets=lambda scenes: {"semantic": scenes["semantic"],
                            "instances": scenes["instances"]},
)
