"""Compile plumbing shared by both detector architectures (`ObjectDetector`,
YOLOv8 on keras-cv, and `RetinaNetDetector`, on KerasHub).

Both compile with their library's box and class losses under the
`cvseq.Task` contract: `loss` and `metrics` stay `"auto"`, the compile
arguments are remembered so a saved model reloads compiled, and
`cvseq.training.unfreeze_backbone` can recompile it.
"""

import keras

from cvseq.models.task import _untracked


def reject_loss_and_metrics(loss, metrics):
    """ValueError unless `loss` and `metrics` are `"auto"` (or None)."""
    for argument, value in (("loss", loss), ("metrics", metrics)):
        if not (isinstance(value, str) and value == "auto") and value is not None:
            raise ValueError(
                f"`{argument}` cannot be set on an object detector. Received: "
                f"{argument}={value!r}. Set `box_loss=` and "
                "`classification_loss=` instead (metrics: "
                "cvseq.metrics.detection on predict's output)."
            )


def compile_config(model):
    """A detector's compile arguments, serialized."""
    config = getattr(model, "_detector_compile_config", None)
    if not model.compiled or config is None:
        return {}
    return {
        key: value if isinstance(value, (str, int, float, bool))
        else keras.saving.serialize_keras_object(value)
        for key, value in config.items()
    }


class DetectorCompile:
    """Mixin, first among a detector's bases: the library detector's
    `compile` follows it in the MRO, then `cvseq.Task`."""

    def _compile_library(self, config, **kwargs):
        """Calls the library detector's `compile(**config, **kwargs)` and
        remembers the arguments. Its compile ends in `Task.compile`, which
        must pass them through untouched while `_compiling_as_parent`."""
        _untracked(self, "_compiling_as_parent", True)
        try:
            super().compile(**config, **kwargs)
        finally:
            _untracked(self, "_compiling_as_parent", False)
        self._detector_compile_config = dict(config)
        _untracked(self, "_compile_arguments", dict(config, **kwargs))

    def get_compile_config(self):
        return compile_config(self)

    def compile_from_config(self, config):
        config = {
            key: keras.saving.deserialize_keras_object(value)
            if isinstance(value, dict) else value
            for key, value in config.items()
        }
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)
