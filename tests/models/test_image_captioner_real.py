"""The captioner's defaults on real photos nobody here made (Fashion-MNIST).

Products are real Zalando catalogue photos; only their layout on the 2x2
grid and the template captions are made here (see
`cvseq.datasets.captions.generate_fashion_captions`).
"""

import collections
import os
import sys

import keras
import pytest

from cvseq import image_captioner
from cvseq.datasets import captions, fashion_images
from cvseq.metrics import bleu, exact_match

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "benchmarks"))
import captioner_real  # noqa: E402

pytestmark = pytest.mark.skipif(
    not os.path.isdir(fashion_images.DEFAULT_DIR) and not os.environ.get("CI"),
    reason="Fashion-MNIST files absent: apt-get install dataset-fashion-mnist "
    "(.ci/run installs it, so CI never skips)",
)


@pytest.mark.slow
def test_defaults_caption_real_product_photos():
    """The factory's defaults (backbone, width, attention, dropout, compile)
    on products from the official test photos, against the most frequent
    training caption and a per-cell pixel nearest neighbour told where the
    grid's cells are (0.453 exact, BLEU 83.8). Seeds 0 / 1: exact match
    0.453 / 0.450, BLEU 83.7 / 83.0 (without attention: 0.200 / 0.210,
    69.5 / 68.7); bars: 0.75x the neighbour's exact match (0.340) and its
    BLEU - 8 (docs/captioning_real.md)."""
    keras.utils.set_random_seed(0)
    size, length = 32, captions.FASHION_SEQUENCE_LENGTH
    train_images, train_captions = captions.generate_fashion_captions(
        "train", num_images=2000, image_size=size)
    images, references = captions.generate_fashion_captions(
        "test", num_images=300, image_size=size)
    inputs, targets = captions.caption_inputs(
        train_images, train_captions, vocabulary=captions.FASHION_VOCABULARY,
        sequence_length=length)
    model = image_captioner(vocabulary=captions.FASHION_VOCABULARY, image_size=size,
                            sequence_length=length)
    model.fit(inputs, targets, epochs=5, batch_size=32, verbose=0)
    predicted = model.caption(images)

    most_frequent = collections.Counter(train_captions).most_common(1)[0][0]
    constant = [most_frequent] * len(references)

    nearest = captioner_real.nearest_cell_captions(train_images, train_captions, images)

    assert exact_match(references, predicted) >= 10 * max(
        exact_match(references, constant), 0.01)
    assert bleu(references, predicted) >= bleu(references, constant) + 40
    assert exact_match(references, predicted) >= 0.75 * exact_match(references, nearest)
    assert bleu(references, predicted) >= bleu(references, nearest) - 8
