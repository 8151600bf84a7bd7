"""Captioned images: real digits (or real product photos) on a 2x2 grid, in words.

Each image shows one to three real handwritten digits (`digits.py`: a test
digit image never appears in training), each in its own quarter of the
image, at a random offset within it. The caption says how many digits
there are, which, and where, in reading order:

    "one digit 7 at top right"
    "two digits 4 at top left and 0 at bottom right"
    "three digits 1 at top left 8 at bottom left and 2 at bottom right"

`fashion_captions` lays real product photos (Fashion-MNIST, Debian's
`dataset-fashion-mnist`) out on the same grid (`place_on_grid`) and names
them: "a sneaker at top left and a bag at bottom right".

`caption_inputs` turns images and caption strings into an
`image_captioner`'s teacher-forcing inputs; `load("digit_captions")` yields
them ready to fit. The same helper serves the COCO adapter
(`tfds_captions.py`) and your own data.
"""

import numpy as np

from cvseq import text
from cvseq._tf import LazyTensorFlow
from cvseq._validation import check_image_size, check_int
from cvseq.datasets import digits
from cvseq.datasets.registry import (
    DatasetInfo,
    register_dataset,
)

tf = LazyTensorFlow("cvseq.datasets 'digit_captions' (tf.data)")

CELLS = ("top left", "top right", "bottom left", "bottom right")
COUNTS = ("one", "two", "three")
# Every word the captions use: pass it as the captioner's `vocabulary`.
VOCABULARY = [
    *COUNTS, "digit", "digits", *[str(d) for d in range(10)],
    "at", "top", "bottom", "left", "right", "and",
]
DEFAULT_IMAGES = {"train": 4000, "validation": 500, "test": 500}
# Decoder positions the longest caption needs: "[START]" + 15 words.
SEQUENCE_LENGTH = 16


def describe(labels_by_cell):
    """The caption of an image: `{cell index: digit}` -> str."""
    cells = sorted(labels_by_cell)
    count = len(cells)
    noun = "digit" if count == 1 else "digits"
    parts = [f"{labels_by_cell[c]} at {CELLS[c]}" for c in cells]
    if count > 1:
        parts[-1] = "and " + parts[-1]
    return " ".join([COUNTS[count - 1], noun, *parts])


def generate_captions(split, *, num_images=None, image_size=(48, 48), max_digits=3, seed=0):
    """Generates captioned digit images as numpy arrays and strings.

    Returns:
        `(images, captions)`: uint8 `(n, h, w, 3)` and a list of n str.
    """
    num_images, image_size, max_digits = _check_grid_options(
        "digit_captions", split, num_images, image_size, "max_digits", max_digits)
    images_in_split, labels = digits.digit_images(split)
    rng = np.random.default_rng([seed, digits.SPLITS.index(split), 23])
    images, scenes = place_on_grid(
        images_in_split, labels, num_images=num_images, image_size=image_size,
        max_items=max_digits, rng=rng, resize=digits.resize_digit,
    )
    return images, [describe(scene) for scene in scenes]


def _check_grid_options(dataset, split, num_images, image_size, max_name, max_value,
                        why=""):
    """The argument checks of the caption grids: `(num_images, image_size,
    max_value)`, normalized (`num_images` None: the split's default)."""
    digits.check_split(dataset, split)
    num_images = check_int(
        "num_images", DEFAULT_IMAGES[split] if num_images is None else num_images
    )
    image_size = check_image_size(image_size, minimum=24)
    max_value = check_int(max_name, max_value)
    if max_value > len(COUNTS):
        raise ValueError(
            f"`{max_name}` must be at most {len(COUNTS)}{why}. Received: "
            f"{max_name}={max_value}."
        )
    return num_images, image_size, max_value


def place_on_grid(sources, labels, *, num_images, image_size, max_items, rng, resize):
    """Lays one to `max_items` source images out on a 2x2 grid, one per cell.

    Each image gets a random number of items in random cells, each item a
    random source image (no source twice in one image) scaled to 70% of a
    cell and put at a random offset inside its cell, on black.

    Args:
        sources: `(n, h, w)` grey source images (objects on black).
        labels: `(n,)` int labels of the sources.
        num_images: int. Images to make.
        image_size: `(height, width)`.
        max_items: int in [1, 4].
        rng: `np.random.Generator`; the draws are its only randomness.
        resize: function `(source, size) -> (size, size)` uint8.

    Returns:
        `(images, scenes)`: uint8 `(num_images, height, width, 3)` and a list
        of `{cell index: label}` (cells index `CELLS`).
    """
    cell_h, cell_w = image_size[0] // 2, image_size[1] // 2
    glyph = max(8, int(round(min(cell_h, cell_w) * 0.7)))
    images = np.zeros((num_images, *image_size, 3), np.uint8)
    scenes = []
    for i in range(num_images):
        count = rng.integers(1, max_items + 1)
        cells = np.sort(rng.choice(len(CELLS), size=count, replace=False))
        chosen = rng.choice(len(sources), size=count, replace=False)
        scene = {}
        for cell, j in zip(cells, chosen):
            row = (cell // 2) * cell_h + rng.integers(0, cell_h - glyph + 1)
            col = (cell % 2) * cell_w + rng.integers(0, cell_w - glyph + 1)
            images[i, row:row + glyph, col:col + glyph] = resize(sources[j], glyph)[..., None]
            scene[int(cell)] = int(labels[j])
        scenes.append(scene)
    return images, scenes


def caption_inputs(images, captions, *, vocabulary, sequence_length):
    """Turns images and captions into an `image_captioner`'s training data.

    The decoder reads each caption shifted right behind `"[START]"` and
    learns to predict the next word at every position, then `"[END]"`:

        decoder_input:  [START] two  digits 4  ... 0
        targets:        two     digits 4    ... [END] 0

    Args:
        images: uint8 `(n, h, w, 3)` (or anything the model takes).
        captions: list of n str.
        vocabulary: the captioner's `vocabulary`.
        sequence_length: int. The captioner's `sequence_length`; captions
            keep at most `sequence_length - 1` words.

    Returns:
        `(inputs, target_ids)`: `{"images": images, "decoder_input": int32
        (n, sequence_length)}` and int32 `(n, sequence_length)`.
        `model.fit(inputs, target_ids)` trains.
    """
    captions = [str(c) for c in captions]
    if len(images) != len(captions):
        raise ValueError(
            f"`images` and `captions` must be aligned. Received {len(images)} "
            f"images and {len(captions)} captions."
        )
    vocabulary = text.check_vocabulary("vocabulary", vocabulary)
    sequence_length = check_int("sequence_length", sequence_length, minimum=2)
    decoder_input, target_ids = text.teacher_forcing_ids(
        captions, vocabulary=vocabulary, sequence_length=sequence_length)
    return {"images": images, "decoder_input": decoder_input}, target_ids


def caption_inputs_fn(*, vocabulary, sequence_length):
    """`caption_inputs` for one example inside a `tf.data` pipeline.

    Returns:
        A function `(image, caption string) -> ({"images", "decoder_input"},
        target_ids)`, for `dataset.map`.
    """
    vocabulary = text.check_vocabulary("vocabulary", vocabulary)
    sequence_length = check_int("sequence_length", sequence_length, minimum=2)
    vectorizer = text.make_vectorizer(
        vocabulary, extra_tokens=(text.START, text.END),
        sequence_length=sequence_length - 1,
    )
    start = text.token_id(vectorizer, text.START)
    end = text.token_id(vectorizer, text.END)

    def fn(image, caption):
        ids = tf.cast(vectorizer(caption), tf.int32)  # (sequence_length - 1,)
        length = tf.math.count_nonzero(ids, dtype=tf.int32)
        decoder_input = tf.concat([[start], ids], axis=0)
        targets = tf.concat([ids, [0]], axis=0)
        targets += end * tf.one_hot(length, sequence_length, dtype=tf.int32)
        return {"images": image, "decoder_input": decoder_input}, targets

    return fn


@register_dataset(
    "digit_captions",
    task="image_captioner",
    source="embedded",
    options_from=generate_captions,
    description="Real handwritten digits on a 2x2 grid with captions that say "
    "how many, which and where. Offline.",
)
def _build(split, *, seed=0, shuffle=None, sequence_length=SEQUENCE_LENGTH, **options):
    images, captions = generate_captions(split, seed=seed, **options)
    inputs, targets = caption_inputs(
        images, captions, vocabulary=VOCABULARY, sequence_length=sequence_length
    )
    info = DatasetInfo(
        num_examples=len(images),
        description="Digits on a 2x2 grid with captions (what, where, how many).",
        vocabulary=list(VOCABULARY),
    )
    return tf.data.Dataset.from_tensor_slices((inputs, targets)), info


# ---------------------------------------------------------------------------
# Real product photos on the same grid: `fashion_captions`.
# ---------------------------------------------------------------------------

# What each Fashion-MNIST class is called in a caption (article and noun;
# "t-shirt/top" without the punctuation the vectorizer strips).
FASHION_PHRASES = (
    "a tee shirt", "a trouser", "a pullover", "a dress", "a coat",
    "a sandal", "a shirt", "a sneaker", "a bag", "an ankle boot",
)
FASHION_VOCABULARY = sorted(
    {word for phrase in FASHION_PHRASES for word in phrase.split()}
    | {"at", "top", "bottom", "left", "right", "and"}
)
# "[START]" + the longest caption: three items of six words and "and".
FASHION_SEQUENCE_LENGTH = 20


def describe_products(labels_by_cell):
    """The caption of a product image: `{cell index: class}` -> str.

    "a sneaker at top left and a bag at bottom right"
    """
    cells = sorted(labels_by_cell)
    parts = [f"{FASHION_PHRASES[labels_by_cell[c]]} at {CELLS[c]}" for c in cells]
    if len(parts) > 1:
        parts[-1] = "and " + parts[-1]
    return " ".join(parts)


def _resize_product(image, size):
    import cv2

    shrink = size < image.shape[0]
    return cv2.resize(image, (size, size),
                      interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def generate_fashion_captions(split, *, num_images=None, image_size=(48, 48),
                              max_items=3, seed=0, data_dir=None):
    """Real product photos on a 2x2 grid, captioned with what and where.

    One to `max_items` Fashion-MNIST photos (read by
    `cvseq.datasets.fashion_images`; Debian's `dataset-fashion-mnist`) per
    image, each in its own quarter, captioned with their classes and cells
    in reading order. The `"test"` images use only the official test
    photos; `"train"` and `"validation"` the two disjoint parts of the
    official training photos, so no test photo is ever trained on.

    Args:
        split: `"train"`, `"validation"` or `"test"`.
        num_images: int or None. Defaults to 4,000 / 500 / 500.
        image_size: int or (height, width), at least 24. Defaults to 48.
        max_items: int in [1, 3]. Defaults to 3.
        seed: int. Same seed, same images.
        data_dir: str or None. Folder with the four Fashion-MNIST files;
            None: where Debian installs them.

    Returns:
        `(images, captions)`: uint8 `(n, h, w, 3)` and a list of n str.
    """
    from cvseq.datasets import fashion_images

    num_images, image_size, max_items = _check_grid_options(
        "fashion_captions", split, num_images, image_size, "max_items", max_items,
        why=f" (captions fit {FASHION_SEQUENCE_LENGTH - 1} words)")
    sources, labels = fashion_images.fashion_images(
        split, data_dir=fashion_images.DEFAULT_DIR if data_dir is None else data_dir)
    rng = np.random.default_rng([seed, digits.SPLITS.index(split), 29])
    images, scenes = place_on_grid(
        sources, labels, num_images=num_images, image_size=image_size,
        max_items=max_items, rng=rng, resize=_resize_product,
    )
    return images, [describe_products(scene) for scene in scenes]


@register_dataset(
    "fashion_captions",
    task="image_captioner",
    source="embedded",
    options_from=generate_fashion_captions,
    description="Real product photos (Fashion-MNIST, Debian's "
    "dataset-fashion-mnist) on a 2x2 grid, captioned with their classes and "
    "where they are. Offline.",
)
def _build_fashion(split, *, seed=0, shuffle=None,
                   sequence_length=FASHION_SEQUENCE_LENGTH, **options):
    images, captions = generate_fashion_captions(split, seed=seed, **options)
    inputs, targets = caption_inputs(
        images, captions, vocabulary=FASHION_VOCABULARY, sequence_length=sequence_length
    )
    info = DatasetInfo(
        num_examples=len(images),
        description="Fashion-MNIST product photos (Zalando SE, MIT licence) on "
        "a 2x2 grid with captions (what, where).",
        vocabulary=list(FASHION_VOCABULARY),
    )
    return tf.data.Dataset.from_tensor_slices((inputs, targets)), info
