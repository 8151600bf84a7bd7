"""The data set registry: info filled from `register_dataset`, options
checked from the builder's signature, `load_splits` with its fallback."""

import numpy as np
import pytest
import tensorflow as tf

import cvseq
from cvseq.datasets import registry

SMALL = dict(num_clips=4, frames=2, image_size=16)


@pytest.fixture
def fake_datasets():
    """Two throwaway data sets: one that cannot be had, one with no
    validation split; removed again afterwards."""
    @registry.register_dataset("_unavailable", task="video_tagger", source="tfds",
                               description="never there")
    def _unavailable(split, *, seed=0, shuffle=None, frames=8):
        raise registry.DatasetUnavailableError("No network. Try later")

    @registry.register_dataset("_no_validation", tasks=("text_classifier",),
                               source="embedded", description="train and test only")
    def _no_validation(split, *, seed=0, shuffle=None, size=3):
        if split == "validation":
            raise ValueError("'_no_validation' has no validation split.")
        data = tf.data.Dataset.from_tensor_slices((np.arange(size), np.zeros(size, "int32")))
        return data, registry.DatasetInfo(class_names=["a", "b"], num_examples=size)

    yield
    for name in ("_unavailable", "_no_validation"):
        registry._REGISTRY.pop(name)


def test_info_is_filled_from_the_registration():
    _, info = cvseq.datasets.load("moving_digits", "test", with_info=True, **SMALL)
    assert (info.name, info.split, info.source) == ("moving_digits", "test", "embedded")
    assert info.tasks == ("video_tagger", "video_classifier_3d")
    assert info.task == "video_tagger"  # the first, as before
    assert info.description == registry._REGISTRY["moving_digits"].description
    assert info.num_examples == SMALL["num_clips"]  # counted by load
    assert "moving_digits" in cvseq.datasets.list_datasets(task="video_classifier_3d")
    entry = next(e for e in cvseq.datasets.describe_datasets() if e["name"] == "moving_digits")
    assert entry["task"] == "video_tagger" and "video_classifier_3d" in entry["tasks"]


def test_a_task_name_split_or_fallback_that_is_not_there_is_named():
    with pytest.raises(ValueError, match="Unknown task 'nope'. Tasks: .*video_tagger"):
        cvseq.datasets.list_datasets(task="nope")
    with pytest.raises(TypeError, match=r"`split` must be a str.*Received: split=None"):
        cvseq.datasets.load("moving_digits", None, **SMALL)
    # Before any data set is loaded (or a switch to it announced).
    with pytest.raises(ValueError, match="Unknown fallback data set 'nope'"):
        cvseq.datasets.load_splits("moving_digits", ("test",), fallback="nope", **SMALL)


def test_every_data_set_checks_its_options_from_its_signature():
    """No builder checks its own options by hand (`options` None)."""
    assert [name for name, entry in registry._REGISTRY.items() if entry.options is None] == []


def test_a_positional_task_is_still_one_task():
    info = registry.DatasetInfo("x", "train", "image_classifier", "embedded", ["a"])
    assert info.tasks == ("image_classifier",) and info.task == "image_classifier"


@pytest.mark.parametrize("name, allowed", [
    ("moving_digits", "frames, image_size, label, max_digits, num_clips"),  # generate's
    ("hamlet", "level, max_tokens, sequence_length, stride"),  # the builder's own
    ("digit_instances", "digit_size, image_size, max_digits, num_scenes, touching"),
    ("video_frames", "augment, channels, frames_in, frames_out, image_size, root, stride"),
])
def test_unknown_options_are_named_with_the_allowed_ones(name, allowed):
    with pytest.raises(TypeError, match=f"unknown option.* bogus. Its options are: {allowed}."):
        cvseq.datasets.load(name, "train", bogus=1)


def test_load_splits_falls_back_and_says_so(fake_datasets, capsys):
    train, validation, test, info = cvseq.datasets.load_splits(
        "_unavailable", fallback="moving_digits", fallback_options=SMALL, batch_size=2)
    assert info.name == "moving_digits" and validation is not None
    assert "'_unavailable' is not available (No network)" in capsys.readouterr().err
    assert next(iter(test))[0].shape[1:] == (2, 16, 16, 3)
    with pytest.raises(registry.DatasetUnavailableError):
        cvseq.datasets.load_splits("_unavailable")  # no fallback: the error stands


def test_load_splits_gives_none_for_a_missing_validation_split(fake_datasets, capsys):
    train, validation, test, info = cvseq.datasets.load_splits("_no_validation", size=4)
    assert validation is None and info.tasks == ("text_classifier",)
    assert capsys.readouterr().err.strip() == (
        "[cvseq] '_no_validation' has no validation split ('_no_validation' has no "
        "validation split.); training without validation.")
    assert len(list(test.unbatch())) == 4
    with pytest.raises(TypeError, match="Its options are: size."):
        cvseq.datasets.load_splits("_no_validation", sise=4)


def test_load_with_fallback_is_deprecated(fake_datasets):
    with pytest.warns(DeprecationWarning, match="load_splits"):
        data, info = cvseq.datasets.load_with_fallback(
            "_unavailable", "moving_digits", "test", fallback_options=SMALL)
    assert info.name == "moving_digits"


def test_split_options_and_fallback_splits(fake_datasets, capsys):
    """Per-split options (a training size) and the fallback's own split
    names, whether the fallback is asked for or fallen back to."""
    kwargs = dict(fallback="moving_digits", fallback_options=SMALL, batch_size=2,
                  fallback_splits=(("train", {"num_clips": 6}), "test"))
    for name in ("_unavailable", "moving_digits"):
        train, test, info = cvseq.datasets.load_splits(
            name, ("train", "validation"), frames=2, **kwargs)
        assert info.name == "moving_digits" and info.num_examples == 6
        assert len(list(test.unbatch())) == SMALL["num_clips"]  # not the train split's
    assert "not available" in capsys.readouterr().err


def test_split_entries_are_checked(fake_datasets):
    with pytest.raises(ValueError, match="as many splits as `splits`"):
        cvseq.datasets.load_splits("_no_validation", ("train", "test"),
                                   fallback="moving_digits", fallback_splits=("train",))
    with pytest.raises(TypeError, match=r"\(split, options\) pairs.*Received: \['train'\]"):
        cvseq.datasets.load_splits("_no_validation", (["train"], "test"))


def test_a_new_data_set_module_registers_without_an_import_line(tmp_path, monkeypatch):
    """A module added to cvseq/datasets registers its data sets when the
    package imports its modules (as `import cvseq` does), with no line in
    cvseq/datasets/__init__.py."""
    import sys

    (tmp_path / "my_tiny_set.py").write_text(
        "import numpy as np\n"
        "from cvseq.datasets.registry import DatasetInfo, register_dataset\n\n"
        "@register_dataset('my_tiny_set', tasks=('image_classifier',), source='embedded',\n"
        "                  description='two 8x8 images')\n"
        "def _build(split, *, seed=0, shuffle=None, image_size=8):\n"
        "    images = np.zeros((2, image_size, image_size, 3), 'uint8')\n"
        "    return (images, np.array([0, 1])), DatasetInfo(class_names=['a', 'b'])\n")
    monkeypatch.setattr(cvseq.datasets, "__path__", [*cvseq.datasets.__path__, str(tmp_path)])
    try:
        assert cvseq.datasets._import_modules() == ["my_tiny_set"]
        assert cvseq.datasets.list_datasets()["my_tiny_set"] == "image_classifier"
        images, labels = next(iter(cvseq.datasets.load("my_tiny_set", batch_size=2)))
        assert images.shape == (2, 8, 8, 3)
        assert cvseq.datasets._import_modules() == []  # once only
    finally:
        registry._REGISTRY.pop("my_tiny_set", None)
        sys.modules.pop("cvseq.datasets.my_tiny_set", None)
