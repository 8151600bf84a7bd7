import numpy as np
import pytest

from cvseq.metrics import TrackingEvaluator, box_iou


def test_box_iou_by_hand():
    a = np.array([[0, 0, 10, 10], [0, 0, 2, 2]])
    b = np.array([[5, 0, 15, 10], [0, 0, 10, 10], [20, 20, 30, 30]])
    np.testing.assert_allclose(
        box_iou(a, b), [[50 / 150, 1.0, 0.0], [0.0, 4 / 100, 0.0]]
    )
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 3)


BOX_1 = [0, 0, 10, 10]
BOX_2 = [50, 50, 60, 60]


def test_perfect_tracking():
    evaluator = TrackingEvaluator()
    for _ in range(5):
        evaluator.update([0, 1], [BOX_1, BOX_2], [7, 9], [BOX_1, BOX_2])
    result = evaluator.result()
    assert result["mota"] == 1.0 and result["idf1"] == 1.0
    assert result["num_switches"] == 0 and result["motp"] == 0.0


def test_miss_switch_and_false_positive_by_hand():
    evaluator = TrackingEvaluator()
    shifted = [1, 0, 11, 10]  # IoU 9/11 with BOX_1: a match, not a perfect one
    evaluator.update([0, 1], [BOX_1, BOX_2], [1, 2], [shifted, BOX_2])
    evaluator.update([0, 1], [BOX_1, BOX_2], [1, 3], [BOX_1, BOX_2])  # 1 switch
    evaluator.update([0, 1], [BOX_1, BOX_2], [1], [BOX_1])            # 1 miss
    evaluator.update([0], [BOX_1], [1, 4], [BOX_1, BOX_2])            # 1 false positive
    result = evaluator.result()
    assert result["num_objects"] == 7
    counts = ("num_switches", "num_misses", "num_false_positives")
    assert tuple(result[c] for c in counts) == (1, 1, 1)
    assert result["mota"] == pytest.approx(1 - 3 / 7)
    assert result["motp"] == pytest.approx((1 - 9 / 11) / 6)  # 6 matched pairs


def test_sequences_keep_their_ids_apart():
    evaluator = TrackingEvaluator()
    evaluator.update([0], [BOX_1], [1], [BOX_1])
    evaluator.next_sequence()
    # Same numbers in a new clip are new objects and tracks: no switch.
    evaluator.update([0], [BOX_2], [1], [BOX_2])
    assert evaluator.result()["num_switches"] == 0


def test_low_overlap_is_not_a_match():
    evaluator = TrackingEvaluator(iou_threshold=0.5)
    evaluator.update([0], [BOX_1], [1], [[4, 0, 14, 10]])  # IoU 6/14
    result = evaluator.result()
    assert (result["num_misses"], result["num_false_positives"]) == (1, 1)


def test_bad_threshold_and_empty():
    with pytest.raises(ValueError, match="iou_threshold"):
        TrackingEvaluator(iou_threshold=0)
    with pytest.raises(ValueError, match="update"):
        TrackingEvaluator().result()
