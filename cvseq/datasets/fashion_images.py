"""Real photos of fashion products (Fashion-MNIST) for `image_classifier`,
read offline from the files Debian's `dataset-fashion-mnist` package installs.

Fashion-MNIST (Xiao, Rasul and Vollgraf 2017; Zalando SE, MIT licence):
70,000 grey 28x28 product photos from Zalando's catalogue in 10 classes
(T-shirt/top, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag,
ankle boot). Unlike the 8x8 digits it does not saturate: a small CNN reaches
about 0.9, and shirts, T-shirts, pullovers and coats stay confusable.

    apt-get install dataset-fashion-mnist   # /usr/share/datasets/fashion-mnist

Splits: `"test"` is the official 10,000-image test set; `"train"` and
`"validation"` divide the official 60,000 training images 50,000 / 10,000 by
a fixed permutation (independent of any seed), so no test or validation
image is ever trained on. The images are resized to `image_size` and given
three channels, so they go straight into any cvseq image model.
"""

import functools
import gzip
import os

import numpy as np

from cvseq._validation import check_image_size, check_int
from cvseq.datasets.digits import check_split
from cvseq.datasets.registry import (
    DatasetInfo,
    DatasetUnavailableError,
    register_dataset,
)

NAME = "fashion_products"
DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"  # Debian: dataset-fashion-mnist
CLASS_NAMES = [
    "t-shirt/top", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle boot",
]
_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_VALIDATION_SIZE = 10_000
_SPLIT_SEED = 1234  # fixed: the split must not depend on the user's seed


def _read_idx(path, offset):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


@functools.lru_cache(maxsize=4)
def _official(part, data_dir):
    """The official `"train"` or `"test"` part: uint8 `(n, 28, 28)`, int32."""
    images_file, labels_file = (os.path.join(data_dir, f) for f in _FILES[part])
    missing = [f for f in (images_file, labels_file) if not os.path.isfile(f)]
    if missing:
        raise DatasetUnavailableError(
            f"Data set {NAME!r} reads the Fashion-MNIST files from "
            f"data_dir={data_dir!r}, but {', '.join(missing)} is not there. "
            "Install them with `apt-get install dataset-fashion-mnist` (Debian "
            "and Ubuntu), or pass data_dir= a folder holding the four "
            "*-ubyte.gz files of github.com/zalandoresearch/fashion-mnist."
        )
    # IDX headers: 16 bytes before the images, 8 before the labels.
    images = _read_idx(images_file, 16).reshape(-1, 28, 28)
    labels = _read_idx(labels_file, 8).astype(np.int32)
    if len(images) != len(labels):
        raise DatasetUnavailableError(
            f"The Fashion-MNIST files in {data_dir!r} disagree: {len(images)} "
            f"images, {len(labels)} labels. Reinstall them."
        )
    return images, labels


def fashion_images(split, *, data_dir=DEFAULT_DIR):
    """`(images, labels)` of one split: uint8 `(n, 28, 28)`, int32 `(n,)`."""
    check_split(NAME, split)
    if split == "test":
        return _official("test", data_dir)
    images, labels = _official("train", data_dir)
    order = np.random.default_rng(_SPLIT_SEED).permutation(len(images))
    chosen = order[:_VALIDATION_SIZE] if split == "validation" else order[_VALIDATION_SIZE:]
    chosen = np.sort(chosen)
    return images[chosen], labels[chosen]


def generate(split, *, image_size=(32, 32), examples_per_class=None,
             data_dir=DEFAULT_DIR):
    """The images and labels of one split as numpy arrays.

    Args:
        split: `"train"`, `"validation"` or `"test"`.
        image_size: int or (height, width). Defaults to `(32, 32)`.
        examples_per_class: int or None. Keep the first this many images of
            each class (the split's order is fixed, so a subset is the same
            on every run). Defaults to None (all).
        data_dir: str. Folder with the four Fashion-MNIST `*-ubyte.gz`
            files. Defaults to where Debian's `dataset-fashion-mnist`
            installs them.

    Returns:
        `(images, labels)`: uint8 `(n, h, w, 3)`, int32 `(n,)`.
    """
    check_split(NAME, split)
    image_size = check_image_size(image_size)
    examples_per_class = check_int(
        "examples_per_class", examples_per_class, allow_none=True
    )
    if not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(
            f"`data_dir` must be a folder path. Received: data_dir={data_dir!r}."
        )
    images, labels = fashion_images(split, data_dir=os.fspath(data_dir))
    if examples_per_class is not None:
        keep = np.sort(np.concatenate([
            np.flatnonzero(labels == c)[:examples_per_class] for c in range(10)
        ]))
        images, labels = images[keep], labels[keep]
    height, width = image_size
    if (height, width) != (28, 28):
        import cv2

        images = np.stack([
            cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
            for image in images
        ])
    return np.repeat(images[..., None], 3, axis=-1), labels


@register_dataset(
    NAME,
    task="image_classifier",
    source="embedded",
    options_from=generate,
    description="70,000 real product photos (Fashion-MNIST, 28x28 grey, 10 "
    "classes; Zalando SE, MIT licence) from Debian's dataset-fashion-mnist, "
    "resized to image_size; "
    "official test set, fixed train/validation split. Offline.",
)
def _build(split, *, seed=0, shuffle=None, **options):
    images, labels = generate(split, **options)
    return (images, labels), DatasetInfo(class_names=list(CLASS_NAMES))
