"""TensorFlow's import honours TF_CPP_MIN_LOG_LEVEL (cvseq._tf)."""

import os

from cvseq import _tf

# What `import tensorflow` 2.21 writes to stderr on a machine without a GPU.
STARTUP = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "I0000 00:00:1796166199.595593   14549 port.cc:153] oneDNN custom operations are on.\n"
    "I0000 00:00:1796166199.679486   14549 cpu_feature_guard.cc:227] This TensorFlow binary "
    "is optimized\n"
    "To enable the following instructions: AVX2 FMA, rebuild TensorFlow.\n"
    "W0000 00:00:1796166199.700000   14549 gpu_device.cc:2] a warning\n"
    "E0000 00:00:1796166199.800000   14549 cuda_dnn.cc:8579] Unable to register cuDNN factory\n"
    "/x/site-packages/pkg.py:12: DeprecationWarning: old API\n"
    "  import old\n"
)


def test_each_level_hides_the_records_below_it_and_nothing_else():
    assert _tf._shown(STARTUP, 0) == STARTUP.split("\n", 1)[1]
    python_warning = "/x/site-packages/pkg.py:12: DeprecationWarning: old API\n  import old\n"
    error = "E0000 00:00:1796166199.800000   14549 cuda_dnn.cc:8579] Unable to register cuDNN factory\n"
    warning = "W0000 00:00:1796166199.700000   14549 gpu_device.cc:2] a warning\n"
    # The continuation line goes with its INFO record; Python's warning stays.
    assert _tf._shown(STARTUP, 1) == warning + error + python_warning
    assert _tf._shown(STARTUP, 2) == error + python_warning
    assert _tf._shown(STARTUP, 3) == python_warning
    assert _tf._shown("Traceback (most recent call last):\n  oops\n", 3) == \
        "Traceback (most recent call last):\n  oops\n"
    # Only TensorFlow's own second lines go with a hidden record.
    assert _tf._shown("I0000 00:00:1.5   1 port.cc:1] info\nWARNING:absl:kept\n"
                      "Deprecated: kept\n", 3) == "WARNING:absl:kept\nDeprecated: kept\n"


def test_no_stderr_at_all_is_no_error(monkeypatch):
    # pythonw or a --noconsole build: sys.stderr is None ("import cvseq"
    # failed at sys.stderr.flush()).
    monkeypatch.delitem(__import__("sys").modules, "tensorflow")
    monkeypatch.setattr("sys.stderr", None)
    with _tf.quiet_tensorflow_import():
        pass


def test_the_process_stderr_is_held_and_written_back_filtered(capfd):
    # TensorFlow is imported in this process already: hold stderr as a
    # first import would.
    with _tf._holding_stderr(3):
        os.write(2, STARTUP.encode())
    assert capfd.readouterr().err == "/x/site-packages/pkg.py:12: DeprecationWarning: " \
                                     "old API\n  import old\n"
    with _tf.quiet_tensorflow_import():  # imported already: nothing held
        os.write(2, b"I0000 00:00:1.5   1 port.cc:1] kept\n")
    assert capfd.readouterr().err == "I0000 00:00:1.5   1 port.cc:1] kept\n"
