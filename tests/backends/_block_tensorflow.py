"""`import _block_tensorflow` makes TensorFlow (and the packages that need
it) unimportable in this process, as on a machine without it.

A meta-path finder refuses the imports. Not `None` entries in sys.modules:
Keras reads `"tensorflow" in sys.modules` as "TensorFlow is loaded", and its
preprocessing layers (`Rescaling`) would then try to use it.
"""

import sys

BLOCKED = ("tensorflow", "tensorflow_text", "tensorflow_datasets")


class _Blocker:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)
        return None


if not any(finder is _Blocker for finder in sys.meta_path):
    sys.meta_path.insert(0, _Blocker)
