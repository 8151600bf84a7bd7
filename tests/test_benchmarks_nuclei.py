"""benchmarks/nuclei_defaults.py: the classic baselines it scores the defaults against."""

import importlib.util
import os
import sys

import numpy as np
import pytest

from cvseq.datasets import nuclei
from cvseq.metrics import instances as instance_metrics
from cvseq.metrics import mean_average_precision, segmentation_report

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "benchmarks"))
import nuclei_defaults  # noqa: E402

if importlib.util.find_spec("stardist") is None and not os.environ.get("CI"):
    pytest.skip("stardist's data files are not installed "
                "(pip install --no-deps stardist)", allow_module_level=True)


@pytest.fixture(scope="module")
def test_tiles():
    return nuclei.generate("test", image_size=64)


def test_baselines_are_honest(test_tiles):
    """The watershed splits the true foreground into the true nuclei (so a
    weak score on Otsu's mask is Otsu's, not the code's); boxes of the true
    instances are the data set's boxes; cleaned Otsu is a fair segmenter."""
    truth = {"semantic": test_tiles["semantic"], "instances": test_tiles["instances"]}
    split = nuclei_defaults.watershed_instances(test_tiles["semantic"], 7)
    assert instance_metrics.mask_average_precision(truth, split, num_classes=2)["map_50"] > 0.9
    own = {"instance_ids": test_tiles["instances"],
           "labels": np.where(test_tiles["labels"] >= 0, 1, -1),
           "scores": np.ones(test_tiles["labels"].shape, np.float32)}
    boxes = nuclei_defaults.components_boxes(own, 32)
    truth_boxes = {"boxes": test_tiles["boxes"], "labels": test_tiles["labels"]}
    np.testing.assert_array_equal(boxes["boxes"], test_tiles["boxes"])
    assert mean_average_precision(truth_boxes, boxes, num_classes=1)["map"] == pytest.approx(1.0)
    otsu = segmentation_report(test_tiles["semantic"],
                               nuclei_defaults.cleaned_otsu_masks(test_tiles["images"]), 2)
    assert 0.7 < otsu["per_class_iou"][1] < 0.9
