"""Data sets that cvseq models fit directly.

`load(name, split, **options)` returns a batched, prefetched
`tf.data.Dataset` of `(inputs, targets)`, or with `format="numpy"` NumPy
batches that `model.fit` takes on any Keras backend, without TensorFlow (the
embedded vision, video and trajectory data sets and `video_folder`);
`list_datasets()` names every data set with the factory it serves. Embedded
data sets are real data that works offline; TFDS adapters need the network
(or a prepared `data_dir`); folder readers read your own files.
"""

from cvseq.datasets.batches import ArrayBatches  # noqa: E402
from cvseq.datasets.registry import (  # noqa: E402
    DatasetInfo,
    DatasetUnavailableError,
    describe_datasets,
    list_datasets,
    load,
    load_splits,
    load_with_fallback,
    register_dataset,
)

# Importing the modules registers their data sets.
from cvseq.datasets import captions  # noqa: E402,F401
from cvseq.datasets import digit_tracks  # noqa: E402,F401
from cvseq.datasets import moving_digits  # noqa: E402,F401
from cvseq.datasets import video_folder  # noqa: E402,F401
from cvseq.datasets import tfds_adapters  # noqa: E402,F401
from cvseq.datasets import tfds_captions  # noqa: E402,F401
from cvseq.datasets import reviews  # noqa: E402,F401
from cvseq.datasets import prose  # noqa: E402,F401
from cvseq.datasets import phrase_pairs  # noqa: E402,F401
from cvseq.datasets import dictionary_phrases  # noqa: E402,F401
from cvseq.datasets import chorales  # noqa: E402,F401
from cvseq.datasets import tfds_text  # noqa: E402,F401
from cvseq.datasets import digit_images  # noqa: E402,F401
from cvseq.datasets import digit_scenes  # noqa: E402,F401
from cvseq.datasets import sample_videos  # noqa: E402,F401
from cvseq.datasets import tfds_vision  # noqa: E402,F401
from cvseq.datasets import vessel_tracks  # noqa: E402,F401
from cvseq.datasets import mot_tracks  # noqa: E402,F401  (real tracks, not registered)
from cvseq.datasets import fashion_images  # noqa: E402,F401
from cvseq.datasets import frame_sequences  # noqa: E402,F401
from cvseq.flow import add_flow  # noqa: E402  (the optical-flow transform)
from cvseq.datasets import digit_instances  # noqa: E402,F401
from cvseq.datasets import nuclei  # noqa: E402,F401

import importlib  # noqa: E402
import pkgutil  # noqa: E402
import sys  # noqa: E402


def _import_modules():
    """Imports every public module of the package (sorted by name; those
    above first, in their order, so `list_datasets()` keeps it): a module
    registers its data sets when imported, so a new data set is its module
    alone, with no line here. Returns the names of the modules imported
    now."""
    imported = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        name = f"{__name__}.{info.name}"
        if not info.name.startswith("_") and name not in sys.modules:
            importlib.import_module(name)
            imported.append(info.name)
    return imported


_import_modules()

__all__ = [
    "ArrayBatches",
    "DatasetInfo",
    "add_flow",
    "DatasetUnavailableError",
    "load_splits",
    "load_with_fallback",
    "describe_datasets",
    "list_datasets",
    "load",
    "register_dataset",
]
