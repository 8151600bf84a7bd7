"""Training on several devices or machines with `tf.distribute`, no code change.

    strategy = cvseq.distribute.strategy("auto")
    with strategy.scope():
        model = cvseq.video_tagger(4, frames=8, image_size=32)
    model.fit(dataset)   # the global batch is split over the replicas

`strategy("auto")` picks `MultiWorkerMirroredStrategy` when `TF_CONFIG`
names more than one worker, `MirroredStrategy` when the machine has more
than one GPU, and the default (one device) strategy otherwise.

Keras 3's `fit` does not work under `MultiWorkerMirroredStrategy` on the
TensorFlow backend (keras-team/keras#20585, open since TF 2.16). It fails in
two places of Keras' TF trainer: the symbolic build before the first step
reduces the first *distributed batch* with `strategy.reduce("MEAN", ...)`,
which a collective strategy cannot do; and the per-step metric reduction
asks for a mean over axis 0 of *scalar* values. `strategy()` installs a
small compatibility layer (`patch_keras_multi_worker()`) that fixes both,
only for collective (multi-worker) strategies and only on the Keras
versions known to need it (`KERAS_VERSIONS_PATCHED`); everywhere else Keras
runs unchanged. Remove it when Keras fixes the issue.
"""

import json
import os

import keras

from cvseq._tf import tensorflow as _tensorflow
from cvseq._validation import check_choice

KINDS = ("auto", "default", "mirrored", "multi_worker")
# Keras releases whose TF trainer has the multi-worker bugs (3.15.1 is the
# newest tested; later releases get the patch only if they still fail).
KERAS_VERSIONS_PATCHED = ((3, 0), (3, 16))

_patched = False


def _keras_version():
    return tuple(int(p) for p in keras.__version__.split(".")[:2])


def _workers_in_tf_config():
    text = os.environ.get("TF_CONFIG", "{}") or "{}"
    try:
        config = json.loads(text)
    except ValueError:
        config = None
    cluster = config.get("cluster", {}) if isinstance(config, dict) else None
    workers = cluster.get("worker", []) if isinstance(cluster, dict) else None
    if not isinstance(workers, list):
        raise ValueError(
            "TF_CONFIG must be JSON of the form {\"cluster\": {\"worker\": [\"host1:2222\", "
            "...]}, \"task\": {\"type\": \"worker\", \"index\": 0}}. Received: "
            f"TF_CONFIG={text[:200]!r}.")
    return len(workers)


def _device_key(name):
    """"cpu:0" for "/cpu:0", "/device:CPU:0" or TensorFlow's full name."""
    return name.lower().rsplit("/", 1)[-1].replace("device:", "")


def strategy(kind="auto", *, devices=None):
    """Returns the `tf.distribute.Strategy` to build and train under.

    Args:
        kind: str. `"auto"`, `"default"` (one device), `"mirrored"` (all
            GPUs of this machine, or `devices`) or `"multi_worker"` (the
            workers of `TF_CONFIG`). Defaults to `"auto"`.
        devices: list of device names for `"mirrored"`, e.g.
            `["/cpu:0", "/cpu:1"]`. Defaults to all GPUs.

    Returns:
        A `tf.distribute.Strategy`. Create it at the start of the program:
        a multi-worker strategy must exist before other TensorFlow ops run.
    """
    check_choice("kind", kind, KINDS)
    if devices is not None:
        if isinstance(devices, str) or not all(isinstance(d, str) for d in devices):
            raise TypeError(
                "`devices` must be a list of device names, e.g. [\"/gpu:0\", "
                f"\"/gpu:1\"]. Received: devices={devices!r}.")
        if kind not in ("auto", "mirrored"):
            raise ValueError(
                f"`devices` goes with kind='mirrored' (or 'auto'); kind={kind!r} "
                f"would ignore it. Received: devices={devices!r}.")
        if not devices or len(set(devices)) != len(devices):
            raise ValueError(
                "`devices` must name one or more distinct devices, e.g. [\"/gpu:0\", "
                f"\"/gpu:1\"]. Received: devices={devices!r}.")
    tf = _tensorflow("cvseq.distribute.strategy (tf.distribute)")
    if kind == "auto":
        if _workers_in_tf_config() > 1:
            kind = "multi_worker"
        elif len(tf.config.list_logical_devices("GPU")) > 1 or devices:
            kind = "mirrored"
        else:
            kind = "default"
    if kind == "default":
        return tf.distribute.get_strategy()
    if kind == "mirrored":
        if devices is not None:
            known = {_device_key(d.name) for d in tf.config.list_logical_devices()}
            missing = [d for d in devices if _device_key(d) not in known]
            if missing:
                raise ValueError(
                    f"`devices` names devices this machine lacks: {missing}. It has "
                    f"{['/' + k for k in sorted(known)]}.")
        return tf.distribute.MirroredStrategy(devices=devices)
    if _workers_in_tf_config() < 1:
        raise ValueError(
            "`kind='multi_worker'` needs TF_CONFIG with a cluster of workers, "
            'e.g. {"cluster": {"worker": ["host1:2222", "host2:2222"]}, '
            '"task": {"type": "worker", "index": 0}}. Received: TF_CONFIG='
            f"{os.environ.get('TF_CONFIG')!r}."
        )
    patch_keras_multi_worker()
    return tf.distribute.MultiWorkerMirroredStrategy()


def mixed_precision(enabled="auto"):
    """Sets Keras' global dtype policy to a mixed-precision one (or float32).

    Heads and losses of cvseq models stay float32. Call it before building
    models. Works on every Keras backend (JAX, PyTorch, TensorFlow).

    Args:
        enabled: `"auto"`, `"bfloat16"`, `"float16"`, True or False.
            `"auto"` picks what the hardware computes fast: `mixed_bfloat16`
            on a GPU that supports bfloat16 (compute capability 8.0 or
            newer) and on a CPU with AMX (Intel's matrix units, flag
            `amx_bf16`), `mixed_float16` on an older GPU, float32 otherwise
            (a CPU without AMX: bfloat16 measured 0.94x of float32 for the
            tagger on JAX here, BENCHMARKS.md). True is `mixed_float16`,
            False float32.

    Returns:
        The policy name now in force.
    """
    check_choice("enabled", enabled, (True, False, "auto", "bfloat16", "float16"))
    if enabled == "auto":
        policy = auto_policy()
    elif enabled is False:
        policy = "float32"
    else:
        policy = "mixed_bfloat16" if enabled == "bfloat16" else "mixed_float16"
    keras.config.set_dtype_policy(policy)
    return keras.config.dtype_policy().name


def auto_policy():
    """The policy `mixed_precision("auto")` picks here (see there)."""
    gpu = _gpu_bfloat16()
    if gpu is not None:
        return "mixed_bfloat16" if gpu else "mixed_float16"
    return "mixed_bfloat16" if cpu_has_amx() else "float32"


def cpu_has_amx(cpuinfo="/proc/cpuinfo"):
    """Whether the CPU has AMX with bfloat16 (Linux `amx_bf16` flag)."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            return any(line.startswith("flags") and "amx_bf16" in line.split()
                       for line in f)
    except OSError:  # not Linux: no flag to read, so no claim of AMX
        return False


def _gpu_bfloat16():
    """None without a GPU; else whether the first GPU computes bfloat16
    natively (compute capability >= 8.0: Ampere, Hopper and newer)."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        gpus = [d for d in jax.devices() if d.platform == "gpu"]
        if not gpus:
            return None
        capability = getattr(gpus[0], "compute_capability", None)
        # ROCm devices report no CUDA capability; MI200/MI300 do bfloat16.
        return capability is None or float(capability) >= 8.0
    if backend == "torch":
        import torch

        if not torch.cuda.is_available():
            return None
        return bool(torch.cuda.is_bf16_supported())
    tf = _tensorflow("cvseq.distribute.mixed_precision on the TensorFlow backend")
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    capability = tf.config.experimental.get_device_details(gpus[0]).get(
        "compute_capability")
    return capability is None or tuple(capability) >= (8, 0)


def _is_collective(strategy_):
    import tensorflow as tf  # only called with a tf.distribute strategy

    return isinstance(
        strategy_,
        (
            tf.distribute.MultiWorkerMirroredStrategy,
            tf.distribute.experimental.MultiWorkerMirroredStrategy,
        ),
    )


def patch_keras_multi_worker():
    """Installs the multi-worker compatibility layer (idempotent).

    Returns:
        True if the patch is installed, False if this Keras does not need it.
    """
    global _patched
    low, high = KERAS_VERSIONS_PATCHED
    if not (low <= _keras_version() < high):
        return False
    if _patched:
        return True
    tf = _tensorflow("cvseq.distribute (tf.distribute)")
    from keras.src.backend.tensorflow import trainer as tf_trainer

    original_build = tf_trainer.TensorFlowTrainer._maybe_symbolic_build
    original_reduce = tf_trainer.reduce_per_replica

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        strategy_ = self._distribute_strategy
        if strategy_ is None or not _is_collective(strategy_) or iterator is None:
            return original_build(self, iterator=iterator, data_batch=data_batch)
        # Build from this worker's first replica batch: only shapes and
        # dtypes matter here, and a collective strategy cannot reduce a
        # distributed batch.
        for _, _, it in iterator:
            batch = next(it)
            data_batch = keras.tree.map_structure(
                lambda v: strategy_.experimental_local_results(v)[0]
                if isinstance(v, tf.distribute.DistributedValues) else v,
                batch,
            )
            break
        with strategy_.scope():
            self._symbolic_build(data_batch=data_batch)

    def reduce_per_replica(values, strategy_, reduction):
        if not _is_collective(strategy_) or reduction not in ("auto", "mean"):
            return original_reduce(values, strategy_, reduction)

        def _reduce(v):
            rank = v.shape.rank if hasattr(v, "shape") else None
            if isinstance(v, tf.distribute.DistributedValues):
                rank = strategy_.experimental_local_results(v)[0].shape.rank
            # Scalars (losses, metric results) have no axis 0 to reduce.
            axis = None if rank == 0 else 0
            return strategy_.reduce("MEAN", v, axis=axis)

        return keras.tree.map_structure(_reduce, values)

    tf_trainer.TensorFlowTrainer._maybe_symbolic_build = _maybe_symbolic_build
    tf_trainer.reduce_per_replica = reduce_per_replica
    _patched = True
    return True
