"""Fine-tuning in two stages, the second one line.

Stage 1 trains a new head on a frozen pretrained backbone; stage 2 unfreezes
the backbone and trains everything at a lower learning rate:

```python
model = cvseq.image_classifier(5, image_size=32, backbone="pretrained.keras",
                               train_backbone=False)        # stage 1
model.fit(train, epochs=5)
cvseq.training.unfreeze_backbone(model, learning_rate=1e-4) # stage 2
model.fit(train, epochs=5)
```
"""

import keras

from cvseq import backbones
from cvseq._validation import check_bool


def _check_learning_rate(learning_rate):
    if (
        isinstance(learning_rate, bool)
        or not isinstance(learning_rate, (int, float))
        or not learning_rate > 0
    ):
        raise ValueError(
            "`learning_rate` must be a positive number. Received: "
            f"learning_rate={learning_rate!r}."
        )
    return float(learning_rate)


def _layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _layers(layer)


def unfreeze_backbone(model, learning_rate=1e-4, *, freeze_batch_norm=True):
    """Makes a model's backbone trainable and recompiles it at a lower rate.

    The model is recompiled with what it was compiled with (loss, metrics,
    loss weights, `jit_compile`) and a fresh optimizer of the same kind and
    settings at `learning_rate`. Batch normalization layers of the backbone
    stay frozen by default: their statistics came from the pretraining data
    and a small new data set would shift them (Keras' transfer-learning
    guide does the same).

    Args:
        model: a compiled cvseq model with a backbone (any model built with
            `backbone=...`, e.g. by `image_classifier`).
        learning_rate: float. Learning rate of stage 2, usually 10 to 100
            times lower than stage 1's. Defaults to 1e-4.
        freeze_batch_norm: bool. Keep the backbone's batch normalization
            frozen (inference mode). Defaults to True.

    Returns:
        The same model, recompiled.

    Example:

    >>> model = image_classifier(3, image_size=32, train_backbone=False)
    >>> unfreeze_backbone(model, learning_rate=1e-4)
    >>> len(cvseq.backbones.get_backbone(model).trainable_weights) > 0
    True
    """
    learning_rate = _check_learning_rate(learning_rate)
    check_bool("freeze_batch_norm", freeze_batch_norm)
    if not isinstance(model, keras.Model):
        raise TypeError(
            "`model` must be a keras.Model. Received: "
            f"model of type {type(model).__name__}."
        )
    backbone = backbones.get_backbone(model)
    if backbone is model:
        raise ValueError(
            f"`model` has no layer named {backbones.BACKBONE_NAME!r}, so there "
            f"is no backbone to unfreeze. Received: model={model.name!r}. "
            "Build the model with a cvseq factory (backbone=...)."
        )
    if not model.compiled:
        raise ValueError(
            f"`model` must be compiled: stage 2 recompiles with the same loss "
            f"and metrics. Received: model={model.name!r}, not compiled. "
            "Call model.compile(...) (or build it with compile=True) first."
        )

    backbone.trainable = True
    if freeze_batch_norm:
        for layer in _layers(backbone):
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False

    optimizer = model.optimizer
    if getattr(optimizer, "inner_optimizer", None) is not None:  # loss scaling
        optimizer = optimizer.inner_optimizer
    optimizer_config = optimizer.get_config()
    optimizer_config["learning_rate"] = learning_rate
    fresh = optimizer.__class__.from_config(optimizer_config)
    from cvseq.models.task import Task

    if isinstance(model, Task) and model.compile_arguments:
        # Through the Task's compile: the same arguments as the last compile
        # ("auto" ones resolve to the task's defaults again), a fresh optimizer.
        model.compile(**{**model.compile_arguments, "optimizer": fresh})
        return model
    # A plain keras.Model (or a Task loaded compiled from a file): its
    # compile config, with the fresh optimizer.
    config = model.get_compile_config()
    config["optimizer"] = keras.saving.serialize_keras_object(fresh)
    model.compile_from_config(config)
    return model
