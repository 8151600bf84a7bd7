"""Learning test on real photos nobody here made: the DEFAULT
`image_classifier` against the CNN a Keras user would write, trained side
by side in this test on the same Fashion-MNIST product photos."""

import os
import sys

import pytest

from cvseq.datasets import fashion_images

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "benchmarks"))
import cnn_factories  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.path.isdir(fashion_images.DEFAULT_DIR) and not os.environ.get("CI"),
        reason="Fashion-MNIST files absent: apt-get install dataset-fashion-mnist "
        "(.ci/run installs it, so CI never skips)",
    ),
]

# Two held-out accuracies on 2,000 test images differ by about 0.013 (one
# standard error of the difference) from sampling alone.
MARGIN = 0.02


def test_default_classifier_matches_plain_keras_cnn_on_real_photos():
    size = 28
    models = cnn_factories.real_image_models(size, ["cvseq_default", "plain_keras_cnn"])
    result = cnn_factories.race_on_real_images(
        train_images=3_000, test_images=2_000, epochs=3, image_size=size, models=models)
    default, plain = result["cvseq_default"], result["plain_keras_cnn"]
    print(result)
    # The reference learns (chance 0.10): the comparison means something.
    assert plain["accuracy"] > 0.7
    assert default["accuracy"] >= plain["accuracy"] - MARGIN
