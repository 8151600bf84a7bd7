"""Learning test: the detector on the embedded digit scenes, held out."""

import keras
import pytest

import cvseq
from cvseq import object_detector
from cvseq.metrics import evaluate_detector

pytestmark = pytest.mark.slow

SIZE = 64
SCENES = dict(image_size=SIZE, max_digits=2, digit_size=(24, 32))


# epochs: (mAP@0.5, mAP@[0.5:0.95]). The default run stops at 4 epochs (half
# the CPU): 0.333 / 0.345 / 0.433 and 0.206 / 0.221 / 0.285 (seeds 0 / 1 / 2,
# docs/images.md), so it asks for less; the 8 epochs of the README's figures
# run with `-m extended`.
SETTINGS = [
    pytest.param(4, (0.2, 0.1), id="learns"),
    pytest.param(8, (0.5, 0.3), id="reaches_the_readme_figures", marks=pytest.mark.extended),
]


@pytest.mark.parametrize("epochs, bars", SETTINGS)
def test_detector_finds_and_reads_digits_on_unseen_photos(epochs, bars):
    """Ten digit classes on 64x64 crops of photos; the test scenes use other
    photos and other handwritten digits than training. Baseline: the same
    detector before training (its boxes and labels are chance)."""
    keras.utils.set_random_seed(0)
    train = cvseq.datasets.load(
        "digit_detection", "train", num_scenes=2000, batch_size=16, **SCENES
    )
    test = cvseq.datasets.load("digit_detection", "test", batch_size=64, **SCENES)
    model = object_detector(10, image_size=SIZE, backbone="yolo_v8_tiny")
    untrained = evaluate_detector(model, test)

    # The factory's default compile (losses and schedule): the bars hold for
    # the default. Measured after 8 epochs: mAP@0.5 0.597 / 0.656 / 0.597,
    # mAP 0.411 / 0.463 / 0.427 (seeds 0 / 1 / 2); 6 epochs gave 0.537-0.579.
    model.fit(train, epochs=epochs, verbose=0)
    scores = evaluate_detector(model, test)
    print(f"held-out mAP@0.5 {scores['map_50']:.3f}, mAP@[0.5:0.95] "
          f"{scores['map']:.3f} (untrained: {untrained['map_50']:.3f})")
    assert scores["map_50"] >= bars[0]
    assert scores["map"] >= bars[1]
    assert untrained["map_50"] < 0.05
