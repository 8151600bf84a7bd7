import numpy as np
import pytest
import tensorflow_datasets as tfds

import cvseq
from cvseq.datasets import frame_sequences, moving_digits


def test_moving_digit_frames_are_the_moving_digits_clips():
    ds, info = cvseq.datasets.load(
        "moving_digit_frames", "test", frames_in=3, frames_out=2, image_size=16,
        num_clips=4, batch_size=4, with_info=True,
    )
    context, future = next(iter(ds))
    assert context.shape == (4, 3, 16, 16, 1) and future.shape == (4, 2, 16, 16, 1)
    assert context.dtype.name == "uint8" and info.task == "video_predictor"
    clips, _, _ = moving_digits.generate("test", frames=5, image_size=16, num_clips=4)
    np.testing.assert_array_equal(
        np.concatenate([context, future], axis=1), clips.max(-1, keepdims=True)
    )
    rgb, _ = frame_sequences.generate("test", frames_in=3, frames_out=2,
                                      image_size=16, num_clips=4, channels=3)
    np.testing.assert_array_equal(rgb, clips[:, :3])


def test_moving_digit_frames_fit_the_model():
    ds = cvseq.datasets.load("moving_digit_frames", "train", frames_in=2,
                             frames_out=2, image_size=16, num_clips=4, batch_size=4)
    model = cvseq.video_predictor(frames_in=2, frames_out=2, image_size=16,
                                  filters=(4,), kernel_size=3)
    model.fit(ds, verbose=0)


def test_moving_digit_frames_bad_options():
    with pytest.raises(TypeError, match="frames"):
        cvseq.datasets.load("moving_digit_frames", "train", frames=4)
    with pytest.raises(ValueError, match="channels"):
        cvseq.datasets.load("moving_digit_frames", "train", channels=2)


def test_moving_mnist_split_is_fixed_and_disjoint():
    masks = [frame_sequences.moving_mnist_split_mask(s)
             for s in ("train", "validation", "test")]
    assert [m.sum() for m in masks] == [8000, 1000, 1000]
    assert np.all(sum(m.astype(int) for m in masks) == 1)
    np.testing.assert_array_equal(masks[2], frame_sequences.moving_mnist_split_mask("test"))


def test_moving_mnist_adapter_on_mock_data():
    with tfds.testing.mock_data(num_examples=40):
        ds, info = cvseq.datasets.load(
            "moving_mnist", "train", frames_in=6, frames_out=4, image_size=32,
            batch_size=4, with_info=True,
        )
        context, future = next(iter(ds))
        kept = sum(int(c.shape[0]) for c, _ in cvseq.datasets.load(
            "moving_mnist", "test", batch_size=8))
        with pytest.raises(ValueError, match="frames_in"):
            cvseq.datasets.load("moving_mnist", "train", frames_in=15, frames_out=10)
    assert context.shape == (4, 6, 32, 32, 1) and future.shape == (4, 4, 32, 32, 1)
    assert context.dtype.name == "uint8" and info.num_examples == 8000
    # The mock's first 40 sequences: those the fixed permutation puts in test.
    assert kept == frame_sequences.moving_mnist_split_mask("test")[:40].sum()
