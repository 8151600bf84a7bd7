"""The TFDS adapters of issue 5, offline on tfds.testing.mock_data."""

import numpy as np
import pytest

import cvseq
from cvseq.datasets import captions

tfds = pytest.importorskip("tensorflow_datasets")


def test_coco_captions_on_mock_data():
    with tfds.testing.mock_data(num_examples=4):
        ds, info = cvseq.datasets.load(
            "coco_captions", "train", image_size=32, sequence_length=10,
            vocabulary=captions.VOCABULARY, batch_size=2, with_info=True,
        )
        x, y = next(iter(ds))
    assert x["images"].shape == (2, 32, 32, 3) and x["images"].dtype == "uint8"
    assert x["decoder_input"].shape == (2, 10) and y.shape == (2, 10)
    start, end = len(captions.VOCABULARY) + 2, len(captions.VOCABULARY) + 3
    assert (np.asarray(x["decoder_input"])[:, 0] == start).all()
    # Each target row holds one "[END]", right after the caption's words.
    y = np.asarray(y)
    assert ((y == end).sum(axis=1) == 1).all()
    np.testing.assert_array_equal(
        np.asarray(x["decoder_input"])[:, 1:], np.where(y == end, 0, y)[:, :-1]
    )
    assert info.vocabulary == captions.VOCABULARY and info.task == "image_captioner"


def test_coco_captions_builds_a_vocabulary_and_fits_the_captioner():
    with tfds.testing.mock_data(num_examples=4):
        ds, info = cvseq.datasets.load(
            "coco_captions", "validation", image_size=24, sequence_length=6,
            batch_size=4, with_info=True,
        )
        model = cvseq.image_captioner(
            vocabulary=info.vocabulary, image_size=24, sequence_length=6, units=4
        )
        model.fit(ds, epochs=1, verbose=0)
    assert len(info.vocabulary.get_vocabulary()) > 2  # mock captions' words


def test_ucf101_feeds_the_3d_classifier():
    with tfds.testing.mock_data(num_examples=2):
        ds, info = cvseq.datasets.load(
            "ucf101", "train", frames=4, image_size=16, batch_size=2, with_info=True
        )
        model = cvseq.video_classifier_3d(
            info.num_classes, frames=4, image_size=16, filters=(4, 8)
        )
        model.fit(ds, epochs=1, verbose=0)
    assert info.num_classes == 101
