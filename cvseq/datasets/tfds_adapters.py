"""TensorFlow Datasets adapters: TFDS features in, cvseq model inputs out.

Each adapter loads a TFDS data set by name and maps its features to the
`(inputs, targets)` that the matching factory's model fits. TFDS downloads
need the network; without it, `load` raises `DatasetUnavailableError` that
says so and names the offline alternative. Pass `data_dir=` to use a copy
prepared elsewhere (`tfds.builder(name, data_dir=...).download_and_prepare()`).
"""

from cvseq._tf import LazyTensorFlow
from cvseq._validation import check_image_size, check_int
from cvseq.datasets.registry import (
    DatasetInfo,
    DatasetUnavailableError,
    register_dataset,
)

tf = LazyTensorFlow("cvseq.datasets the TFDS data sets")


def load_tfds(name, split, *, data_dir=None, offline_alternative=None, shuffle=False,
              seed=0, needs_ffmpeg=False):
    """`tfds.load` with a clear error when the data cannot be had.

    The error names the real cause: a missing Python package or program
    (TFDS's video builders import `importlib_resources` and prepare clips
    with the `ffmpeg` program) is reported as such, not as a network fault.

    Returns:
        `(dataset, tfds_info)`; the dataset yields feature dicts.
    """
    import shutil

    import tensorflow_datasets as tfds

    alternative = (
        f" Offline, use the embedded data set {offline_alternative!r} "
        f"(cvseq.datasets.load({offline_alternative!r}, ...))."
        if offline_alternative else ""
    )
    try:
        builder = tfds.builder(name, data_dir=data_dir)
        if not builder.is_prepared() and _downloads(builder):
            missing = (" It also needs the ffmpeg program, which is not on PATH "
                       "(apt-get install ffmpeg, brew install ffmpeg)."
                       if needs_ffmpeg and not shutil.which("ffmpeg") else "")
            _require_network(name, missing + alternative)
        builder.download_and_prepare()
        read_config = tfds.ReadConfig(shuffle_seed=seed) if shuffle else None
        dataset = builder.as_dataset(
            split=split, shuffle_files=shuffle, read_config=read_config
        )
    except DatasetUnavailableError:
        raise
    except ImportError as err:
        missing = getattr(err, "name", None) or str(err)
        raise DatasetUnavailableError(
            f"TFDS cannot build data set {name!r}: the Python package {missing!r} "
            f"is missing ({type(err).__name__}: {err}). Install it (pip install "
            f"{missing.split('.')[0].replace('_', '-')}); cvseq's setup.cfg lists "
            f"what TFDS's builders need.{alternative}"
        ) from err
    except Exception as err:
        # Checked only once preparing failed: a prepared copy (or TFDS's mock
        # data in tests) needs no ffmpeg.
        if needs_ffmpeg and not shutil.which("ffmpeg"):
            raise DatasetUnavailableError(
                f"Could not prepare TFDS data set {name!r} ({type(err).__name__}: "
                f"{str(err)[:200]}). Preparing it needs the network and the ffmpeg "
                "program, which is not on PATH: install it (apt-get install "
                "ffmpeg, brew install ffmpeg), or pass data_dir= with a prepared "
                f"copy.{alternative}"
            ) from err
        raise DatasetUnavailableError(
            f"Could not load TFDS data set {name!r}, split {split!r} "
            f"({type(err).__name__}: {str(err)[:300]}). Without network, TFDS "
            "cannot download it; prepare it on a machine with network and pass "
            f"data_dir=.{alternative}"
        ) from err
    return dataset, builder.info


def train_vocabulary(name, vocabulary, build, *, data_dir=None):
    """`vocabulary` when given, else `build(train)` on the training split of
    TFDS data set `name` (a `tf.data.Dataset` of feature dicts).

    Loading the other splits with the training `info.vocabulary` skips the
    pass over the training data.
    """
    if vocabulary is not None:
        return vocabulary
    train, _ = load_tfds(name, "train", data_dir=data_dir)
    return build(train)


# TFDS downloads its own files, or from each data set's home (e.g.
# www.cs.toronto.edu for CIFAR-10); without network its downloader retries
# with back-off for about 200 s before it fails. One quick look-up first
# turns that into an immediate error.
_PROBE_HOST = ("storage.googleapis.com", 443)


def _require_network(name, alternative, timeout=3.0):
    """DatasetUnavailableError at once when the network is unreachable."""
    import socket

    try:
        socket.create_connection(_PROBE_HOST, timeout=timeout).close()
    except OSError as err:
        raise DatasetUnavailableError(
            f"TFDS data set {name!r} is not prepared here and needs a download, "
            f"but the network is unreachable ({_PROBE_HOST[0]}: {err}). Prepare it "
            "on a machine with network (tfds.builder(name, data_dir=DIR)."
            f"download_and_prepare()) and pass data_dir=DIR.{alternative}"
        ) from err


def _downloads(builder):
    """False under `tfds.testing.mock_data`, whose `download_and_prepare` is
    a no-op that needs no network (it generates random examples)."""
    method = getattr(type(builder), "download_and_prepare", None)
    return getattr(method, "__name__", "") != "mock_download_and_prepare"


def sample_clip(video, frames, image_size, *, training, seed=None):
    """Takes `frames` frames (uniform, or jittered per segment) and resizes.

    Args:
        video: uint8 `(T, H, W, 3)` tensor, any T >= 1.
        frames: frames to keep.
        image_size: (height, width).
        training: random offsets within each segment when True.

    Returns:
        uint8 `(frames, height, width, 3)`.
    """
    total = tf.cast(tf.shape(video)[0], tf.float32)
    edges = tf.linspace(0.0, total, frames + 1)
    if training:
        offset = tf.random.uniform((frames,), seed=seed)
    else:
        offset = tf.fill((frames,), 0.5)
    picks = edges[:-1] + offset * (edges[1:] - edges[:-1])
    index = tf.clip_by_value(
        tf.cast(tf.floor(picks), tf.int32), 0, tf.shape(video)[0] - 1
    )
    clip = tf.gather(video, index)
    clip = tf.image.resize(clip, image_size, antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(clip), 0, 255), tf.uint8)


@register_dataset(
    "ucf101",
    task="video_tagger",  # and every clip classifier (tasks.clip_classifier_task)
    source="tfds",
    description="TFDS ucf101: 13,320 YouTube clips of 101 human actions "
    "(6.5 GB download).",
)
def _ucf101(split, *, seed=0, shuffle=False, frames=16, image_size=(112, 112),
            data_dir=None):
    frames = check_int("frames", frames)
    image_size = check_image_size(image_size)
    dataset, tfds_info = load_tfds(
        "ucf101", split, data_dir=data_dir,
        offline_alternative="moving_digits", shuffle=shuffle, seed=seed,
        needs_ffmpeg=True,
    )
    training = split.startswith("train")

    def adapt(example):
        clip = sample_clip(
            example["video"], frames, image_size, training=training, seed=seed
        )
        return clip, tf.cast(example["label"], tf.int32)

    info = DatasetInfo(
        class_names=list(tfds_info.features["label"].names),
        num_examples=_num_examples(tfds_info, split),
        description="UCF101 action recognition (TFDS).",
    )
    return dataset.map(adapt, num_parallel_calls=tf.data.AUTOTUNE), info


def _num_examples(tfds_info, split):
    try:
        return int(tfds_info.splits[split].num_examples)
    except Exception:  # split strings like "train[:10%]" on old TFDS versions
        return None
