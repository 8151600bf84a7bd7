"""Real pedestrian tracks: the TUD sequences that ship with motmetrics.

The motmetrics wheel (MIT licence) carries, for its own tests, the
MOTChallenge 2015 ground truth of two real street sequences filmed by
Andriluka, Roth and Schiele (CVPR 2008/2010) at 640x480:

- `"TUD-Campus"`: 71 frames, 8 pedestrians, 359 boxes; people walk past
  each other and partly hide each other.
- `"TUD-Stadtmitte"`: 179 frames, 10 pedestrians, 1,156 boxes; a busy
  pedestrian street, people cross in front of one another.

The boxes and ids were annotated by people, so these are real tracks (real
sizes, speeds, occlusions and entries/exits) that nobody in cvseq made.
Only the annotations ship (no images): they check a tracker's association
and motion, with the true boxes (or a simulated detector built on them) as
detections. The files are read by path from the installed package; nothing
is downloaded. (MOTChallenge publishes its data under CC BY-NC-SA 3.0; the
files are used here for testing, as motmetrics itself does.)
"""

import collections
import os

import numpy as np

#: The sequences in the motmetrics wheel, with their frame size (h, w).
SEQUENCES = {"TUD-Campus": (480, 640), "TUD-Stadtmitte": (480, 640)}

MotSequence = collections.namedtuple(
    "MotSequence", ["name", "boxes", "ids", "image_size"]
)
MotSequence.__doc__ = """One annotated sequence, frame by frame.

Attributes:
    name: str, the sequence name.
    boxes: list, one float32 `(n_t, 4)` array `(x1, y1, x2, y2)` pixels per
        frame (every frame from the first to the last, empty where nobody
        is annotated).
    ids: list, one int64 `(n_t,)` array of person ids per frame.
    image_size: `(height, width)` of the frames.
"""


def sequence_path(name):
    """Path of a sequence's `gt.txt` inside the installed motmetrics."""
    if name not in SEQUENCES:
        raise ValueError(
            f"Unknown MOT sequence. Choose one of {sorted(SEQUENCES)}. "
            f"Received: name={name!r}."
        )
    import motmetrics

    path = os.path.join(os.path.dirname(motmetrics.__file__), "data", name, "gt.txt")
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{name} ground truth not found at {path!r}: this motmetrics "
            f"install ({motmetrics.__version__}) does not ship its test data. "
            "Reinstall motmetrics from its wheel (`pip install --force-reinstall "
            "--no-deps motmetrics`)."
        )
    return path


def load_mot_sequence(name):
    """Reads one real annotated sequence (MOTChallenge `gt.txt` format).

    Args:
        name: `"TUD-Campus"` or `"TUD-Stadtmitte"`.

    Returns:
        A `MotSequence(name, boxes, ids, image_size)`.

    Example:

    >>> seq = load_mot_sequence("TUD-Campus")
    >>> len(seq.boxes), seq.boxes[0].shape
    (71, (6, 4))
    """
    rows = np.loadtxt(sequence_path(name), delimiter=",", ndmin=2)
    # Columns: frame, id, left, top, width, height, confidence, x, y, z;
    # confidence 0 marks boxes to ignore (none in the TUD files).
    rows = rows[rows[:, 6] != 0]
    frames = rows[:, 0].astype(np.int64)
    first, last = frames.min(), frames.max()
    boxes, ids = [], []
    for frame in range(first, last + 1):
        here = rows[frames == frame]
        xywh = here[:, 2:6]
        boxes.append(
            np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
            .astype(np.float32).reshape(-1, 4)
        )
        ids.append(here[:, 1].astype(np.int64))
    return MotSequence(name, boxes, ids, SEQUENCES[name])
