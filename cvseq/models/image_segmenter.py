"""Semantic segmentation: a U-Net decoder on a cvseq backbone's pyramid."""

import math

import keras
from keras import ops

from cvseq import backbones
from cvseq._validation import check_bool, check_image_size, check_num_classes
from cvseq.layers import ImagePreprocessing
from cvseq.models.task import Task
from cvseq.training import WarmUpInverseSqrt  # also importable from here


@keras.saving.register_keras_serializable(package="cvseq")
class DiceCrossEntropy(keras.losses.Loss):
    """Cross-entropy plus soft Dice loss, for integer masks.

    Cross-entropy alone lets a model that paints everything background
    score well when objects cover a few percent of the pixels: it sits at
    that minimum for epochs. The Dice term averages an overlap score over
    the classes, so a class of 1% of the pixels weighs as much as the
    background (Milletari et al. 2016; Isensee et al. 2021 use this sum).

    Args:
        num_classes: int. Number of classes of the masks.
        dice_weight: float. Weight of the Dice term. Defaults to 1.0.
        smooth: float. Added to the Dice numerator and denominator.
            Defaults to 1.0.

    Call arguments: `y_true` int `(batch, H, W)` class ids; `y_pred` float
    `(batch, H, W, num_classes)` probabilities.
    """

    def __init__(self, num_classes, dice_weight=1.0, smooth=1.0,
                 name="dice_cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_classes = num_classes
        self.dice_weight = dice_weight
        self.smooth = smooth

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        if len(y_true.shape) == len(y_pred.shape):
            y_true = ops.squeeze(y_true, axis=-1)
        y_pred = ops.cast(y_pred, "float32")
        one_hot = ops.one_hot(y_true, self.num_classes, dtype="float32")
        # The categorical form of the sparse loss (equal values): Keras'
        # sparse one calls torch's nll_loss on the channels-last maps, whose
        # backward fails ("grad_input must be contiguous") on PyTorch.
        cross_entropy = ops.mean(
            keras.losses.categorical_crossentropy(one_hot, y_pred)
        )
        # Dice per class over the whole batch: an image without a class
        # says nothing about how well the model outlines it.
        axes = tuple(range(len(y_pred.shape) - 1))
        overlap = ops.sum(one_hot * y_pred, axis=axes)
        total = ops.sum(one_hot, axis=axes) + ops.sum(y_pred, axis=axes)
        dice = (2.0 * overlap + self.smooth) / (total + self.smooth)
        loss = cross_entropy + self.dice_weight * (1.0 - ops.mean(dice))
        # One value per batch; Keras' reduction then leaves it unchanged.
        return ops.broadcast_to(loss, ops.shape(y_true)[:1])

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "dice_weight": self.dice_weight,
            "smooth": self.smooth,
        }


def _conv_block(x, filters, name):
    """Two 3x3 convolutions, each with batch normalization and ReLU."""
    for i in (1, 2):
        x = keras.layers.Conv2D(
            filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}"
        )(x)
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_bn{i}")(x)
        x = keras.layers.ReLU(name=f"{name}_relu{i}")(x)
    return x


def check_segmenter_arguments(num_classes, image_size, train_backbone):
    """The checks `image_segmenter` and `instance_segmenter` share.

    Returns:
        `(num_classes, image_size)`, normalized (`image_size` a pair).
    """
    num_classes = check_num_classes(num_classes)
    image_size = check_image_size(image_size)
    check_bool("train_backbone", train_backbone)
    return num_classes, image_size


def segmentation_metrics(num_classes):
    """Pixel accuracy and mean IoU over all classes, on class probabilities."""
    return [
        keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
        keras.metrics.MeanIoU(num_classes, sparse_y_pred=False, name="mean_iou"),
    ]


def class_map(x, num_classes, *, name):
    """A 1x1 convolution to per-pixel class probabilities `(batch, H, W,
    num_classes)`, float32 under mixed precision for a stable loss."""
    return keras.layers.Conv2D(
        num_classes, 1, activation="softmax", dtype="float32", name=name
    )(x)


def unet(image_size, backbone, *, weights=None, train_backbone=True):
    """The U-Net that `image_segmenter` and `instance_segmenter` share.

    Builds the encoder (`cvseq.backbones.build_feature_pyramid`) and the
    decoder described in `image_segmenter`, and checks that `image_size`
    fits the backbone's strides.

    Returns:
        `(images, features)`: the `"images"` input `(batch, height, width,
        3)` and the decoder's full-resolution features `(batch, height,
        width, filters)`.
    """
    encoder = backbones.build_feature_pyramid(
        backbone,
        image_size=image_size,
        weights=weights,
        train_backbone=train_backbone,
    )
    # Strides are powers of two; a side that is not a multiple of the
    # largest one leaves maps that do not line up when upsampled.
    stride = 2 ** round(math.log2(image_size[0] / encoder.outputs[-1].shape[1]))
    if any(side % stride for side in image_size):
        raise ValueError(
            f"`image_size` must be a multiple of the backbone's output stride "
            f"({stride}) on each side. Received: image_size={image_size}. "
            f"Try {tuple(max(stride, round(s / stride) * stride) for s in image_size)}."
        )

    # The encoder, then the decoder from coarse to fine.
    images = keras.Input((*image_size, 3), name="images")
    skips = encoder(images)
    if not isinstance(skips, (list, tuple)):
        skips = [skips]
    x = skips[-1]
    skips = list(reversed(skips[:-1]))
    if not skips or skips[-1].shape[1] < image_size[0]:
        # Full-resolution skip when the backbone has none (Keras
        # applications start at stride 2): a few channels from the pixels.
        stem = ImagePreprocessing("unit", name="stem_rescaling")(images)
        skips.append(_conv_block(stem, 16, name="stem"))
    for index, skip in enumerate(skips):
        factor = skip.shape[1] // x.shape[1]
        filters = min(256, max(16, skip.shape[-1]))
        x = keras.layers.Conv2DTranspose(
            filters, 3, strides=factor, padding="same", name=f"decoder{index}_up"
        )(x)
        x = keras.layers.Concatenate(name=f"decoder{index}_skip")([x, skip])
        x = _conv_block(x, filters, name=f"decoder{index}")
    return images, x


def image_segmenter(
    num_classes,
    *,
    image_size=(128, 128),
    backbone="small_cnn",
    weights=None,
    train_backbone=True,
    compile=True,
    name=None,
):
    """Labels every pixel with a U-Net: backbone encoder, transposed-conv decoder.

    The encoder is a cvseq backbone seen at every stride
    (`cvseq.backbones.build_feature_pyramid`). The decoder starts from the
    coarsest map and, stride by stride, upsamples with a transposed
    convolution, concatenates the encoder's map of that stride (the skip
    connection) and refines with two convolutions with batch normalization,
    up to full resolution (for backbones whose finest map has stride 2, a
    small convolution of the image gives the last skip), which keeps edges
    sharp. The default compile uses cross-entropy plus Dice
    (`DiceCrossEntropy`), which keeps classes that cover few pixels from
    being painted over by the background.

    Args:
        num_classes: int. Number of classes, the background included.
        image_size: int or (height, width). Each side a multiple of the
            backbone's largest stride (8 for `small_cnn`, 32 for the Keras
            applications). Defaults to `(128, 128)`.
        backbone: str or `keras.Model`. See `cvseq.backbones.build_backbone`.
            Defaults to `"small_cnn"`.
        weights: None, `"imagenet"` or a weights file for the backbone.
            Defaults to None.
        train_backbone: bool. False freezes the encoder (first stage of
            fine-tuning). Defaults to True.
        compile: bool. Compile with Adam on a `WarmUpInverseSqrt(2e-3, 250)`
            rate (250 warm-up steps, then decay with the step, whatever the
            epochs), `DiceCrossEntropy`, pixel
            accuracy and mean IoU over all classes (`mean_iou`). Defaults to
            True.
        name: str or None. Model name. Defaults to `"image_segmenter"`.

    Returns:
        A `cvseq.Task` from raw pixels `(batch, height, width, 3)` in
        [0, 255] to per-pixel class probabilities `(batch, height, width,
        num_classes)`. It fits on integer masks `(batch, height, width)`.

    Example:

    >>> model = image_segmenter(11, image_size=(64, 64))
    >>> train = cvseq.datasets.load("digit_segmentation", "train", image_size=64)
    >>> model.fit(train, epochs=1)
    >>> model.predict(np.zeros((1, 64, 64, 3), "uint8")).shape
    (1, 64, 64, 11)
    """
    # Arguments.
    num_classes, image_size = check_segmenter_arguments(
        num_classes, image_size, train_backbone)
    check_bool("compile", compile)
    images, x = unet(image_size, backbone, weights=weights,
                     train_backbone=train_backbone)
    outputs = class_map(x, num_classes, name="predictions")

    # Model.
    model = Task(
        images,
        outputs,
        name=name or "image_segmenter",
        compile_defaults=dict(
            jit_compile=False,
            # Not 4e-3 as the detector and the instance segmenter: on real
            # nuclei, 150 steps (inside the warm-up) reached foreground IoU
            # 0.755 at 4e-3 against 0.874 at 2e-3 (docs/test_suite_cpu.md).
            optimizer=keras.optimizers.Adam(WarmUpInverseSqrt(2e-3, 250)),
            loss=DiceCrossEntropy(num_classes),
            metrics=segmentation_metrics(num_classes),
        ),
        targets="class_ids",
    )
    if compile:
        model.compile()
    return model


# ---------------------------------------------------------------------------
# The task as `cvseq` commands, the examples and the tests see it.
# ---------------------------------------------------------------------------

import numpy as np  # noqa: E402

from cvseq import tasks as _tasks  # noqa: E402


def _segment(model, inputs, run):
    """The share of pixels given to each class present."""
    images = _tasks.read_image_inputs(inputs, model)
    masks = model.predict(images, verbose=0).argmax(-1)
    names = run.get("class_names") or [str(i) for i in range(int(masks.max()) + 1)]
    lines = []
    for mask in masks:
        counts = np.bincount(mask.ravel(), minlength=len(names)) / mask.size
        lines.append(", ".join(f"{names[c]} {counts[c]:.1%}"
                               for c in np.argsort(counts)[::-1] if counts[c] > 0))
    return lines


_tasks.register_task(_tasks.image_task(
    name="image_segmenter",
    description="CNN encoder-decoder segmentation (image -> class per pixel)",
    factory=image_segmenter,
    dataset="digit_segmentation",
    default_image_size=64,
    predict=_segment,
    metric="mean_iou",
    small_data={"num_scenes": 4, "image_size": 32},
    example="segmentation.py",
))
