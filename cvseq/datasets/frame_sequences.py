"""Frame sequences for next-frame prediction: `(context, future)` pairs.

- `moving_digit_frames` (embedded, offline): the clips of `moving_digits`
  (real handwritten digits drifting across the frame, wrapping at the
  edges), cut into `frames_in` context frames and the `frames_out` frames
  that follow. Grey (`channels=1`, Moving-MNIST-like: each pixel is the
  brightest of its colour channels, i.e. the digit's own intensity) or the
  coloured clips (`channels=3`). The digit images of the test split never
  appear in training clips.
- `moving_mnist` (TFDS): the 10,000 Moving MNIST sequences of 20 64x64 grey
  frames (Srivastava et al. 2015). TFDS ships them as one `"test"` split;
  cvseq splits them itself, fixed forever: a permutation of the sequence
  indices drawn with `numpy.random.default_rng(SPLIT_SEED)` gives the first
  8,000 to `"train"`, the next 1,000 to `"validation"` and the last 1,000
  to `"test"` (the user's `seed` only shuffles, it never moves a sequence
  between splits).

Both yield uint8 `(context (frames_in, h, w, c), future (frames_out, h, w,
c))`, which `cvseq.video_predictor` fits directly.
"""

import numpy as np
import tensorflow as tf

from cvseq._validation import check_choice, check_image_size, check_int
from cvseq.datasets import moving_digits
from cvseq.datasets.registry import (
    DatasetInfo,
    register_dataset,
)
from cvseq.datasets.tfds_adapters import load_tfds

SPLIT_SEED = 0
MOVING_MNIST_SEQUENCES = 10_000
MOVING_MNIST_FRAMES = 20
_MOVING_MNIST_SPLITS = {"train": (0, 8000), "validation": (8000, 9000),
                        "test": (9000, 10_000)}


def generate(
    split,
    *,
    frames_in=10,
    frames_out=10,
    image_size=(64, 64),
    channels=1,
    num_clips=None,
    max_digits=2,
    seed=0,
):
    """The `(context, future)` uint8 arrays of one split of moving digits.

    Returns:
        `context (n, frames_in, h, w, channels)` and `future (n,
        frames_out, h, w, channels)`, uint8.
    """
    frames_in = check_int("frames_in", frames_in)
    frames_out = check_int("frames_out", frames_out)
    check_choice("channels", channels, (1, 3))
    clips, _, _ = moving_digits.generate(
        split, frames=frames_in + frames_out, image_size=image_size,
        label="direction", num_clips=num_clips, max_digits=max_digits, seed=seed,
    )
    if channels == 1:
        # Each digit's colour has one channel at full scale, so the maximum
        # over channels is the digit's grey intensity.
        clips = clips.max(axis=-1, keepdims=True)
    return clips[:, :frames_in], clips[:, frames_in:]


@register_dataset(
    "moving_digit_frames",
    task="video_predictor",
    source="embedded",
    options_from=generate,
    description="Real handwritten digits moving across frames, as (context, "
    "future) frame sequences for next-frame prediction. Offline.",
)
def _build_moving_digit_frames(split, *, seed=0, shuffle=None, **options):
    context, future = generate(split, seed=seed, **options)
    info = DatasetInfo(
        class_names=[],
        num_examples=len(context),
        description="Real handwritten digits moving across frames (context, future).",
    )
    return tf.data.Dataset.from_tensor_slices((context, future)), info


def moving_mnist_split_mask(split):
    """Bool `(10000,)`: which Moving MNIST sequences belong to `split`."""
    check_choice("split", split, tuple(_MOVING_MNIST_SPLITS))
    order = np.random.default_rng(SPLIT_SEED).permutation(MOVING_MNIST_SEQUENCES)
    start, stop = _MOVING_MNIST_SPLITS[split]
    mask = np.zeros(MOVING_MNIST_SEQUENCES, bool)
    mask[order[start:stop]] = True
    return mask


@register_dataset(
    "moving_mnist",
    task="video_predictor",
    source="tfds",
    description="TFDS Moving MNIST: 10,000 sequences of 20 64x64 frames, split "
    "8,000/1,000/1,000 by cvseq (fixed). Needs the network or data_dir=.",
)
def _build_moving_mnist(split, *, seed=0, shuffle=None, data_dir=None, frames_in=10,
                        frames_out=10, image_size=(64, 64)):
    frames_in = check_int("frames_in", frames_in)
    frames_out = check_int("frames_out", frames_out)
    if frames_in + frames_out > MOVING_MNIST_FRAMES:
        raise ValueError(
            f"`frames_in` + `frames_out` must be at most {MOVING_MNIST_FRAMES} "
            f"(Moving MNIST sequences have {MOVING_MNIST_FRAMES} frames). "
            f"Received: frames_in={frames_in}, frames_out={frames_out}."
        )
    image_size = check_image_size(image_size)
    mask = tf.constant(moving_mnist_split_mask(split))
    dataset, _ = load_tfds(
        "moving_mnist", "test", data_dir=data_dir,
        offline_alternative="moving_digit_frames",
    )

    def keep(index, example):
        return tf.gather(mask, index % MOVING_MNIST_SEQUENCES)

    def to_pair(index, example):
        frames = example["image_sequence"]
        if tuple(image_size) != (64, 64):
            frames = tf.cast(
                tf.clip_by_value(
                    tf.round(tf.image.resize(tf.cast(frames, tf.float32), image_size)),
                    0, 255,
                ),
                tf.uint8,
            )
        return frames[:frames_in], frames[frames_in:frames_in + frames_out]

    dataset = (
        dataset.enumerate()
        .filter(keep)
        .map(to_pair, num_parallel_calls=tf.data.AUTOTUNE)
    )
    info = DatasetInfo(
        class_names=[],
        num_examples=_MOVING_MNIST_SPLITS[split][1] - _MOVING_MNIST_SPLITS[split][0],
        description="Moving MNIST (TFDS), split by cvseq.",
    )
    return dataset, info
