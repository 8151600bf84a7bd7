"""Multi-object tracking by detection: Kalman (or learned) motion + Hungarian.

Each frame, `Tracker.update(boxes, scores)` predicts where every live track
is now, matches tracks to the frame's detections in two passes as ByteTrack
does (confident detections to every track, then weak ones to the confirmed
tracks left over) with the Hungarian algorithm
(`scipy.optimize.linear_sum_assignment`) on a cost made of box overlap and
centre distance, gated by IoU or the track's Kalman gate; it corrects the
matched tracks, starts tentative tracks from unmatched confident
detections, and keeps unmatched tracks on their prediction until they have
been missed for more than `max_age` frames.

Motion is predicted by a constant-velocity Kalman filter (filterpy) on the
box centre and size, or by a trained `cvseq.trajectory_predictor` model that
reads the track's last positions (the Kalman filter then still smooths the
box and covers young tracks whose history is too short for the model).

The defaults suit detectors that box each object (checked on real
pedestrian tracks, `cvseq.datasets.mot_tracks`); blob detectors, whose
boxes merge when objects overlap, take `BLOB_OPTIONS`.
"""

import collections
import functools

import numpy as np
from scipy.optimize import linear_sum_assignment

from cvseq._validation import check_fraction, check_image_size, check_int, check_number
from cvseq.metrics.tracking import box_iou

TrackedBoxes = collections.namedtuple("TrackedBoxes", ["boxes", "ids", "scores"])
TrackedBoxes.__doc__ = """The tracks reported for one frame.

Attributes:
    boxes: float32 `(n, 4)` `(x1, y1, x2, y2)`.
    ids: int64 `(n,)` track ids, stable over the frames of a track.
    scores: float32 `(n,)` the score of the track's latest detection.
"""

#: `Tracker` options for blob detectors (`frame_detector("blobs")`), whose
#: boxes merge when objects overlap and jump in size when they split:
#: merged blobs are coasted through (and reported), and centres within a
#: box diagonal may match. Measured on `digit_tracks` (50 clips): MOTA 0.85
#: with these options, 0.79 with the defaults made for real detectors.
BLOB_OPTIONS = {
    "merge_coverage": 0.5,
    "max_distance": 1.0,
    "report_coasting": True,
    "max_age": 5,
}

# Boxes of a detector model scoring under this are dropped; between it and
# the tracker's `min_score` they only continue tracks (ByteTrack's 0.1).
_LOW_SCORE = 0.1
# Cost of a pair the gates rule out; larger than any allowed cost.
_FORBIDDEN = 1e6
# DeepSORT's noise scales: standard deviations as fractions of box height.
_POSITION_STD = 1 / 20
_VELOCITY_STD = 1 / 160
# 99% quantile of the chi-square distribution with 4 degrees of freedom:
# a detection farther (Mahalanobis) from a track's prediction is outside
# its gate.
_GATE_CHI2 = 13.277


def _to_centre(box):
    x1, y1, x2, y2 = box
    return np.array([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], np.float64)


def _to_centres(boxes):
    """`(m, 4)` boxes `(x1, y1, x2, y2)` as `(m, 4)` `(cx, cy, w, h)`."""
    return np.concatenate([(boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]], axis=1)


def _to_box(state):
    cx, cy, w, h = state[:4]
    w, h = max(w, 1e-3), max(h, 1e-3)
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], np.float64)


class _Track:
    """One tracked object: a Kalman filter over (cx, cy, w, h, vx, vy).

    The noise is proportional to the box's width (x terms) and height (y
    terms), refreshed every frame, so the filter behaves the same for a
    box of 10 or 300 pixels and for any aspect ratio.
    """

    def __init__(self, box, score):
        from filterpy.kalman import KalmanFilter

        measurement = _to_centre(box)
        kf = KalmanFilter(dim_x=6, dim_z=4)
        kf.F = np.eye(6)
        kf.F[0, 4] = kf.F[1, 5] = 1.0  # position += velocity
        kf.H = np.eye(4, 6)
        width, height = np.maximum(measurement[2:], 1.0)
        scale = np.array([width, height, width, height, width, height])
        # Unknown velocity at birth: a wide prior, so the second match sets it.
        kf.P = np.diag(np.square(scale * ([2 * _POSITION_STD] * 4 + [0.5] * 2)))
        kf.x = np.concatenate([measurement, [0.0, 0.0]])[:, None]
        self.kf = kf
        self._set_noise()
        self.id = None  # given when the track is confirmed
        self.hits = 1
        self.misses = 0  # frames since the last match
        self.score = float(score)
        self.centres = [measurement[:2]]  # observed (or coasted) centres
        self.detection = np.asarray(box, np.float64)  # latest matched box

    def _set_noise(self):
        width, height = np.maximum(self.kf.x[2:4, 0], 1.0)
        scale = np.array([width, height, width, height])
        self.kf.R = np.diag(np.square(_POSITION_STD * scale))
        self.kf.Q = np.diag(np.square(np.concatenate([
            _POSITION_STD * scale, _VELOCITY_STD * scale[:2]])))

    @property
    def box(self):
        """The predicted box (after `predict`) or the corrected one."""
        return _to_box(self.kf.x[:, 0])

    @property
    def reported_box(self):
        """The detection when matched this frame, else the prediction."""
        return self.detection if self.misses == 0 else self.box

    def predict(self):
        self._set_noise()
        self.kf.predict()

    def set_centre(self, centre):
        self.kf.x[:2, 0] = centre

    def gate_distance(self, boxes):
        """Squared Mahalanobis distances of `(m, 4)` boxes to the predicted
        measurement, as a fraction of the 99% gate (<= 1: inside)."""
        kf = self.kf
        innovation = _to_centres(boxes) - (kf.H @ kf.x)[:, 0]
        covariance = kf.H @ kf.P @ kf.H.T + kf.R
        solved = np.linalg.solve(covariance, innovation.T).T
        return np.einsum("ij,ij->i", innovation, solved) / _GATE_CHI2

    def correct(self, box, score):
        measurement = _to_centre(box)
        self.kf.update(measurement[:, None])
        self.centres.append(measurement[:2])
        self.detection = np.asarray(box, np.float64)
        self.hits += 1
        self.misses = 0
        self.score = float(score)

    def coast(self):
        self.centres.append(self.kf.x[:2, 0].copy())
        self.misses += 1


class Tracker:
    """Tracks objects across frames from per-frame detections.

    Each frame, `update(boxes, scores)` predicts every track (a Kalman
    filter, or a learned motion model), then associates in two passes as
    ByteTrack does (Zhang et al. 2022): detections scoring at least
    `min_score` are matched to all tracks first, then the lower-scoring
    ones to the confirmed tracks still unmatched (a partly hidden person
    or a weak detector box keeps its track alive instead of being lost).
    Only detections scoring at least `min_score` start tracks. Each pass is
    a Hungarian assignment (`scipy.optimize.linear_sum_assignment`) on
    1 - IoU plus the Kalman (Mahalanobis) distance, between a track's
    predicted box and a detection.

    A pair may match when the boxes overlap at least `iou_threshold`, or
    when the detection lies inside the track's Kalman gate: the region
    where its next box is expected with 99% probability. The gate scales
    with the box (noise is a fraction of its size) and widens with the
    uncertainty of its velocity (young tracks, missed frames), so it suits
    boxes of any size and speed without a pixel setting.

    The defaults were checked on real pedestrian tracks (the TUD-Campus and
    TUD-Stadtmitte annotations shipped with motmetrics, see
    `cvseq.datasets.mot_tracks`) and on the digit clips of `digit_tracks`.

    Args:
        motion: `"kalman"`, or a `keras.Model` from
            `cvseq.trajectory_predictor` trained on centres given as
            fractions of the frame size (then `image_size` is required).
            Defaults to `"kalman"`.
        image_size: (height, width) of the frames, or None. Needed with a
            learned motion model, to express positions as it was trained.
            Defaults to None.
        iou_threshold: float in [0, 1]. A track and a detection may match
            when their boxes overlap at least this much (or the detection
            is inside the track's Kalman gate). Defaults to 0.3.
        max_distance: float >= 0 or None. When set, a pair may also match
            when their centres are at most this many (predicted) box
            diagonals apart: for detectors whose boxes jump in size (blobs
            that merge and split). Defaults to None.
        min_hits: int. Detections a track needs before it is reported and
            gets an id (tracks born in the first `min_hits` frames are
            reported at once). Defaults to 2.
        max_age: int. Frames a track is kept without a detection (it may
            be found again where its motion predicts it) before it ends.
            Defaults to 30.
        min_score: float in [0, 1]. Detections below it start no track and
            are matched only in the second pass. Defaults to 0.5.
        report_coasting: int or bool. Confirmed tracks missed for at most
            this many frames in a row are still reported, at their
            predicted box (bridges a detector's single misses); True
            reports them for up to `max_age` frames (for detectors that
            lose objects while they overlap), False or 0 never. Defaults
            to 1.
        merge_coverage: float in [0, 1] or None. For blob detectors
            (`frame_detector("blobs")`), whose objects merge into one box
            when they overlap: a detection that holds at least this
            fraction of the predicted boxes of two or more tracks is a
            merged blob; those tracks coast through it instead of one of
            them jumping to the blob's box. None turns the rule off (real
            detectors box each object, overlapping or not). Defaults to
            None; `BLOB_OPTIONS` (`frame_detector("blobs").tracker_options`)
            sets 0.5.

    Example:

    >>> tracker = Tracker()
    >>> for frame in clip:
    ...     boxes, scores = detect(frame)
    ...     tracked = tracker.update(boxes, scores)
    ...     draw(frame, tracked.boxes, tracked.ids)
    """

    def __init__(
        self,
        motion="kalman",
        *,
        image_size=None,
        iou_threshold=0.3,
        max_distance=None,
        min_hits=2,
        max_age=30,
        min_score=0.5,
        report_coasting=1,
        merge_coverage=None,
    ):
        self.motion = motion
        self._model_history = None
        if isinstance(motion, str):
            if motion != "kalman":
                raise ValueError(
                    "`motion` must be 'kalman' or a trained "
                    "cvseq.trajectory_predictor model. Received: "
                    f"motion={motion!r}."
                )
        else:
            shape = getattr(motion, "input_shape", None)
            if shape is None or len(shape) != 3 or len(getattr(motion, "output_shape", ())) != 3:
                raise TypeError(
                    "`motion` must be 'kalman' or a keras.Model from "
                    "cvseq.trajectory_predictor (past (batch, history, 2) -> "
                    f"future (batch, horizon, 2)). Received: motion={motion!r}."
                )
            if shape[-1] != 2:
                raise ValueError(
                    "A learned `motion` model must predict (x, y) centres "
                    f"(features=2). Received a model with inputs {shape}."
                )
            if image_size is None:
                raise ValueError(
                    "A learned `motion` model needs `image_size` to express "
                    "centres as fractions of the frame, as it was trained. "
                    "Received: image_size=None."
                )
            self._model_history = int(shape[1])
            self._model_step = _compiled_call(motion, self._model_history)
        self.image_size = None if image_size is None else check_image_size(image_size, minimum=1)
        self.iou_threshold = check_fraction("iou_threshold", iou_threshold, inclusive_one=True)
        self.max_distance = check_number("max_distance", max_distance, inclusive=True,
                                         allow_none=True, unit=" (box diagonals)")
        self.min_hits = check_int("min_hits", min_hits)
        self.max_age = check_int("max_age", max_age, minimum=0)
        self.min_score = check_fraction("min_score", min_score, inclusive_one=True)
        if isinstance(report_coasting, bool):
            self.report_coasting = report_coasting
            self._report_misses = self.max_age if report_coasting else 0
        else:
            self.report_coasting = check_int("report_coasting", report_coasting, minimum=0)
            self._report_misses = self.report_coasting
        self.merge_coverage = (
            None if merge_coverage is None
            else check_fraction("merge_coverage", merge_coverage, inclusive_one=True)
        )
        self.reset()

    def reset(self):
        """Forgets all tracks; ids start again at 1 (call between clips)."""
        self.tracks = []
        self.frame_index = 0
        self._next_id = 1

    def update(self, boxes, scores=None):
        """Takes one frame's detections and returns the tracked boxes.

        Args:
            boxes: float `(n, 4)` detections `(x1, y1, x2, y2)`, finite,
                with x2 >= x1 and y2 >= y1. None or an empty array: no
                detections in this frame.
            scores: float `(n,)` or None (all 1).

        Returns:
            `TrackedBoxes(boxes, ids, scores)` of the reported tracks: a
            track matched in this frame reports its detection's box, a
            coasting one (with `report_coasting`) its predicted box.

        Raises:
            ValueError: `boxes` is not `(n, 4)`, holds NaN or inf, or a box
                with x2 < x1 or y2 < y1; `scores` has not one finite entry
                per box.
        """
        boxes, scores = _check_detections(boxes, scores)

        self._predict()
        high = np.flatnonzero(scores >= self.min_score)
        low = np.flatnonzero(scores < self.min_score)
        # Pass 1: confident detections to every track.
        matches, unmatched_tracks, unmatched_high = self._associate(
            range(len(self.tracks)), boxes, high, merge=True
        )
        # Pass 2: the weak detections to the confirmed tracks still
        # unmatched (a partly hidden object, a weak box of a real detector).
        second = [t for t in unmatched_tracks if self.tracks[t].id is not None]
        low_matches, unmatched_second, _ = self._associate(second, boxes, low)
        unmatched_tracks = [t for t in unmatched_tracks if t not in second]
        unmatched_tracks += unmatched_second
        for t, d in matches + low_matches:
            self.tracks[t].correct(boxes[d], scores[d])
        for t in unmatched_tracks:
            self.tracks[t].coast()
        for d in unmatched_high:
            self.tracks.append(_Track(boxes[d], scores[d]))

        reported = []
        survivors = []
        for track in self.tracks:
            confirmed = track.id is not None
            if not confirmed and (
                track.hits >= self.min_hits or self.frame_index < self.min_hits
            ) and track.misses == 0:
                track.id = self._next_id
                self._next_id += 1
                confirmed = True
            # A tentative track dies at its first miss; a confirmed one
            # is kept for up to `max_age` missed frames.
            alive = track.misses <= (self.max_age if confirmed else 0)
            if not alive:
                continue
            survivors.append(track)
            if confirmed and track.misses <= self._report_misses:
                reported.append(track)
        self.tracks = survivors
        self.frame_index += 1
        return TrackedBoxes(
            np.array([t.reported_box for t in reported], np.float32).reshape(-1, 4),
            np.array([t.id for t in reported], np.int64),
            np.array([t.score for t in reported], np.float32),
        )

    # -- internals ---------------------------------------------------------

    def _predict(self):
        for track in self.tracks:
            track.predict()
        if self._model_history is None:
            return
        ready = [t for t in self.tracks if len(t.centres) >= self._model_history]
        if not ready:
            return
        scale = np.array(self.image_size[::-1], np.float64)  # (width, height)
        past = np.stack([np.stack(t.centres[-self._model_history:]) for t in ready])
        future = np.asarray(self._model_step(past / scale))
        for track, centre in zip(ready, future[:, 0] * scale):
            track.set_centre(centre)

    def _associate(self, track_indices, boxes, detection_indices, merge=False):
        """Hungarian matching of some tracks to some detections.

        Returns `(pairs, unmatched tracks, unmatched detections)` as indices
        into `self.tracks` and `boxes`. With `merge` and `merge_coverage`
        set, a detection that covers the predicted boxes of two or more
        tracks is taken for the merged blob of objects passing each other:
        it corrects none of them (they coast) and starts no track.
        """
        track_indices = list(track_indices)
        detection_indices = list(detection_indices)
        if not track_indices or not detection_indices:
            return [], track_indices, detection_indices
        tracks = [self.tracks[t] for t in track_indices]
        candidates = boxes[detection_indices]
        predicted = np.stack([t.box for t in tracks])
        iou = box_iou(predicted, candidates)
        gate = np.stack([t.gate_distance(candidates) for t in tracks])
        centres_t = (predicted[:, :2] + predicted[:, 2:]) / 2
        centres_d = (candidates[:, :2] + candidates[:, 2:]) / 2
        diagonal = np.linalg.norm(predicted[:, 2:] - predicted[:, :2], axis=1)
        distance = np.linalg.norm(centres_t[:, None] - centres_d[None], axis=-1)
        distance /= np.maximum(diagonal, 1e-6)[:, None]
        allowed = (iou >= self.iou_threshold) | (gate <= 1.0)
        if self.max_distance is not None:
            allowed |= distance <= self.max_distance
        merged = np.zeros(len(candidates), bool)
        if merge and self.merge_coverage is not None:
            coverage = _coverage(predicted, candidates)
            merged = (coverage >= self.merge_coverage).sum(axis=0) >= 2
            grouped = (coverage[:, merged] >= self.merge_coverage).any(axis=1)
            allowed &= ~grouped[:, None] & ~merged[None, :]
        # The Mahalanobis distance gates but does not rank: it is smallest
        # for the most uncertain track, which would then win every tie.
        cost = np.where(allowed, (1.0 - iou) + distance, _FORBIDDEN)
        rows, cols = linear_sum_assignment(cost)
        pairs = [(r, c) for r, c in zip(rows, cols) if allowed[r, c]]
        matched_t = {r for r, _ in pairs}
        matched_d = {c for _, c in pairs}
        return (
            [(track_indices[r], detection_indices[c]) for r, c in pairs],
            [t for i, t in enumerate(track_indices) if i not in matched_t],
            [d for j, d in enumerate(detection_indices)
             if j not in matched_d and not merged[j]],
        )


def _check_detections(boxes, scores):
    """`boxes` as float64 `(n, 4)` and `scores` as `(n,)`, or a clear error."""
    if boxes is None:
        boxes = np.zeros((0, 4))
    try:
        array = np.asarray(boxes, np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(
            "`boxes` must be an (n, 4) array of (x1, y1, x2, y2) numbers, or "
            f"None for no detections. Received: {type(boxes).__name__} "
            f"that is not numeric ({err})."
        ) from None
    if array.size == 0:
        array = np.zeros((0, 4))
    if array.ndim != 2 or array.shape[1] != 4:
        hint = " For one box, pass [[x1, y1, x2, y2]]." if array.shape == (4,) else ""
        raise ValueError(
            "`boxes` must be an (n, 4) array of (x1, y1, x2, y2), or None for "
            f"no detections. Received an array of shape {array.shape}.{hint}"
        )
    finite = np.isfinite(array).all(axis=1)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        raise ValueError(
            f"`boxes` must be finite. Received {int((~finite).sum())} of "
            f"{len(array)} boxes with NaN or inf, e.g. row {row}: "
            f"{array[row].tolist()}. Drop them before `update`."
        )
    flipped = (array[:, 2] < array[:, 0]) | (array[:, 3] < array[:, 1])
    if flipped.any():
        row = int(np.flatnonzero(flipped)[0])
        raise ValueError(
            "`boxes` must be (x1, y1, x2, y2) with x2 >= x1 and y2 >= y1. "
            f"Received {int(flipped.sum())} of {len(array)} boxes that are not, "
            f"e.g. row {row}: {array[row].tolist()}. Boxes given as (x, y, "
            "width, height) convert with cvseq.boxes.convert_format(boxes, "
            "'xywh', 'xyxy')."
        )
    if scores is None:
        return array, np.ones(len(array))
    try:
        scores = np.asarray(scores, np.float64).reshape(-1)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"`scores` must be numbers, one per box, or None. Received: {err}."
        ) from None
    if len(scores) != len(array):
        raise ValueError(
            f"`scores` must have one entry per box. Received {len(array)} "
            f"boxes and {len(scores)} scores."
        )
    if not np.isfinite(scores).all():
        raise ValueError(
            f"`scores` must be finite. Received: {scores.tolist()}."
        )
    return array, scores


def _compiled_call(model, history):
    """`model(past)` as one traced TensorFlow function for any batch size.

    A tracker calls its motion model once per frame on a few tracks; eager
    calls of a recurrent model cost about 80 ms each on a CPU, the traced
    function a small fraction of that.
    """
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec((None, history, 2), tf.float32)])
    def step(past):
        return model(past, training=False)

    return lambda past: step(tf.constant(past, tf.float32)).numpy()


def _coverage(boxes, regions):
    """Fraction of each box's area inside each region, `(n, m)`."""
    top_left = np.maximum(boxes[:, None, :2], regions[None, :, :2])
    bottom_right = np.minimum(boxes[:, None, 2:], regions[None, :, 2:])
    intersection = np.prod(np.clip(bottom_right - top_left, 0, None), axis=-1)
    area = np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 0, None), axis=-1)
    return intersection / np.maximum(area, 1e-9)[:, None]


def track_clip(tracker, detections):
    """Tracks one clip from its detections, starting the tracker afresh.

    Args:
        tracker: a `Tracker` (reset first, so ids start at 1).
        detections: one `(boxes, scores)` per frame.

    Returns:
        One `TrackedBoxes` per frame.
    """
    if not isinstance(tracker, Tracker):
        raise TypeError(
            f"`tracker` must be a cvseq.tracking.Tracker (e.g. Tracker('kalman')). "
            f"Received: {tracker!r} of type {type(tracker).__name__}.")
    tracker.reset()
    return [tracker.update(boxes, scores) for boxes, scores in detections]


def evaluate_tracker(tracker, detections, true_boxes, true_ids, *, iou_threshold=0.5):
    """Tracks clips and scores the tracks against the truth (MOTA, IDF1, ...).

    Args:
        tracker: a `Tracker`; it is reset before each clip.
        detections: per clip, one `(boxes, scores)` per frame.
        true_boxes: per clip, float `(frames, objects, 4)` true boxes
            `(x1, y1, x2, y2)`, or a list of `(n_t, 4)` per frame when
            objects come and go.
        true_ids: per clip, int `(objects,)` their ids, or a list of
            `(n_t,)` per frame (as `cvseq.datasets.mot_tracks` gives).
        iou_threshold: float in (0, 1]. Overlap a track needs to match a
            true object (see `cvseq.metrics.TrackingEvaluator`). Defaults
            to 0.5.

    Returns:
        `(metrics, outputs)`: the dict of `TrackingEvaluator.result()` plus
        `frames_per_second` (of the tracker alone, detections given), and
        per clip the list of `TrackedBoxes` per frame.
    """
    import time

    from cvseq.metrics.tracking import TrackingEvaluator

    if not len(detections) == len(true_boxes) == len(true_ids):
        raise ValueError(
            "`detections`, `true_boxes` and `true_ids` must hold one entry per "
            f"clip. Received {len(detections)}, {len(true_boxes)} and "
            f"{len(true_ids)} clips."
        )
    if not isinstance(tracker, Tracker):
        raise TypeError(
            f"`tracker` must be a cvseq.tracking.Tracker (e.g. Tracker('kalman')). "
            f"Received: {tracker!r} of type {type(tracker).__name__}.")
    evaluator = TrackingEvaluator(iou_threshold=iou_threshold)
    outputs = []
    seconds = 0.0
    for clip, (clip_detections, clip_boxes, clip_ids) in enumerate(
            zip(detections, true_boxes, true_ids)):
        if len(clip_detections) != len(clip_boxes):
            raise ValueError(
                f"Clip {clip}: {len(clip_detections)} frames of detections but "
                f"{len(clip_boxes)} frames of true boxes; give one (boxes, scores) "
                "per frame of the truth (empty arrays for a frame with none).")
        start = time.perf_counter()
        clip_out = track_clip(tracker, clip_detections)
        seconds += time.perf_counter() - start
        evaluator.next_sequence()
        per_frame = len(clip_ids) == len(clip_boxes) and np.ndim(clip_ids[0]) == 1
        for t, (frame_boxes, out) in enumerate(zip(clip_boxes, clip_out)):
            frame_ids = clip_ids[t] if per_frame else clip_ids
            try:
                evaluator.update(frame_ids, frame_boxes, out.ids, out.boxes)
            except ValueError as err:  # the evaluator's checks, with the frame named
                raise ValueError(f"Clip {clip}, frame {t}: {err}") from None
        outputs.append(clip_out)
    metrics = evaluator.result()
    metrics["frames_per_second"] = sum(len(c) for c in outputs) / max(seconds, 1e-9)
    return metrics, outputs


def frame_detector(detector="blobs", *, threshold=None):
    """A detector for tracking: `detect(frames)` -> one `(boxes, scores)` a frame.

    Args:
        detector: `"blobs"` (bright connected components,
            `cvseq.datasets.digit_tracks.detect_digits`: digits on a dark
            background), or a model from `cvseq.object_detector`, which
            sees each frame resized to its input size; its boxes are
            returned in frame pixels. Defaults to `"blobs"`.
        threshold: float in [0, 1] or None. Lowest score of a model's box
            that starts a track (`tracker_options["min_score"]`); weaker
            boxes down to `min(threshold, 0.1)` are kept too, for the
            tracker's second pass (ByteTrack's low threshold). None: 0.5.
            The blob detector scores no boxes (it keeps every blob), so a
            threshold given with it is a `ValueError`, not ignored.

    Returns:
        A function from uint8 frames `(n, height, width, 3)` RGB to a list
        of n `(boxes, scores)`: float32 `(k, 4)` `(x1, y1, x2, y2)` and
        `(k,)`. Its `tracker_options` attribute holds the `Tracker`
        options that suit the detector (`BLOB_OPTIONS` for blobs,
        `min_score=threshold` for a model):
        `Tracker(motion, **detect.tracker_options)`.
    """
    if isinstance(detector, str):
        if detector != "blobs":
            raise ValueError(
                "`detector` must be 'blobs' or a cvseq.object_detector model. "
                f"Received: detector={detector!r}."
            )
        if threshold is not None:
            raise ValueError(
                "The blob detector scores no boxes (it keeps every bright blob), "
                f"so a threshold would be ignored. Received: threshold={threshold!r}; "
                "leave it out, or pass a cvseq.object_detector model.")
        from cvseq.datasets.digit_tracks import detect_digits

        def detect(frames):
            return [detect_digits(frame) for frame in _check_frames(frames)]

        detect.tracker_options = dict(BLOB_OPTIONS)
        return detect
    if not callable(getattr(detector, "detect", None)):
        raise TypeError(
            "`detector` must be 'blobs' or a cvseq.object_detector model (one "
            f"with a `detect` method). Received: detector={detector!r}."
        )
    threshold = check_fraction("threshold", 0.5 if threshold is None else threshold,
                               inclusive_one=True)
    detect = functools.partial(_detect_with_model, detector, min(threshold, _LOW_SCORE))
    detect.tracker_options = {"min_score": threshold}
    return detect


def _check_frames(frames):
    """Frames as `detect` takes them: uint8 RGB `(n, height, width, 3)`."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        hint = " (one frame: pass frames[None])" if frames.ndim == 3 else ""
        raise ValueError(f"`frames` must be a batch of RGB frames (n, height, width, 3)"
                         f"{hint}. Received shape {frames.shape}.")
    if frames.dtype != np.uint8:
        raise TypeError(f"`frames` must be uint8 pixels in [0, 255]. Received dtype "
                        f"{frames.dtype}; e.g. np.clip(frames * 255, 0, 255)"
                        ".astype('uint8') for floats in [0, 1].")
    return frames


def _detect_with_model(model, threshold, frames):
    import cv2

    from cvseq.boxes import convert_format

    frames = _check_frames(frames)
    height, width = frames.shape[1:3]
    size = tuple(model.inputs[0].shape[1:3])
    model_height, model_width = (height, width) if None in size else size
    if (model_height, model_width) != (height, width):
        frames = np.stack([
            cv2.resize(f, (model_width, model_height), interpolation=cv2.INTER_AREA)
            for f in frames
        ])
    found = model.predict(frames, verbose=0)
    boxes = convert_format(
        np.asarray(found["boxes"], np.float32),
        getattr(model, "bounding_box_format", "xyxy"), "xyxy",
        image_size=(model_height, model_width),
    )
    boxes = boxes * np.array([width / model_width, height / model_height] * 2, np.float32)
    results = []
    for i in range(len(frames)):
        count = int(found["num_detections"][i])
        scores = np.asarray(found["scores"][i, :count], np.float32)
        keep = scores >= threshold
        results.append((boxes[i, :count][keep].reshape(-1, 4), scores[keep]))
    return results


# ---------------------------------------------------------------------------
# The task as `cvseq` commands, the examples and the tests see it: nothing
# to train; `cvseq track` runs it.
# ---------------------------------------------------------------------------

from cvseq import tasks as _tasks  # noqa: E402

_tasks.register_task(_tasks.TaskSpec(
    name="tracking",
    description="Tracking by detection (videos -> track ids; nothing to train: "
    "cvseq track)",
    dataset="digit_tracks",
    small_data={"num_clips": 2, "frames": 4},
    example="vehicle_tracking.py",
    command="track",
))
