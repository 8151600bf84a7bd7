import numpy as np
import pytest

from cvseq.metrics import segmentation_report


def test_iou_per_class_and_mean():
    truth = np.array([[0, 0, 1, 1], [0, 0, 2, 2]])
    predicted = np.array([[0, 1, 1, 1], [0, 0, 2, 0]])
    report = segmentation_report(truth, predicted, 4)
    # class 0: 3 shared / 5 in union; class 1: 2/3; class 2: 1/2; class 3 absent.
    assert report["per_class_iou"][:3] == pytest.approx([3 / 5, 2 / 3, 1 / 2])
    assert report["per_class_iou"][3] is None
    assert report["mean_iou"] == pytest.approx((3 / 5 + 2 / 3 + 1 / 2) / 3)
    assert report["pixel_accuracy"] == pytest.approx(6 / 8)
    assert report["confusion_matrix"].sum() == 8


def test_probabilities_are_argmaxed():
    truth = np.array([[0, 1]])
    probabilities = np.array([[[0.9, 0.1], [0.2, 0.8]]])
    assert segmentation_report(truth, probabilities, 2)["mean_iou"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same shape"):
        segmentation_report(truth, np.zeros((1, 3)), 2)
