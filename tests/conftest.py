import json
import os
import resource
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _share_the_cores_between_workers():
    """Under xdist, give each worker's TensorFlow (and the `cvseq` CLI
    subprocesses it starts, which inherit the variable) its share of the
    cores for intra-op work, at least one thread. Set before TensorFlow
    starts; a value the user set wins."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        threads = max(1, (cores or 1) // workers)
        os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(threads))


_share_the_cores_between_workers()
# `from factory_checks import check_factory` in any test module.
sys.path.insert(0, os.path.dirname(__file__))

# Measured CPU seconds of the tests that cost 0.5 s or more (three workers,
# tools/test_cpu_seconds.py writes it from a CVSEQ_TEST_CPU_LOG run).
_CPU_SECONDS_FILE = os.path.join(os.path.dirname(__file__), "cpu_seconds.json")
# Tests not in the file: a new learning test is a minute or more, the
# others (most of the suite) a fraction of a second.
_UNMEASURED_SLOW, _UNMEASURED = 60.0, 0.2


def _xdist_chunk_sizes(count, workers):
    """How many tests `--dist worksteal` hands each worker at the start: the
    collection in consecutive runs, `remaining // workers left` each."""
    sizes = []
    for i in range(workers):
        sizes.append((count - sum(sizes)) // (workers - i))
    return sizes


def _shared_fixture_key(item):
    """Tests that share a module- or class-scoped fixture (a trained model,
    an export) stay together, so that one worker builds it once: the key
    names the module and those fixtures (with their parameters); other
    tests are on their own."""
    try:
        definitions = item._fixtureinfo.name2fixturedefs  # pytest's, not public
    except AttributeError:
        return item.nodeid
    params = getattr(getattr(item, "callspec", None), "params", {})
    shared = tuple(sorted(
        (name, repr(params.get(name)))
        for name, defs in definitions.items()
        if defs and defs[-1].scope in ("module", "class")
    ))
    return (str(item.fspath), shared) if shared else item.nodeid


@pytest.hookimpl(trylast=True)  # after `-m`/`-k` deselect tests
def pytest_collection_modifyitems(items):
    """Order the tests so that each xdist worker gets its share of the CPU,
    and the learning tests run one at a time beside lighter tests.

    `--dist worksteal` gives each worker one consecutive run of the
    collection, then lets an idle worker take the tail of the longest
    queue. Measured with three workers on two cores: three learning tests
    at once cost 7% more CPU in all than one learning test beside two
    workers of short tests (1,717 against 1,606 CPU-s, 902 against 868 s;
    docs/test_suite_cpu.md). So the first run takes the longest tests
    (those sharing a module fixture count as one group), longest first, up
    to its share of the CPU; the other runs get the rest, each group to the
    run with the least CPU so far, longest first. Runs are as long as
    xdist's (in tests); short tests fill the first run's remaining places,
    where the other workers take them. Weights are the measured CPU
    seconds in tests/cpu_seconds.json. The order is deterministic, as
    xdist requires; without xdist it is one run, longest first."""
    try:
        with open(_CPU_SECONDS_FILE) as f:
            measured = json.load(f)
    except FileNotFoundError:
        measured = {}

    def weight(item):
        default = _UNMEASURED_SLOW if item.get_closest_marker("slow") else _UNMEASURED
        return measured.get(item.nodeid, default)

    groups = {}
    for item in items:
        groups.setdefault(_shared_fixture_key(item), []).append(item)
    groups = sorted(groups.values(), key=lambda g: sum(map(weight, g)), reverse=True)

    workers = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    sizes = _xdist_chunk_sizes(len(items), workers)
    share = sum(map(weight, items)) / workers
    runs, loads = [[] for _ in sizes], [0.0] * len(sizes)
    for group in groups:
        cost = sum(map(weight, group))
        fits = [i for i in range(len(runs)) if len(runs[i]) + len(group) <= sizes[i]]
        if not fits:  # no run has room for the whole group: deal its tests
            for item in group:
                i = min((i for i in range(len(runs)) if len(runs[i]) < sizes[i]),
                        key=lambda i: loads[i])
                runs[i].append(item)
                loads[i] += weight(item)
            continue
        if 0 in fits and loads[0] + cost <= share:
            i = 0
        else:
            i = min(fits, key=lambda i: (i == 0 and workers > 1, loads[i]))
        runs[i].extend(group)
        loads[i] += cost
    items[:] = [item for run in runs for item in run]


def _cpu_seconds():
    """User + system CPU seconds of this process and its waited-for
    children (the `cvseq` CLI subprocesses)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _runs_in_graph(item):
    """Learning tests (`slow`) and tests marked `graph` run as users' `fit`
    does, each step a traced `tf.function`; the other tests (contracts on
    tiny data, a few steps each), and `slow` ones marked `eager` (they
    learn nothing: kills, exports, the JAX process), run their steps
    eagerly, since tracing a model's train step costs more than its few
    tiny steps (test_task.py and test_task_specs.py: 94 -> 40 CPU-s). Every
    task and the tracker still trains and predicts traced in its learning
    test, and the text tasks in the CLI's train/predict/evaluate sweep.
    CVSEQ_TEST_GRAPH=1 traces every test."""
    if (os.environ.get("CVSEQ_TEST_GRAPH", "0").lower() not in ("", "0", "false")
            or item.get_closest_marker("graph")):
        return True
    return bool(item.get_closest_marker("slow")) and not item.get_closest_marker("eager")


class _FunctionMode:
    """Sets how a test's `tf.function`s run (see `_runs_in_graph`) for its
    setup, call and teardown, fixtures included."""

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        import keras

        if keras.backend.backend() != "tensorflow":
            yield
            return
        import tensorflow as tf

        tf.config.run_functions_eagerly(not _runs_in_graph(item))
        try:
            yield
        finally:
            tf.config.run_functions_eagerly(False)


def pytest_configure(config):
    config.pluginmanager.register(_FunctionMode(), "cvseq-function-mode")


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
