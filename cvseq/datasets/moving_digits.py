"""Moving digits: real handwritten digits moving across the frames of a clip.

Each clip shows one or more real digits (`digits.py`) drifting with one
velocity, wrapping around the frame edges. Wrapping keeps every frame's
content independent of the direction: where a digit is in any single frame
says nothing about where it goes, so only a model that compares frames can
tell the motion. Labels:

- `label="direction"`: 4 classes, right, left, down, up.
- `label="motion"`: 8 classes, the direction and the speed (slow, fast).
- `label="digits"`: multi-label, a multi-hot vector of the digits shown.

Clips are uint8 `(frames, height, width, 3)`, each digit in its own colour.
Generation is seeded; the digit images of the test split never appear in
training clips.
"""

import numpy as np

from cvseq._validation import check_choice, check_image_size, check_int
from cvseq.datasets import digits
from cvseq.datasets.registry import (
    DatasetInfo,
    register_dataset,
)

DIRECTIONS = ("right", "left", "down", "up")
_VELOCITY = {"right": (0, 1), "left": (0, -1), "down": (1, 0), "up": (-1, 0)}
SPEEDS = ("slow", "fast")
# Pixels per frame, as a fraction of the frame side.
_SPEED_RANGE = {"slow": (0.03, 0.05), "fast": (0.07, 0.10)}
LABELS = ("direction", "motion", "digits")
DEFAULT_CLIPS = {"train": 1200, "validation": 300, "test": 300}


def _palette(rng, count):
    """Bright, distinct colours so digits stand out from the black ground."""
    hues = rng.uniform(0, 1, count)
    colours = []
    for hue in hues:
        rgb = np.clip(np.abs((hue * 6 + np.array([0, 4, 2])) % 6 - 3) - 1, 0, 1)
        colours.append(0.4 + 0.6 * rgb)
    return np.array(colours, dtype=np.float32)


def render_clip(glyphs, starts, velocity, *, frames, image_size, colours):
    """Draws digits moving at constant velocity, wrapping at the edges.

    Args:
        glyphs: uint8 `(n, d, d)` digit images, already resized.
        starts: `(n, 2)` top-left (row, col) of each digit in frame 0.
        velocity: (rows, cols) pixels per frame, shared by all digits, or
            `(n, 2)`, one velocity per digit.
        frames: number of frames.
        image_size: (height, width).
        colours: `(n, 3)` floats in [0, 1].

    Returns:
        uint8 `(frames, height, width, 3)`.
    """
    height, width = image_size
    clip = np.zeros((frames, height, width, 3), np.float32)
    velocities = np.broadcast_to(np.asarray(velocity, np.float32), (len(glyphs), 2))
    for glyph, start, velocity, colour in zip(glyphs, starts, velocities, colours):
        layer = np.zeros((height, width), np.float32)
        d = glyph.shape[0]
        layer[:d, :d] = glyph
        for t in range(frames):
            dy = int(round(start[0] + velocity[0] * t))
            dx = int(round(start[1] + velocity[1] * t))
            moved = np.roll(layer, (dy % height, dx % width), axis=(0, 1))
            clip[t] = np.maximum(clip[t], moved[..., None] * colour)
    return clip.astype(np.uint8)


def generate(
    split,
    *,
    frames=16,
    image_size=(64, 64),
    label="direction",
    num_clips=None,
    max_digits=2,
    seed=0,
):
    """Generates the clips and targets of one split as numpy arrays.

    Returns:
        `(clips, targets, class_names)`: uint8 `(n, frames, h, w, 3)`;
        int32 `(n,)` (or float32 `(n, 10)` multi-hot for `label="digits"`).
    """
    digits.check_split("moving_digits", split)
    frames = check_int("frames", frames)
    image_size = check_image_size(image_size, minimum=16)
    check_choice("label", label, LABELS)
    num_clips = check_int(
        "num_clips", DEFAULT_CLIPS[split] if num_clips is None else num_clips
    )
    max_digits = check_int("max_digits", max_digits)

    images, digit_labels = digits.digit_images(split)
    digits.check_pool("max_digits", max_digits, len(images), split)
    # Distinct seeds per split, so a split never repeats another's motion.
    rng = np.random.default_rng([seed, digits.SPLITS.index(split)])
    side = min(image_size)
    glyph_size = max(8, int(round(side * 0.4)))
    clips = np.zeros((num_clips, frames, *image_size, 3), np.uint8)
    if label == "digits":
        targets = np.zeros((num_clips, 10), np.float32)
    else:
        targets = np.zeros((num_clips,), np.int32)

    for i in range(num_clips):
        count = rng.integers(1, max_digits + 1)
        chosen = rng.choice(len(images), size=count, replace=False)
        glyphs = np.stack([digits.resize_digit(images[j], glyph_size) for j in chosen])
        starts = rng.uniform(0, 1, (count, 2)) * np.array(image_size)
        direction = rng.integers(len(DIRECTIONS))
        speed = rng.integers(len(SPEEDS))
        low, high = _SPEED_RANGE[SPEEDS[speed]]
        step = rng.uniform(low, high) * side
        velocity = np.array(_VELOCITY[DIRECTIONS[direction]]) * step
        clips[i] = render_clip(
            glyphs, starts, velocity, frames=frames, image_size=image_size,
            colours=_palette(rng, count),
        )
        if label == "direction":
            targets[i] = direction
        elif label == "motion":
            targets[i] = direction * len(SPEEDS) + speed
        else:
            targets[i, digit_labels[chosen]] = 1.0

    if label == "direction":
        class_names = list(DIRECTIONS)
    elif label == "motion":
        class_names = [f"{d}_{s}" for d in DIRECTIONS for s in SPEEDS]
    else:
        class_names = [str(d) for d in range(10)]
    return clips, targets, class_names


@register_dataset(
    "moving_digits",
    task="video_tagger",  # and every clip classifier (tasks.clip_classifier_task)
    source="embedded",
    options_from=generate,
    description="Real handwritten digits moving across frames; labels: "
    "direction (4), motion (8) or the digits shown (multi-label, 10). Offline.",
)
def _build(split, *, seed=0, shuffle=None, **options):
    clips, targets, class_names = generate(split, seed=seed, **options)
    info = DatasetInfo(class_names=class_names,
                       multi_label=options.get("label") == "digits")
    return (clips, targets), info
