"""Issue 11, point 13: `Tracker.update` refuses malformed boxes clearly.

A user passing (x, y, w, h) rows, a transposed array, NaN from a failed
detector or boxes with x2 < x1 gets one ValueError naming what was
received, not silent tracks; None and empty arrays mean "no detections".
"""

import numpy as np
import pytest

from cvseq.tracking import Tracker


def _tracker_with_one_track():
    tracker = Tracker(report_coasting=0)
    for _ in range(3):
        tracker.update(np.array([[10.0, 10.0, 20.0, 30.0]]))
    return tracker


@pytest.mark.parametrize("boxes, message", [
    (np.arange(12).reshape(4, 3), r"\(n, 4\).*shape \(4, 3\)"),
    (np.zeros((2, 6)), r"\(n, 4\).*shape \(2, 6\)"),
    (np.zeros((2, 4, 1)), r"\(n, 4\).*shape \(2, 4, 1\)"),
    ([10, 10, 20, 20], r"shape \(4,\).*For one box, pass \[\[x1, y1, x2, y2\]\]"),
    (np.array([[0, 0, 10, 10], [np.nan, 0, 10, 10]]), r"finite.*1 of 2.*row 1"),
    (np.array([[0, 0, np.inf, 10]]), r"finite.*row 0"),
    (np.array([[20, 0, 10, 10]]), r"x2 >= x1 and y2 >= y1.*row 0: \[20.0, 0.0, 10.0, 10.0\]"),
    (np.array([[0, 0, 10, 10], [0, 30, 10, 10]]), r"y2 >= y1.*1 of 2.*convert_format"),
    ([["a", "b", "c", "d"]], r"`boxes` must be an \(n, 4\) array"),
])
def test_malformed_boxes_raise_one_clear_error(boxes, message):
    tracker = _tracker_with_one_track()
    before = [t.kf.x.copy() for t in tracker.tracks]
    with pytest.raises(ValueError, match=message):
        tracker.update(boxes)
    # The refused frame changed nothing: same tracks, same state.
    assert len(tracker.tracks) == len(before)
    for track, state in zip(tracker.tracks, before):
        np.testing.assert_array_equal(track.kf.x, state)


@pytest.mark.parametrize("scores, message", [
    ([0.5, 0.5], "one entry per box. Received 1 boxes and 2 scores"),
    ([np.nan], "`scores` must be finite"),
    (["high"], "`scores` must be numbers"),
])
def test_malformed_scores_raise(scores, message):
    with pytest.raises(ValueError, match=message):
        Tracker().update(np.array([[0, 0, 10, 10]]), scores=scores)


@pytest.mark.parametrize("empty", [None, [], np.zeros((0, 4)), np.zeros(0), ()])
def test_none_and_empty_mean_no_detections(empty):
    tracker = _tracker_with_one_track()
    out = tracker.update(empty)
    # The track is missed (not reported with report_coasting=0), not ended.
    assert out.boxes.shape == (0, 4) and out.ids.tolist() == []
    assert len(tracker.tracks) == 1 and tracker.tracks[0].misses == 1
    fresh = Tracker().update(empty)
    assert fresh.boxes.shape == (0, 4) and fresh.ids.shape == (0,)


def test_zero_area_and_integer_boxes_are_accepted():
    out = Tracker().update(np.array([[5, 5, 5, 9], [0, 0, 10, 10]], np.int32))
    assert out.ids.tolist() == [1, 2]
