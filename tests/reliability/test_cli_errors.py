"""One line per user mistake, never a traceback, never a silent default
(issue 11, points 6-11).

A CLI case checks exit status 2, one stderr line starting `cvseq: error:`
(the `cvseq_error` fixture) and that the files the command must not touch
are byte-identical afterwards.
"""

import json
import os
import shutil
import struct
import sys
import zipfile
import zlib

import keras
import numpy as np
import pytest
import tensorflow as tf

import cvseq
from cvseq import cli, tasks


def _png_claiming(width, height):
    """A PNG whose header says `width` x `height` (its pixels are not there)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


# --- evaluate, export, predict: tracebacks before issue 11 -------------------


def test_evaluate_data_with_more_classes_than_the_model(finished_run, cvseq_error,
                                                        snapshot):
    before = snapshot(finished_run)
    message = cvseq_error(["evaluate", os.path.join(finished_run, "model.keras"),
                           "--data", "label=motion", "--data", "num_clips=8"])
    assert "8 classes" in message and "predicts 4" in message
    assert snapshot(finished_run) == before


def test_export_never_replaces_an_existing_file(finished_run, tmp_path, cvseq_error,
                                                snapshot):
    target = tmp_path / "model.tflite"
    target.write_bytes(b"the user's own file")
    message = cvseq_error(["export", os.path.join(finished_run, "model.keras"),
                           "--format", "tflite", "--out", target])
    assert "exists" in message and "--out" in message
    assert target.read_bytes() == b"the user's own file"
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "keep.txt").write_text("mine")
    before = snapshot(saved)
    cvseq_error(["export", os.path.join(finished_run, "model.keras"), "--out", saved])
    assert snapshot(saved) == before


def test_export_into_a_place_that_cannot_be_written(finished_run, tmp_path,
                                                    cvseq_error):
    model = os.path.join(finished_run, "model.keras")
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    assert "is not a directory" in cvseq_error(
        ["export", model, "--format", "tflite", "--out", a_file / "model.tflite"])
    assert "is not a directory" in cvseq_error(
        ["export", model, "--out", tmp_path / "missing" / "sm"])
    assert ".tflite" in cvseq_error(  # a ValueError of export(), one line
        ["export", model, "--format", "tflite", "--out", tmp_path / "model.bin"])
    assert not (tmp_path / "model.bin").exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes into read-only directories")
def test_export_into_a_read_only_directory(finished_run, tmp_path, cvseq_error):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert "not writable" in cvseq_error(
            ["export", os.path.join(finished_run, "model.keras"), "--format", "tflite",
             "--out", locked / "model.tflite"])
    finally:
        locked.chmod(0o700)


def test_predict_refuses_a_huge_image_before_decoding_it(tmp_path, cvseq_error):
    model = tmp_path / "model.keras"
    cvseq.image_classifier(2, image_size=32, backbone="small_cnn").save(str(model))
    (tmp_path / "run.json").write_text('{"task": "image_classifier"}')
    image = tmp_path / "huge.png"
    image.write_bytes(_png_claiming(60000, 60000))
    message = cvseq_error(["predict", model, image])
    assert "60000x60000" in message and "100,000,000 pixels" in message
    assert tasks.MAX_IMAGE_PIXELS == 100_000_000  # the limit the README states


def test_predict_refuses_a_photo_cut_short(tmp_path, cvseq_error):
    # OpenCV decoded the first rows of a truncated JPEG and painted the rest
    # grey; the prediction came out with exit status 0.
    from PIL import Image

    model = tmp_path / "model.keras"
    cvseq.image_classifier(2, image_size=16, backbone="small_cnn").save(str(model))
    (tmp_path / "run.json").write_text('{"task": "image_classifier"}')
    photo = tmp_path / "photo.jpg"
    pixels = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(photo, quality=90)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(photo.read_bytes()[: photo.stat().st_size * 6 // 10])
    message = cvseq_error(["predict", model, cut])
    assert "'" + str(cut) + "' is damaged or cut short" in message
    # Refused before OpenCV decodes it: libjpeg's own "Premature end of JPEG
    # file" line (written past Python's stderr) never comes.
    with pytest.raises(tasks.UserInputError, match="damaged or cut short"):
        tasks.read_image_inputs([str(cut)], keras.saving.load_model(str(model)))
    assert tasks.read_image_inputs([str(photo)], keras.saving.load_model(
        str(model))).shape == (1, 16, 16, 3)
    # Whole pictures Pillow is strict about still read: 2 MB of XMP in a
    # PNG (as Photoshop exports write) is no damage.
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", "x" * 2_000_000, zip=False)
    xmp = tmp_path / "xmp.png"
    Image.fromarray(pixels).save(xmp, pnginfo=info)
    assert tasks.read_image_inputs([str(xmp)], keras.saving.load_model(
        str(model))).shape == (1, 16, 16, 3)


# --- .keras files that are not readable archives -------------------------------


def _bad_archives(finished_run, tmp_path):
    data = open(os.path.join(finished_run, "model.keras"), "rb").read()
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(data[: len(data) // 2])
    text = tmp_path / "text.keras"
    text.write_text("not a model")
    empty = tmp_path / "empty.keras"
    empty.write_bytes(b"")
    return [truncated, text, empty]


@pytest.mark.parametrize("command", ["evaluate", "predict", "export"])
def test_corrupt_keras_files_are_named_as_such(command, finished_run, tmp_path,
                                               cvseq_error):
    for path in _bad_archives(finished_run, tmp_path):
        argv = [command, path] + (["clip.mp4"] if command == "predict" else [])
        message = cvseq_error(argv)
        assert "not a readable .keras archive" in message, message
        assert "File not found" not in message


def test_a_zip_that_is_not_a_model(tmp_path, cvseq_error):
    path = tmp_path / "other.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")
    assert "other.keras" in cvseq_error(["evaluate", path])


def test_a_broken_run_json_is_named(finished_run, tmp_path, cvseq_error):
    out = tmp_path / "run"
    shutil.copytree(finished_run, out)
    (out / "run.json").write_text("{ truncated")
    message = cvseq_error(["evaluate", out / "model.keras"])
    assert "run.json" in message


# --- zero and negative counts are errors, never "the default" -------------------


@pytest.mark.parametrize("argv, says", [
    (["train", "video_tagger", "--frames", "0"], "--frames must be at least 1"),
    (["train", "video_tagger", "--image-size", "0"], "--image-size must be at least 1"),
    (["train", "video_tagger", "--batch-size", "-1"], "--batch-size must be at least 1"),
    (["train", "video_tagger", "--epochs", "0"], "--epochs must be at least 1"),
    (["train", "video_tagger", "--data", "num_clips=0"], "num_clips"),
    (["train", "video_tagger", "--data", "frames=0"], "frames"),
    (["train", "image_classifier", "--image-size", "4"], "image_size"),
    (["train", "video_tagger", "--set", "units=0"], "units"),
    (["train", "video_tagger", "--set", "units='eight'"], "units"),
    (["train", "video_tagger", "--data", "colour=red"], "unknown option"),
    (["train", "video_tagger", "--seed", "-1"], "--seed must be from 0 to 2**32 - 1"),
    (["train", "video_tagger", "--seed", str(2 ** 32)], "Received: --seed 4294967296"),
    (["train", "video_tagger", "--strategy", "multi_worker"], "TF_CONFIG"),
    (["train", "image_classifier", "--frames", "4"],
     "image_classifier takes no --frames (its data has no frames to set)"),
    (["train", "text_classifier", "--image-size", "16"],
     "text_classifier takes no --image-size"),
    (["track", "--dataset", "digit_tracks", "--clips", "0"], "--clips"),
    (["track", "--dataset", "digit_tracks", "--clips", "2", "--data", "num_clips=5"],
     "--clips 2 and --data num_clips=5 say two things"),
    (["track", "clip.mp4", "--clips", "5"], "--clips chooses what --dataset tracks"),
    (["track", "clip.mp4", "--split", "train", "--data", "num_digits=2"],
     "--split, --data choose what --dataset tracks"),
    (["track", "--dataset", "digit_tracks", "--data", "num_digits=0"], "num_digits"),
])
def test_bad_counts_and_options_are_one_line(argv, says, tmp_path, cvseq_error):
    out = tmp_path / "out"
    message = cvseq_error(argv + ["--out", out])
    assert says in message, message
    assert not out.exists()


@pytest.mark.parametrize("name, option", [
    ("moving_digits", "num_clips"), ("digit_tracks", "num_clips"),
    ("digit_trajectories", "num_trajectories"), ("digit_detection", "num_scenes"),
    ("digit_captions", "num_images"),
])
def test_zero_examples_is_an_error_in_the_api(name, option):
    with pytest.raises(ValueError, match=option):
        cvseq.datasets.load(name, "test", **{option: 0})


# --- float labels and NaN inputs at the data boundary --------------------------


def test_float_class_labels_are_refused():
    from cvseq.datasets import registry

    @registry.register_dataset("float_labels", task="image_classifier",
                               source="folder", description="test")
    def build(split, *, seed=0, shuffle=None):
        images = np.zeros((4, 8, 8, 3), np.uint8)
        labels = np.array([0.0, 0.5, 1.7, 1.0], np.float32)
        info = registry.DatasetInfo("float_labels", split, "image_classifier",
                                    "folder", ["a", "b"])
        return tf.data.Dataset.from_tensor_slices((images, labels)), info

    try:
        with pytest.raises(TypeError, match="float32.*integers 0 to 1"):
            cvseq.datasets.load("float_labels")
    finally:
        registry._REGISTRY.pop("float_labels")


@pytest.fixture(scope="module")
def trajectory_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("trajectory")
    model = cvseq.trajectory_predictor(history=4, horizon=2, units=4)
    model.save(str(out / "model.keras"))
    (out / "run.json").write_text('{"task": "trajectory_predictor"}')
    return str(out / "model.keras")


@pytest.mark.parametrize("rows, says", [
    ("1,2\n3,nan\n5,6\n7,8\n", "NaN or infinite positions (row 2 of 4)"),
    ("1,2\n3,4\n5,inf\n7,8\n", "row 3 of 4"),
    ("1,2,3\n3,4,5\n5,6,7\n7,8,9\n", "3 columns"),
    ("1,2\n", "1 positions"),
    ("a,b\n", "Cannot read positions"),
])
def test_trajectory_csv_with_nan_or_the_wrong_shape(rows, says, trajectory_model,
                                                    tmp_path, cvseq_error):
    track = tmp_path / "track.csv"
    track.write_text(rows)
    assert says in cvseq_error(["predict", trajectory_model, track])


# --- the package: lazy modules, TFDS causes, bugs stay visible -----------------


def test_callbacks_and_export_are_attributes_of_cvseq():
    # The README calls them as attributes; they load on first use.
    assert {"callbacks", "export"} <= set(cvseq.__all__)
    assert cvseq.__getattr__("callbacks") is sys.modules["cvseq.callbacks"]
    assert cvseq.__getattr__("export") is sys.modules["cvseq.export"]
    assert callable(cvseq.callbacks.fault_tolerant)
    assert callable(cvseq.export.export_tflite)
    with pytest.raises(AttributeError, match="no_such"):
        cvseq.no_such


def test_tfds_reports_a_missing_package_not_the_network(monkeypatch):
    import tensorflow_datasets as tfds

    def builder(name, data_dir=None):
        raise ModuleNotFoundError("No module named 'importlib_resources'",
                                  name="importlib_resources")

    monkeypatch.setattr(tfds, "builder", builder)
    with pytest.raises(cvseq.datasets.DatasetUnavailableError) as caught:
        cvseq.datasets.load("ucf101", "test")
    message = str(caught.value)
    assert "'importlib_resources' is missing" in message
    assert "network" not in message.lower()
    import importlib_resources  # noqa: F401 (the dependency setup.cfg installs)


def test_tfds_video_builders_say_they_need_ffmpeg(monkeypatch):
    import shutil as shutil_module

    import tensorflow_datasets as tfds

    class Unprepared:
        def is_prepared(self):
            return False

    monkeypatch.setattr(tfds, "builder", lambda name, data_dir=None: Unprepared())
    monkeypatch.setattr(shutil_module, "which", lambda program: None)
    with pytest.raises(cvseq.datasets.DatasetUnavailableError, match="ffmpeg"):
        cvseq.datasets.load("ucf101", "test")


def test_a_bug_is_not_dressed_as_a_user_mistake(monkeypatch):
    def broken(args):
        raise ValueError("an internal bug")

    monkeypatch.setitem(cli.COMMANDS, "list", broken)
    with pytest.raises(ValueError, match="internal bug"):
        cli.main(["list"])


class _StubClassifier:
    """Stands in for a saved image classifier (no model to build or load),
    named by its user (a factory's default name would be checked against
    the run.json's task first)."""

    name = "my_classifier"
    inputs = [np.zeros((1, 8, 8, 3))]
    outputs = [np.zeros((1, 2))]

    def predict(self, images, verbose=0):
        return np.full((len(images), 2), 0.5)


@pytest.mark.parametrize("error", [ValueError, TypeError])
def test_a_bug_in_predict_shows_its_traceback(error, tmp_path, monkeypatch, capsys):
    # The classifier's own predict runs (it reads the image), then cvseq's
    # code after the model fails: a bug, not a "cvseq: error:" line.
    def broken(outputs, run, top=3, model=None):
        raise error("a bug in describe_classes")

    monkeypatch.setattr(cli, "_load_model", lambda path: _StubClassifier())
    monkeypatch.setattr(tasks, "describe_classes", broken)
    (tmp_path / "run.json").write_text('{"task": "image_classifier"}')
    image = tmp_path / "image.png"
    import cv2

    cv2.imwrite(str(image), np.zeros((12, 12, 3), np.uint8))
    with pytest.raises(error, match="a bug in describe_classes"):
        cli.main(["predict", str(tmp_path / "model.keras"), str(image)])
    assert "cvseq: error:" not in capsys.readouterr().err


def test_a_bug_in_evaluate_shows_its_traceback(finished_run, monkeypatch, capsys,
                                               cvseq_error):
    from cvseq.models.task import Task

    model = os.path.join(finished_run, "model.keras")
    argv = ["evaluate", model, "--data", "num_clips=8"]

    def raising(error):
        def evaluate(self, *args, **kwargs):
            raise error
        return evaluate

    monkeypatch.setattr(Task, "evaluate", raising(ValueError("a bug in evaluate")))
    with pytest.raises(ValueError, match="a bug in evaluate"):
        cli.main(argv)
    other_op_error = tf.errors.InvalidArgumentError(None, None, "a bug in a kernel")
    monkeypatch.setattr(Task, "evaluate", raising(other_op_error))
    with pytest.raises(tf.errors.InvalidArgumentError, match="a bug in a kernel"):
        cli.main(argv)
    assert "cvseq: error:" not in capsys.readouterr().err
    # A label out of the model's classes is the data's problem: one line.
    label_error = tf.errors.InvalidArgumentError(
        None, None, "Received a label value of 6 which is outside the valid range "
        "of [0, 4).  Label values: 6 1")
    monkeypatch.setattr(Task, "evaluate", raising(label_error))
    assert "label value of 6" in cvseq_error(argv)


@pytest.mark.parametrize("num_classes, data, says", [
    (4, [], "trained on multi-hot tags, the data gives one class per example"),
    (12, ["--data", "label=digits"], "the data has 10 tags, the model predicts 12"),
])
def test_evaluate_multi_label_tags_that_do_not_fit(num_classes, data, says, tmp_path,
                                                   monkeypatch, cvseq_error):
    # Checked from the specs before evaluating (once a ValueError of fit's
    # loss, caught with any other ValueError).
    model = cvseq.video_tagger(num_classes, frames=4, image_size=16, units=4,
                               multi_label=True)
    monkeypatch.setattr(cli, "_load_model", lambda path: model)
    (tmp_path / "run.json").write_text('{"task": "video_tagger", "multi_label": true}')
    message = cvseq_error(["evaluate", tmp_path / "model.keras", "--data", "num_clips=4",
                           *data])
    assert "does not fit this model" in message and says in message, message


def test_a_bug_in_export_shows_its_traceback(finished_run, tmp_path, monkeypatch,
                                             capsys):
    def broken(model, path, format="saved_model"):
        raise TypeError("a bug in export")

    monkeypatch.setattr(cvseq.export, "export", broken)
    with pytest.raises(TypeError, match="a bug in export"):
        cli.main(["export", os.path.join(finished_run, "model.keras"), "--format",
                  "tflite", "--out", str(tmp_path / "model.tflite")])
    assert "cvseq: error:" not in capsys.readouterr().err


def test_loading_a_model_a_bug_or_a_file_of_other_code(finished_run, monkeypatch,
                                                       cvseq_error):
    import keras

    model = os.path.join(finished_run, "model.keras")

    def bug(path, **kwargs):
        raise TypeError("__init__() got an unexpected keyword argument 'units'")

    monkeypatch.setattr(keras.saving, "load_model", bug)
    with pytest.raises(TypeError, match="unexpected keyword"):
        cli.main(["evaluate", model])

    def other_code(path, **kwargs):
        raise TypeError("Could not locate class 'MyLayer'. Make sure custom classes "
                        "are decorated with `@keras.saving.register_keras_serializable()`.")

    monkeypatch.setattr(keras.saving, "load_model", other_code)
    message = cvseq_error(["predict", model, "clip.mp4"])
    assert "classes neither Keras nor cvseq has" in message and "MyLayer" in message


def test_a_bug_in_training_after_the_options_shows_its_traceback(tmp_path, tiny_train,
                                                                 monkeypatch):
    # The factory's and data set's refusals of user options are one line
    # (test_bad_counts_and_options_are_one_line); fit is cvseq's own code.
    from cvseq.models.task import Task

    def fit(self, *args, **kwargs):
        raise ValueError("a bug in fit")

    monkeypatch.setattr(Task, "fit", fit)
    with pytest.raises(ValueError, match="a bug in fit"):
        cli.main(["train", *tiny_train, "--epochs", "1", "--out", str(tmp_path / "run")])


# --- predict: the readers name what is wrong with the texts given --------------


@pytest.fixture(scope="module")
def text_generators():
    sequences = cvseq.sequence_generator(vocabulary=["60:1", "62:1", "64:1"],
                                         sequence_length=4, units=4)
    ids = cvseq.sequence_generator(vocabulary=6, sequence_length=4, units=4)
    words = cvseq.language_model(vocabulary=["to", "be", "or", "not"],
                                 sequence_length=4, units=4)
    reviews = cvseq.text_classifier(2, vocabulary=["good", "bad"], units=4)
    return {"sequence_generator": sequences, "token_ids": ids, "language_model": words,
            "text_classifier": reviews}


@pytest.mark.parametrize("name, text, says", [
    ("sequence_generator", "60:1 99:9", "does not know or adds itself: ['99:9']"),
    ("sequence_generator", "[START] 60:1", "adds itself: ['[START]']"),  # a traceback
    ("language_model", "caf\udce9", "is not UTF-8 (b'caf\\xe9')"),  # argv in latin-1: a traceback
    ("token_ids", "3 x", "reads token ids; give ints from 1 to 5"),
    ("token_ids", "3 \u00b2", "reads token ids"),  # a digit to str.isdigit, not to int
    ("token_ids", "3 6", "ints from 1 to 5"),
    ("token_ids", "-", "reads token ids"),
    ("language_model", "   ", "is blank"),
    ("text_classifier", "", "The text is blank: nothing to classify"),
    ("language_model", "?!", "holds no word the model reads"),
])
def test_predict_texts_the_model_cannot_read(name, text, says, text_generators,
                                             tmp_path, monkeypatch, cvseq_error):
    task = name if name in ("language_model", "text_classifier") else "sequence_generator"
    monkeypatch.setattr(cli, "_load_model", lambda path: text_generators[name])
    (tmp_path / "run.json").write_text(f'{{"task": "{task}"}}')
    assert says in cvseq_error(["predict", tmp_path / "model.keras", text])


def test_predict_names_which_text_and_which_run(text_generators, tmp_path, monkeypatch,
                                              cvseq_error):
    monkeypatch.setattr(cli, "_load_model", lambda path: text_generators["language_model"])
    (tmp_path / "run.json").write_text('{"task": "language_model"}')
    model = tmp_path / "model.keras"
    # Each error names its input among all given (it said "Text 1 of 1").
    assert "input 2 of 2 (' '): The text is blank" in cvseq_error(
        ["predict", model, "to be", " "])
    # A file name is read as text, and said so (it was continued silently).
    with pytest.warns(UserWarning, match=r"'notes.txt' looks like a file name \(there is no "
                      "such file here\); it is read"):
        assert cli.main(["predict", str(model), "notes.txt"]) == 0
    # A model copied beside another run's run.json (a traceback deep in generate).
    (tmp_path / "run.json").write_text('{"task": "sequence_generator"}')
    assert ("describes a 'sequence_generator' run, but the model is a 'language_model'"
            in cvseq_error(["predict", model, "to be"]))


def test_predict_video_with_a_model_that_reads_images(tmp_path, monkeypatch,
                                                      cvseq_error):
    monkeypatch.setattr(cli, "_load_model", lambda path: _StubClassifier())
    (tmp_path / "run.json").write_text('{"task": "video_tagger"}')
    assert "does not read video clips" in cvseq_error(
        ["predict", tmp_path / "model.keras", tmp_path / "clip.mp4"])


# --- more of the same spirit ------------------------------------------------------


def test_train_out_is_an_existing_file(tmp_path, tiny_train, cvseq_error):
    out = tmp_path / "notes.txt"
    out.write_text("mine")
    assert "Cannot write the run directory" in cvseq_error(
        ["train", *tiny_train, "--epochs", "1", "--out", out])
    assert out.read_text() == "mine"


def test_empty_options_and_a_file_name_for_a_saved_model_are_named(
        finished_run, tmp_path, cvseq_error):
    # A battery: --out "" exported beside the model, --dataset "" evaluated
    # the run's own data, a .keras --out told to pass format='keras', which
    # the CLI has no choice for.
    model = os.path.join(finished_run, "model.keras")
    assert "--out is empty" in cvseq_error(["export", model, "--out", ""])
    assert "--dataset is empty" in cvseq_error(["evaluate", model, "--dataset", " "])
    says = cvseq_error(["export", model, "--out", str(tmp_path / "m.keras")])
    assert "a SavedModel is a folder: pass a folder name" in says
    says = cvseq_error(["export", model, "--out", str(tmp_path / "m.tflite")])
    assert "pass --format tflite" in says
    assert os.listdir(tmp_path) == []
    # A run.json edited to name another task: evaluate said nothing.
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    recorded = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**recorded, "task": "video_classifier_3d"}))
    assert "describes a 'video_classifier_3d' run, but the model is a 'video_tagger'" in \
        cvseq_error(["evaluate", run / "model.keras"])
    # An option only the run.json holds is said to be the run.json's (it read
    # as if given with --data).
    (run / "run.json").write_text(json.dumps(
        {**recorded, "data_options": {**recorded.get("data_options", {}), "bogus": 1}}))
    assert "The run.json beside" in cvseq_error(["evaluate", run / "model.keras"])
    assert "records data option(s) bogus that 'moving_digits' does not take" in \
        cvseq_error(["evaluate", run / "model.keras"])


def test_a_plain_keras_model_is_named_as_no_task(tmp_path, cvseq_error):
    # It said "Unknown task 'sequential'".
    import keras

    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    path = str(tmp_path / "plain.keras")
    plain.save(path)
    for command in (["evaluate", path], ["predict", path, "x"]):
        says = cvseq_error(command)
        assert f"No run.json beside {path!r} names its task" in says
        assert f"name {plain.name!r} is no cvseq task" in says


def test_evaluate_an_unknown_split_or_a_directory(finished_run, tmp_path, cvseq_error):
    model = os.path.join(finished_run, "model.keras")
    assert "split" in cvseq_error(["evaluate", model, "--split", "tset"])
    assert "is a directory; pass a .keras model file" in cvseq_error(
        ["evaluate", str(tmp_path)])
    # The run directory itself: its model file is named.
    assert f"pass the model file in it: {model!r}" in cvseq_error(
        ["evaluate", finished_run])
    assert "No such model file" in cvseq_error(["evaluate", str(tmp_path / "nothing")])


def test_a_keras_archive_without_weights_is_one_line(tmp_path, cvseq_error):
    import zipfile

    path = tmp_path / "model.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", '{"class_name": "Functional", "config": {}}')
    assert "without the weights of a saved model" in cvseq_error(
        ["evaluate", str(path)])


def test_a_key_error_while_rebuilding_a_keras_file_is_a_bug(finished_run, monkeypatch):
    import keras

    def broken(*args, **kwargs):
        raise KeyError("backbone")  # as a from_config of ours would

    monkeypatch.setattr(keras.saving, "load_model", broken)
    with pytest.raises(KeyError):
        cli.main(["evaluate", os.path.join(finished_run, "model.keras")])


# --- a user's own videos (session 10's battery) ------------------------------


def _clip_folder(root, labels, count=3):
    import cv2

    for index, label in enumerate(labels):
        (root / label).mkdir(parents=True)
        for i in range(count):
            writer = cv2.VideoWriter(str(root / label / f"{i}.avi"),
                                     cv2.VideoWriter_fourcc(*"MJPG"), 10, (16, 16))
            for t in range(6):
                writer.write(np.full((16, 16, 3), 40 * index + 10 * t, np.uint8))
            writer.release()
    return root


def test_options_that_contradict_are_refused_before_loading(
        tmp_path, tiny_train, cvseq_error):
    out = tmp_path / "run"
    message = cvseq_error(["train", *tiny_train, "--data", "frames=8", "--out", out])
    assert "--frames 4 gives frames=4, --data frames=8 another" in message
    message = cvseq_error(["train", *tiny_train, "--data", "image_size=24", "--out", out])
    assert "--image-size 16 gives image_size=[16, 16]" in message
    message = cvseq_error(["train", *tiny_train, "--set", "bogus=3", "--out", out])
    assert "--set bogus: video_tagger has no 'bogus' argument" in message
    assert "units" in message and "recurrent" in message
    assert cvseq_error(["train", "language_model", "--backbone", "small_cnn", "--out",
                        out]).startswith("cvseq: error: --backbone: language_model has")
    # A folder named as a number stays a path.
    message = cvseq_error(["train", "video_tagger", "--dataset", "video_folder", "--data",
                           "root=2024", "--out", out])
    assert "2024" in message and "must be a folder of videos" in message
    assert not out.exists()


def test_a_run_directory_inside_the_data_is_refused(tmp_path, tiny_train, cvseq_error):
    root = _clip_folder(tmp_path / "videos", ["dark", "bright"])
    message = cvseq_error(["train", "video_tagger", "--dataset", "video_folder",
                           "--data", f"root={root}", "--out", root / "run"])
    assert "is inside the data's root" in message
    assert sorted(os.listdir(root)) == ["bright", "dark"]


def test_evaluate_on_a_folder_of_some_classes(finished_run, tmp_path, cvseq_error,
                                              capsys):
    """The run's own data options (moving_digits') are not carried to
    another data set; a model without its run.json cannot match a folder
    of fewer classes to its own, and says so; another task's data set is
    refused by name."""
    model = os.path.join(finished_run, "model.keras")
    folder = _clip_folder(tmp_path / "some", ["left", "up"])
    assert cli.main(["evaluate", model, "--dataset", "video_folder",
                     "--data", f"root={folder}", "--data", "test_split=0.34"]) == 0
    assert '"accuracy"' in capsys.readouterr().out
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(model, bare / "model.keras")
    message = cvseq_error(["evaluate", bare / "model.keras", "--dataset", "video_folder",
                           "--data", f"root={folder}", "--data", "test_split=0.34"])
    assert "has 2 classes ['left', 'up'], the model predicts 4, and no run.json" in message
    message = cvseq_error(["evaluate", model, "--dataset", "video_frames"])
    assert "holds data for video_predictor, not video_tagger" in message


def test_folders_given_as_files_are_named_folders(finished_run, tmp_path, cvseq_error):
    videos = tmp_path / "videos"
    videos.mkdir()
    message = cvseq_error(["track", videos, "--out", tmp_path / "tracks"])
    assert f"{str(videos)!r} is a folder; give video files" in message
    message = cvseq_error(["track", "--dataset", "digit_tracks", "--detector",
                           finished_run, "--out", tmp_path / "tracks"])
    assert "is a folder; pass the model file in it" in message
    assert not (tmp_path / "tracks").exists()


def test_predict_notes_an_image_given_to_a_video_model_and_a_file_name_as_text(
        tmp_path):
    import cv2

    image = tmp_path / "still.png"
    cv2.imwrite(str(image), np.full((20, 20, 3), 90, np.uint8))
    tagger = cvseq.video_tagger(2, frames=2, image_size=16, units=4)
    with pytest.warns(UserWarning, match="is an image: the video model reads it as "
                      "one frame repeated 2 times"):
        assert tasks.read_video_inputs([str(image)], tagger).shape == (1, 2, 16, 16, 3)
    reviews = cvseq.text_classifier(2, vocabulary=["good", "bad"], units=4)
    with pytest.warns(UserWarning, match=r"is also a file name; it is classified.*\$\(cat "):
        tasks.read_texts([str(image), "good"], reviews)


def test_an_edited_run_json_is_named_not_a_dataset_flag(finished_run, tmp_path,
                                                        cvseq_error):
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    recorded = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**recorded, "task": "text_classifier"}))
    message = cvseq_error(["evaluate", run / "model.keras"])
    assert "describes a 'text_classifier' run, but the model is a 'video_tagger'" in message
    assert "--dataset moving_digits" not in message


def test_track_takes_the_clip_count_from_data_when_no_clips_flag(tmp_path, capsys):
    out = tmp_path / "tracks"
    assert cli.main(["track", "--dataset", "digit_tracks", "--data", "num_clips=2",
                     "--out", str(out)]) == 0
    assert json.loads((out / "metrics.json").read_text())["clips"] == 2
