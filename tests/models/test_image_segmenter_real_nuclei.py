"""Learning test: the segmenter's defaults on real annotated nuclei, held out."""

import importlib.util
import os
import sys

import keras
import pytest

import cvseq
from cvseq.datasets import nuclei
from cvseq.metrics import segmentation_report

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "benchmarks"))
import nuclei_defaults  # noqa: E402

pytestmark = pytest.mark.slow

if importlib.util.find_spec("stardist") is None and not os.environ.get("CI"):
    # CI (.ci/run sets CI=1) installs it, so there a missing package fails.
    pytest.skip("stardist's data files are not installed "
                "(pip install --no-deps stardist)", allow_module_level=True)


def test_segmenter_outlines_real_nuclei_better_than_otsu():
    """Nuclei in a real fluorescence image (hand-annotated, 2018 Data Science
    Bowl, stardist's files): trained on 64x64 crops of the left columns,
    scored on the fixed grid of the right columns. Baseline on the same
    tiles: Otsu's threshold per tile, smoothed, holes filled, specks
    dropped (foreground IoU 0.795). The factory's defaults, compile
    included; only epochs, tiles and batch size chosen. Measured here (600
    tiles, 4 epochs, 34 s on a shared 2-core machine): foreground IoU 0.874
    / 0.872, mean IoU 0.924 / 0.922 (seeds 0 / 1); with 1,000 tiles 0.876 /
    0.888 (benchmarks/nuclei_defaults.py)."""
    keras.utils.set_random_seed(0)
    train = cvseq.datasets.load("nuclei_segmentation", "train", num_tiles=TILES,
                                batch_size=16)
    test = nuclei.generate("test")
    model = cvseq.image_segmenter(2, image_size=64)
    model.fit(train, epochs=EPOCHS, verbose=0)

    found = segmentation_report(test["semantic"], model.predict(test["images"], verbose=0), 2)
    otsu = segmentation_report(test["semantic"],
                               nuclei_defaults.cleaned_otsu_masks(test["images"]), 2)
    print(f"held-out foreground IoU {found['per_class_iou'][1]:.3f}, mean IoU "
          f"{found['mean_iou']:.3f}; Otsu {otsu['per_class_iou'][1]:.3f} / "
          f"{otsu['mean_iou']:.3f}")
    assert found["per_class_iou"][1] > otsu["per_class_iou"][1] + 0.03
    assert found["mean_iou"] > otsu["mean_iou"] + 0.02


TILES, EPOCHS = 600, 4
