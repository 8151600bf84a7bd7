import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import cvseq
from cvseq import export


def _detector():
    import keras_cv

    keras.utils.set_random_seed(0)
    model = cvseq.object_detector(3, image_size=32, backbone="yolo_v8_tiny")
    # Untrained, the head's features are ~1e-4 and the class scores sit
    # within 1e-6 of the 1% prior: overlapping boxes tie within float error
    # and TFLite may keep the other one. Spread the scores, and lower the
    # 0.05 threshold to keep boxes, so that the comparison covers the NMS.
    for layer in model.layers:
        if layer.name.endswith("_class_3_conv"):
            layer.kernel.assign(layer.kernel * 3000.0)
    model.prediction_decoder = keras_cv.layers.NonMaxSuppression(
        bounding_box_format="xyxy", from_logits=False, iou_threshold=0.5,
        confidence_threshold=0.001, max_detections=100,
    )
    return model


# name: (build, input shape). Tiny models; the detector's features need
# strides 8 to 32, which small_cnn lacks, so it uses yolo_v8_tiny. frames=5
# checks the 3D pooling's "same" padding on an odd clip length.
MODELS = {
    "video_tagger": (lambda: cvseq.video_tagger(3, frames=4, image_size=16, units=8),
                     (3, 4, 16, 16, 3)),
    "image_classifier": (lambda: cvseq.image_classifier(3, image_size=16), (3, 16, 16, 3)),
    "image_segmenter": (lambda: cvseq.image_segmenter(3, image_size=32), (2, 32, 32, 3)),
    "video_classifier_3d": (
        lambda: cvseq.video_classifier_3d(3, frames=5, image_size=16, filters=(4, 8)),
        (2, 5, 16, 16, 3)),
    "object_detector": (_detector, (2, 32, 32, 3)),
}


@pytest.fixture(scope="module", params=sorted(MODELS))
def case(request, tmp_path_factory):
    """A model, inputs, its Keras predictions, and its two exports."""
    build, shape = MODELS[request.param]
    model = build()
    inputs = np.random.default_rng(0).integers(0, 256, shape).astype("float32")
    if request.param == "video_tagger":
        inputs[1, 2:] = 0  # a padded clip
    folder = tmp_path_factory.mktemp(request.param)
    return {
        "name": request.param,
        "model": model,
        "inputs": inputs,
        "expected": model.predict(inputs, verbose=0),
        "saved_model": export.export(model, str(folder / "sm"), format="saved_model"),
        "tflite": export.export(model, str(folder / "m.tflite"), format="tflite"),
    }


def _assert_close(actual, expected, atol):
    if isinstance(expected, dict):
        assert expected["num_detections"].min() > 0  # boxes to compare
        assert sorted(actual) == sorted(expected)
        for key in expected:
            np.testing.assert_allclose(np.asarray(actual[key]), expected[key],
                                       atol=atol, err_msg=key)
    else:
        np.testing.assert_allclose(np.asarray(actual), expected, atol=atol)


def test_saved_model_serves_raw_pixels(case):
    served = tf.saved_model.load(case["saved_model"])
    outputs = served.serve(tf.constant(case["inputs"]))
    if isinstance(outputs, dict):
        outputs = {key: value.numpy() for key, value in outputs.items()}
    _assert_close(outputs, case["expected"], atol=1e-5)


def test_tflite_matches_keras(case):
    _assert_close(export.tflite_predict(case["tflite"], case["inputs"]),
                  case["expected"], atol=1e-4)


@pytest.mark.parametrize("case", ["image_classifier"], indirect=True)
def test_tflite_predict_refuses_inputs_of_another_shape(case):
    # A 32x32 batch given to a 16x16 file returned plausible probabilities.
    inputs = case["inputs"]
    with pytest.raises(ValueError, match=r"takes input .* of shape \(batch, 16, 16, 3\)"):
        export.tflite_predict(case["tflite"], np.zeros((2, 32, 32, 3), "float32"))
    with pytest.raises(ValueError, match=r"without its batch axis"):
        export.tflite_predict(case["tflite"], inputs[0])
    with pytest.raises(ValueError, match="no example"):
        export.tflite_predict(case["tflite"], inputs[:0])


def test_tflite_uses_builtin_ops_only(case):
    # Select (Flex) ops need a runtime most devices lack; none here.
    with open(case["tflite"], "rb") as f:
        assert b"Flex" not in f.read()


def test_detector_per_image_needs_a_static_batch():
    model = _detector()
    spec = tf.TensorSpec((None, 32, 32, 3))
    with pytest.raises(ValueError, match="static batch size"):
        tf.function(lambda x: model.detect(x, per_image=True)).get_concrete_function(spec)


def test_keras_format_and_errors(tmp_path):
    tagger = cvseq.video_tagger(2, frames=2, image_size=16, units=4)
    path = export.export(tagger, str(tmp_path / "m.keras"), format="keras")
    assert path.endswith(".keras")
    with pytest.raises(ValueError, match="format"):
        export.export(tagger, str(tmp_path / "x"), format="onnx")
    with pytest.raises(ValueError, match=r"\.tflite"):
        export.export(tagger, str(tmp_path / "x.bin"), format="tflite")
    # Not a model, or no path: said, naming the value.
    with pytest.raises(TypeError, match=r"model='.*m.keras' of type str.*load it first"):
        export.export(str(tmp_path / "m.keras"), str(tmp_path / "sm"))
    for bad in (None, 123):
        with pytest.raises(TypeError, match=rf"`path` must be a str.*path={bad}"):
            export.export(tagger, bad, format="tflite")
    flexible = cvseq.video_tagger(2, frames=None, image_size=16, units=4)
    with pytest.raises(ValueError, match="static"):
        export.export(flexible, str(tmp_path / "y.tflite"), format="tflite")
    # A file name given to the default (SavedModel, a folder): it wrote a
    # folder called m2.keras.
    with pytest.raises(ValueError, match=r"ends in \.keras: pass format='keras'"):
        export.export(tagger, str(tmp_path / "m2.keras"))
    # A missing parent folder is made, whatever the format (only the
    # SavedModel made it; .keras failed inside Keras).
    assert os.path.isfile(export.export(tagger, str(tmp_path / "new" / "m.keras"),
                                        format="keras"))
    with pytest.raises(ValueError, match="not a TFLite file"):
        export.tflite_predict(str(tmp_path / "m.keras"), np.zeros((1, 2, 16, 16, 3)))
    with pytest.raises(ValueError, match=r"No TFLite file .*\(a folder\)"):
        export.tflite_predict(str(tmp_path), np.zeros((1, 2, 16, 16, 3)))

    class Subclassed(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(ValueError, match="no known inputs .* model.export"):
        export.export(Subclassed(), str(tmp_path / "sub"))
    subclassed = Subclassed()
    subclassed(np.zeros((1, 2)))
    assert os.path.isfile(export.export(subclassed, str(tmp_path / "sub.keras"),
                                        format="keras"))
    with pytest.raises(ValueError, match=r"\.tflite"):  # checked before any folder
        export.export(tagger, str(tmp_path / "never" / "x.bin"), format="tflite")
    assert not (tmp_path / "never").exists()


def test_what_is_at_the_path_is_kept_unless_asked(tmp_path, monkeypatch):
    # A battery found the API replacing files, merging into a user's folder
    # and writing into the current folder for path="".
    tagger = cvseq.video_tagger(2, frames=2, image_size=16, units=4)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="`path` must name where to write"):
        export.export(tagger, "", format="keras")
    assert os.listdir(tmp_path) == []
    # The ending's case is named (format='keras' for m.KERAS went in circles).
    with pytest.raises(ValueError, match="ends in .keras, in lowercase"):
        export.export(tagger, str(tmp_path / "m.KERAS"), format="keras")
    saved = tmp_path / "m.keras"
    export.export(tagger, str(saved), format="keras")
    before = saved.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        export.export(tagger, str(saved), format="keras")
    assert saved.read_bytes() == before
    export.export(tagger, str(saved), format="keras", overwrite=True)
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="exists; export does not replace it"):
        export.export(tagger, str(folder))  # a SavedModel into the user's folder
    assert os.listdir(folder) == ["notes.txt"]
    (tmp_path / "dir.keras").mkdir()
    with pytest.raises(ValueError, match="is a folder; this format writes one file"):
        export.export(tagger, str(tmp_path / "dir.keras"), format="keras", overwrite=True)
    with pytest.raises(ValueError, match=r"'.*m.keras' on the way to it is a file"):
        export.export(tagger, str(saved / "sub" / "m.keras"), format="keras")

