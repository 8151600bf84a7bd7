"""Your own videos: `root/<label>/*.mp4|avi|...`, decoded with OpenCV.

Clips of `frames` frames are sampled uniformly over each video (evaluation)
or at a random offset within each of `frames` equal segments (training, as
in temporal segment networks), resized to `image_size`. A file that cannot
be opened or decoded is skipped with a warning that names it and counts the
skips so far; the list is kept in `DatasetInfo.skipped`.
"""

import os
import threading
import warnings

import cv2
import numpy as np
import tensorflow as tf

from cvseq._validation import check_fraction, check_image_size, check_int
from cvseq.datasets.registry import (
    DatasetInfo,
    register_dataset,
    reject_unknown_options,
)

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")


class VideoReadError(IOError):
    """A video file could not be opened or decoded."""


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


def read_clip(path, frames, image_size, *, rng=None):
    """Decodes `frames` frames of a video file as uint8 RGB.

    Args:
        path: str. The video file.
        frames: int. Frames to sample.
        image_size: (height, width) of the returned frames.
        rng: `numpy.random.Generator` or None. Random sampling if given.

    Returns:
        uint8 `(frames, height, width, 3)`.

    Raises:
        VideoReadError: the file cannot be opened, has no frames, or ends
            before a frame the sample needs (truncated).
    """
    capture = cv2.VideoCapture(os.fspath(path))
    try:
        if not capture.isOpened():
            raise VideoReadError("OpenCV cannot open it")
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        if total <= 0:
            raise VideoReadError("it reports no frames")
        wanted = frame_indices(total, frames, rng=rng)
        height, width = image_size
        decoded = {}
        index = 0
        last = int(wanted.max())
        while index <= last:
            if not capture.grab():
                raise VideoReadError(
                    f"decoding stopped at frame {index} of {total} (truncated?)"
                )
            if index in wanted:
                ok, frame = capture.retrieve()
                if not ok or frame is None:
                    raise VideoReadError(f"frame {index} of {total} is corrupt")
                frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
                decoded[index] = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            index += 1
        return np.stack([decoded[i] for i in wanted])
    finally:
        capture.release()


def read_frames(path, *, batch_size=16):
    """Decodes every frame of a video file, in order, as uint8 RGB batches.

    Args:
        path: str. The video file.
        batch_size: int. Frames per yielded batch (the last may be shorter).

    Yields:
        uint8 `(n, height, width, 3)` consecutive frames.

    Raises:
        VideoReadError: the file cannot be opened or has no frame.
    """
    capture = cv2.VideoCapture(os.fspath(path))
    try:
        if not capture.isOpened():
            raise VideoReadError("OpenCV cannot open it")
        batch = []
        decoded = 0
        while True:
            ok, frame = capture.read()
            if not ok or frame is None:
                break
            batch.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
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


def scan_folder(root, extensions=VIDEO_EXTENSIONS):
    """Lists `(path, label_index)` pairs and the sorted label names.

    Raises:
        ValueError: no such folder, no label subfolders, or no videos.
    """
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise ValueError(f"`root` must be a folder of videos. Received: root={root!r}.")
    labels = sorted(
        d for d in os.listdir(root)
        if os.path.isdir(os.path.join(root, d)) and not d.startswith(".")
    )
    if not labels:
        loose = [f for f in os.listdir(root) if f.lower().endswith(extensions)]
        hint = (
            f" It holds {len(loose)} video files directly: move them into one "
            "subfolder per label." if loose else ""
        )
        raise ValueError(
            f"Expected one subfolder per label (root/<label>/*.mp4) in "
            f"{root!r}, found none.{hint}"
        )
    items = []
    for index, label in enumerate(labels):
        folder = os.path.join(root, label)
        for name in sorted(os.listdir(folder)):
            if name.lower().endswith(extensions):
                items.append((os.path.join(folder, name), index))
    if not items:
        raise ValueError(
            f"No video files ({', '.join(extensions)}) in the label folders of "
            f"{root!r} (labels seen: {', '.join(labels)})."
        )
    return items, labels


class _SkipLog:
    """Counts unreadable files (map calls run on several threads)."""

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
            f"Skipped unreadable video {path!r}: {reason}. "
            f"{count} file(s) skipped so far.",
            stacklevel=2,
        )


def _split_items(items, split, validation_split, seed):
    """Deterministic per-label split into train and validation."""
    rng = np.random.default_rng(seed)
    by_label = {}
    for item in items:
        by_label.setdefault(item[1], []).append(item)
    chosen = []
    for group in by_label.values():
        order = rng.permutation(len(group))
        n_val = int(round(validation_split * len(group)))
        keep = order[:n_val] if split == "validation" else order[n_val:]
        chosen.extend(group[i] for i in sorted(keep))
    return chosen


def video_folder_dataset(
    root,
    split="train",
    *,
    frames=16,
    image_size=(112, 112),
    validation_split=None,
    random_sampling=None,
    shuffle=None,
    seed=0,
):
    """Builds the unbatched dataset and its info (see `load("video_folder")`)."""
    frames = check_int("frames", frames)
    image_size = check_image_size(image_size)
    split_root = os.path.join(os.fspath(root), split)
    if os.path.isdir(split_root):
        items, labels = scan_folder(split_root)
    else:
        items, labels = scan_folder(root)
        if validation_split is not None:
            check_fraction("validation_split", validation_split)
            if split not in ("train", "validation"):
                raise ValueError(
                    "With `validation_split`, split must be 'train' or "
                    f"'validation'. Received: split={split!r}."
                )
            items = _split_items(items, split, validation_split, seed)
        elif split != "train":
            raise ValueError(
                f"{root!r} has no {split!r} subfolder. Put the videos in "
                f"root/{split}/<label>/, or pass validation_split=0.2 to carve "
                "a validation split out of root/<label>/."
            )
    if random_sampling is None:
        random_sampling = split == "train"
    if shuffle is None:
        shuffle = split == "train"

    info = DatasetInfo(
        name="video_folder",
        split=split,
        task="video_tagger",
        source="folder",
        class_names=labels,
        num_examples=len(items),
        description=f"Videos under {os.fspath(root)!r}.",
        shuffled=shuffle,
    )
    log = _SkipLog(info.skipped)
    rng = np.random.default_rng(seed)

    def decode(path, label):
        path = path.numpy().decode()
        try:
            clip = read_clip(path, frames, image_size,
                             rng=rng if random_sampling else None)
            return clip, label, True
        except (VideoReadError, cv2.error) as err:
            log.add(path, str(err))
            return np.zeros((frames, *image_size, 3), np.uint8), label, False

    def decode_op(path, label):
        clip, label, ok = tf.py_function(
            decode, [path, label], [tf.uint8, tf.int32, tf.bool]
        )
        clip.set_shape((frames, *image_size, 3))
        label.set_shape(())
        ok.set_shape(())
        return clip, label, ok

    paths = [p for p, _ in items]
    targets = np.array([t for _, t in items], np.int32)
    dataset = tf.data.Dataset.from_tensor_slices((paths, targets))
    if shuffle:
        # Shuffle file names (cheap) rather than decoded clips.
        dataset = dataset.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.map(decode_op, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.filter(lambda clip, label, ok: ok)
    dataset = dataset.map(lambda clip, label, ok: (clip, label))
    return dataset, info


@register_dataset(
    "video_folder",
    task="video_tagger",
    source="folder",
    description="Your videos in root/<label>/*.mp4|avi (or root/<split>/<label>/), "
    "decoded with OpenCV.",
)
def _build(split, *, seed=0, shuffle=None, **options):
    reject_unknown_options(
        "video_folder", options,
        ("root", "frames", "image_size", "validation_split", "random_sampling"),
    )
    if "root" not in options:
        raise TypeError(
            "Data set 'video_folder' needs `root`: "
            "load('video_folder', 'train', root='path/to/videos')."
        )
    root = options.pop("root")
    return video_folder_dataset(root, split, seed=seed, shuffle=shuffle, **options)
