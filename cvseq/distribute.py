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
    config = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    return len(config.get("cluster", {}).get("worker", []))


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
    """Sets Keras' global dtype policy to `mixed_float16` on GPU.

    Heads and losses of cvseq models stay float32. Call it before building
    models.

    Args:
        enabled: True, False or `"auto"` (on when a GPU is visible).

    Returns:
        The policy name now in force.
    """
    check_choice("enabled", enabled, (True, False, "auto"))
    if enabled == "auto":
        enabled = _gpu_visible()
    keras.config.set_dtype_policy("mixed_float16" if enabled else "float32")
    return keras.config.dtype_policy().name


def _gpu_visible():
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return any(d.platform == "gpu" for d in jax.devices())
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    tf = _tensorflow("cvseq.distribute.mixed_precision on the TensorFlow backend")
    return bool(tf.config.list_logical_devices("GPU"))


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
