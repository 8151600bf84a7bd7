"""CPU seconds of cvseq training steps on glibc's malloc against jemalloc.

TensorFlow on a CPU allocates and frees many small tensors every step; the
allocator a process runs on is chosen when it starts (`LD_PRELOAD`), so each
measurement is one child process that trains a factory's default model for
a fixed number of steps. Children alternate, glibc, jemalloc, glibc, ...,
so that a machine's drift hits both; the best of each is kept (as `timeit`
keeps the minimum) and the median reported too. CPU seconds are the child's
user + system time after its imports (`resource.getrusage` in the child);
each child also prints a digest of its trained weights, which must be the
same on both allocators (the allocator changes speed, not arithmetic).

    python benchmarks/allocator.py                  # both workloads, 3 rounds
    python benchmarks/allocator.py --steps 40 --rounds 2 --workloads segmenter

Prints one JSON object. tests/conftest.py preloads jemalloc into the test
workers for this (tools/install_data.sh installs Debian's libjemalloc2).
"""

import argparse
import ctypes.util
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

# name -> (factory keyword arguments, input shape of one example, batch size)
WORKLOADS = {
    # The segmenters' learning tests: 32x32 digit scenes, batch 16.
    "segmenter": (dict(num_classes=11, image_size=32), (32, 32, 3), 16),
    # The main job: the CNN+LSTM tagger on 8-frame 32x32 clips, batch 32.
    "video_tagger": (dict(num_classes=4, frames=8, image_size=32), (8, 32, 32, 3), 32),
}


def train(name, steps, seed=0):
    """Trains workload `name` for `steps` steps on fixed random data (one
    `fit`, traced as users' `fit` runs); returns (CPU seconds of the fit,
    digest of the trained weights)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    import cvseq
    from _timing import repeat_batches

    kwargs, shape, batch = WORKLOADS[name]
    keras.utils.set_random_seed(seed)
    factory = cvseq.image_segmenter if name == "segmenter" else cvseq.video_tagger
    model = factory(**kwargs)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (batch * 4, *shape)).astype("uint8")
    if name == "segmenter":
        y = rng.integers(0, kwargs["num_classes"], (batch * 4, *shape[:2])).astype("int32")
    else:
        y = rng.integers(0, kwargs["num_classes"], batch * 4).astype("int32")
    data = repeat_batches(x, y, batch)
    model.fit(data, epochs=1, steps_per_epoch=2, verbose=0)  # trace, warm up
    start = _cpu_seconds()
    model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    seconds = _cpu_seconds() - start
    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return seconds, digest.hexdigest()[:16]


def _cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def summarize(runs):
    """`runs`: name -> allocator -> list of (cpu_s, digest). Returns the
    report: best and median CPU seconds per allocator, the ratio of the
    best jemalloc to the best glibc run, and whether every run of a
    workload ended on the same weights."""
    report = {}
    for name, by_allocator in runs.items():
        entry = {}
        for allocator, measured in by_allocator.items():
            seconds = [s for s, _ in measured]
            entry[allocator] = {"best_cpu_s": round(min(seconds), 2),
                                "median_cpu_s": round(statistics.median(seconds), 2),
                                "runs": len(seconds)}
        if "glibc" in entry and "jemalloc" in entry:
            entry["ratio_jemalloc_over_glibc"] = round(
                entry["jemalloc"]["best_cpu_s"] / entry["glibc"]["best_cpu_s"], 3)
        digests = {d for measured in by_allocator.values() for _, d in measured}
        entry["same_weights"] = len(digests) == 1
        report[name] = entry
    return report


def _child(name, steps, preload):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               TF_NUM_INTRAOP_THREADS=os.environ.get("TF_NUM_INTRAOP_THREADS", "1"))
    env.pop("LD_PRELOAD", None)
    if preload:
        env["LD_PRELOAD"] = preload
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import allocator; "
            "print(json.dumps(allocator.train(sys.argv[2], int(sys.argv[3]))))")
    result = subprocess.run([sys.executable, "-c", code, HERE, name,
                             str(steps)], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{name} ({preload or 'glibc'}) failed:\n{result.stderr[-3000:]}")
    seconds, digest = json.loads(result.stdout.strip().splitlines()[-1])
    return seconds, digest


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS),
                        choices=list(WORKLOADS))
    args = parser.parse_args(argv)
    if args.steps < 1 or args.rounds < 1:
        parser.error(f"--steps and --rounds must be at least 1, got {args.steps} "
                     f"and {args.rounds}")
    jemalloc = ctypes.util.find_library("jemalloc")
    if not jemalloc:
        sys.exit("allocator.py: jemalloc not found; install it with "
                 "`apt-get install libjemalloc2` (tools/install_data.sh does)")
    runs = {name: {"glibc": [], "jemalloc": []} for name in args.workloads}
    for _ in range(args.rounds):
        for name in args.workloads:
            runs[name]["glibc"].append(_child(name, args.steps, None))
            runs[name]["jemalloc"].append(_child(name, args.steps, jemalloc))
    print(json.dumps({"benchmark": "allocator", "steps": args.steps,
                      "threads": int(os.environ.get("TF_NUM_INTRAOP_THREADS", "1")),
                      "results": summarize(runs)}, indent=1))


if __name__ == "__main__":
    main()
