"""Digit scenes: real handwritten digits pasted onto real photos.

Each scene is a crop of one of scikit-image's photos (an astronaut, a cat,
coffee, gravel, a rocket, ...) with one or more real handwritten digits
(`digits.py`) alpha-blended in at random places, sizes and colours. Because
the program puts them there, every digit's box and mask are known exactly:

- `"digit_detection"`: targets `{"boxes": (max_digits, 4), "labels":
  (max_digits,)}`, boxes `xyxy` in pixels of the image, padded with -1;
  labels 0-9 (the digit), -1 for padding.
- `"digit_segmentation"`: targets `(height, width)` int32 masks, 0 for the
  background and `1 + digit` for each digit's pixels (11 classes).

Nothing leaks between splits: the digit images follow the fixed split of
`digits.py`, and the photos are split too (the test scenes are drawn on
photos that no training scene uses). Generation is seeded.
"""

import functools
import numbers
import os

import cv2
import numpy as np

from cvseq._validation import check_image_size, check_int
from cvseq.datasets import digits
from cvseq.datasets.registry import register_generated

# scikit-image ships these photos in its wheel (no download). Each split has
# its own photos; the two motorcycle views are one scene, so they share one.
PHOTOS = {
    "train": (
        "astronaut.png", "brick.png", "camera.png", "clock_motion.png",
        "coffee.png", "grass.png", "hubble_deep_field.jpg", "ihc.png",
        "moon.png", "motorcycle_left.png", "motorcycle_right.png",
    ),
    "validation": ("cell.png", "coins.png"),
    "test": ("chelsea.png", "gravel.png", "retina.jpg", "rocket.jpg"),
}
DEFAULT_SCENES = {"train": 2000, "validation": 300, "test": 300}
DIGIT_NAMES = [str(d) for d in range(10)]
# A pixel belongs to a digit's mask (and box) where the digit's ink covers
# at least half of it.
_MASK_THRESHOLD = 0.5
_PHOTO_MAX_SIDE = 320


@functools.lru_cache(maxsize=None)
def _photo(filename):
    """One photo as uint8 RGB, its longer side at most `_PHOTO_MAX_SIDE`."""
    import skimage

    path = os.path.join(os.path.dirname(skimage.__file__), "data", filename)
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(
            f"scikit-image's photo {path!r} is missing; reinstall scikit-image."
        )
    image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    scale = _PHOTO_MAX_SIDE / max(image.shape[:2])
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return image


def photos(split):
    """The photos of one split, uint8 RGB arrays of various sizes."""
    digits.check_split("digit scenes", split)
    return [_photo(name) for name in PHOTOS[split]]


def _background(rng, photo, image_size):
    """A random crop (a quarter of the photo or more), resized, maybe flipped."""
    height, width = image_size
    ph, pw = photo.shape[:2]
    scale = rng.uniform(0.35, 1.0)
    ch = max(8, int(scale * min(ph, pw * height / width)))
    cw = max(8, int(ch * width / height))
    top = rng.integers(0, ph - ch + 1)
    left = rng.integers(0, pw - cw + 1)
    crop = photo[top:top + ch, left:left + cw]
    crop = cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return crop.astype(np.float32)


def _ink_colour(rng, patch):
    """A saturated colour far from the patch's mean, so the digit is visible."""
    for _ in range(8):
        colour = rng.uniform(0, 255, 3)
        colour[rng.integers(3)] = rng.choice([0.0, 255.0])
        if np.abs(colour - patch.reshape(-1, 3).mean(0)).sum() > 180:
            return colour
    return 255.0 - patch.reshape(-1, 3).mean(0)


def _place(rng, size, image_size, taken, tries=50):
    """Top-left corner of a size x size square that overlaps no square in
    `taken`, or None."""
    height, width = image_size
    for _ in range(tries):
        top = int(rng.integers(0, height - size + 1))
        left = int(rng.integers(0, width - size + 1))
        if all(
            top + size <= t or t + s <= top or left + size <= l or l + s <= left
            for t, l, s in taken
        ):
            return top, left
    return None


def render_scene(rng, photo, glyphs, image_size, digit_size):
    """Pastes digit glyphs onto a crop of `photo`.

    Args:
        rng: `numpy.random.Generator`.
        photo: uint8 `(h, w, 3)` photo.
        glyphs: uint8 `(n, 8, 8)` digit images.
        image_size: (height, width) of the scene.
        digit_size: (smallest, largest) side of a pasted digit, in pixels.

    Returns:
        `(image, instance_masks)`: uint8 `(height, width, 3)`, and one bool
        `(height, width)` mask per glyph actually placed (a glyph that finds
        no free room is left out; at least the first always fits).
    """
    image = _background(rng, photo, image_size)
    taken, masks = [], []
    for glyph in glyphs:
        size = int(rng.integers(digit_size[0], digit_size[1] + 1))
        corner = _place(rng, size, image_size, taken)
        if corner is None:
            continue
        top, left = corner
        taken.append((top, left, size))
        alpha = digits.resize_digit(glyph, size).astype(np.float32) / 255.0
        region = image[top:top + size, left:left + size]
        colour = _ink_colour(rng, region)
        region[:] = (1 - alpha[..., None]) * region + alpha[..., None] * colour
        mask = np.zeros(image_size, bool)
        mask[top:top + size, left:left + size] = alpha >= _MASK_THRESHOLD
        masks.append(mask)
    return np.clip(np.round(image), 0, 255).astype(np.uint8), masks


def mask_box(mask):
    """Tight `xyxy` box of a bool mask, in pixels (x2, y2 exclusive)."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], np.float32)


def check_digit_size(digit_size, side):
    """`digit_size` as a `(smallest, largest)` pair of pixel sizes for
    images whose shorter side is `side`; None: 30% to 45% of it."""
    if digit_size is None:
        return (max(8, int(0.3 * side)), max(8, int(0.45 * side)))
    if (
        not isinstance(digit_size, (tuple, list)) or len(digit_size) != 2
        or not all(isinstance(d, numbers.Integral) and not isinstance(d, bool)
                   for d in digit_size)
        or not 8 <= digit_size[0] <= digit_size[1] <= side
    ):
        raise ValueError(
            "`digit_size` must be a (smallest, largest) pair of pixel sizes "
            f"with 8 <= smallest <= largest <= {side} (the image's shorter "
            f"side). Received: digit_size={digit_size!r}."
        )
    return tuple(digit_size)


def check_scene_options(label, split, image_size, num_scenes, max_digits, *,
                        min_digits=1):
    """Checks the options that `generate` here and in `digit_instances` share.

    Returns:
        `(image_size, num_scenes, max_digits)`: `image_size` a pair,
        `num_scenes` the split's default (`DEFAULT_SCENES`) when None.
    """
    digits.check_split(label, split)
    image_size = check_image_size(image_size, minimum=16)
    num_scenes = check_int(
        "num_scenes", DEFAULT_SCENES[split] if num_scenes is None else num_scenes
    )
    max_digits = check_int("max_digits", max_digits, minimum=min_digits)
    return image_size, num_scenes, max_digits


def generate(
    split,
    *,
    image_size=(64, 64),
    num_scenes=None,
    max_digits=3,
    digit_size=None,
    seed=0,
):
    """Generates the scenes of one split as numpy arrays.

    Args:
        split: `"train"`, `"validation"` or `"test"`.
        image_size: int or (height, width). Defaults to `(64, 64)`.
        num_scenes: int or None. Defaults to 2,000 (train) or 300.
        max_digits: int. Each scene shows 1 to `max_digits` digits.
            Defaults to 3.
        digit_size: (smallest, largest) digit side in pixels, or None for
            30% to 45% of the image's shorter side.
        seed: int. Defaults to 0.

    Returns:
        A dict of `images` uint8 `(n, h, w, 3)`, `boxes` float32
        `(n, max_digits, 4)` (`xyxy` pixels, -1 padding), `labels` int32
        `(n, max_digits)` (-1 padding) and `masks` int32 `(n, h, w)`
        (0 background, `1 + digit` on each digit).
    """
    image_size, num_scenes, max_digits = check_scene_options(
        "digit scenes", split, image_size, num_scenes, max_digits)
    side = min(image_size)
    digit_size = check_digit_size(digit_size, side)

    images_pool, labels_pool = digits.digit_images(split)
    digits.check_pool("max_digits", max_digits, len(images_pool), split)
    split_photos = photos(split)
    # Distinct seeds per split, so splits never share a layout.
    rng = np.random.default_rng([seed, digits.SPLITS.index(split), 7])
    images = np.zeros((num_scenes, *image_size, 3), np.uint8)
    boxes = np.full((num_scenes, max_digits, 4), -1, np.float32)
    labels = np.full((num_scenes, max_digits), -1, np.int32)
    masks = np.zeros((num_scenes, *image_size), np.int32)
    for i in range(num_scenes):
        count = int(rng.integers(1, max_digits + 1))
        chosen = rng.choice(len(images_pool), size=count, replace=False)
        photo = split_photos[rng.integers(len(split_photos))]
        images[i], instance_masks = render_scene(
            rng, photo, images_pool[chosen], image_size, digit_size
        )
        for j, (index, mask) in enumerate(zip(chosen, instance_masks)):
            boxes[i, j] = mask_box(mask)
            labels[i, j] = labels_pool[index]
            masks[i][mask] = 1 + labels_pool[index]
    return {"images": images, "boxes": boxes, "labels": labels, "masks": masks}




register_generated(
    "digit_detection",
    generate,
    task="object_detector",
    description="Real handwritten digits pasted onto real photos; exact "
    "xyxy boxes with digit labels (10 classes), padded with -1. Offline.",
    class_names=DIGIT_NAMES,
    targets=lambda scenes: {"boxes": scenes["boxes"], "labels": scenes["labels"]},
)
register_generated(
    "digit_segmentation",
    generate,
    task="image_segmenter",
    description="Real handwritten digits pasted onto real photos; exact "
    "masks, 0 background and 1 + digit (11 classes). Offline.",
    class_names=["background", *DIGIT_NAMES],
    targets=lambda scenes: scenes["masks"],
)
