import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# `from factory_checks import check_factory` in any test module.
sys.path.insert(0, os.path.dirname(__file__))

# Modules whose tests trace large graphs (YOLOv8, exports, every CLI task).
_HEAVY_MODULES = ("test_object_detector.py", "test_cli.py", "test_export.py")


def pytest_collection_modifyitems(items):
    """Longest tests first: with `-n 2`, pytest-xdist hands tests out in
    this order, so the learning tests (minutes each) start at once instead
    of leaving one worker idle at the end. The order is deterministic, as
    xdist requires."""

    def rank(item):
        if item.get_closest_marker("slow"):
            return 0
        return 1 if os.path.basename(str(item.fspath)) in _HEAVY_MODULES else 2

    items.sort(key=rank)  # stable: within a rank, the collected order
