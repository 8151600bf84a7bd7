import numpy as np
import pytest

from cvseq.metrics import mean_average_precision

TRUTH = {
    "boxes": np.array([[[10, 10, 30, 40], [50, 50, 60, 70]],
                       [[0, 0, 20, 20], [-1, -1, -1, -1]]], "float32"),
    "labels": np.array([[3, 1], [3, -1]]),
}


def _found(boxes, labels, scores):
    return {"boxes": np.array(boxes, "float32"), "labels": np.array(labels),
            "scores": np.array(scores, "float32")}


def test_perfect_detections_score_one():
    found = _found(TRUTH["boxes"], TRUTH["labels"], [[0.9, 0.8], [0.7, -1]])
    scores = mean_average_precision(TRUTH, found, num_classes=4)
    assert scores["map_50"] == pytest.approx(1.0)
    assert scores["map"] == pytest.approx(1.0)


def test_wrong_label_and_loose_box():
    # Right place, wrong class: no credit for class 1.
    found = _found([[[10, 10, 30, 40], [50, 50, 60, 70]], [[0, 0, 20, 20], [-1] * 4]],
                   [[3, 2], [3, -1]], [[0.9, 0.8], [0.7, -1]])
    scores = mean_average_precision(TRUTH, found, num_classes=4)
    assert scores["map_50"] == pytest.approx(0.5, abs=0.01)  # class 3 right, class 1 missed
    # A box at IoU 0.6 counts at 0.5 but not at 0.75.
    loose = _found([[[10, 10, 30, 40], [50, 50, 60, 70]], [[0, 0, 20, 33.3], [-1] * 4]],
                   [[3, 1], [3, -1]], [[0.9, 0.8], [0.95, -1]])
    strict = mean_average_precision(TRUTH, loose, num_classes=4)
    assert strict["map_50"] == pytest.approx(1.0)
    assert strict["map_75"] < 1.0


def test_num_detections_and_formats():
    found = _found(TRUTH["boxes"], TRUTH["labels"], [[0.9, 0.8], [0.7, 0.6]])
    found["num_detections"] = np.array([1, 1])  # the second box of image 0 is cut
    scores = mean_average_precision(TRUTH, found, num_classes=4)
    assert scores["map_50"] == pytest.approx(0.5, abs=0.01)
    xywh = {"boxes": np.array([[[10, 10, 20, 30], [50, 50, 10, 20]],
                               [[0, 0, 20, 20], [-1, -1, -1, -1]]], "float32"),
            "labels": TRUTH["labels"]}
    same = _found(xywh["boxes"], TRUTH["labels"], [[0.9, 0.8], [0.7, -1]])
    assert mean_average_precision(
        xywh, same, bounding_box_format="xywh")["map"] == pytest.approx(1.0)


def test_missing_keys():
    with pytest.raises(ValueError, match="scores"):
        mean_average_precision(TRUTH, {"boxes": TRUTH["boxes"], "labels": TRUTH["labels"]})
