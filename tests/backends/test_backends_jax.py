"""cvseq's vision and video models on JAX (and PyTorch), without TensorFlow.

Each test runs a script in a fresh process (the Keras backend is chosen at
import), with `import tensorflow` blocked there; `.keras` files go across
backends between that process and this one (TensorFlow).
"""

import os
import subprocess
import sys

import pytest

pytest.importorskip("jax")  # in the [test] extra

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# XLA compiles every new shape of every op JAX runs, initializers included,
# at full optimization: most of these tiny models' CPU time. Unoptimized
# code runs these shapes as well (measured on the tagger: build 9.4 -> 2.5
# CPU-s, one fit step 7.4 -> 4.0).
FAST_XLA = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"


def _run(script, *args, timeout=1800):  # wall time: generous for a loaded machine
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", JAX_PLATFORMS="cpu",
               XLA_FLAGS=FAST_XLA)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("KERAS_BACKEND", None)
    result = subprocess.run(
        [sys.executable, os.path.join(HERE, script), *args],
        env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
    )
    assert result.returncode == 0 and "ALL OK" in result.stdout, (
        f"{script} failed (exit {result.returncode}):\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    )
    return result.stdout


# slow: ~2 min of CPU, so xdist hands it out first (tests/conftest.py).
@pytest.mark.slow
@pytest.mark.eager  # the TensorFlow side fits and predicts one step per model
def test_every_factory_on_jax_without_tensorflow_and_keras_files_across_backends(tmp_path):
    # One JAX process for both checks (each fresh interpreter re-imports:
    # ~3 CPU-s for JAX + Keras + cvseq, ~7 with TensorFlow); the TensorFlow
    # side runs in this pytest process.
    import cross_backend  # in this folder

    from_tf, from_jax = tmp_path / "from_tf", tmp_path / "from_jax"
    from_tf.mkdir()
    from_jax.mkdir()
    cross_backend.save(str(from_tf))  # here: TensorFlow
    out = _run("no_tensorflow.py", "jax", str(from_tf), str(from_jax))
    for name in ("video_tagger", "video_classifier_3d", "image_classifier",
                 "image_segmenter", "trajectory_predictor", "video_predictor",
                 "instance_segmenter", "moving_digits numpy fit", "digits numpy fit",
                 "mixed_precision", "video_tagger load", "image_segmenter load",
                 "video_tagger save", "image_segmenter save"):
        assert f"{name} OK" in out
    cross_backend.load(str(from_jax))  # here: saved on JAX, loaded on TensorFlow


def test_every_vision_and_video_factory_on_torch_without_tensorflow():
    # Not in the [test] extra: PyPI's torch wheel pulls its CUDA libraries
    # (5.3 GB installed, 10 min here); runs where torch is installed.
    pytest.importorskip("torch")
    out = _run("no_tensorflow.py", "torch")
    for name in ("video_tagger", "video_classifier_3d", "image_classifier",
                 "image_segmenter", "trajectory_predictor", "video_predictor",
                 "moving_digits numpy fit", "mixed_precision"):
        assert f"{name} OK" in out


def test_gpu_script_runs_on_cpu_with_tiny_sizes(tmp_path):
    # What a session lent a GPU runs (`benchmarks/gpu.sh`), on CPU and tiny,
    # so it cannot fail for a silly reason when a GPU comes.
    import json

    out = tmp_path / "gpu.json"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", XLA_FLAGS=FAST_XLA)
    env.pop("KERAS_BACKEND", None)
    result = subprocess.run(
        ["bash", os.path.join(ROOT, "benchmarks", "gpu.sh"), "--device", "cpu",
         "--tiny", "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=600, cwd=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(out.read_text())
    assert report["backend"] == "jax" and report["device"] == "cpu"
    tagger = report["results"]["video_tagger"]
    assert tagger["float32"]["best"] > 0 and tagger["bfloat16"]["best"] > 0
    assert tagger["ratio_bfloat16_over_float32"] > 0
    job = report["results"]["main_job"]  # NumPy data: runs without TensorFlow
    assert job["train_clips"] == 16 and 0 <= job["test_accuracy"] <= 1
