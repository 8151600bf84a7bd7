import json
import os
import resource
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# `from factory_checks import check_factory` in any test module.
sys.path.insert(0, os.path.dirname(__file__))

# Modules whose tests trace large graphs (YOLOv8, exports, every CLI task).
_HEAVY_MODULES = ("test_object_detector.py", "test_cli.py", "test_export.py")


def pytest_collection_modifyitems(items):
    """Longest tests first, so the learning tests (minutes each) start at
    once instead of leaving one worker idle at the end. xdist's default
    `--dist load` hands each worker a run of consecutive tests, which put
    every learning test on one worker (the other idled for minutes at the
    end); the README's command uses `--dist worksteal`, where an idle
    worker takes half of the other's queue. The order is deterministic, as
    xdist requires."""

    def rank(item):
        if item.get_closest_marker("slow"):
            return 0
        return 1 if os.path.basename(str(item.fspath)) in _HEAVY_MODULES else 2

    items.sort(key=rank)  # stable: within a rank, the collected order


def _cpu_seconds():
    """User + system CPU seconds of this process and its waited-for
    children (the `cvseq` CLI subprocesses)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Opt-in CPU-time log: with CVSEQ_TEST_CPU_LOG=PATH, append one JSON
    line per test, {"test", "cpu_s", "wall_s", "worker"}, with the CPU time
    of setup + call + teardown (a module fixture's cost lands on the first
    test that uses it). CPU time, unlike wall time, holds on a shared
    machine. Each xdist worker appends its own lines to the same file."""
    path = os.environ.get("CVSEQ_TEST_CPU_LOG")
    if not path:
        yield
        return
    import time

    cpu, wall = _cpu_seconds(), time.perf_counter()
    yield
    record = {
        "test": item.nodeid,
        "cpu_s": round(_cpu_seconds() - cpu, 3),
        "wall_s": round(time.perf_counter() - wall, 3),
        "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
    }
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")
