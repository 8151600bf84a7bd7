"""`import _block_tensorflow` makes TensorFlow (and the packages that need
it) unimportable in this process, as on a machine without it.

A meta-path finder refuses the imports. Not `None` entries in sys.modules:
Keras reads `"tensorflow" in sys.modules` as "TensorFlow is loaded", and its
preprocessing layers (`Rescaling`) would then try to use it. The finder
gives a spec without origin whose loader raises, rather than raising itself:
PyTorch's dynamo calls `importlib.util.find_spec("tensorflow")` at import to
list the files it skips, and takes a spec without origin as nothing to skip.
"""

import importlib.machinery
import sys

BLOCKED = ("tensorflow", "tensorflow_text", "tensorflow_datasets")


class _RefusingLoader:
    @staticmethod
    def create_module(spec):
        raise ModuleNotFoundError(f"No module named {spec.name!r} (blocked)",
                                  name=spec.name)

    @staticmethod
    def exec_module(module):  # never reached: create_module raises
        raise ModuleNotFoundError(f"No module named {module.__name__!r} (blocked)")


class _Blocker:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            return importlib.machinery.ModuleSpec(name, _RefusingLoader, origin=None)
        return None


if not any(finder is _Blocker for finder in sys.meta_path):
    sys.meta_path.insert(0, _Blocker)
