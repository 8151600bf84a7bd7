"""`cvseq.datasets.load(..., format="numpy")`: the same examples as the
`tf.data` pipeline, as NumPy batches for any backend (tests/backends/ fits
them on JAX and PyTorch with TensorFlow blocked)."""

import keras
import numpy as np
import pytest

import cvseq
from cvseq.datasets import registry

# Every data set format="numpy" serves, with tiny options.
EMBEDDED = {
    "moving_digits": dict(frames=4, image_size=16, num_clips=5),
    "digits": dict(image_size=8, examples_per_class=1),
    "digit_segmentation": dict(image_size=16, num_scenes=3),
    "digit_detection": dict(image_size=16, num_scenes=3),
    "fashion_products": dict(image_size=8, examples_per_class=1),
    "digit_tracks": dict(num_clips=2, frames=3, image_size=16),
    "digit_trajectories": dict(num_trajectories=5, history=3, horizon=2),
    "vessel_trajectories": dict(history=3, horizon=2, stride=50),
    "moving_digit_frames": dict(frames_in=2, frames_out=2, image_size=16, num_clips=5),
    "sample_videos": dict(frames=2, image_size=16, num_clips=3),
}


def _concatenate(batches):
    return keras.tree.map_structure(
        lambda *parts: np.concatenate([np.asarray(p) for p in parts]), *batches)


@pytest.mark.parametrize("name", sorted(EMBEDDED))
def test_numpy_batches_hold_the_examples_of_the_tf_pipeline(name):
    options = dict(EMBEDDED[name], split="validation", batch_size=2, shuffle=False,
                   with_info=True)
    dataset, tf_info = cvseq.datasets.load(name, **options)
    batches, info = cvseq.datasets.load(name, format="numpy", **options)
    assert isinstance(batches, keras.utils.PyDataset)
    expected = _concatenate(list(dataset.as_numpy_iterator()))
    got = _concatenate(list(batches))
    keras.tree.assert_same_structure(expected, got)
    for a, b in zip(keras.tree.flatten(expected), keras.tree.flatten(got)):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    keras.tree.map_structure(lambda a, b: np.testing.assert_array_equal(a, b),
                             batches.arrays, got)
    assert len(batches) == -(-info.num_examples // 2) and info.num_examples == len(
        keras.tree.flatten(got)[0]) == tf_info.num_examples
    # element_spec: shapes and dtypes of one example, as tf.data's.
    for spec, tf_spec in zip(keras.tree.flatten(info.element_spec),
                             keras.tree.flatten(tf_info.element_spec)):
        assert spec.shape == tuple(tf_spec.shape) and spec.dtype.name == tf_spec.dtype.name
    assert info.class_names == tf_info.class_names


def test_training_order_is_seeded_and_changes_every_epoch():
    def load(seed):
        return cvseq.datasets.load("digits", "train", image_size=8, batch_size=1000,
                                   examples_per_class=5, seed=seed, format="numpy")

    first, again, other = load(0), load(0), load(1)
    x0, y0 = first[0]
    np.testing.assert_array_equal(again[0][1], y0)
    assert not np.array_equal(other[0][1], y0)
    assert not np.array_equal(np.sort(y0), y0)  # shuffled (the split is sorted)
    first.on_epoch_end()
    x1, y1 = first[0]
    assert not np.array_equal(y1, y0)
    np.testing.assert_array_equal(np.sort(y1), np.sort(y0))  # same examples
    with pytest.raises(IndexError):
        first[len(first)]


def test_video_folder_clips_decode_as_numpy(tmp_path):
    import cv2

    for label, level in (("cats", 40), ("dogs", 200)):
        (tmp_path / "test" / label).mkdir(parents=True)
        for i in range(2):
            writer = cv2.VideoWriter(str(tmp_path / "test" / label / f"{i}.avi"),
                                     cv2.VideoWriter_fourcc(*"MJPG"), 10, (16, 16))
            for _ in range(4):
                writer.write(np.full((16, 16, 3), level, np.uint8))
            writer.release()
    options = dict(root=str(tmp_path), frames=2, image_size=8, batch_size=3,
                   shuffle=False)
    batches, info = cvseq.datasets.load("video_folder", "test", format="numpy",
                                        with_info=True, **options)
    expected = _concatenate(list(cvseq.datasets.load(
        "video_folder", "test", **options).as_numpy_iterator()))
    clips, labels = _concatenate(list(batches))
    assert batches.arrays is None and len(batches) == 2 and info.num_examples == 4
    assert clips.shape == (4, 2, 8, 8, 3) and clips.dtype == np.uint8
    np.testing.assert_array_equal(labels, [0, 0, 1, 1])
    np.testing.assert_array_equal(clips, expected[0])
    assert abs(clips[:2].mean() - 40) < 5 and abs(clips[2:].mean() - 200) < 5


def test_bad_format_and_pipelines_numpy_does_not_serve():
    with pytest.raises(ValueError, match="format.*'numpy'"):
        cvseq.datasets.load("digits", format="arrays")
    with pytest.raises(ValueError, match="tf.data pipeline.*format='tf'"):
        cvseq.datasets.load("hamlet", format="numpy")


def test_float_class_labels_are_refused_as_numpy_too():
    @registry.register_dataset("float_labels_numpy", task="image_classifier",
                               source="embedded", description="test")
    def build(split, *, seed=0, shuffle=None):
        info = registry.DatasetInfo("float_labels_numpy", split, "image_classifier",
                                    "embedded", class_names=["a", "b"])
        return (np.zeros((2, 4, 4, 3), np.uint8), np.array([0.5, 1.0])), info

    try:
        for format in ("numpy", "tf"):
            with pytest.raises(TypeError, match="float64.*integers 0 to 1"):
                cvseq.datasets.load("float_labels_numpy", format=format)
    finally:
        registry._REGISTRY.pop("float_labels_numpy")
