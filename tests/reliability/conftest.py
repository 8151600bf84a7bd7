"""Shared fixtures of the bad-input battery (tests/reliability/).

- `cvseq_error(argv)`: runs the `cvseq` command in this process and checks
  that it failed as a user mistake should: exit status 2 and one stderr
  line starting `cvseq: error:`, which it returns.
- `snapshot(*paths)`: the bytes of every file under `paths`, to assert that
  a failed command left them untouched (`snapshot(p) == before`).
- `tiny_train`: the arguments of a `cvseq train` run that takes seconds
  (add `--epochs` and `--out`).
- `finished_run`: a finished run directory of `tiny_train` (2 epochs), made
  once per session; copy it (`shutil.copytree`) before changing it.
- `cvseq_subprocess(*args, env=None)`: runs `cvseq ARGS` in a new process
  that imports this checkout, its `tf.function`s eager or traced as the
  test's; returns the `CompletedProcess`.
"""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Two batches an epoch, tiny clips and LSTM: a run takes seconds.
TINY_TRAIN = ["video_tagger", "--frames", "4", "--image-size", "16", "--batch-size", "8",
              "--data", "num_clips=16", "--set", "units=8"]


@pytest.fixture(scope="session")
def tiny_train():
    return list(TINY_TRAIN)


def _cli_in_mode():
    """`python -m cvseq.cli` whose `tf.function`s run as this test's do
    (eagerly, or traced: tests/conftest.py)."""
    import tensorflow as tf

    eager = tf.config.functions_run_eagerly()
    # cvseq first, as the `cvseq` command imports it (it quiets TensorFlow's
    # import: cvseq._tf.quiet_tensorflow_import).
    return ("import runpy, sys, cvseq, tensorflow as tf; "
            f"tf.config.run_functions_eagerly({eager}); "
            "sys.exit(runpy.run_module('cvseq.cli', run_name='__main__'))")


@pytest.fixture(scope="session")
def cvseq_subprocess():
    def run(*args, env=None, timeout=300):
        environ = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **(env or {}))
        environ["PYTHONPATH"] = ROOT + os.pathsep + environ.get("PYTHONPATH", "")
        return subprocess.run([sys.executable, "-c", _cli_in_mode(), *map(str, args)],
                              env=environ, capture_output=True, text=True,
                              timeout=timeout)

    return run


@pytest.fixture
def cvseq_error(capsys):
    from cvseq import cli

    def run(argv):
        capsys.readouterr()
        code = cli.main([str(a) for a in argv])
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert code == cli.EXIT_USER_ERROR, (code, err[-3000:])
        assert len(lines) == 1 and lines[0].startswith("cvseq: error:"), err[-3000:]
        return lines[0]

    return run


@pytest.fixture
def snapshot():
    def take(*paths):
        files = {}
        for path in paths:
            path = str(path)
            if os.path.isfile(path):
                files[path] = open(path, "rb").read()
            for root, _, names in os.walk(path):
                for name in names:
                    full = os.path.join(root, name)
                    files[full] = open(full, "rb").read()
        return files

    return take


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory):
    from cvseq import cli

    out = str(tmp_path_factory.mktemp("finished") / "run")
    assert cli.main(["train", *TINY_TRAIN, "--epochs", "2", "--out", out]) == 0
    return out
