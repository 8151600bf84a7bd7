import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

import cvseq

SCRIPTS = os.path.join(os.path.dirname(__file__), "distribute_scripts")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("TF_CONFIG", None)
    return env


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_auto_is_one_device_here():
    strategy = cvseq.distribute.strategy("auto")
    assert strategy.num_replicas_in_sync == 1


def test_multi_worker_needs_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        cvseq.distribute.strategy("multi_worker")
    with pytest.raises(ValueError, match="kind"):
        cvseq.distribute.strategy("tpu")


def test_mirrored_on_two_cpus_matches_one_device():
    result = subprocess.run(
        [sys.executable, os.path.join(SCRIPTS, "mirrored_vs_one_device.py")],
        capture_output=True, text=True, env=_env(), timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    np.testing.assert_allclose(
        report["one_device_loss"], report["mirrored_loss"], rtol=1e-3
    )
    assert report["max_weight_difference"] < 1e-3, report


def test_two_workers_on_loopback_train_with_plain_fit(tmp_path):
    ports = _free_ports(2)
    outs = [str(tmp_path / f"worker{i}.json") for i in range(2)]
    workers = [
        subprocess.Popen(
            [sys.executable, os.path.join(SCRIPTS, "multi_worker.py"),
             str(i), str(ports[0]), str(ports[1]), outs[i]],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
        )
        for i in range(2)
    ]
    try:
        logs = [w.communicate(timeout=300) for w in workers]
    finally:
        for w in workers:
            w.kill()
    for w, (_, err) in zip(workers, logs):
        assert w.returncode == 0, err[-3000:]
    reports = [json.load(open(o)) for o in outs]
    for report in reports:
        assert report["strategy"] in ("MultiWorkerMirroredStrategy",
                                      "CollectiveAllReduceStrategy")
        assert report["replicas"] == 2 and report["epochs_run"] == 2
    np.testing.assert_allclose(reports[0]["loss"], reports[1]["loss"], rtol=1e-6)
    for a, b in zip(reports[0]["trainable_weights"], reports[1]["trainable_weights"]):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_mixed_precision_keeps_the_head_in_float32():
    import keras

    try:
        assert cvseq.distribute.mixed_precision(True) == "mixed_float16"
        model = cvseq.video_tagger(2, frames=2, image_size=16, units=4)
        assert model.get_layer("lstm").compute_dtype == "float16"
        assert model.get_layer("predictions").compute_dtype == "float32"
        assert model.output.dtype == "float32"
    finally:
        keras.config.set_dtype_policy("float32")
    # No GPU here; bfloat16 only where the CPU has AMX (CI machines differ).
    expected = "mixed_bfloat16" if cvseq.distribute.cpu_has_amx() else "float32"
    try:
        assert cvseq.distribute.mixed_precision("auto") == expected
    finally:
        keras.config.set_dtype_policy("float32")
