import numpy as np
import pytest
import tensorflow as tf

import cvseq
from cvseq import export


@pytest.fixture(scope="module")
def tagger():
    return cvseq.video_tagger(3, frames=4, image_size=16, units=8)


@pytest.fixture(scope="module")
def clips():
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, (3, 4, 16, 16, 3)).astype("float32")
    data[1, 2:] = 0  # a padded clip
    return data


def test_saved_model_serves_raw_pixels(tagger, clips, tmp_path):
    path = export.export(tagger, str(tmp_path / "sm"), format="saved_model")
    served = tf.saved_model.load(path)
    outputs = served.serve(tf.constant(clips))
    np.testing.assert_allclose(
        outputs.numpy(), tagger.predict(clips, verbose=0), atol=1e-5
    )


def test_tflite_matches_keras(tagger, clips, tmp_path):
    path = export.export(tagger, str(tmp_path / "tagger.tflite"), format="tflite")
    np.testing.assert_allclose(
        export.tflite_predict(path, clips), tagger.predict(clips, verbose=0), atol=1e-4
    )


def test_keras_format_and_errors(tagger, tmp_path):
    path = export.export(tagger, str(tmp_path / "m.keras"), format="keras")
    assert path.endswith(".keras")
    with pytest.raises(ValueError, match="format"):
        export.export(tagger, str(tmp_path / "x"), format="onnx")
    with pytest.raises(ValueError, match=r"\.tflite"):
        export.export(tagger, str(tmp_path / "x.bin"), format="tflite")
    flexible = cvseq.video_tagger(2, frames=None, image_size=16, units=4)
    with pytest.raises(ValueError, match="static"):
        export.export(flexible, str(tmp_path / "y.tflite"), format="tflite")
