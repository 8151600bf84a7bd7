"""Real handwritten digits (scikit-learn's copy of the UCI set), split once.

1,797 scans of digits written by 43 people, 8x8 pixels, 16 grey levels.
Every embedded data set built on them uses the same split of the *images*,
so a digit image in a test split never appears in any training split.
"""

import functools

import cv2
import numpy as np

SPLITS = ("train", "validation", "test")
_FRACTIONS = (0.7, 0.15, 0.15)
_SPLIT_SEED = 1234  # fixed: the split must not depend on the user's seed


@functools.lru_cache(maxsize=1)
def _all_digits():
    from sklearn.datasets import load_digits

    data = load_digits()
    images = (data.images * (255.0 / 16.0)).astype(np.uint8)
    return images, data.target.astype(np.int32)


def check_split(name, split):
    if split not in SPLITS:
        raise ValueError(
            f"Data set {name!r} has splits {', '.join(SPLITS)}. "
            f"Received: split={split!r}."
        )


def check_pool(name, count, available, split):
    """Raises unless `count` digits per example can be drawn from the
    `available` handwritten digits of `split` (each at most once)."""
    if count > available:
        raise ValueError(
            f"`{name}` ({count}) is more than the {available} handwritten digits of "
            f"the {split!r} split, and an example never shows one digit twice. "
            f"Received: {name}={count}.")


def digit_images(split):
    """Returns `(images, labels)` of one split: uint8 `(n, 8, 8)`, int32 `(n,)`.

    The split is stratified by digit and fixed (independent of any seed).
    """
    check_split("digits", split)
    images, labels = _all_digits()
    rng = np.random.default_rng(_SPLIT_SEED)
    chosen = {s: [] for s in SPLITS}
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        n_train = int(round(_FRACTIONS[0] * len(idx)))
        n_val = int(round(_FRACTIONS[1] * len(idx)))
        chosen["train"].append(idx[:n_train])
        chosen["validation"].append(idx[n_train:n_train + n_val])
        chosen["test"].append(idx[n_train + n_val:])
    idx = np.sort(np.concatenate(chosen[split]))
    return images[idx], labels[idx]


def resize_digit(image, size):
    """Upsamples an 8x8 digit to `size` x `size` pixels (bilinear)."""
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_LINEAR)
