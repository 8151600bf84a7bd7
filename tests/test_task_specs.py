"""Every registered task (`cvseq.tasks.list_tasks()`) has a complete spec:
its default data set loads (small options) and names the task, the model is
shaped from that data and runs on it, and its example script exists (when
the spec names one).

A new factory joins this sweep by its `register_task` line alone
(tests/test_new_factory.py proves it with a module added to cvseq.models).
"""

import copy
import json
import os

import keras
import numpy as np
import pytest

import cvseq
from cvseq import tasks
from cvseq.errors import UserInputError

EXAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, "examples")
# Smaller models than the factories' defaults, to keep the sweep quick; a
# task not named here is built with its defaults.
SMALL_MODELS = {
    "image_captioner": {"units": 8},
    "language_model": {"units": 8},
    "object_detector": {"backbone": "yolo_v8_tiny"},
    "sequence_generator": {"units": 8},
    "text_classifier": {"units": 8},
    "trajectory_predictor": {"units": 8},
    "translator": {"units": 8},
    "video_classifier_3d": {"filters": (4, 8, 8, 8)},
    "video_tagger": {"units": 8},
}
SPECS = tasks.list_tasks()


def _load(spec, split="train", **extra):
    options = {**spec.data_options({}), **spec.small_data, **extra}
    return cvseq.datasets.load(spec.dataset, split, batch_size=2, with_info=True,
                               **options), options


def test_every_factory_has_a_task():
    factories = {spec.factory for spec in SPECS.values() if spec.factory is not None}
    missing = [name for name in cvseq.models.__all__
               if name[0].islower() and getattr(cvseq.models, name) not in factories]
    assert not missing, f"factories without a register_task line: {missing}"


def test_cvseq_exports_what_cvseq_models_exports():
    """One list: a factory named in `cvseq.models.__all__` is `cvseq.<name>`."""
    assert set(cvseq.models.__all__) <= set(cvseq.__all__)
    assert all(getattr(cvseq, name) is getattr(cvseq.models, name)
               for name in cvseq.models.__all__)
    factories = {spec.factory.__name__ for spec in SPECS.values() if spec.factory is not None}
    assert factories <= set(cvseq.models.__all__), "a task's factory is not exported"


@pytest.mark.parametrize("name", [
    # YOLOv8's graph takes ~20 s to build and trace on a busy 2-core box.
    pytest.param(name, marks=pytest.mark.slow) if name == "object_detector" else name
    for name in sorted(SPECS)
])
def test_task_spec_loads_its_data_and_shapes_its_model(name):
    check_task_spec(SPECS[name], SMALL_MODELS.get(name, {}))


def check_task_spec(spec, model_options=None):
    """The sweep's checks of one task spec (any registered task's)."""
    name = spec.name
    assert spec.description
    assert spec.command in ("train", "track")
    # `example` is optional; one that is named must exist.
    assert spec.example is None or os.path.isfile(os.path.join(EXAMPLES, spec.example)), \
        f"{name}: example {spec.example!r} not in examples/"
    assert spec.dataset in cvseq.datasets.list_datasets(task=name), \
        f"{name}: its data set {spec.dataset!r} does not list the task"
    (data, info), options = _load(spec)
    assert name in info.tasks
    if spec.factory is None:
        assert spec.command != "train" and spec.predict is None
        with pytest.raises(UserInputError, match="cvseq track"):
            spec.build(info, options)
        return
    assert callable(spec.predict) and spec.metric
    keras.utils.set_random_seed(0)
    model = spec.build(info, options, model_options)
    assert isinstance(model, cvseq.Task)
    # `cvseq train` records the model as Keras serializes it
    # (backup/model.json) and rebuilds an interrupted run from that record:
    # the rebuilt model has the same weights and compile settings.
    record = json.loads(json.dumps(keras.saving.serialize_keras_object(model)))
    rebuilt = keras.saving.deserialize_keras_object(copy.deepcopy(record))  # it pops
    assert type(rebuilt) is type(model) and rebuilt.compiled
    assert [w.shape for w in rebuilt.weights] == [w.shape for w in model.weights]
    assert json.loads(json.dumps(keras.saving.serialize_keras_object(rebuilt))) == record
    # Tracing YOLOv8's train and predict steps costs ~25 CPU-s; an eager
    # step ~3. The traced steps are covered by the detector's learning test.
    eager = name == "object_detector"
    model.run_eagerly = eager
    inputs, _ = next(iter(data))
    outputs = model.predict(inputs, verbose=0)
    assert all(np.isfinite(np.asarray(o, "float32")).all()
               for o in keras.tree.flatten(outputs))
    # An optimizer alone compiles with the task's loss and metrics, and
    # trains on the data as `cvseq train` feeds it.
    model.compile(optimizer="sgd", run_eagerly=eager)
    logs = {k: v[-1] for k, v in model.fit(data.take(1), verbose=0).history.items()}
    assert np.isfinite(logs["loss"]) and len(logs) > 1, logs
    # The options that make data fit the trained model give the same shapes.
    (again, _), _ = _load(spec, "test", **spec.options_from_model(model))
    assert again.element_spec[0] == data.element_spec[0] or isinstance(
        data.element_spec[0], dict)


def test_the_model_is_shaped_from_the_data_not_the_flags():
    """`cvseq train video_tagger --frames 4 --data frames=6` trains a 6-frame model."""
    spec = tasks.get_task("video_tagger")
    options = {**spec.data_options({"frames": 4, "image_size": 16}),
               "frames": 6, "num_clips": 4}
    _, info = cvseq.datasets.load("moving_digits", "train", with_info=True, **options)
    model = spec.build(info, options, {"units": 8})
    assert tuple(model.inputs[0].shape[1:4]) == (6, 16, 16)
    with pytest.raises(UserInputError, match="--set frames: .* comes from the data"):
        spec.build(info, options, {"frames": 4})


# Examples of a module rather than of one factory's task.
MODULE_EXAMPLES = {"optical_flow.py"}  # cvseq.flow (its two-stream tagger: video_tagger)


def test_every_example_belongs_to_a_task():
    named = {spec.example for spec in SPECS.values() if spec.example} | MODULE_EXAMPLES
    scripts = {f for f in os.listdir(EXAMPLES) if f.endswith(".py")}
    assert scripts <= named, f"examples no task names: {sorted(scripts - named)}"


def test_unknown_task_names_the_tasks():
    with pytest.raises(UserInputError, match="Unknown task 'nope'. Tasks: .*video_tagger"):
        tasks.get_task("nope")


def test_every_spec_names_registered_data_sets():
    registered = set(cvseq.datasets.list_datasets())
    for name, spec in SPECS.items():
        named = [d for d in (spec.dataset, *spec.datasets) if d is not None]
        assert set(named) <= registered, (name, sorted(set(named) - registered))


def test_a_new_clip_classifier_is_served_by_every_clip_data_set():
    # A clip classifier declared with `clip_classifier_task` (as the two
    # existing ones are) is named by the clip data sets with no edit of
    # theirs, not only by its default `moving_digits`.
    spec = tasks.register_task(tasks.clip_classifier_task(
        name="my_clip_classifier", description="a new clip classifier",
        factory=cvseq.video_tagger))
    try:
        served = set(cvseq.datasets.list_datasets(task="my_clip_classifier"))
        assert {"moving_digits", "sample_videos", "video_folder", "ucf101"} <= served
        row = next(r for r in cvseq.datasets.describe_datasets()
                   if r["name"] == "sample_videos")
        # The data set names only the task it was made for; the specs add
        # the other clip classifiers (sorted by name).
        assert row["tasks"] == ("video_tagger", spec.name, "video_classifier_3d")
    finally:
        tasks._TASKS.pop("my_clip_classifier", None)
