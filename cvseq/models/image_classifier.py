"""Image classification: a CNN backbone, global pooling, a dense head."""

import keras

from cvseq import backbones
from cvseq._validation import check_bool, check_fraction, check_image_size
from cvseq.models._common import (
    check_classes,
    classification_head,
    classifier_task,
)


def image_classifier(
    num_classes,
    *,
    image_size=(224, 224),
    backbone="compact_cnn",
    weights=None,
    multi_label=False,
    dropout=0.2,
    train_backbone=True,
    compile=True,
    name=None,
):
    """Classifies images (or tags them, with `multi_label=True`).

    The backbone's feature map is averaged over space and read by a dense
    layer. For fine-tuning a pretrained backbone, build with
    `train_backbone=False`, fit the head, then call
    `cvseq.training.unfreeze_backbone(model, learning_rate=1e-4)` and fit
    again (see the README).

    Args:
        num_classes: int. Number of classes (single-label) or tags
            (multi-label).
        image_size: int or (height, width). Defaults to `(224, 224)`.
        backbone: str or `keras.Model`. A name from
            `cvseq.backbones.list_backbones()`, a model (a cvseq model gives
            its backbone), a path to a saved `.keras` model, or a KerasHub
            preset. Defaults to `"compact_cnn"` (0.39M parameters; on
            real photos as accurate as a plain Keras Conv-BN CNN of 0.3M,
            where the video models' faster `"small_cnn"` falls short).
        weights: None, `"imagenet"` or a weights file for a registered
            backbone. Defaults to None.
        multi_label: bool. Independent tags (sigmoid, binary cross-entropy)
            instead of one class per image (softmax). Defaults to False.
        dropout: float in [0, 1). Dropout before the head. Defaults to 0.2.
        train_backbone: bool. False freezes the backbone (first stage of
            fine-tuning). Defaults to True.
        compile: bool. Compile with Adam(1e-3) and sparse categorical
            cross-entropy with accuracy (binary cross-entropy with AUC,
            precision, recall and F1 at 0.5 for multi-label). Defaults to
            True.
        name: str or None. Model name. Defaults to `"image_classifier"`.

    Returns:
        A `keras.Model` from raw pixels `(batch, height, width, 3)` in
        [0, 255] to class probabilities `(batch, num_classes)`.

    Example:

    >>> model = image_classifier(10, image_size=(32, 32))
    >>> train = cvseq.datasets.load("digits", "train", image_size=32)
    >>> model.fit(train, epochs=1)
    >>> model.predict(np.zeros((1, 32, 32, 3), "uint8")).shape
    (1, 10)
    """
    # Arguments.
    num_classes = check_classes(num_classes, multi_label)
    image_size = check_image_size(image_size)
    dropout = check_fraction("dropout", dropout)
    check_bool("train_backbone", train_backbone)
    check_bool("compile", compile)
    feature_extractor = backbones.build_backbone(
        backbone,
        image_size=image_size,
        weights=weights,
        train_backbone=train_backbone,
        pooling="avg",
    )

    # Layers.
    images = keras.Input((*image_size, 3), name="images")
    x = feature_extractor(images)
    outputs = classification_head(
        x, num_classes, multi_label=multi_label, dropout=dropout
    )

    # Model.
    return classifier_task(images, outputs, num_classes, multi_label=multi_label,
                           compile=compile, name=name or "image_classifier")


# ---------------------------------------------------------------------------
# The task as `cvseq` commands, the examples and the tests see it.
# ---------------------------------------------------------------------------

from cvseq import tasks as _tasks  # noqa: E402


def _shape(info, data_options):
    return {**_tasks.image_shape(info, data_options), "multi_label": bool(info.multi_label)}


_tasks.register_task(_tasks.image_task(
    name="image_classifier",
    description="CNN image classification (image -> class or tags)",
    factory=image_classifier,
    dataset="digits",
    shape=_shape,
    default_image_size=32,
    predict=_tasks.classify(_tasks.read_image_inputs),
    small_data={"examples_per_class": 2, "image_size": 16},
    example="image_classification.py",
))
