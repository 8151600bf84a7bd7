import numpy as np
import pytest
import tensorflow as tf

from cvseq import boxes

XYXY = np.array([[10.0, 20.0, 30.0, 60.0], [-1, -1, -1, -1]], np.float32)


@pytest.mark.parametrize(
    "target, expected",
    [
        ("xywh", [10, 20, 20, 40]),
        ("center_xywh", [20, 40, 20, 40]),
        ("yxyx", [20, 10, 60, 30]),
        ("center_yxhw", [40, 20, 40, 20]),
        ("rel_xyxy", [0.05, 0.2, 0.15, 0.6]),
        ("rel_yxyx", [0.2, 0.05, 0.6, 0.15]),
    ],
)
def test_conversions_keep_padding(target, expected):
    out = boxes.convert_format(XYXY, "xyxy", target, image_size=(100, 200))
    np.testing.assert_allclose(out[0], expected, rtol=1e-6)
    np.testing.assert_array_equal(out[1], [-1, -1, -1, -1])
    back = boxes.convert_format(out, target, "xyxy", image_size=(100, 200))
    np.testing.assert_allclose(back, XYXY, rtol=1e-5, atol=1e-4)


def test_batched_and_tensor_inputs():
    batch = np.stack([XYXY, XYXY[::-1]])
    out = boxes.convert_format(tf.constant(batch), "xyxy", "xywh")
    assert tf.is_tensor(out) and out.shape == (2, 2, 4)
    np.testing.assert_allclose(out.numpy()[1, 1], [10, 20, 20, 40])
    np.testing.assert_array_equal(out.numpy()[1, 0], [-1, -1, -1, -1])


def test_pad_and_tfds():
    padded = boxes.pad(np.array([[1, 2, 3, 4]]), [5], 3)
    assert padded["boxes"].shape == (3, 4) and padded["labels"].tolist() == [5, -1, -1]
    voc = boxes.from_tfds(
        tf.constant([[0.1, 0.2, 0.5, 0.4]]), tf.constant([7]), (100, 200), max_boxes=2
    )
    np.testing.assert_allclose(voc["boxes"].numpy()[0], [40, 10, 80, 50], rtol=1e-6)
    assert voc["labels"].numpy().tolist() == [7, -1]


def test_errors():
    with pytest.raises(ValueError, match="image_size"):
        boxes.convert_format(XYXY, "xyxy", "rel_xyxy")
    with pytest.raises(ValueError, match="target"):
        boxes.convert_format(XYXY, "xyxy", "corners")
