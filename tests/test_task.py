"""The task contract: every factory returns a `cvseq.Task` whose
`compile(optimizer=...)` alone keeps the task's loss and metrics, and
`.keras` files saved by earlier commits keep loading and predicting the same.
"""

import glob
import os
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import cvseq
from cvseq import tasks, text
from cvseq.datasets import captions

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "0d9c082")
RNG = np.random.default_rng(0)


def _images(n, size):
    return RNG.integers(0, 256, (n, size, size, 3)).astype("uint8")


def _text_classifier():
    reviews = ["a gripping film", "dull and long", "great fun"]
    model = cvseq.text_classifier(2, vocabulary=text.build_vocabulary(reviews),
                                  units=4, compile=False)
    return model, reviews, np.array([1, 0, 1])  # a plain list of str


def _language_model():
    lines = ["to be or not to be", "that is the question"]
    vocabulary = text.build_vocabulary(lines)
    windows, targets = text.language_model_windows(
        lines, vocabulary=vocabulary, sequence_length=4)
    model = cvseq.language_model(vocabulary=vocabulary, sequence_length=4,
                                 units=4, compile=False)
    return model, np.array(windows, dtype=str), targets  # a NumPy str_ array


def _sequence_generator():
    notes = ["60:1", "62:1", "64:1"]
    inputs, targets = text.token_sequence_inputs(
        [notes, notes[::-1]], vocabulary=notes, sequence_length=3)
    model = cvseq.sequence_generator(vocabulary=notes, sequence_length=3, units=4,
                                     compile=False)
    return model, inputs.numpy().astype(str), targets  # 2-D str_, Keras refuses it


def _translator():
    sources, targets = ["Germany", "Spain"], ["Alemania", "España"]
    source = text.build_vocabulary(sources, level="character")
    target = text.build_vocabulary(targets, level="character")
    inputs, ids = text.teacher_forcing_inputs(
        sources, targets, target_vocabulary=target, sequence_length=(8, 10))
    model = cvseq.translator(source_vocabulary=source, target_vocabulary=target,
                             sequence_length=(8, 10), units=4, compile=False)
    inputs["source"] = list(sources)  # a plain list of str
    return model, inputs, ids


def _image_captioner():
    pictures, texts = captions.generate_captions(
        "train", num_images=2, image_size=24, max_digits=1)
    inputs, ids = captions.caption_inputs(
        pictures, texts, vocabulary=captions.VOCABULARY, sequence_length=5)
    model = cvseq.image_captioner(vocabulary=captions.VOCABULARY, image_size=24,
                                  sequence_length=5, units=4, compile=False)
    return model, inputs, ids


def _object_detector():
    model = cvseq.object_detector(2, image_size=32, backbone="yolo_v8_tiny",
                                  compile=False)
    targets = {"boxes": np.array([[[2, 2, 20, 20]], [[5, 5, 30, 25]]], "float32"),
               "labels": np.array([[1], [0]], "int32")}
    return model, _images(2, 32), targets


FACTORIES = {
    "image_classifier": lambda: (
        cvseq.image_classifier(3, image_size=16, compile=False),
        _images(2, 16), np.array([0, 2])),
    "image_classifier_multi_label": lambda: (
        cvseq.image_classifier(3, image_size=16, multi_label=True, compile=False),
        _images(2, 16), np.array([[1, 0, 1], [0, 1, 0]], "float32")),
    "image_segmenter": lambda: (
        cvseq.image_segmenter(3, image_size=16, compile=False),
        _images(2, 16), RNG.integers(0, 3, (2, 16, 16))),
    "object_detector": _object_detector,
    "video_tagger": lambda: (
        cvseq.video_tagger(3, frames=2, image_size=16, units=4, compile=False),
        RNG.integers(0, 256, (2, 2, 16, 16, 3)).astype("uint8"), np.array([0, 1])),
    "video_classifier_3d": lambda: (
        cvseq.video_classifier_3d(3, frames=2, image_size=16, filters=(4,),
                                  compile=False),
        RNG.integers(0, 256, (2, 2, 16, 16, 3)).astype("uint8"), np.array([2, 1])),
    "trajectory_predictor": lambda: (
        cvseq.trajectory_predictor(history=4, horizon=2, units=4, compile=False),
        RNG.uniform(0, 1, (2, 4, 2)), RNG.uniform(0, 1, (2, 2, 2))),
    "video_predictor": lambda: (
        cvseq.video_predictor(frames_in=2, frames_out=2, image_size=8, filters=(4,),
                              kernel_size=3, compile=False),
        RNG.integers(0, 256, (2, 2, 8, 8, 1)).astype("uint8"),
        RNG.integers(0, 256, (2, 2, 8, 8, 1)).astype("uint8")),
    "text_classifier": _text_classifier,
    "language_model": _language_model,
    "sequence_generator": _sequence_generator,
    "translator": _translator,
    "image_captioner": _image_captioner,
}
FACTORIES["instance_segmenter"] = lambda: (
    cvseq.instance_segmenter(3, image_size=16, max_instances=2, compile=False),
    _images(2, 16), {"semantic": RNG.integers(0, 3, (2, 16, 16)),
                     "instances": RNG.integers(0, 3, (2, 16, 16))})


def test_the_sweep_covers_every_factory():
    # A factory not listed here is swept through its task spec on its
    # default data (tests/test_task_specs.py), compile(optimizer=...) too.
    factories = {name for name in cvseq.models.__all__ if name[0].islower()}
    specs = {spec.name for spec in tasks.list_tasks().values() if spec.factory}
    assert factories <= {name.replace("_multi_label", "") for name in FACTORIES} | specs


@pytest.mark.parametrize("name", [
    # YOLOv8's fit step traces a large graph (~25 s idle, 80 s on a busy box).
    pytest.param(name, marks=pytest.mark.slow) if name == "object_detector" else name
    for name in sorted(FACTORIES)
])
def test_compile_with_an_optimizer_alone_trains_with_the_task_defaults(name):
    model, inputs, targets = FACTORIES[name]()
    assert isinstance(model, cvseq.Task)
    assert not model.compiled  # so nothing of an earlier compile can be kept
    # YOLOv8's traced train step costs ~25 CPU-s, an eager one ~3; the
    # traced step is covered by the detector's learning test.
    model.compile(optimizer="sgd", run_eagerly=name == "object_detector")
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    history = model.fit(inputs, targets, epochs=1, verbose=0).history
    assert all(np.isfinite(v).all() for v in history.values()), history
    defaults = model.get_compile_defaults()
    if name == "object_detector":
        assert {"box_loss", "class_loss"} <= set(history)
        return
    if name == "instance_segmenter":  # losses and metrics by output
        assert set(history) == {"loss", "semantic_loss", "instances_loss",
                                "semantic_accuracy", "semantic_mean_iou"}, history
        return
    # The task's default metrics, by their names, next to the loss.
    names = {m.name for m in defaults["metrics"]}
    assert set(history) == {"loss"} | names, history
    # The same loss as the factory's compile=True.
    assert type(model.loss) is type(defaults["loss"])


@pytest.mark.parametrize("loss", ["categorical_crossentropy",
                                  keras.losses.CategoricalCrossentropy(label_smoothing=0.1)])
def test_a_one_hot_loss_takes_one_hot_targets_and_keeps_the_metrics(loss, tmp_path):
    # Keras users compile classifiers with categorical cross-entropy and
    # one-hot labels: fit refused them ("looks one-hot") and the task's
    # sparse accuracy failed inside TensorFlow on a tf.data set.
    model = cvseq.image_classifier(3, image_size=16)
    model.compile(loss=loss)
    images = np.random.default_rng(0).integers(0, 256, (6, 16, 16, 3)).astype("float32")
    one_hot = np.eye(3, dtype="float32")[[0, 1, 2, 0, 1, 2]]
    assert "accuracy" in model.fit(images, one_hot, epochs=1, verbose=0).history
    compiled = [m for m in model.metrics if hasattr(m, "metrics")][0].metrics
    assert [type(m).__name__ for m in compiled] == ["CategoricalAccuracy"]
    data = tf.data.Dataset.from_tensor_slices((images, one_hot)).batch(3)
    assert 0 <= model.evaluate(data, verbose=0, return_dict=True)["accuracy"] <= 1
    with pytest.raises(ValueError, match=r"one-hot loss: pass keras.utils.to_categorical"):
        model.fit(images, one_hot.argmax(-1), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"one-hot \(or soft\) class targets in \[0, 1\]"):
        model.fit(images, one_hot * 2, epochs=1, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    assert "accuracy" in keras.saving.load_model(path).fit(
        data, epochs=1, verbose=0).history
    model.compile()  # the task's loss again: class ids
    assert "accuracy" in model.fit(images, one_hot.argmax(-1), epochs=1, verbose=0).history


def test_one_hot_losses_are_told_apart_and_segmenters_take_one_hot_masks():
    import functools

    from cvseq.models.task import _one_hot_loss

    class MyCrossentropy(keras.losses.CategoricalCrossentropy):
        pass

    for loss in ("categorical_crossentropy", "CategoricalCrossentropy", MyCrossentropy(),
                 functools.partial(keras.losses.categorical_crossentropy, label_smoothing=0.1),
                 "categorical_focal_crossentropy"):
        assert _one_hot_loss(loss), loss
    for loss in ("sparse_categorical_crossentropy", "binary_crossentropy", "mse", None,
                 "auto", keras.losses.SparseCategoricalCrossentropy(), "nonsense"):
        assert not _one_hot_loss(loss), loss
    # The segmenter's MeanIoU reads one-hot masks too (it failed inside TF).
    model = cvseq.image_segmenter(3, image_size=32)
    model.compile(loss="categorical_crossentropy")
    masks = np.random.default_rng(0).integers(0, 3, (2, 32, 32))
    images = np.zeros((2, 32, 32, 3), "float32")
    history = model.fit(images, keras.utils.to_categorical(masks, 3), epochs=1, verbose=0)
    assert 0 <= history.history["mean_iou"][0] <= 1


def test_compile_auto_without_defaults_says_what_to_pass():
    inputs = keras.Input((3,))
    model = cvseq.Task(inputs, keras.layers.Dense(2)(inputs))
    with pytest.raises(ValueError, match="optimizer='auto'.*explicitly"):
        model.compile()
    model.compile(optimizer="sgd", loss="mse", metrics=None)  # explicit works


def test_unfreeze_backbone_recompiles_through_the_task():
    model = cvseq.image_classifier(3, image_size=16, train_backbone=False,
                                   compile=False)
    model.compile(optimizer="sgd")
    cvseq.training.unfreeze_backbone(model, learning_rate=1e-4)
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-4)
    assert model.get_compile_arguments()["loss"] == "auto"  # still the task's loss
    model.fit(_images(2, 16), np.array([0, 1]), epochs=1, verbose=0)


def test_compile_defaults_survive_the_keras_round_trip(tmp_path):
    model = cvseq.trajectory_predictor(history=4, horizon=2, units=4, compile=False)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, cvseq.Task) and loaded.targets == "values"
    assert not loaded.compiled  # as saved
    loaded.compile(optimizer="sgd")
    assert {m.name for m in loaded.get_compile_defaults()["metrics"]} == {"ade", "fde"}


# Fixtures saved by commit 0d9c082 ------------------------------------------


def _unflatten(arrays, prefix):
    keys = sorted(k for k in arrays if k == prefix or k.startswith(prefix + "_"))
    if keys == [prefix]:
        return arrays[prefix]
    return {k[len(prefix) + 1:]: arrays[k] for k in keys}


def _generated(name, model, inputs):
    """The decoding calls `make_fixtures.py` made, in today's API."""
    if name == "language_model":
        return [model.generate("to be", max_length=6),
                model.generate(["that is"], max_length=5)]
    if name == "sequence_generator":
        return [model.generate(["60:1"], max_length=5, sampler="greedy")]
    if name == "translator":
        sources = ["Germany", "Spain", "France"]
        return [model.generate(sources),
                model.translate(sources[:2], sampler="beam", beam_width=2)]
    if name == "image_captioner":
        images = inputs["images"]
        return [model.generate(images), model.caption(images[:1], beam_width=2)]
    return []


@pytest.mark.parametrize(
    "path", sorted(glob.glob(os.path.join(FIXTURES, "*.keras"))),
    ids=lambda p: os.path.basename(p)[:-6],
)
def test_fixture_loads_and_predicts_the_same(path):
    name = os.path.basename(path)[:-len(".keras")]
    arrays = dict(np.load(path[:-len(".keras")] + ".npz"))
    model = keras.saving.load_model(path)  # safe mode
    inputs = _unflatten(arrays, "x")  # strings as NumPy str_ arrays
    expected = _unflatten(arrays, "y")
    if not isinstance(model, cvseq.Task):
        # Saved as a plain functional model: Keras takes strings as tensors.
        inputs = keras.tree.map_structure(
            lambda v: tf.constant(v.astype(object)) if v.dtype.kind == "U" else v,
            inputs)
    predicted = model.predict(inputs, verbose=0)
    keras.tree.assert_same_structure(predicted, expected)
    for got, want in zip(keras.tree.flatten(predicted), keras.tree.flatten(expected)):
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # today's names only
        generated = [str(g) for g in _generated(name, model, inputs)]
    stored = [str(arrays[f"g_{i}"][0]) for i in range(len(generated))]
    assert generated == stored


def test_fixtures_are_small():
    total = sum(os.path.getsize(p) for p in glob.glob(os.path.join(FIXTURES, "*")))
    assert 0 < total < 3 * 2**20


def test_a_loaded_task_is_compiled_as_saved(tmp_path):
    model = cvseq.text_classifier(2, vocabulary=["good", "bad"], units=4)
    model.compile(optimizer="sgd")
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.compiled and isinstance(loaded.optimizer, keras.optimizers.SGD)
    assert type(loaded.loss) is type(model.loss)
    loaded.fit(["good film", "bad film"], np.array([0, 1]), epochs=1, verbose=0)


def test_an_untrained_task_saves_and_loads_without_an_optimizer_warning(tmp_path):
    """Keras warned "Skipping variable loading for optimizer 'adam', because
    it has N variables whereas the saved optimizer has 2" on loading a
    compiled model saved before any fit (loading built the optimizer). A
    trained model's optimizer state still loads, and weights files of an
    untrained model load into a fresh one without a word."""
    import warnings

    def build():
        return cvseq.text_classifier(2, vocabulary=["good", "bad"], units=4)  # Adam

    texts, labels = ["good film", "bad film"], np.array([0, 1])
    model = build()
    paths = [str(tmp_path / "saved.keras"), str(tmp_path / "save_model.keras")]
    model.save(paths[0])
    keras.saving.save_model(model, paths[1])
    model.save_weights(str(tmp_path / "untrained.weights.h5"))
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Skipping variable loading")
        for path in paths:
            loaded = keras.saving.load_model(path)
            assert not loaded.optimizer.built  # as saved; `fit` builds it
            loaded.fit(texts, labels, epochs=1, verbose=0)
        build().load_weights(str(tmp_path / "untrained.weights.h5"))
        # Trained: the optimizer's state is saved and loads.
        model.fit(texts, labels, epochs=2, verbose=0)
        model.save(paths[0])
        loaded = keras.saving.load_model(paths[0])
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) == 2
    for mine, theirs in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(mine), np.asarray(theirs))


@pytest.mark.parametrize("architecture", ["yolo_v8", "retinanet"])
def test_an_untrained_detector_loads_without_an_optimizer_warning(architecture, tmp_path):
    """The detectors keep their own compile config (DetectorCompile)."""
    import warnings

    model = cvseq.object_detector(2, image_size=32, architecture=architecture,
                                  **({"backbone": "yolo_v8_tiny"} if architecture == "yolo_v8" else {}))
    path = str(tmp_path / "detector.keras")
    model.save(path)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Skipping variable loading")
        loaded = keras.saving.load_model(path)
    assert loaded.compiled and not loaded.optimizer.built


@pytest.mark.graph
def test_jit_compile_is_saved_only_when_the_user_chose_it(tmp_path, monkeypatch):
    """Keras saves the `jit_compile` it resolved on the saving backend; a
    TensorFlow file's `False` made a model loaded on JAX train op by op.
    cvseq saves the user's choice only, and a loaded or recompiled model
    takes this backend's task default otherwise (on TensorFlow the
    tagger's XLA off, also where Keras' "auto" would turn it on: a GPU,
    faked here). tests/backends/cross_backend.py checks the JAX side."""
    monkeypatch.setattr(keras.Model, "_resolve_auto_jit_compile", lambda self: True,
                        raising=False)
    model = cvseq.video_tagger(3, frames=2, image_size=16, units=4)
    assert model.jit_compile is False  # the task's default
    path = str(tmp_path / "default.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert "jit_compile" not in loaded.get_compile_config()
    assert "cvseq_jit_compile" not in loaded.get_compile_config()
    assert loaded.jit_compile is False
    # unfreeze_backbone's recompile, every argument given: still the task's.
    cvseq.training.unfreeze_backbone(loaded)
    assert loaded.jit_compile is False

    # A file saved before: Keras' resolved value, not a choice.
    config = loaded.get_compile_config()
    loaded.compile_from_config({**config, "jit_compile": True})
    assert loaded.jit_compile is False

    # The user's choice is kept, also when it equals the default.
    for chosen in (True, False):
        model.compile(jit_compile=chosen)
        path = str(tmp_path / f"chosen_{chosen}.keras")
        model.save(path)
        loaded = keras.saving.load_model(path)
        assert loaded.jit_compile is chosen
        assert loaded.get_compile_arguments()["jit_compile"] is chosen


@pytest.mark.graph
@pytest.mark.parametrize("name", ["image_classifier", "translator", "instance_segmenter"])
def test_first_fit_and_evaluate_trace_their_step_once(name):
    """Keras builds the optimizer, loss and metric state inside the first
    trace unless asked first; TensorFlow then traces the step again (twice
    the cost of the first step). Counts the Python calls of the steps."""
    model, inputs, targets = FACTORIES[name]()
    model.compile()
    calls = {"train": 0, "test": 0}

    def counted(kind, step):
        def wrapper(*args, **kwargs):
            calls[kind] += 1
            return step(*args, **kwargs)
        return wrapper

    model.train_step = counted("train", model.train_step)
    model.test_step = counted("test", model.test_step)
    model.evaluate(inputs, targets, verbose=0)  # before any fit: metrics unbuilt
    model.fit(inputs, targets, epochs=2, verbose=0)
    assert calls == {"train": 1, "test": 1}, calls
    assert model._distribute_strategy is None  # only for the call


@pytest.mark.graph
def test_a_model_keras_cannot_build_symbolically_still_trains():
    """`Task` builds its state before tracing; where Keras' symbolic build
    fails (a subclass whose call needs real tensors, say), Keras builds it in
    the first trace instead, as without the early build."""
    inputs = keras.Input((3,))
    model = cvseq.Task(inputs, keras.layers.Dense(2)(inputs))
    model.compile(optimizer="sgd", loss="mse", metrics=None)

    def cannot_build(*args, **kwargs):
        raise RuntimeError("this model cannot run on symbolic tensors")

    object.__setattr__(model, "_symbolic_build", cannot_build)
    history = model.fit(np.ones((4, 3), "float32"), np.zeros((4, 2), "float32"),
                        epochs=1, verbose=0).history
    assert np.isfinite(history["loss"][0])


def test_fit_on_a_tf_dataset_does_not_warn_that_shuffle_is_ignored():
    """Keras ignores `shuffle` for a tf.data.Dataset and warns at every fit
    that its default True is ignored; a Task passes False unless the user
    gave `shuffle`, which is kept (and Keras warns about it)."""
    model = cvseq.image_classifier(2, image_size=16, backbone="compact_cnn")
    data = tf.data.Dataset.from_tensor_slices(
        (np.zeros((4, 16, 16, 3), "uint8"), np.array([0, 1, 0, 1]))).batch(2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(data, epochs=1, verbose=0)
    assert not [w for w in caught if "shuffle" in str(w.message)]
    with pytest.warns(UserWarning, match="shuffle=True"):
        model.fit(data, epochs=1, verbose=0, shuffle=True)


@pytest.mark.graph
def test_state_is_built_symbolically_once_not_at_every_fit():
    """A text model's `TextVectorization` holds a `StringLookup` that never
    reports built, so Keras' own check would redo the symbolic pass at every
    `fit` (~0.1-0.2 s a call); it runs again only after a new `compile`."""
    model, inputs, targets = _text_classifier()
    model.compile()
    calls = []
    build = model._symbolic_build

    def counted(*args, **kwargs):
        calls.append(1)
        return build(*args, **kwargs)

    object.__setattr__(model, "_symbolic_build", counted)
    for _ in range(3):
        model.fit(inputs, targets, epochs=1, verbose=0)
    model.evaluate(inputs, targets, verbose=0)
    assert len(calls) == 1
    model.compile(optimizer="sgd")  # new, unbuilt optimizer state
    model.fit(inputs, targets, epochs=1, verbose=0)
    assert len(calls) == 2
