"""One factory per use case; each returns a (compiled) `cvseq.Task`.

The factories below are imported by name, for editors and static checkers.
Every other module of this package is imported too (`_import_modules`), so
a new factory's module needs no line here: its `register_task(...)` line
registers its task, and the factories of the tasks it registers (or the
names in its `__all__`, when it has one) join `__all__`, hence
`cvseq.models.<name>` and `cvseq.<name>`.
"""

import importlib
import pkgutil

from cvseq.models.task import Task
from cvseq.models.generative import GenerativeModel
from cvseq.models.image_captioner import ImageCaptioner, image_captioner
from cvseq.models.image_classifier import image_classifier
from cvseq.models.image_segmenter import DiceCrossEntropy, image_segmenter
from cvseq.models.language_model import LanguageModel, language_model
from cvseq.models.object_detector import ObjectDetector, object_detector
from cvseq.models.sequence_generator import SequenceGenerator, sequence_generator
from cvseq.models.text_classifier import text_classifier
from cvseq.models.trajectory_predictor import trajectory_predictor
from cvseq.models.translator import Translator, translator
from cvseq.models.video_classifier_3d import video_classifier_3d
from cvseq.models.video_tagger import video_tagger
from cvseq.models.video_predictor import VideoPredictor, video_predictor

__all__ = [
    "DiceCrossEntropy",
    "GenerativeModel",
    "ImageCaptioner",
    "LanguageModel",
    "ObjectDetector",
    "SequenceGenerator",
    "Task",
    "Translator",
    "image_captioner",
    "image_classifier",
    "image_segmenter",
    "language_model",
    "object_detector",
    "sequence_generator",
    "text_classifier",
    "trajectory_predictor",
    "translator",
    "video_classifier_3d",
    "video_tagger",
    "VideoPredictor",
    "video_predictor",
]

from cvseq.models.instance_segmenter import (  # noqa: E402
    InstanceCenterLoss,
    InstanceSegmenter,
    instance_segmenter,
)

__all__ += ["InstanceCenterLoss", "InstanceSegmenter", "instance_segmenter"]


def _public_names(module):
    """The names `module` exports: its `__all__`, else the factories of the
    tasks it registers."""
    from cvseq import tasks

    names = getattr(module, "__all__", None)
    if names is None:
        # The registry as it stands (`list_tasks()` would import this
        # package, and the tracker, while it is being imported).
        names = [spec.factory.__name__ for spec in tasks._TASKS.values()
                 if getattr(spec.factory, "__module__", None) == module.__name__]
    return list(names)


def _import_modules():
    """Imports every public module of the package (sorted by name, so the
    order is the same everywhere) and exports its public names; returns the
    names added to `__all__`.

    Raises:
        ImportError: two modules export one name for different objects.
    """
    added = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name in _public_names(module):
            value = getattr(module, name)
            # A factory named as its module replaces the module attribute
            # that the import set, as the static imports above do.
            held = globals().get(name, value)
            if held is not value and held is not module:
                raise ImportError(
                    f"{module.__name__} exports {name!r}, a name "
                    f"{getattr(held, '__module__', __name__)} holds already in "
                    f"{__name__}; rename one of them.")
            globals()[name] = value
            if name not in __all__:
                __all__.append(name)
                added.append(name)
    return added


_import_modules()
