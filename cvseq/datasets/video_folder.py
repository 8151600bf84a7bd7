"""Your own videos: `root/<label>/*.mp4|avi|...`, decoded with OpenCV.

Layouts:

- `root/<label>/*.mp4` (no split folders): each label's files are split
  70/15/15 into `"train"`, `"validation"` and `"test"` by a stable hash of
  their names (`validation_split` and `test_split` set the shares), the same
  files on every machine and run whatever the `seed`, so `cvseq evaluate`
  finds the files `cvseq train` held out.
- `root/<split>/<label>/*.mp4`: each split from its folder; a split without
  its folder (`validation`, `test`) can be held out of `root/train/` by
  passing its share.

Clips of `frames` frames are sampled uniformly over each video (evaluation)
or at a random offset within each of `frames` equal segments (training, as
in temporal segment networks), resized to `image_size`. A header's frame
count is a hint: the first read of a file decodes it to its end, and when
fewer (or more) frames decode than the header says, clips are sampled from
the frames that did decode (the count is cached per file) with a warning.
Rotation metadata of phone videos is applied (frames come upright);
grayscale files come as RGB with equal channels. When the data set is
loaded, every file is opened and its first frame decoded: files with no
decodable frame are left out with one warning that names them, listed in
`DatasetInfo.skipped`, and `DatasetInfo.num_examples` counts the readable
files; a split with no readable file is a `ValueError` that names the files
and why.
"""

import concurrent.futures
import hashlib
import os
import threading
import warnings

import cv2
import numpy as np

from cvseq._tf import LazyTensorFlow
from cvseq._validation import check_bool, check_fraction, check_image_size, check_int
from cvseq.errors import UserInputError
from cvseq.datasets.registry import (
    DatasetInfo,
    register_dataset,
)

tf = LazyTensorFlow("cvseq.datasets 'video_folder' as a tf.data pipeline")

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg",
                    ".3gp", ".mts", ".m2ts", ".ts", ".wmv", ".flv", ".ogv")
SPLITS = ("train", "validation", "test")
# Shares held out of root/<label>/ when it has no split folders, as for the
# embedded data sets (70/15/15).
DEFAULT_SHARES = {"validation": 0.15, "test": 0.15}

_ROTATIONS = {
    90: cv2.ROTATE_90_CLOCKWISE,
    180: cv2.ROTATE_180,
    270: cv2.ROTATE_90_COUNTERCLOCKWISE,
}


class VideoReadError(IOError):
    """A video file could not be opened or decoded."""


def opencv_failure(err):
    """A `cv2.error` raised on a file's frames, as the `VideoReadError` that
    every reader's caller catches (its last line says what failed)."""
    lines = str(err).strip().splitlines()
    return VideoReadError(f"OpenCV fails on it ({lines[-1] if lines else type(err).__name__})")


# ---------------------------------------------------------------------------
# Decoding.
# ---------------------------------------------------------------------------

# Frames that really decode, per file version: (path, size, mtime) -> count.
_frame_counts = {}
_counts_lock = threading.Lock()


def _file_key(path):
    try:
        stat = os.stat(path)
    except OSError as err:
        raise VideoReadError(f"it cannot be read ({err.strerror})") from err
    return os.path.abspath(path), stat.st_size, stat.st_mtime_ns


def _cached_count(key):
    with _counts_lock:
        return _frame_counts.get(key)


def _remember_count(key, count):
    with _counts_lock:
        first = key not in _frame_counts
        _frame_counts[key] = count
    return first


def _open(path):
    """Opens `path`; returns the capture and the rotation still to apply."""
    try:
        capture = cv2.VideoCapture(os.fspath(path))
    except cv2.error as err:
        raise opencv_failure(err) from err
    if not capture.isOpened():
        capture.release()
        raise VideoReadError(
            "OpenCV cannot open it (not a video, cut before its header, or a "
            "codec this OpenCV build lacks)"
        )
    # Phones store portrait video as landscape frames plus a rotation in the
    # metadata. OpenCV's FFmpeg backend turns the frames upright when
    # CAP_PROP_ORIENTATION_AUTO is on (its default since 4.5); where a
    # backend does not, rotate here.
    capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    rotation = int(round(capture.get(cv2.CAP_PROP_ORIENTATION_META))) % 360
    if capture.get(cv2.CAP_PROP_ORIENTATION_AUTO):
        rotation = 0
    return capture, _ROTATIONS.get(rotation)


def _to_rgb(frame, rotation, image_size=None):
    """An OpenCV frame (BGR, BGRA or gray) as upright uint8 RGB."""
    try:
        return _upright_rgb(frame, rotation, image_size)
    except cv2.error as err:
        raise opencv_failure(err) from err


def _upright_rgb(frame, rotation, image_size):
    if rotation is not None:
        frame = cv2.rotate(frame, rotation)
    if frame.ndim == 2 or frame.shape[-1] == 1:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
    elif frame.shape[-1] == 4:
        frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2RGB)
    else:
        frame = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    if image_size is not None:
        height, width = image_size
        frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    return frame


def _decode(path, wanted, image_size, *, to_end):
    """Decodes the frames `wanted` in one sequential pass.

    Returns `({index: frame}, decoded)`: `decoded` is the number of frames
    that decoded before the stream ended, or None when the pass stopped at
    the last wanted frame (`to_end=False`) without reaching the end.
    """
    capture, rotation = _open(path)
    try:
        wanted = set(int(i) for i in wanted)
        last = max(wanted)
        frames, index = {}, 0
        while to_end or index <= last:
            if not capture.grab():
                return frames, index
            if index in wanted:
                ok, frame = capture.retrieve()
                if not ok or frame is None:
                    return frames, index  # a corrupt frame ends the usable part
                frames[index] = _to_rgb(frame, rotation, image_size)
            index += 1
        return frames, None
    finally:
        capture.release()


def frame_indices(num_frames, frames, *, rng=None):
    """Which frames to take from a video of `num_frames` frames.

    Uniform over the video when `rng` is None; otherwise one random frame in
    each of `frames` equal segments. Short videos repeat frames.
    """
    edges = np.linspace(0, num_frames, frames + 1)
    if rng is None:
        picks = (edges[:-1] + edges[1:]) / 2
    else:
        picks = rng.uniform(edges[:-1], edges[1:])
    return np.clip(np.floor(picks).astype(int), 0, num_frames - 1)


def header_frame_count(path):
    """The frame count a file's header claims (0 when it gives none)."""
    capture, _ = _open(path)
    try:
        return max(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
    finally:
        capture.release()


def decoded_frame_count(path):
    """How many frames of `path` really decode (decoded once, then cached).

    Raises:
        VideoReadError: the file cannot be opened.
    """
    key = _file_key(os.fspath(path))
    count = _cached_count(key)
    if count is None:
        _, count = _decode(path, [0], None, to_end=True)
        _remember_count(key, count)
    return count


def read_clip(path, frames, image_size, *, rng=None):
    """Decodes `frames` frames of a video file as uint8 RGB.

    The header's frame count is a hint: the first read of a file decodes it
    to its end, and when another number of frames decodes (a truncated
    file, a header that estimates), the clip is sampled from the frames that
    did decode, with a warning; the count is cached per file (path, size
    and modification time), so later reads stop at the last frame they need.

    Args:
        path: str. The video file.
        frames: int. Frames to sample.
        image_size: (height, width) of the returned frames.
        rng: `numpy.random.Generator` or None. Random sampling if given.

    Returns:
        uint8 `(frames, height, width, 3)`, upright (rotation metadata
        applied) and RGB (grayscale files have equal channels).

    Raises:
        VideoReadError: the file cannot be opened or no frame decodes.
    """
    path = os.fspath(path)
    key = _file_key(path)
    known = _cached_count(key)
    claimed = known if known is not None else header_frame_count(path)
    if known is None and claimed == 0:
        known = decoded_frame_count(path)  # no count in the header: count once
        claimed = known
    if claimed == 0:
        raise VideoReadError("it has no frame OpenCV can decode")
    wanted = frame_indices(claimed, frames, rng=rng)
    decoded, count = _decode(path, wanted, image_size, to_end=known is None)
    if known is None:
        first = _remember_count(key, count)
        if count == 0:
            raise VideoReadError("it has no frame OpenCV can decode")
        if count != claimed:
            if first:
                warnings.warn(
                    f"Video {path!r}: its header says {claimed} frames but "
                    f"{count} decode (truncated, or an estimated count); "
                    f"sampling clips from the {count} decoded frames.",
                    stacklevel=2,
                )
            wanted = frame_indices(count, frames, rng=rng)
            decoded, _ = _decode(path, wanted, image_size, to_end=False)
    missing = [int(i) for i in wanted if int(i) not in decoded]
    if missing:  # the file changed or decodes differently from the first pass
        raise VideoReadError(
            f"frame {missing[0]} decoded before but not now (did the file change?)"
        )
    return np.stack([decoded[int(i)] for i in wanted])


def read_frames(path, *, batch_size=16):
    """Decodes every frame of a video file, in order, as uint8 RGB batches.

    Args:
        path: str. The video file.
        batch_size: int. Frames per yielded batch (the last may be shorter).

    Yields:
        uint8 `(n, height, width, 3)` consecutive frames, upright and RGB.

    Raises:
        VideoReadError: the file cannot be opened or has no frame.
    """
    capture, rotation = _open(path)
    try:
        batch = []
        decoded = 0
        while True:
            ok, frame = capture.read()
            if not ok or frame is None:
                break
            batch.append(_to_rgb(frame, rotation))
            decoded += 1
            if len(batch) == batch_size:
                yield np.stack(batch)
                batch = []
        if batch:
            yield np.stack(batch)
        if not decoded:
            raise VideoReadError("it has no frame OpenCV can decode")
    finally:
        capture.release()


def unreadable_reason(path):
    """Why `path` has no decodable frame, or None when its first frame decodes."""
    return _probe_file(path)[0]


def _probe_file(path):
    """`(reason, frames)`: why `path` has no decodable frame (None when its
    first frame decodes), and its frame count (decoded if cvseq decoded it
    before, else the header's; 0 when unknown)."""
    capture = None
    try:
        known = _cached_count(_file_key(path))
        if known:
            return None, known
        capture, _ = _open(path)
        ok, frame = capture.read()
        if not ok or frame is None:
            return "it has no frame OpenCV can decode", 0
        return None, max(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
    except VideoReadError as err:
        return str(err), 0
    finally:
        if capture is not None:
            capture.release()


# ---------------------------------------------------------------------------
# Layout and splits.
# ---------------------------------------------------------------------------


def _subfolders(folder):
    return sorted(
        d for d in os.listdir(folder)
        if os.path.isdir(os.path.join(folder, d)) and not d.startswith(".")
    )


# Files systems and file managers leave beside users' files.
_SYSTEM_FILES = {"thumbs.db", "desktop.ini"}


def _files(folder, extensions=VIDEO_EXTENSIONS, videos=True):
    """The video file names in `folder` (or, `videos=False`, its other
    files); hidden files (macOS's `._clip.mp4` resource forks), system files
    (`Thumbs.db`) and folders (a `holiday.mp4/`) are neither."""
    return sorted(f for f in os.listdir(folder)
                  if f.lower().endswith(extensions) == videos and not f.startswith(".")
                  and f.lower() not in _SYSTEM_FILES
                  and not os.path.isdir(os.path.join(folder, f)))


def _videos(folder, extensions=VIDEO_EXTENSIONS):
    return _files(folder, extensions)


def _nested_video_folders(folder, extensions=VIDEO_EXTENSIONS):
    """Subfolders of `folder` with videos anywhere below them."""
    return [d for d in _subfolders(folder)
            if any(name.lower().endswith(extensions)
                   for _, _, names in os.walk(os.path.join(folder, d))
                   for name in names)]


def _warn_other_files(root, labels, extensions):
    """Files in label folders that are not read (an image, a .txt, a video
    format not in `extensions`): said once, with a few names."""
    others = [os.path.join(label, f) for label in labels
              if os.path.isdir(os.path.join(root, label))
              for f in _files(os.path.join(root, label), extensions, videos=False)]
    if others:
        warnings.warn(
            f"{len(others)} file(s) in the label folders of {root!r} are not read, "
            f"their names not ending as a video's ({', '.join(extensions)}): "
            f"{', '.join(map(repr, others[:5]))}{' and more' if len(others) > 5 else ''}. "
            "Convert videos of another format (e.g. with ffmpeg), or move the "
            "other files out.",
            stacklevel=5,
        )


def _check_root(root):
    """`root` as a str path, `~` expanded; a folder."""
    root = os.fspath(root)
    if not isinstance(root, str):
        raise TypeError(
            f"`root` must be a str or path-like folder name. Received: root={root!r} "
            f"({type(root).__name__}); decode it, e.g. root.decode().")
    root = os.path.expanduser(root)
    if not os.path.isdir(root):
        raise ValueError(f"`root` must be a folder of videos. Received: root={root!r}.")
    return root


def _holds_labels(folder):
    """A split folder holds label folders (and no videos of its own)."""
    return (os.path.isdir(folder) and bool(_subfolders(folder))
            and not _videos(folder))


def scan_folder(root, extensions=VIDEO_EXTENSIONS, labels=None):
    """Lists `(path, label_index)` pairs and the sorted label names.

    Args:
        root: str. A folder of label folders.
        extensions: tuple of str. File name endings that count as videos.
        labels: list of str or None. Label names to index by (a split folder
            may lack some); None takes the subfolders of `root`.

    Raises:
        ValueError: no such folder, no label subfolders, or no videos.
    """
    root = _check_root(root)
    present = _subfolders(root)
    if not present:
        loose = _videos(root, extensions)
        hint = (
            f" It holds {len(loose)} video files directly: move them into one "
            "subfolder per label." if loose else ""
        )
        raise ValueError(
            f"Expected one subfolder per label (root/<label>/*.mp4) in "
            f"{root!r}, found none.{hint}"
        )
    labels = present if labels is None else labels
    items = []
    for index, label in enumerate(labels):
        folder = os.path.join(root, label)
        if os.path.isdir(folder):
            items.extend((os.path.join(folder, name), index)
                         for name in _videos(folder, extensions))
            _warn_nested(folder, extensions)
    _warn_other_files(root, labels, extensions)
    if not items:
        raise ValueError(
            f"No video files ({', '.join(extensions)}) in the label folders of "
            f"{root!r} (labels seen: {', '.join(present)})."
        )
    return items, labels


def _warn_nested(folder, extensions):
    """Videos in subfolders of a label folder are not read: said once."""
    nested = _nested_video_folders(folder, extensions)
    if nested:
        warnings.warn(
            f"Label folder {folder!r} has subfolders with videos "
            f"({', '.join(map(repr, nested[:5]))}) that are not read: cvseq "
            "reads root/<label>/*.mp4, one level deep. Move those videos up "
            "into the label folder, or make each subfolder a label.",
            stacklevel=4,
        )


def _check_labels(root, labels, class_names, pools):
    """The labels to index by: `class_names` when given (a trained model's
    classes; a label folder not among them is an error), else `labels`,
    each of which must hold a video in one of the `pools` (folders of label
    folders) - an empty label folder would be a class with no example."""
    if class_names is not None:
        unknown = [label for label in labels if label not in class_names]
        if unknown:
            raise ValueError(
                f"{root!r} has label folder(s) {', '.join(map(repr, unknown))} "
                f"that are not among class_names={list(class_names)!r} (the "
                "classes of the model). Remove or rename them, or train a model "
                "with these classes."
            )
        return list(class_names)
    empty = [label for label in labels if not any(
        os.path.isdir(os.path.join(pool, label))
        and _videos(os.path.join(pool, label)) for pool in pools)]
    if empty:
        nested = [f"{label}/{sub}" for label in empty for pool in pools
                  if os.path.isdir(os.path.join(pool, label))
                  for sub in _nested_video_folders(os.path.join(pool, label))]
        hint = (f" Their videos are one level deeper ({', '.join(map(repr, nested[:5]))}), "
                "where cvseq does not read: it reads root/<label>/*.mp4. Move them up "
                "into the label folders, or make each subfolder a label."
                if nested else " Add videos to them or remove them.")
        raise ValueError(
            f"Label folder(s) {', '.join(map(repr, empty))} of {root!r} hold no "
            f"video file ({', '.join(VIDEO_EXTENSIONS)}): each would be a class "
            f"with no example.{hint}"
        )
    return labels


def _check_class_names(class_names):
    if class_names is None:
        return None
    if (isinstance(class_names, str) or not all(isinstance(c, str) for c in class_names)
            or len(set(class_names)) != len(class_names) or not class_names):
        raise ValueError(
            "`class_names` must be a list of distinct label names (str), such "
            f"as a model's run.json class_names. Received: class_names={class_names!r} "
            "(on the command line, quote the names: --data \"class_names=['cats', "
            "'dogs']\")."
        )
    return list(class_names)


def _warn_unheld(items, labels, split, shares):
    """Labels with files too few to hold any out: the held-out splits have
    none of them, so their scores say nothing of those labels."""
    counts = np.bincount([t for _, t in items], minlength=len(labels))
    few = [labels[i] for i, n in enumerate(counts)
           if 0 < n and not _share_sizes(int(n), shares).get(split)]
    if few:
        warnings.warn(
            f"The {split!r} split has no file of label(s) "
            f"{', '.join(map(repr, few[:8]))}{' and more' if len(few) > 8 else ''}: "
            "a label needs 3 or more files to have some held out. Its "
            f"{split} score says nothing of them; add videos, or put the {split} "
            f"videos in root/{split}/<label>/.",
            stacklevel=4,
        )


def _stable_order(label, names):
    """Files of a label in an order fixed by their names, not by any seed."""
    def position(name):
        return hashlib.sha256(f"{label}/{name}".encode("utf-8")).hexdigest()
    return sorted(names, key=position)


def _share_sizes(n, shares):
    """Files of a label of `n` files that each held-out share takes.

    `round(share * n)`, at least one file once a label has 3 or more, and
    training keeps at least one.
    """
    sizes = {}
    for split, share in shares.items():
        size = int(round(share * n))
        sizes[split] = max(size, 1) if share > 0 and n >= 3 else size
    for split in ("validation", "test"):  # give back to training if needed
        while split in sizes and sizes[split] and n - sum(sizes.values()) < 1:
            sizes[split] -= 1
    return sizes


def held_out_items(items, labels, split, shares):
    """The items of `split` when `shares` of each label are held out.

    Args:
        items: `(path, label_index)` pairs of the training pool.
        labels: label names.
        split: `"train"` or a key of `shares`.
        shares: dict split -> fraction held out of each label.
    """
    by_label = {}
    for path, target in items:
        by_label.setdefault(target, []).append(path)
    chosen = []
    for target, paths in sorted(by_label.items()):
        names = {os.path.basename(p): p for p in paths}
        order = _stable_order(labels[target], names)
        sizes = _share_sizes(len(order), shares)
        start = 0
        for name in ("test", "validation"):
            size = sizes.get(name, 0)
            if split == name:
                picked = order[start:start + size]
            start += size
        if split == "train":
            picked = order[start:]
        chosen.extend((names[n], target) for n in sorted(picked))
    return chosen


def _check_shares(shares):
    if sum(shares.values()) >= 1:
        raise ValueError(
            "validation_split + test_split must leave files for training. "
            f"Received: validation_split={shares.get('validation')}, "
            f"test_split={shares.get('test')} (defaults: 0.15 each for "
            "root/<label>/ without split folders)."
        )


# Names people give split folders, and the split cvseq reads them as.
_SPLIT_ALIASES = {"validation": ("val", "valid", "dev"), "test": ("testing",),
                  "train": ("training",)}


def _split_alias(root, split):
    """A folder of `root` named as `split` is often named otherwise: `val/`
    for `validation/`, `Train/` for `train/`."""
    names = {split, *_SPLIT_ALIASES.get(split, ())}
    return next((d for d in _subfolders(root)
                 if d != split and d.lower() in names
                 and _holds_labels(os.path.join(root, d))), None)


def _check_split_folders(root):
    """Split folders cvseq would not read as such: named otherwise (`val/`,
    `Train/`) or holding videos beside their label folders."""
    for name in SPLITS:
        alias = _split_alias(root, name)
        if alias and not _holds_labels(os.path.join(root, name)):
            raise UserInputError(
                f"{root!r} has a {alias!r} folder where cvseq reads "
                f"{name!r}: rename root/{alias}/ to root/{name}/.")
        folder = os.path.join(root, name)
        # Videos beside label folders, where another split folder holds
        # labels (else root/train/ is a label folder of root/<label>/).
        loose = _videos(folder) if os.path.isdir(folder) and _subfolders(folder) else []
        if loose and any(_holds_labels(os.path.join(root, other))
                         for other in SPLITS if other != name):
            raise UserInputError(
                f"{folder!r} holds video files directly ({', '.join(map(repr, loose[:5]))}"
                f"{' and more' if len(loose) > 5 else ''}) beside its label folders: "
                f"move them into a label folder, root/{name}/<label>/.")


def _plan(root, split, validation_split, test_split, class_names=None):
    """`(items, labels, where)` of `split` under `root`: where the files come
    from, in words. `class_names`: the labels to index by (see
    `_check_labels`)."""
    given = {"validation": validation_split, "test": test_split}
    for name, value in given.items():
        if value is not None:
            check_fraction(f"{name}_split", value)
    root = _check_root(root)
    _check_split_folders(root)
    split_folders = [s for s in SPLITS if _holds_labels(os.path.join(root, s))]
    own_folder = os.path.join(root, split)

    if not split_folders:  # root/<label>/*.mp4: hold out shares of each label
        shares = {name: DEFAULT_SHARES[name] if value is None else value
                  for name, value in given.items()}
        pool_root = root
        if split not in SPLITS:
            raise ValueError(
                f"`split` must be one of {', '.join(SPLITS)} for a folder "
                f"without split folders. Received: split={split!r}."
            )
        where = (f"{split} share of {root!r} (validation_split="
                 f"{shares['validation']}, test_split={shares['test']})")
        _check_shares(shares)
        # None: scan_folder says what a folder without label folders lacks.
        labels = _subfolders(root) or None
        if labels:
            labels = _check_labels(root, labels, class_names, [root])
    else:
        for name, value in given.items():
            if value is not None and name in split_folders:
                raise ValueError(
                    f"{root!r} has a {name!r} folder, so {name}_split={value} "
                    f"would hold out a second {name} set. Drop {name}_split, "
                    f"or move root/{name}/ into root/train/ to hold out a share."
                )
        shares = {n: v for n, v in given.items() if v}
        _check_shares(shares)
        # Label indices agree across split folders even where one lacks a label.
        labels = sorted({label for s in split_folders
                         for label in _subfolders(os.path.join(root, s))})
        labels = _check_labels(root, labels, class_names,
                               [os.path.join(root, s) for s in split_folders])
        if split not in shares:  # the split's own folder
            if not _holds_labels(own_folder):
                names = ", ".join(f"'{s}'" for s in split_folders)
                raise ValueError(
                    f"{root!r} has no {split!r} subfolder (it has {names}). "
                    f"Put the videos in root/{split}/<label>/, "
                    + (f"or pass {split}_split=0.15 to hold out a share of "
                       "root/train/." if split in given else
                       f"or load one of {names}.")
                )
            items, labels = scan_folder(own_folder, labels=labels)
            if split != "train":
                missing = sorted(set(labels) - {labels[t] for _, t in items})
                if missing:
                    warnings.warn(
                        f"{own_folder!r} has no file of label(s) "
                        f"{', '.join(map(repr, missing[:8]))}: its {split} score "
                        "says nothing of them.", stacklevel=4)
            where = repr(own_folder)
            if split == "train" and shares:
                items = held_out_items(items, labels, "train", shares)
                where += f" less its held-out {' and '.join(shares)} share"
            return items, labels, where
        pool_root = os.path.join(root, "train")
        if not _holds_labels(pool_root):
            raise ValueError(
                f"{split}_split holds out a share of root/train/, which "
                f"{root!r} lacks. Put the training videos in root/train/<label>/."
            )
        where = f"{split}_split={shares[split]} of {pool_root!r}"

    items, labels = scan_folder(pool_root, labels=labels)
    held = {n: v for n, v in shares.items() if v}
    if split != "train" and not held.get(split):
        raise ValueError(
            f"{split}_split=0 holds out no {split} files of {pool_root!r}. "
            f"Pass {split}_split > 0 or put the videos in root/{split}/<label>/."
        )
    pool_size = len(items)
    if split != "train":
        _warn_unheld(items, labels, split, held)
    items = held_out_items(items, labels, split, held)
    if not items:
        raise ValueError(
            f"The {where} is empty: each label has too few files "
            f"({pool_size} in all). Add videos, or put "
            f"the {split} videos in root/{split}/<label>/."
        )
    return items, labels, where


def _probe(items, split, where, frames=None):
    """Drops files with no decodable frame; warns once, naming them, and
    once naming the files shorter than `frames` (by their frame count).

    Returns the readable items and the skipped `(path, reason)` pairs.
    Raises `ValueError` when no file is readable.
    """
    paths = [p for p, _ in items]
    workers = min(8, os.cpu_count() or 1, len(paths))
    with concurrent.futures.ThreadPoolExecutor(max(workers, 1)) as pool:
        probed = list(pool.map(_probe_file, paths))
    readable = [item for item, (why, _) in zip(items, probed) if why is None]
    skipped = [(p, why) for p, (why, _) in zip(paths, probed) if why is not None]
    say_skipped(skipped, len(paths), f"in the {split!r} split ({where})",
                f"of the {split!r} split with no decodable frame")
    short = [(p, n) for p, (why, n) in zip(paths, probed)
             if why is None and frames and 0 < n < frames]
    if short:
        listed = ", ".join(f"{os.path.basename(p)!r} ({n})" for p, n in short[:5])
        warnings.warn(
            f"{len(short)} video(s) of the {split!r} split ({where}) have fewer "
            f"frames than frames={frames}: {listed}{' and more' if len(short) > 5 else ''}. "
            "Their frames repeat to fill a clip (a one-frame video shows no "
            "motion). Pass a smaller `frames`, or remove them.",
            stacklevel=4,
        )
    return readable, skipped


def say_skipped(skipped, total, where, which):
    """Warns once naming the `(path, reason)` pairs `skipped` of `total`
    video files; `ValueError` when all were skipped. `where`: "in the
    'train' split (...)"; `which`: the files, e.g. "that do not decode"."""
    listed = "; ".join(f"{p!r}: {why}" for p, why in skipped[:5])
    more = f"; and {len(skipped) - 5} more" if len(skipped) > 5 else ""
    if skipped and len(skipped) == total:
        raise ValueError(
            f"No readable video {where}: all {len(skipped)} file(s) skipped: "
            f"{listed}{more}. Check that OpenCV can play them (cv2.VideoCapture)."
        )
    if skipped:
        warnings.warn(f"Skipped {len(skipped)} of {total} video file(s) {which}: "
                      f"{listed}{more}.", stacklevel=4)


class _SkipLog:
    """Counts files that fail while iterating (map calls run on several
    threads): a file that opened when loaded but fails later."""

    def __init__(self, skipped):
        self.skipped = skipped
        self._seen = set()
        self._lock = threading.Lock()

    def add(self, path, reason):
        with self._lock:
            if path in self._seen:
                return
            self._seen.add(path)
            self.skipped.append((path, reason))
            count = len(self.skipped)
        warnings.warn(
            f"Skipped unreadable video {path!r}: {reason}; the next readable "
            f"video takes its place. {count} file(s) skipped so far.",
            stacklevel=2,
        )


def video_folder_dataset(
    root,
    split="train",
    *,
    frames=16,
    image_size=(112, 112),
    validation_split=None,
    test_split=None,
    random_sampling=None,
    shuffle=None,
    seed=0,
    class_names=None,
):
    """The clips of a folder and their info (see `load("video_folder")`).

    Returns:
        `(clips, info)`: `clips` decodes on demand (`clips.read(i)` gives
        NumPy `(clip, label)`; `clips.to_tf()` a `tf.data.Dataset`).

    Args:
        root: str. `root/<label>/*.mp4` or `root/<split>/<label>/*.mp4`
            (`~` is expanded).
        split: str. `"train"`, `"validation"`, `"test"`, or a subfolder of
            `root` holding label folders.
        frames: int. Frames per clip. Defaults to 16.
        image_size: int or (height, width). Defaults to (112, 112).
        validation_split: float in [0, 1) or None. Share of each label held
            out as `"validation"`. None: 0.15 without split folders, else
            `root/validation/` is needed for that split.
        test_split: float in [0, 1) or None. The same for `"test"`.
        random_sampling: bool or None. One random frame per segment instead
            of uniform frames; None: on for `"train"` only.
        shuffle: bool or None. Shuffle file names every epoch; None: on for
            `"train"` only.
        seed: int. Seeds sampling and shuffling (not the split, which is
            fixed by file names).
        class_names: list of str or None. The classes to index labels by,
            in order: a trained model's (its run.json `class_names`), so that
            a folder with some of its labels is scored by the model's own
            indices. A label folder not among them is a `ValueError`. None:
            the sorted label folders (an empty one is a `ValueError`).
    """
    frames = check_int("frames", frames)
    image_size = check_image_size(image_size)
    class_names = _check_class_names(class_names)
    if random_sampling is None:
        random_sampling = split == "train"
    check_bool("random_sampling", random_sampling)
    items, labels, where = _plan(root, split, validation_split, test_split,
                                 class_names)
    items, skipped = _probe(items, split, where, frames)
    if split == "train" and class_names is None:
        seen = {label for _, label in items}
        unseen = [name for i, name in enumerate(labels) if i not in seen]
        if unseen:
            raise ValueError(
                f"The train split ({where}) has no readable video of label(s) "
                f"{', '.join(map(repr, unseen[:8]))}: the model would have a class "
                "it never sees in training. Add training videos of them, or remove "
                "their folders.")
    if shuffle is None:
        shuffle = split == "train"

    info = DatasetInfo(
        class_names=labels,
        num_examples=len(items),
        skipped=list(skipped),
        description=f"Videos under {os.fspath(root)!r}: the {where}.",
        shuffled=shuffle,
    )
    clips = _FolderClips(
        items, frames, image_size, random_sampling=random_sampling,
        shuffle=shuffle, seed=seed, log=_SkipLog(info.skipped),
    )
    return clips, info


class _FolderClips:
    """The clips of a folder's videos, decoded when read: `read(index)` for
    NumPy batches (`load(..., format="numpy")`, any backend), `to_tf()` for
    a `tf.data` pipeline."""

    def __init__(self, items, frames, image_size, *, random_sampling, shuffle,
                 seed, log):
        self.paths = [p for p, _ in items]
        self.targets = np.array([t for _, t in items], np.int32)
        self.frames, self.image_size = frames, image_size
        self.random_sampling, self.shuffle, self.seed = random_sampling, shuffle, seed
        self.log = log
        self.rng = np.random.default_rng(seed)
        from cvseq.datasets.batches import ArraySpec

        self.element_spec = (ArraySpec((frames, *image_size, 3), np.dtype(np.uint8)),
                             ArraySpec((), np.dtype(np.int32)))

    def __len__(self):
        return len(self.paths)

    def _clip(self, path):
        """uint8 `(frames, height, width, 3)`, or None (logged) if unreadable."""
        try:
            return read_clip(path, self.frames, self.image_size,
                             rng=self.rng if self.random_sampling else None)
        except (VideoReadError, cv2.error) as err:
            self.log.add(path, str(err))
            return None

    def read(self, index):
        clip = self._clip(self.paths[index])
        return None if clip is None else (clip, self.targets[index])

    def _readable_from(self, index):
        """The clip and label of item `index`, or where it fails to decode
        (logged) of the next item that does, so that the data set keeps its
        length (a known cardinality: no "ran out of data" at the end of
        Keras's first epoch) and batches keep their size, as
        `ArrayBatches` does for NumPy batches."""
        count = len(self.paths)
        for step in range(count):
            position = (int(index) + step) % count
            clip = self._clip(self.paths[position])
            if clip is not None:
                return clip, self.targets[position]
        raise VideoReadError("no video of this data set decodes now (see the "
                             "warnings above for each file)")

    def to_tf(self):
        frames, image_size = self.frames, self.image_size

        def decode_op(index):
            clip, label = tf.py_function(
                self._readable_from, [index], [tf.uint8, tf.int32])
            clip.set_shape((frames, *image_size, 3))
            label.set_shape(())
            return clip, label

        dataset = tf.data.Dataset.range(len(self.paths))
        if self.shuffle:
            # Shuffle indices (cheap) rather than decoded clips.
            dataset = dataset.shuffle(len(self.paths), seed=self.seed,
                                      reshuffle_each_iteration=True)
        return dataset.map(decode_op, num_parallel_calls=tf.data.AUTOTUNE)


@register_dataset(
    "video_folder",
    task="video_tagger",  # and every clip classifier (tasks.clip_classifier_task)
    source="folder",
    options_from=video_folder_dataset,
    description="Your videos in root/<label>/*.mp4|avi (70/15/15 split by file) "
    "or root/<split>/<label>/, decoded with OpenCV.",
)
def _build(split, *, seed=0, shuffle=None, root=None, **options):
    if root is None:
        raise TypeError(
            "Data set 'video_folder' needs `root`, the folder of your videos: "
            "--data root=path/to/videos on the command line, "
            "load('video_folder', 'train', root='path/to/videos') in Python."
        )
    return video_folder_dataset(root, split, seed=seed, shuffle=shuffle, **options)
