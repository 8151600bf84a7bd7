"""`cvseq.distribute.mixed_precision("auto")`: which policy on which hardware.

The hardware is faked (a cpuinfo file, the GPU probe); the JAX run with
TensorFlow blocked (tests/backends/no_tensorflow.py) checks the policy of
this machine and fits a bfloat16 tagger.
"""

import keras
import pytest

from cvseq import distribute


@pytest.fixture(autouse=True)
def _float32_after():
    yield
    keras.config.set_dtype_policy("float32")


def _cpuinfo(tmp_path, flags):
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nflags\t\t: fpu sse2 {flags}\n\n")
    return str(path)


def test_amx_flag_is_read_from_cpuinfo(tmp_path):
    assert distribute.cpu_has_amx(_cpuinfo(tmp_path, "avx512_bf16 amx_bf16 amx_tile"))
    # AVX512-BF16 alone (this machine's CPU) is not AMX.
    assert not distribute.cpu_has_amx(_cpuinfo(tmp_path, "avx512_bf16 avx512f"))
    assert not distribute.cpu_has_amx(str(tmp_path / "missing"))


@pytest.mark.parametrize("gpu, amx, expected", [
    (True, False, "mixed_bfloat16"),    # Ampere or newer
    (False, True, "mixed_float16"),     # an older GPU: float16 with loss scaling
    (None, True, "mixed_bfloat16"),     # CPU with AMX
    (None, False, "float32"),           # CPU without AMX: bfloat16 measured no faster
])
def test_auto_policy(monkeypatch, gpu, amx, expected):
    monkeypatch.setattr(distribute, "_gpu_bfloat16", lambda: gpu)
    monkeypatch.setattr(distribute, "cpu_has_amx", lambda: amx)
    assert distribute.mixed_precision("auto") == expected
    assert keras.config.dtype_policy().name == expected


def test_explicit_policies_and_bad_value():
    assert distribute.mixed_precision("bfloat16") == "mixed_bfloat16"
    assert distribute.mixed_precision("float16") == "mixed_float16"
    assert distribute.mixed_precision(True) == "mixed_float16"
    assert distribute.mixed_precision(False) == "float32"
    with pytest.raises(ValueError, match="enabled.*'bfloat16'"):
        distribute.mixed_precision("bf16")
