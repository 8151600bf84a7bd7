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

from cvseq._tf import LazyTensorFlow
from cvseq._validation import check_bool, check_choice, check_image_size, check_int
from cvseq.datasets import digits, moving_digits
from cvseq.datasets.registry import (
    DatasetInfo,
    register_dataset,
)
from cvseq.datasets.tfds_adapters import load_tfds

tf = LazyTensorFlow("cvseq.datasets 'moving_mnist' (TFDS)")

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
    digits.check_split("moving_digit_frames", split)
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
    return (context, future), DatasetInfo()


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
        num_examples=_MOVING_MNIST_SPLITS[split][1] - _MOVING_MNIST_SPLITS[split][0],
        description="Moving MNIST (TFDS), split by cvseq.",
    )
    return dataset, info


# ---------------------------------------------------------------------------
# video_frames: any real video files as (context, future) frame sequences.
# ---------------------------------------------------------------------------

# Time shares of each file per split, and frames left out between splits.
_TIME_SPLITS = {"train": (0.0, 0.7), "validation": (0.7, 0.85), "test": (0.85, 1.0)}
_TIME_GAP = 4


def video_files(root):
    """The video files under `root` (a file, or a folder searched
    recursively), sorted.

    Raises:
        ValueError: `root` does not exist or holds no video file.
    """
    import os

    from cvseq.datasets.video_folder import VIDEO_EXTENSIONS

    root = os.path.expanduser(os.fspath(root))
    if os.path.isfile(root):
        return [root]
    if not os.path.isdir(root):
        raise ValueError(
            f"`root` must be a video file or a folder of videos. Received: "
            f"root={root!r}, which does not exist."
        )
    files = sorted(
        os.path.join(folder, name)
        for folder, _, names in os.walk(root)
        for name in names
        if name.lower().endswith(VIDEO_EXTENSIONS)
    )
    if not files:
        raise ValueError(
            f"`root` holds no video file ({', '.join(VIDEO_EXTENSIONS)}). "
            f"Received: root={root!r}."
        )
    return files


def _centre_crop_resize(frame, image_size):
    """The largest centred crop of `image_size`'s aspect, resized to it."""
    import cv2

    h, w = frame.shape[:2]
    aspect = image_size[1] / image_size[0]
    ch, cw = (h, int(round(h * aspect))) if w / h > aspect else (int(round(w / aspect)), w)
    top, left = (h - ch) // 2, (w - cw) // 2
    return cv2.resize(frame[top:top + ch, left:left + cw], image_size[::-1],
                      interpolation=cv2.INTER_AREA)


_decoded = {}


def decoded_file(path, image_size):
    """Every frame of a video file, centre-cropped and resized: uint8 `(n, h,
    w, 3)`, decoded once per process (keyed by path, size and mtime).

    Raises:
        VideoReadError: the file cannot be read, opened or decoded, or
            OpenCV fails on a frame.
    """
    import os

    import cv2

    from cvseq.datasets.video_folder import VideoReadError, opencv_failure, read_frames

    try:
        stat = os.stat(path)
    except OSError as err:
        raise VideoReadError(f"it cannot be read ({err.strerror})") from err
    key = (os.path.abspath(path), stat.st_size, stat.st_mtime_ns, tuple(image_size))
    if key not in _decoded:
        try:
            frames = [_centre_crop_resize(f, image_size)
                      for batch in read_frames(path) for f in batch]
        except cv2.error as err:
            raise opencv_failure(err) from err
        _decoded[key] = np.stack(frames)
    return _decoded[key]


def grey_frames(video):
    """uint8 RGB frames `(n, h, w, 3)` as grey `(n, h, w, 1)` (OpenCV's
    luminance weights), as `video_frames` gives them with `channels=1`."""
    import cv2

    n, h, w, _ = video.shape
    return cv2.cvtColor(np.ascontiguousarray(video).reshape(n * h, w, 3),
                        cv2.COLOR_RGB2GRAY).reshape(n, h, w, 1)


def video_windows(video, split, *, frames_in, frames_out, stride=1):
    """`(context, future)` windows of one decoded video's split.

    The split is a stretch of time (train: the first 70% of the frames,
    validation: the next 15%, test: the last 15%, with 4 frames left out
    between them); windows never cross a scene cut (`sample_videos.
    scene_cuts`). Training windows overlap by half; held-out ones do not.

    Returns:
        uint8 `(n, frames_in, h, w, c)`, `(n, frames_out, h, w, c)`.
    """
    from cvseq.datasets.sample_videos import scene_cuts

    n = len(video)
    low, high = _TIME_SPLITS[split]
    start = int(round(low * n)) + (_TIME_GAP // 2 if low > 0 else 0)
    stop = int(round(high * n)) - (_TIME_GAP // 2 if high < 1 else 0)
    span = (frames_in + frames_out - 1) * stride + 1
    step = max(1, span // 2) if split == "train" else span
    edges = [start] + [c for c in scene_cuts(video) if start < c < stop] + [stop]
    contexts, futures = [], []
    for a, b in zip(edges[:-1], edges[1:]):
        for first in range(a, b - span + 1, step):
            window = video[first:first + span:stride]
            contexts.append(window[:frames_in])
            futures.append(window[frames_in:])
    shape = video.shape[1:]
    if not contexts:
        return (np.zeros((0, frames_in, *shape), np.uint8),
                np.zeros((0, frames_out, *shape), np.uint8))
    return np.stack(contexts), np.stack(futures)


def augment_windows(context, future):
    """Each `(context, future)` window four times: as it is, mirrored left to
    right, played backwards, and both.

    Played backwards, the window's last frames become the context and its
    first frames the future (the split between them stays at
    `frames_in`), so motion is reversed, not just reordered. The four
    copies of a window are consecutive (window `i` is at `4 * i` to
    `4 * i + 3`), so a slice at the end, such as Keras' `validation_split`,
    takes whole windows with their copies, not copies of earlier ones.

    Returns:
        `(context, future)` of the same dtypes, `4 * n` windows.
    """
    context, future = np.asarray(context), np.asarray(future)
    frames_in = context.shape[1]
    windows = np.concatenate([context, future], axis=1)
    mirrored = windows[:, :, :, ::-1]
    variants = np.stack([windows, mirrored, windows[:, ::-1], mirrored[:, ::-1]], axis=1)
    windows = variants.reshape(-1, *windows.shape[1:])
    return windows[:, :frames_in], windows[:, frames_in:]


def generate_video_frames(split, *, root, frames_in=4, frames_out=4,
                          image_size=(64, 64), channels=3, stride=1, augment=None):
    """The `(context, future)` windows of one split of every file under `root`.

    `augment`: None (the default) augments the training split alone, four
    windows for one (`augment_windows`: mirrored, played backwards); True
    augments the split asked for, False none. Files OpenCV cannot decode
    are left out with one warning naming them (`video_frame_windows` also
    returns them).
    """
    context, future, _ = video_frame_windows(
        split, root=root, frames_in=frames_in, frames_out=frames_out,
        image_size=image_size, channels=channels, stride=stride, augment=augment)
    return context, future


def _decode_all(paths, image_size, root):
    """`[(path, frames)]` of the decodable files and `[(path, reason)]` of
    the others (warned once, naming them); `ValueError` if none decodes."""
    from cvseq.datasets.video_folder import VideoReadError, say_skipped

    videos, skipped = [], []
    for path in paths:
        try:
            videos.append((path, decoded_file(path, image_size)))
        except VideoReadError as err:
            reason = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
            skipped.append((path, reason))
    say_skipped(skipped, len(paths), f"under {root!r}", f"under {root!r} that do not decode")
    return videos, skipped


def video_frame_windows(split, *, root, frames_in=4, frames_out=4,
                        image_size=(64, 64), channels=3, stride=1, augment=None):
    """`generate_video_frames`, and the `(path, reason)` of each file left out."""
    check_choice("split", split, tuple(_TIME_SPLITS))
    if augment is not None:
        check_bool("augment", augment)
    frames_in = check_int("frames_in", frames_in)
    frames_out = check_int("frames_out", frames_out)
    image_size = check_image_size(image_size)
    check_choice("channels", channels, (1, 3))
    stride = check_int("stride", stride)
    contexts, futures = [], []
    videos, skipped = _decode_all(video_files(root), image_size, root)
    for _, video in videos:
        if channels == 1:
            video = grey_frames(video)
        context, future = video_windows(video, split, frames_in=frames_in,
                                        frames_out=frames_out, stride=stride)
        contexts.append(context)
        futures.append(future)
    context, future = np.concatenate(contexts), np.concatenate(futures)
    if not len(context):
        low, high = _TIME_SPLITS[split]
        longest = max(int(round((high - low) * len(v))) for _, v in videos)
        raise ValueError(
            f"No window of frames_in + frames_out = {frames_in + frames_out} "
            f"frames (stride {stride}) fits in the {split!r} split of the videos "
            f"under {root!r}: it is {int(100 * (high - low))}% of each file's frames, "
            f"{longest} at most here, less {_TIME_GAP // 2} at each inner edge and "
            "cut at scene cuts. Use fewer frames or longer videos."
        )
    if augment or (augment is None and split == "train"):
        context, future = augment_windows(context, future)
    return context, future, skipped


@register_dataset(
    "video_frames",
    task="video_predictor",
    source="folder",
    options_from=generate_video_frames,
    description="Your video files (a file or a folder, searched recursively) as "
    "(context, future) frame sequences; split by time within each file "
    "(70/15/15), never across a scene cut.",
)
def _build_video_frames(split, *, seed=0, shuffle=None, **options):
    if "root" not in options:
        raise TypeError(
            "Data set 'video_frames' needs `root`, a video file or a folder of "
            "videos: --data root=path/to/videos on the command line, "
            "load('video_frames', 'train', root='path/to/videos') in Python."
        )
    context, future, skipped = video_frame_windows(split, **options)
    info = DatasetInfo(
        num_examples=len(context),
        skipped=skipped,
        description=f"Frame sequences of the videos under {options['root']!r}.",
    )
    return tf.data.Dataset.from_tensor_slices((context, future)), info
