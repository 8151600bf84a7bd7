"""Digit tracks: several real digits moving on their own paths, with true ids.

Each clip shows `num_digits` real handwritten digits (`digits.py`, so a test
digit image never appears in training) moving at their own constant
velocities and bouncing off the frame edges. Digits pass over each other;
where they overlap a detector sees one blob, which is what makes tracking
them a real task. For every frame the generator knows each digit's id and
its tight box (the bounding box of its ink), so trackers can be scored with
MOTA and IDF1.

Two data sets are built on the same motion:

- `"digit_tracks"` (tracking): clips `(frames, h, w, 3)` uint8 and targets
  `{"boxes": (frames, num_digits, 4), "ids": (num_digits,)}`; boxes are
  `(x1, y1, x2, y2)` pixels.
- `"digit_trajectories"` (`trajectory_predictor`): the ink centres of one
  digit, `(x, y)` as fractions of the frame size; inputs the first
  `history` positions, targets the next `horizon`.

`detect_digits(frame)` is the detector of the examples and tests: bright
connected components, found with OpenCV.
"""

import functools

import cv2
import numpy as np

from cvseq._validation import check_image_size, check_int
from cvseq.datasets import digits
from cvseq.datasets.moving_digits import _palette
from cvseq.datasets.registry import (
    DatasetInfo,
    register_dataset,
)

# Grey level above which a pixel is ink, for the true boxes and the detector.
INK_THRESHOLD = 60
# Speed range in pixels per frame, as a fraction of the frame side.
SPEED_RANGE = (0.015, 0.05)
GLYPH_FRACTION = 0.16
DEFAULT_CLIPS = {"train": 200, "validation": 50, "test": 50}
DEFAULT_TRAJECTORIES = {"train": 4000, "validation": 1000, "test": 1000}


@functools.lru_cache(maxsize=8)
def _glyphs(split, size):
    """Resized digit images of a split and the ink box of each, `(n, 4)`."""
    images, labels = digits.digit_images(split)
    glyphs = np.stack([digits.resize_digit(image, size) for image in images])
    ink = np.zeros((len(glyphs), 4), np.float32)
    for i, glyph in enumerate(glyphs):
        rows = np.flatnonzero((glyph > INK_THRESHOLD).any(axis=1))
        cols = np.flatnonzero((glyph > INK_THRESHOLD).any(axis=0))
        ink[i] = (cols[0], rows[0], cols[-1] + 1, rows[-1] + 1)
    return glyphs, labels, ink


def bouncing_paths(rng, count, frames, image_size, glyph_size):
    """Top-left corners of `count` glyphs moving in straight lines and
    bouncing off the frame edges.

    Returns:
        int `(frames, count, 2)` (row, col) pixel positions, rounded as
        drawn.
    """
    limit = np.array(image_size, np.float64) - glyph_size  # last valid corner
    start = rng.uniform(0, 1, (count, 2)) * limit
    angle = rng.uniform(0, 2 * np.pi, count)
    speed = rng.uniform(*SPEED_RANGE, count) * min(image_size)
    velocity = np.stack([np.sin(angle), np.cos(angle)], axis=1) * speed[:, None]
    unfolded = start + velocity * np.arange(frames)[:, None, None]
    # Reflecting at 0 and `limit` is folding the straight line.
    folded = np.mod(unfolded, 2 * limit)
    return np.rint(limit - np.abs(folded - limit)).astype(np.int64)


def generate_tracks(
    split,
    *,
    num_clips=None,
    frames=40,
    image_size=(96, 96),
    num_digits=3,
    seed=0,
):
    """Generates tracking clips with true boxes and ids as numpy arrays.

    Returns:
        `(clips, boxes, ids)`: uint8 `(n, frames, h, w, 3)`; float32
        `(n, frames, num_digits, 4)` ink boxes `(x1, y1, x2, y2)` in pixels;
        int32 `(n, num_digits)` ids (`0 .. num_digits - 1`).
    """
    digits.check_split("digit_tracks", split)
    num_clips = check_int(
        "num_clips", DEFAULT_CLIPS[split] if num_clips is None else num_clips
    )
    frames = check_int("frames", frames)
    image_size = check_image_size(image_size, minimum=16)
    num_digits = check_int("num_digits", num_digits)
    glyph_size = max(8, int(round(min(image_size) * GLYPH_FRACTION)))
    glyphs, _, ink = _glyphs(split, glyph_size)
    digits.check_pool("num_digits", num_digits, len(glyphs), split)
    # Distinct seeds per split, so a split never repeats another's motion.
    rng = np.random.default_rng([seed, digits.SPLITS.index(split), 7])

    clips = np.zeros((num_clips, frames, *image_size, 3), np.uint8)
    boxes = np.zeros((num_clips, frames, num_digits, 4), np.float32)
    for i in range(num_clips):
        chosen = rng.choice(len(glyphs), size=num_digits, replace=False)
        corners = bouncing_paths(rng, num_digits, frames, image_size, glyph_size)
        colours = _palette(rng, num_digits)
        canvas = np.zeros((frames, *image_size, 3), np.float32)
        for k, j in enumerate(chosen):
            ink_layer = glyphs[j][..., None] * colours[k]
            for t in range(frames):
                r, c = corners[t, k]
                window = canvas[t, r:r + glyph_size, c:c + glyph_size]
                np.maximum(window, ink_layer, out=window)
            boxes[i, :, k] = ink[j] + np.tile(corners[:, k, ::-1], 2)
        clips[i] = canvas.astype(np.uint8)
    ids = np.tile(np.arange(num_digits, dtype=np.int32), (num_clips, 1))
    return clips, boxes, ids


def generate_trajectories(
    split,
    *,
    num_trajectories=None,
    history=12,
    horizon=8,
    image_size=(96, 96),
    seed=0,
):
    """Generates ink-centre trajectories of single digits as numpy arrays.

    The motion is that of `generate_tracks` (same glyph size, speeds and
    bounces), so a model trained here predicts the digits' motion in the
    tracking clips.

    Returns:
        `(past, future)`: float32 `(n, history, 2)` and `(n, horizon, 2)`,
        `(x, y)` as fractions of the frame width and height.
    """
    digits.check_split("digit_trajectories", split)
    num_trajectories = check_int(
        "num_trajectories",
        DEFAULT_TRAJECTORIES[split] if num_trajectories is None else num_trajectories,
    )
    history = check_int("history", history, minimum=2)
    horizon = check_int("horizon", horizon)
    image_size = check_image_size(image_size, minimum=16)
    glyph_size = max(8, int(round(min(image_size) * GLYPH_FRACTION)))
    _, _, ink = _glyphs(split, glyph_size)
    rng = np.random.default_rng([seed, digits.SPLITS.index(split), 11])

    frames = history + horizon
    corners = bouncing_paths(rng, num_trajectories, frames, image_size, glyph_size)
    chosen = rng.integers(len(ink), size=num_trajectories)
    ink_centre = (ink[chosen, :2] + ink[chosen, 2:]) / 2  # (x, y) in the glyph
    centres = corners[..., ::-1] + ink_centre  # (frames, n, 2) as (x, y)
    centres = (centres / np.array(image_size[::-1], np.float32)).astype(np.float32)
    centres = np.transpose(centres, (1, 0, 2))
    return centres[:, :history], centres[:, history:]


def detect_digits(frame, *, threshold=INK_THRESHOLD, min_area=6):
    """Finds bright blobs (digits) in a frame with OpenCV.

    Overlapping digits come out as one blob, and a digit's strokes that
    fall apart as several: the detector is simple on purpose, as real
    detectors miss and merge objects too.

    Args:
        frame: uint8 `(height, width, 3)` or `(height, width)`.
        threshold: int. Grey level above which a pixel is ink.
        min_area: int. Smaller blobs are dropped as noise.

    Returns:
        `(boxes, scores)`: float32 `(n, 4)` `(x1, y1, x2, y2)` pixels and
        float32 `(n,)` mean ink brightness in [0, 1].
    """
    grey = frame.max(axis=-1) if frame.ndim == 3 else frame
    mask = (grey > threshold).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    boxes, scores = [], []
    for label in range(1, count):
        x, y, w, h, area = stats[label]
        if area < min_area:
            continue
        boxes.append((x, y, x + w, y + h))
        scores.append(grey[labels == label].mean() / 255.0)
    return (
        np.array(boxes, np.float32).reshape(-1, 4),
        np.array(scores, np.float32),
    )


@register_dataset(
    "digit_tracks",
    task="tracking",
    source="embedded",
    options_from=generate_tracks,
    description="Several real handwritten digits moving and bouncing, with "
    "their true ids and boxes in every frame (multi-object tracking). Offline.",
)
def _build_tracks(split, *, seed=0, shuffle=None, **options):
    clips, boxes, ids = generate_tracks(split, seed=seed, **options)
    return (clips, {"boxes": boxes, "ids": ids}), DatasetInfo()


@register_dataset(
    "digit_trajectories",
    task="trajectory_predictor",
    source="embedded",
    options_from=generate_trajectories,
    description="Paths of real handwritten digits moving and bouncing in a "
    "frame, (x, y) as fractions of its size: past positions in, future out. "
    "Offline.",
)
def _build_trajectories(split, *, seed=0, shuffle=None, **options):
    past, future = generate_trajectories(split, seed=seed, **options)
    return (past, future), DatasetInfo()
