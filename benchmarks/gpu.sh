#!/usr/bin/env bash
# cvseq's GPU figures in one call, on a machine with JAX but no TensorFlow
# (and no package registry): float32 vs bfloat16 training throughput of the
# tagger, 3D CNN, classifier and segmenter with KERAS_BACKEND=jax; one JSON.
#
#   benchmarks/gpu.sh [--device gpu|cpu] [--tiny] [--out FILE]
#
# Wheels: if keras (or keras-hub) is not importable, installs them with
# --no-deps from benchmarks/wheels/ (carry that folder: the keras and
# keras-hub wheels are a few MB; `pip download --no-deps keras==3.15.1
# keras-hub==0.32.0 -d benchmarks/wheels` on a machine with a registry).
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
if ! python -c "import keras, keras_hub" 2>/dev/null; then
  ls "$here"/wheels/*.whl >/dev/null 2>&1 || {
    echo "gpu.sh: keras/keras-hub missing and no wheels in $here/wheels" >&2; exit 1; }
  pip install --no-deps --no-index "$here"/wheels/*.whl
fi
export KERAS_BACKEND=jax TF_CPP_MIN_LOG_LEVEL=3
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
python "$here/backends.py" --device "$device" --out "$out" "${extra[@]}"
