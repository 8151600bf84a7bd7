import numpy as np
import pytest
import tensorflow_datasets as tfds

import cvseq
from cvseq.datasets import tfds_adapters


def test_ucf101_adapter_on_mock_data():
    with tfds.testing.mock_data(num_examples=3):
        ds, info = cvseq.datasets.load(
            "ucf101", "train", frames=4, image_size=(24, 32), batch_size=3,
            with_info=True,
        )
        clips, labels = next(iter(ds))
    assert clips.shape == (3, 4, 24, 32, 3) and clips.dtype.name == "uint8"
    assert labels.shape == (3,)
    assert len(info.class_names) == 101
    assert np.all((labels.numpy() >= 0) & (labels.numpy() < 101))
    # The model fits these batches directly.
    model = cvseq.video_tagger(101, frames=4, image_size=(24, 32), units=8)
    model.fit(ds.take(1), verbose=0)


def test_sample_clip_uniform_and_random():
    video = np.arange(10, dtype=np.uint8)[:, None, None, None] * np.ones(
        (10, 4, 4, 3), np.uint8
    )
    clip = tfds_adapters.sample_clip(video, 5, (4, 4), training=False)
    np.testing.assert_array_equal(clip.numpy()[:, 0, 0, 0], [1, 3, 5, 7, 9])
    clip = tfds_adapters.sample_clip(video, 5, (4, 4), training=True, seed=1)
    picks = clip.numpy()[:, 0, 0, 0]
    assert all(2 * k <= p < 2 * k + 2 for k, p in enumerate(picks))


def test_without_network_the_error_says_what_to_do(tmp_path):
    with pytest.raises(cvseq.datasets.DatasetUnavailableError, match="moving_digits"):
        cvseq.datasets.load("ucf101", "train", data_dir=str(tmp_path))
