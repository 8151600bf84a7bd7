"""Multi-object tracking metrics (MOTA, IDF1, ID switches) with motmetrics.

`TrackingEvaluator` collects, frame by frame, the true objects and the
tracker's output, matches them on box IoU, and asks `motmetrics` (the
reference implementation of the CLEAR MOT and identity metrics) for the
scores. Box distances are computed here with `box_iou`:
`motmetrics.distances.iou_matrix` of motmetrics 1.4.0 calls `np.asfarray`,
which NumPy 2 removed (fixed upstream after that release), so it is not used.
"""

import numbers

import numpy as np

# What `TrackingEvaluator.result()` reports, with motmetrics' names.
METRICS = (
    "mota",
    "motp",
    "idf1",
    "idp",
    "idr",
    "precision",
    "recall",
    "num_switches",
    "num_misses",
    "num_false_positives",
    "num_fragmentations",
    "num_objects",
    "num_unique_objects",
    "mostly_tracked",
    "mostly_lost",
)


def box_iou(boxes_a, boxes_b):
    """Intersection over union of every pair of boxes.

    Args:
        boxes_a: float `(n, 4)` boxes `(x1, y1, x2, y2)`.
        boxes_b: float `(m, 4)` boxes `(x1, y1, x2, y2)`.

    Returns:
        float64 `(n, m)`; 0 where boxes do not overlap (or have no area).
    """
    a = np.asarray(boxes_a, np.float64).reshape(-1, 4)
    b = np.asarray(boxes_b, np.float64).reshape(-1, 4)
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    intersection = np.prod(np.clip(bottom_right - top_left, 0, None), axis=-1)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=-1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=-1)
    union = area_a[:, None] + area_b[None, :] - intersection
    return np.divide(intersection, union, out=np.zeros_like(union), where=union > 0)


class TrackingEvaluator:
    """Scores a tracker against the truth with MOTA, IDF1 and ID switches.

    A true object and a track box can match when their IoU is at least
    `iou_threshold` (0.5 as in the MOT challenge). Call `update` once per
    frame, `next_sequence` between clips (ids restart), then `result`.

    Args:
        iou_threshold: float in (0, 1]. Defaults to 0.5.

    Example:

    >>> evaluator = TrackingEvaluator()
    >>> for t in range(frames):
    ...     out = tracker.update(*detect(frame[t]))
    ...     evaluator.update(true_ids, true_boxes[t], out.ids, out.boxes)
    >>> evaluator.result()["mota"]
    """

    def __init__(self, iou_threshold=0.5):
        if (not isinstance(iou_threshold, numbers.Real) or isinstance(iou_threshold, bool)
                or not 0 < iou_threshold <= 1):
            raise ValueError(
                f"`iou_threshold` must be in (0, 1]. Received: "
                f"iou_threshold={iou_threshold!r}."
            )
        import motmetrics

        self._mm = motmetrics
        self.iou_threshold = float(iou_threshold)
        self._accumulators = []
        self.next_sequence()

    def next_sequence(self):
        """Starts a new clip: its ids are independent of the previous ones."""
        if not self._accumulators or self._accumulators[-1].events.size:
            self._accumulators.append(self._mm.MOTAccumulator(auto_id=True))

    def update(self, true_ids, true_boxes, track_ids, track_boxes):
        """Adds one frame.

        Args:
            true_ids: int `(n,)` ids of the true objects in the frame.
            true_boxes: float `(n, 4)` their boxes `(x1, y1, x2, y2)`.
            track_ids: int `(m,)` the tracker's ids.
            track_boxes: float `(m, 4)` the tracker's boxes.
        """
        true_ids, track_ids = np.ravel(true_ids), np.ravel(track_ids)
        for name, ids, boxes in (("true", true_ids, true_boxes),
                                 ("track", track_ids, track_boxes)):
            if len(ids) != len(np.reshape(boxes, (-1, 4))):
                raise ValueError(
                    f"`{name}_ids` and `{name}_boxes` must be one id per box. Received "
                    f"{len(ids)} ids and {len(np.reshape(boxes, (-1, 4)))} boxes.")
            if len(set(ids.tolist())) != len(ids):
                raise ValueError(f"`{name}_ids` must be distinct within a frame. "
                                 f"Received {ids.tolist()}.")
            if ids.dtype.kind == "f" and not np.array_equal(ids, np.round(ids)):
                raise ValueError(f"`{name}_ids` must be whole numbers. Received "
                                 f"{ids.tolist()}.")
        distances = 1.0 - box_iou(true_boxes, track_boxes)
        distances[distances > 1.0 - self.iou_threshold] = np.nan
        self._accumulators[-1].update(
            [int(i) for i in np.ravel(true_ids)],
            [int(i) for i in np.ravel(track_ids)],
            distances,
        )

    def result(self):
        """The metrics over all frames and sequences, as a dict of floats.

        `mota`, `idf1`, `precision`, `recall` and `motp` (the mean
        1 - IoU of matched pairs) are fractions; `num_*`, `mostly_*` are
        counts.
        """
        accumulators = [a for a in self._accumulators if a.events.size]
        if not accumulators:
            raise ValueError("No frames to score: call `update` first.")
        host = self._mm.metrics.create()
        names = [str(i) for i in range(len(accumulators))]
        summary = host.compute_many(
            accumulators, metrics=list(METRICS), names=names, generate_overall=True
        )
        overall = summary.loc["OVERALL"]
        return {name: float(overall[name]) for name in METRICS}
