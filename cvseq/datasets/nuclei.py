"""Real cell nuclei: a fluorescence microscopy image, annotated by hand.

A 512x512 fluorescence microscopy image of cell nuclei and its
hand-annotated instance mask (183 nuclei, one id each), from the 2018
Kaggle Data Science Bowl (Caicedo et al. 2019, "Nucleus segmentation across
imaging experiments", Nature Methods 16), as the `stardist` package ships
them (`stardist/data/images/img2d.tif`, `mask2d.tif`; BSD-3-Clause). Install
the files with `pip install --no-deps stardist`: they are read by path with
tifffile, stardist itself is never imported.

Nobody here made or tuned anything on this data: it checks the defaults of
`image_segmenter`, `instance_segmenter` and `object_detector` on a real
annotated image (see docs/real_data.md).

The split is spatial, so no nucleus is in both: training tiles come from
the left columns (x < 272), test tiles from the right ones (x >= 320); the
48-pixel gap is wider than any nucleus (39 px at most), and no tile
straddles it. Training tiles are random crops with random horizontal and
vertical flips (seeded); the test tiles are a fixed grid (3 x 8 tiles of 64
pixels). There is no validation split (one image is too little to hold out
three ways).

Three registered layouts of the same tiles (uint8 `(h, w, 3)`: the grey
image, 0-235 as recorded, in three channels):

- `"nuclei_segmentation"` (`image_segmenter`): `(h, w)` int32 masks, 0
  background, 1 nucleus.
- `"nuclei_instances"` (`instance_segmenter`): `{"semantic": (h, w),
  "instances": (h, w)}` int32, as `digit_instances`: instance ids 1..k per
  tile, the largest visible part first (nuclei cut by the tile's border keep
  the part inside).
- `"nuclei_detection"` (`object_detector`): `{"boxes": (max_instances, 4),
  "labels": (max_instances,)}`, `xyxy` pixel boxes of each instance's mask
  (x2, y2 exclusive), label 0 (one class, "nucleus"), -1 padding.
"""

import functools
import importlib.util
import os

import numpy as np

from cvseq._validation import check_image_size, check_int
from cvseq.datasets import digit_scenes
from cvseq.datasets.registry import DatasetUnavailableError, register_generated

IMAGE_FILE = os.path.join("data", "images", "img2d.tif")
MASK_FILE = os.path.join("data", "images", "mask2d.tif")
SPLITS = ("train", "test")
# Columns [start, stop) of the 512-pixel-wide image each split draws from.
COLUMNS = {"train": (0, 272), "test": (320, 512)}
DEFAULT_TRAIN_TILES = 1000


def stardist_file(relative_path):
    """Path of a data file inside the installed `stardist` package (not
    imported: its import needs TensorFlow add-ons and csbdeep)."""
    spec = importlib.util.find_spec("stardist")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetUnavailableError(
            f"The stardist data files are not installed (needed: {relative_path}). "
            "Install them with `pip install --no-deps stardist`."
        )
    path = os.path.join(list(spec.submodule_search_locations)[0], relative_path)
    if not os.path.exists(path):
        raise DatasetUnavailableError(
            f"stardist has no data file {path}; reinstall it with "
            "`pip install --no-deps --force-reinstall stardist`.")
    return path


@functools.lru_cache(maxsize=1)
def image_and_instances():
    """The whole annotated image: uint8 `(512, 512)` grey, int32 `(512,
    512)` instance ids (0 background)."""
    import tifffile

    image = tifffile.imread(stardist_file(IMAGE_FILE))
    instances = tifffile.imread(stardist_file(MASK_FILE)).astype(np.int32)
    # Recorded as uint16 in 0-235: the values are kept, not stretched.
    image = np.clip(image, 0, 255).astype(np.uint8)
    return image, instances


def check_split(split):
    if split not in SPLITS:
        hint = (" (one image is too little to hold out three ways; validate on "
                "a part of the training tiles)") if split == "validation" else ""
        raise ValueError(
            f"The nuclei data sets have splits {', '.join(SPLITS)}{hint}. "
            f"Received: split={split!r}.")


def _relabel(ids):
    """Instance ids 1..k of one tile, the largest area first."""
    values, counts = np.unique(ids[ids > 0], return_counts=True)
    order = values[np.argsort(-counts, kind="stable")]
    lookup = np.zeros(int(ids.max()) + 1, np.int32)
    lookup[order] = np.arange(1, len(order) + 1)
    return lookup[ids]


def _corners(split, image_size, num_tiles, rng):
    """`(top, left, flip_rows, flip_cols)` of each tile of a split."""
    height, width = image_size
    start, stop = COLUMNS[split]
    if split == "test":
        return [(top, left, False, False)
                for top in range(0, 512 - height + 1, height)
                for left in range(start, stop - width + 1, width)]
    tops = rng.integers(0, 512 - height + 1, num_tiles)
    lefts = rng.integers(start, stop - width + 1, num_tiles)
    flips = rng.random((num_tiles, 2)) < 0.5
    return list(zip(tops, lefts, flips[:, 0], flips[:, 1]))


def generate(split, *, image_size=(64, 64), num_tiles=None, max_instances=32, seed=0):
    """Cuts the tiles of one split, as numpy arrays.

    Args:
        split: `"train"` or `"test"`.
        image_size: int or (height, width), each side 16 to 192 pixels (the
            test columns are 192 wide). Defaults to `(64, 64)`.
        num_tiles: int or None. Training tiles (random crops and flips);
            None: 1,000. The test split is a fixed grid (24 tiles of 64x64)
            and takes None only.
        max_instances: int. Boxes per tile in `boxes` / `labels`; a tile
            with more nuclei keeps the largest. Defaults to 32.
        seed: int. Seeds the training crops. Defaults to 0.

    Returns:
        A dict of `images` uint8 `(n, h, w, 3)`, `semantic` int32 `(n, h,
        w)` (0 background, 1 nucleus), `instances` int32 `(n, h, w)` (0
        none, 1..k by decreasing area), `boxes` float32 `(n,
        max_instances, 4)` (`xyxy` pixels, -1 padding) and `labels` int32
        `(n, max_instances)` (0 nucleus, -1 padding).

    Example:

    >>> tiles = generate("test", image_size=64)
    >>> tiles["images"].shape, tiles["instances"].shape
    ((24, 64, 64, 3), (24, 64, 64))
    """
    check_split(split)
    image_size = check_image_size(image_size, minimum=16)
    if max(image_size) > 192:
        raise ValueError(
            "`image_size` must be at most 192 on each side: the test columns of "
            f"the nuclei image are 192 pixels wide. Received: image_size={image_size}.")
    if split == "test" and num_tiles is not None:
        raise ValueError(
            "The nuclei test split is a fixed grid of tiles; `num_tiles` sets the "
            "training split only (with load_splits: `((\"train\", {\"num_tiles\": n}), "
            f"\"test\")`). Received: num_tiles={num_tiles!r} for split='test'.")
    num_tiles = check_int("num_tiles", DEFAULT_TRAIN_TILES if num_tiles is None
                          else num_tiles)
    max_instances = check_int("max_instances", max_instances)
    seed = check_int("seed", seed, minimum=0)

    image, instances = image_and_instances()
    rng = np.random.default_rng([seed, SPLITS.index(split), 21])
    corners = _corners(split, image_size, num_tiles, rng)
    height, width = image_size
    n = len(corners)
    out = {
        "images": np.zeros((n, height, width, 3), np.uint8),
        "semantic": np.zeros((n, height, width), np.int32),
        "instances": np.zeros((n, height, width), np.int32),
        "boxes": np.full((n, max_instances, 4), -1, np.float32),
        "labels": np.full((n, max_instances), -1, np.int32),
    }
    for i, (top, left, flip_rows, flip_cols) in enumerate(corners):
        window = np.s_[top:top + height, left:left + width]
        grey, ids = image[window], _relabel(instances[window])
        if flip_rows:
            grey, ids = grey[::-1], ids[::-1]
        if flip_cols:
            grey, ids = grey[:, ::-1], ids[:, ::-1]
        out["images"][i] = grey[..., None]
        out["semantic"][i] = ids > 0
        out["instances"][i] = ids
        for k in range(min(int(ids.max()), max_instances)):
            out["boxes"][i, k] = digit_scenes.mask_box(ids == k + 1)
            out["labels"][i, k] = 0
    return out


_SOURCE = ("Real fluorescence microscopy of cell nuclei, annotated by hand "
           "(2018 Data Science Bowl image in stardist's files; "
           "`pip install --no-deps stardist`), tiles split by image columns; ")
register_generated(
    "nuclei_segmentation", generate, task="image_segmenter",
    description=_SOURCE + "masks 0 background, 1 nucleus.",
    class_names=["background", "nucleus"],
    targets=lambda tiles: tiles["semantic"],
)
register_generated(
    "nuclei_instances", generate, task="instance_segmenter",
    description=_SOURCE + "semantic masks and an instance id per nucleus.",
    class_names=["background", "nucleus"],
    targets=lambda tiles: {"semantic": tiles["semantic"],
                           "instances": tiles["instances"]},
)
register_generated(
    "nuclei_detection", generate, task="object_detector",
    description=_SOURCE + "xyxy boxes of each nucleus, one class, -1 padding.",
    class_names=["nucleus"],
    targets=lambda tiles: {"boxes": tiles["boxes"], "labels": tiles["labels"]},
)
