#!/usr/bin/env bash
# cvseq's GPU figures in one call, on a machine with JAX but no TensorFlow
# (and no package registry): float32 vs bfloat16 training throughput of the
# tagger, 3D CNN, classifier and segmenter with KERAS_BACKEND=jax, and the
# README's main job (tagger on moving digits, data as NumPy batches); one JSON.
#
#   benchmarks/gpu.sh [--device gpu|cpu] [--tiny] [--out FILE]
#
# Wheels: if keras is not importable, installs the wheels of
# benchmarks/wheels/ into a folder on PYTHONPATH (--no-deps, --no-index).
# Carry that folder (ignored by git; 2.9 MB). The GPU machine has Python
# 3.12, JAX with CUDA, numpy, scipy, scikit-learn, OpenCV, h5py, ml-dtypes,
# rich and absl, but not keras nor its needs namex and optree. Fetch them on
# a machine with the registry:
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#     --implementation cp --platform manylinux_2_28_x86_64 \
#     --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
#     -d benchmarks/wheels keras==3.15.1 namex==0.1.0 optree==0.20.0
# (keras-hub is not needed: the benchmarked models use no preset.)
# Defaults: --device gpu --out gpu_benchmarks.json. Well under 8 minutes on
# one GPU; `--device cpu --tiny` is what tests/backends/ runs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
device=gpu
out=gpu_benchmarks.json
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --tiny) extra+=(--tiny --models video_tagger); shift ;;
    *) echo "gpu.sh: unknown argument $1 (use --device, --out, --tiny)" >&2; exit 2 ;;
  esac
done
python=$(command -v python3 || command -v python)
if ! "$python" -c "import keras" 2>/dev/null; then
  ls "$here"/wheels/*.whl >/dev/null 2>&1 || {
    echo "gpu.sh: keras missing and no wheels in $here/wheels (see the header)" >&2; exit 1; }
  site="${TMPDIR:-/tmp}/cvseq_site"
  "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --upgrade --target "$site" "$here"/wheels/*.whl
  export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
fi
export KERAS_BACKEND=jax TF_CPP_MIN_LOG_LEVEL=3
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
"$python" "$here/backends.py" --device "$device" --main-job --out "$out" "${extra[@]}"
