"""The instance segmenter on the JAX backend, without TensorFlow (a fresh
process: the Keras backend is chosen at import)."""

import os
import subprocess
import sys

import pytest

pytest.importorskip("jax")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def test_instance_segmenter_on_jax_without_tensorflow():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", JAX_PLATFORMS="cpu")
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("KERAS_BACKEND", None)
    result = subprocess.run(
        [sys.executable, os.path.join(HERE, "instance_segmenter_jax.py")],
        env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0 and "ALL OK" in result.stdout, (
        f"{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
