"""A new factory is its module (with one `register_task` line) and its test.

The module that README "Extending cvseq" shows is written, as the README
has it, into a folder added to `cvseq.models`' package path; importing the
package's modules (what `import cvseq` does) must then list, export, train,
predict and sweep it, with no other file edited.
"""

import importlib
import json
import os
import re
import sys

import cv2
import numpy as np
import pytest

from factory_checks import check_factory

import cvseq
from cvseq import cli, tasks

README = os.path.join(os.path.dirname(__file__), os.pardir, "README.md")


def _readme_module():
    """`(name, source)` of the module README "Extending cvseq" shows."""
    with open(README, encoding="utf-8") as f:
        section = f.read().split("## Extending cvseq", 1)[-1]
    match = re.search(r"```python\n(\s*)# cvseq/models/(\w+)\.py\n(.*?)```", section, re.S)
    assert match, "README 'Extending cvseq' shows no ```python block opening with " \
                  "'# cvseq/models/<name>.py'"
    indent, name, body = match.groups()
    lines = body.splitlines()
    assert all(not line.strip() or line.startswith(indent) for line in lines)
    return name, "\n".join(line[len(indent):] for line in lines) + "\n"


@pytest.fixture
def new_factory(tmp_path, monkeypatch):
    """The README's module, imported as `cvseq.models.<name>` by the package's
    own module import; everything it added is removed afterwards."""
    name, source = _readme_module()
    assert name not in tasks.list_tasks() and not hasattr(cvseq.models, name), \
        f"{name!r} exists in cvseq already: rename the README's example"
    folder = tmp_path / "package"
    folder.mkdir()
    (folder / f"{name}.py").write_text(source)
    exported = list(cvseq.models.__all__)
    monkeypatch.setattr(cvseq.models, "__path__", [*cvseq.models.__path__, str(folder)])
    try:
        added = cvseq.models._import_modules()
        # `import cvseq` re-exports `cvseq.models.__all__`; run it again.
        importlib.reload(cvseq)
        yield name, added
    finally:
        tasks._TASKS.pop(name, None)
        sys.modules.pop(f"cvseq.models.{name}", None)
        cvseq.models.__all__[:] = exported
        for module in (cvseq.models, cvseq):
            module.__dict__.pop(name, None)
        importlib.reload(cvseq)


def test_a_module_with_its_registration_line_is_the_whole_factory(
        new_factory, tmp_path, capsys, monkeypatch):
    name, added = new_factory

    # Registered, exported by cvseq.models and cvseq, no example needed.
    spec = tasks.list_tasks()[name]
    factory = getattr(cvseq.models, name)
    assert added == [name] and spec.factory is factory and spec.example is None
    assert getattr(cvseq, name) is factory and name in cvseq.__all__ and name in dir(cvseq)

    # Its default data set serves it, after the data set's own tasks.
    assert spec.dataset in cvseq.datasets.list_datasets(task=name)
    row = next(r for r in cvseq.datasets.describe_datasets() if r["name"] == spec.dataset)
    assert row["tasks"][-1] == name and row["tasks"][0] != name

    # `cvseq list`: the task's line, and the data set's tasks.
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"^  {name} +{re.escape(spec.description)}$", out, re.M), out
    assert re.search(rf"^  {spec.dataset} .*{name}", out, re.M), out

    # `cvseq train` on its data set, then `cvseq predict` on an image file.
    run = str(tmp_path / "run")
    assert cli.main(["train", name, "--epochs", "1", "--image-size", "16",
                     "--data", "examples_per_class=4", "--out", run]) == 0, \
        capsys.readouterr().err
    with open(os.path.join(run, "run.json")) as f:
        assert json.load(f)["task"] == name
    image = str(tmp_path / "digit.png")
    cv2.imwrite(image, np.random.default_rng(0).integers(0, 255, (20, 20, 3), np.uint8))
    capsys.readouterr()
    assert cli.main(["predict", os.path.join(run, "model.keras"), image]) == 0
    assert capsys.readouterr().out.startswith(image + ": ")

    # Its test: the shared factory checks.
    rng = np.random.default_rng(0)
    check_factory(factory, kwargs={"num_classes": 3, "image_size": 16, "units": 8},
                  inputs=rng.integers(0, 256, (2, 16, 16, 3)).astype("uint8"),
                  targets=np.array([0, 2]), output_shape=(2, 3),
                  bad_arguments={"num_classes": 1, "units": 0, "image_size": "big"})

    # The sweeps: their lists are `list_tasks()` and `cvseq.models.__all__`,
    # read when pytest collects them (as a fresh process would, with the
    # module in cvseq/models/); their checks pass for it.
    import test_task
    import test_task_specs

    monkeypatch.setattr(test_task_specs, "SPECS", tasks.list_tasks())
    test_task_specs.test_every_factory_has_a_task()
    test_task_specs.test_cvseq_exports_what_cvseq_models_exports()
    test_task_specs.test_every_example_belongs_to_a_task()
    test_task_specs.check_task_spec(spec, {"units": 8})
    test_task.test_the_sweep_covers_every_factory()


def test_two_factories_cannot_take_one_task_name():
    spec = tasks.get_task("image_classifier")

    def image_classifier(**kwargs):  # another module's factory, same name
        return None

    with pytest.raises(ValueError, match="'image_classifier' is taken by "
                                         "cvseq.models.image_classifier.image_classifier"):
        tasks.register_task(tasks.TaskSpec(name="image_classifier", description="x",
                                           factory=image_classifier, shape=spec.shape))
    assert tasks.get_task("image_classifier") is spec
    # The module registering its own task again (a reload) replaces it.
    assert tasks.register_task(spec) is spec


def test_two_modules_cannot_export_one_name(tmp_path, monkeypatch):
    (tmp_path / "clashing.py").write_text(
        '__all__ = ["image_classifier"]\nimage_classifier = "another"\n')
    monkeypatch.setattr(cvseq.models, "__path__", [*cvseq.models.__path__, str(tmp_path)])
    try:
        with pytest.raises(ImportError, match="cvseq.models.clashing exports "
                                              "'image_classifier', a name "
                                              "cvseq.models.image_classifier holds"):
            cvseq.models._import_modules()
    finally:
        sys.modules.pop("cvseq.models.clashing", None)
        cvseq.models.__dict__.pop("clashing", None)
    assert cvseq.models.image_classifier is tasks.get_task("image_classifier").factory
