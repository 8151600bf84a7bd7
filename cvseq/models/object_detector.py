"""Object detection: keras-cv's YOLOv8 with cvseq's data conventions."""

import contextlib
import math
import os
import warnings

import keras
from keras import ops

from cvseq import backbones
from cvseq import boxes as box_utils
from cvseq._validation import (
    check_bool,
    check_choice,
    check_image_size,
    check_num_classes,
)
from cvseq.models._detector_compile import DetectorCompile, reject_loss_and_metrics
from cvseq.models.task import Task
from cvseq.training import WarmUpInverseSqrt

# Architectures of keras-cv's YOLOv8 backbone presets (their parameter
# counts match the presets'), built here so that no download is needed;
# "yolo_v8_tiny" is a smaller one of ours that trains on a CPU in minutes.
YOLO_BACKBONES = {
    "yolo_v8_tiny": {"stackwise_channels": [16, 32, 64, 128], "stackwise_depth": [1, 1, 1, 1]},
    "yolo_v8_xs": {"stackwise_channels": [32, 64, 128, 256], "stackwise_depth": [1, 2, 2, 1]},
    "yolo_v8_s": {"stackwise_channels": [64, 128, 256, 512], "stackwise_depth": [1, 2, 2, 1]},
    "yolo_v8_m": {"stackwise_channels": [96, 192, 384, 576], "stackwise_depth": [2, 4, 4, 2]},
}
LEVELS = ("P3", "P4", "P5")
ARCHITECTURES = ("yolo_v8", "retinanet")
_CLASS_PRIOR = 0.01
_LEVEL_STRIDES = {"P3": 8, "P4": 16, "P5": 32}
# keras-cv's YOLOv8 output names vs the package's one convention.
_OUTPUT_KEYS = {"boxes": "boxes", "classes": "labels", "confidence": "scores",
                "num_detections": "num_detections"}


@keras.saving.register_keras_serializable(package="cvseq")
class ClassCrossEntropy(keras.losses.Loss):
    """Binary cross-entropy of class probabilities, summed over the classes.

    keras-cv's YOLOv8 uses `keras.losses.BinaryCrossentropy`, which averages
    over the class axis (so the class loss shrinks with the number of
    classes, unlike the YOLOv8 paper's sum) and clips probabilities at 1e-7
    (so an anchor whose class score fell below it gets no gradient back).
    This loss sums and clips at 1e-30. `reduction="sum"`, as YOLOv8's loss
    normalizes by the sum of its targets.
    """

    def __init__(self, name="class_cross_entropy", reduction="sum", **kwargs):
        super().__init__(name=name, reduction=reduction, **kwargs)

    def call(self, y_true, y_pred):
        y_pred = ops.clip(ops.cast(y_pred, "float32"), 1e-30, 1.0 - 1e-7)
        y_true = ops.cast(y_true, "float32")
        loss = y_true * ops.log(y_pred) + (1.0 - y_true) * ops.log(1.0 - y_pred)
        return -ops.sum(loss, axis=-1)


def _yolo_detector_class():
    try:
        import keras_cv
    except ImportError as error:  # keras-cv needs TensorFlow on every backend
        from cvseq._tf import TensorFlowRequiredError, tensorflow

        reason = str(error)  # `error` is unbound once the except block ends

        class _NeedsKerasCV(keras.Model):
            def __init__(self, *args, **kwargs):
                tensorflow("cvseq.object_detector (keras-cv's YOLOv8)")
                raise TensorFlowRequiredError(
                    f"cvseq.object_detector needs keras-cv: {reason}"
                )

        return _NeedsKerasCV
    return keras_cv.models.YOLOV8Detector


def _images_and_targets(data, name):
    """`(images, targets)` of a step's data; a sample weight is refused."""
    images, targets, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
    if sample_weight is not None:
        raise ValueError(
            f"{name!r} takes no sample_weight or class_weight: its loss weighs "
            "each box itself (keras-cv's YOLOv8 loss). Received a sample "
            "weight (or class weights). Leave it out; to weigh examples, "
            "repeat or drop them in the data.")
    return images, targets


@keras.saving.register_keras_serializable(package="cvseq")
class ObjectDetector(DetectorCompile, _yolo_detector_class(), Task):
    """keras-cv's `YOLOV8Detector` speaking cvseq's box convention.

    Targets are `{"boxes": (batch, max_boxes, 4), "labels": (batch,
    max_boxes)}` padded with -1 (keras-cv calls the labels "classes");
    `predict` returns `{"boxes", "labels", "scores", "num_detections"}`
    after non-max suppression. Calling the model directly (`model(images)`)
    returns the raw head outputs used by the loss. Build it with
    `cvseq.object_detector`. A `cvseq.Task`: `compile()` alone (or with
    `optimizer=` alone) takes the factory's defaults.
    """

    def __init__(self, backbone, num_classes, bounding_box_format="xyxy",
                 fpn_depth=1, **kwargs):
        super().__init__(
            backbone=backbone,
            num_classes=num_classes,
            bounding_box_format=bounding_box_format,
            fpn_depth=fpn_depth,
            **kwargs,
        )
        # Start every class score at 1% (RetinaNet's prior, which YOLOv8
        # also uses). keras-cv starts them at 50%: the first steps then push
        # all scores down so hard that the classes learn many times slower
        # (measured on digit scenes: mAP@0.5 0.02 against 0.18 after 6
        # epochs).
        prior = -math.log((1 - _CLASS_PRIOR) / _CLASS_PRIOR)
        for layer in self.layers:
            if layer.name.endswith("_class_3_conv"):
                layer.bias.assign(ops.full(layer.bias.shape, prior))

    # keras-cv unpacks a step's data as exactly `(x, y)`: `train_on_batch`
    # and `test_on_batch` (which always pass a sample-weight slot) failed
    # with "too many values to unpack (expected 2)".
    def train_step(self, *args):
        return super().train_step(*args[:-1], _images_and_targets(args[-1], self.name))

    def test_step(self, *args):
        return super().test_step(*args[:-1], _images_and_targets(args[-1], self.name))

    # Training: rename "labels" to keras-cv's "classes". keras-cv's loss
    # makes a `Reshape` layer at each call, which takes the global dtype
    # policy: under a mixed one it cast the box outputs to float16 and failed
    # against its float32 bins.
    def compute_loss(self, x, y, y_pred, sample_weight=None, **kwargs):
        if isinstance(y, dict) and "labels" in y:
            y = {"boxes": y["boxes"], "classes": y["labels"]}
        with _float32_policy():
            return super().compute_loss(x, y, y_pred, sample_weight=sample_weight,
                                        **kwargs)

    # Prediction: decode, suppress, rename. keras-cv decodes against its
    # last argument as the images: a data set of `(images, targets)` (what
    # `cvseq.datasets.load` gives) passes the images alone.
    def predict_step(self, *args):
        if len(args) == 1 and isinstance(args[0], (tuple, list)):
            args = (keras.utils.unpack_x_y_sample_weight(args[0])[0],)
        outputs = super().predict_step(*args)
        if isinstance(outputs, tuple):
            return _rename(outputs[0]), outputs[1]
        return _rename(outputs)

    # keras-cv's decoding, with the boxes cut at the image's border
    # (`clip_to_image`).
    def decode_predictions(self, pred, images):
        boxes, scores = _yolo_boxes(pred, images, self.bounding_box_format)
        return self.prediction_decoder(boxes, scores)

    def detect(self, images, per_image=False):
        """What `predict` returns, for one batch, as a traceable function.

        Args:
            images: `(batch, height, width, 3)` pixels in [0, 255].
            per_image: bool. Suppress one image at a time with TensorFlow's
                single-image NMS op (`NonMaxSuppressionV4`), which TFLite
                runs as a builtin; needs a static batch size. False uses
                keras-cv's batched NMS (as `predict` does), whose ops need
                TFLite's select-ops runtime. Same detections either way.
                Defaults to False.

        Returns:
            `{"boxes": (batch, 100, 4), "labels": (batch, 100), "scores":
            (batch, 100), "num_detections": (batch,)}` after decoding and
            non-max suppression, rows past `num_detections` set to -1 (the
            SavedModel's `serve` signature).
        """
        raw = self(images, training=False)
        if not per_image:
            return _rename(self.decode_predictions(raw, images))
        return self._suppress_per_image(raw, images)

    def _suppress_per_image(self, raw, images):
        boxes, scores = _yolo_boxes(raw, images, self.bounding_box_format)
        if self.prediction_decoder.from_logits:
            scores = ops.sigmoid(scores)
        return suppress_per_image(boxes, scores, images, self.prediction_decoder,
                                  self.bounding_box_format)

    # Compile: keras-cv's losses under the Task contract; the arguments are
    # remembered so a saved model reloads compiled and
    # `cvseq.training.unfreeze_backbone` can recompile it.
    def _fallback_compile_defaults(self):
        return dict(
            # The rate depends on the step alone (not on the epochs fit will
            # run): 250 warm-up steps to 4e-3, then 4e-3 * sqrt(250 / step).
            # On the digit scenes it reaches in 8 epochs what Adam(1e-3)
            # did not in 12, and beats a warm-up + cosine schedule planned
            # for 12 epochs (docs/images.md).
            optimizer=keras.optimizers.Adam(WarmUpInverseSqrt(4e-3, 250),
                                            global_clipnorm=10.0),
            box_loss="ciou",
            classification_loss=ClassCrossEntropy(),
        )

    def compile(self, optimizer="auto", loss="auto", metrics="auto", *,
                box_loss="ciou", classification_loss=None, box_loss_weight=7.5,
                classification_loss_weight=0.5, jit_compile=False, **kwargs):
        """Compiles with YOLOv8's box and class losses.

        `optimizer="auto"` is Adam on `cvseq.training.WarmUpInverseSqrt(4e-3,
        250)` (250 warm-up steps, then decay with the step) with global
        gradient clipping at 10; the losses are set by `box_loss` (`"ciou"`) and
        `classification_loss` (None: `ClassCrossEntropy`), so `loss` and
        `metrics` must stay `"auto"` (keras-cv's YOLOv8 takes no metrics:
        use `cvseq.metrics.detection` on `predict`'s output).
        """
        reject_loss_and_metrics(loss, metrics)
        if isinstance(optimizer, str) and optimizer == "auto":
            optimizer = self._fallback_compile_defaults()["optimizer"]
        optimizer = keras.optimizers.get(optimizer)
        if classification_loss is None:
            classification_loss = ClassCrossEntropy()
        self._compile_library(
            dict(optimizer=optimizer, box_loss=box_loss,
                 classification_loss=classification_loss,
                 box_loss_weight=box_loss_weight,
                 classification_loss_weight=classification_loss_weight,
                 jit_compile=jit_compile),
            **kwargs)

    def get_config(self):
        config = super().get_config()
        config["name"] = self.name
        # A functional backbone (built by cvseq from a Keras application or
        # a saved model) loses its `pyramid_level_inputs` in serialization.
        config["pyramid_level_inputs"] = dict(self.backbone.pyramid_level_inputs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        levels = config.pop("pyramid_level_inputs", None)
        for key in ("backbone", "label_encoder", "prediction_decoder"):
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(config[key])
        backbone = config["backbone"]
        if levels and not getattr(backbone, "pyramid_level_inputs", None):
            backbone.pyramid_level_inputs = levels
        # `trainable=False` given to a constructor stays on the model and
        # does not reach its layers, which the detector's graph reuses:
        # set it again (from True, so that it propagates).
        if not backbone.trainable:
            backbone.trainable = True
            backbone.trainable = False
        # Saved in float32 (the factory builds it so): loaded under a mixed
        # policy, keras-cv's head layers would take the policy and fail.
        with _float32_policy():
            return cls(**config)


def _rename(outputs):
    return {new: outputs[old] for old, new in _OUTPUT_KEYS.items()}


# YOLOv8's box decoding, as keras-cv 0.9 does it in
# `YOLOV8Detector.decode_predictions` (its helpers `get_anchors`,
# `decode_regression_to_boxes` and `dist2bbox` are not public API): each box
# side is a distance from the cell centre, predicted as a distribution over
# 16 bins of one stride each, decoded as its expectation.
_YOLO_BINS = 16


def _yolo_anchor_points(image_size):
    """Cell centres `(anchors, 2)` as (x, y) in strides, and the strides
    `(anchors,)`, for strides 8, 16, 32 (keras-cv's `get_anchors`)."""
    import numpy as np

    points, strides = [], []
    for stride in (8, 16, 32):
        ys = np.arange(0, image_size[0], stride, dtype="float32")
        xs = np.arange(0, image_size[1], stride, dtype="float32")
        x, y = np.meshgrid(xs, ys)
        centres = np.stack([x.ravel(), y.ravel()], -1) + stride / 2
        points.append(centres / stride)
        strides.append(np.full(len(centres), stride, "float32"))
    return np.concatenate(points), np.concatenate(strides)


def _yolo_boxes(raw, images, bounding_box_format):
    """Decoded boxes `(batch, anchors, 4)` in `bounding_box_format` and the
    class scores `(batch, anchors, num_classes)` of YOLOv8's raw outputs."""
    distances = ops.reshape(raw["boxes"], (-1, raw["boxes"].shape[1], 4, _YOLO_BINS))
    distances = ops.sum(ops.softmax(distances, axis=-1)
                        * ops.arange(_YOLO_BINS, dtype="float32"), axis=-1)
    points, strides = _yolo_anchor_points(tuple(images.shape[1:3]))
    left_top, right_bottom = ops.split(distances, 2, axis=-1)
    xyxy = ops.concatenate([points - left_top, points + right_bottom], axis=-1)
    xyxy = xyxy * strides[:, None]
    height, width = images.shape[1:3]
    return clip_to_image(xyxy, "xyxy", bounding_box_format, height, width), raw["classes"]


def clip_to_image(boxes, source, target, height, width):
    """Decoded boxes cut at the image's border, converted from `source` to
    `target` format.

    The part of a predicted box outside the image holds nothing to find;
    torchvision's detectors and Ultralytics' YOLOv8 cut it before
    suppression too. KerasHub's RetinaNet and keras-cv's YOLOv8 do not: on
    32-pixel digit scenes, 1,621 of an early RetinaNet's 1,940 detections
    crossed the border (class-agnostic mAP@0.5 0.087 uncut, 0.104 cut).
    """
    xyxy = keras.utils.bounding_boxes.convert_format(
        boxes, source=source, target="xyxy", height=height, width=width)
    left, top, right, bottom = ops.split(xyxy, 4, axis=-1)
    xyxy = ops.concatenate([ops.clip(left, 0, width), ops.clip(top, 0, height),
                            ops.clip(right, 0, width), ops.clip(bottom, 0, height)],
                           axis=-1)
    return keras.utils.bounding_boxes.convert_format(
        xyxy, source="xyxy", target=target, height=height, width=width)


def suppress_per_image(boxes, scores, images, decoder, bounding_box_format):
    """Non-max suppression one image at a time, with the single-image op
    TFLite runs as a builtin (`NonMaxSuppressionV4`).

    Args:
        boxes: `(batch, anchors, 4)` in `bounding_box_format`, pixels.
        scores: `(batch, anchors, num_classes)` probabilities.
        images: `(batch, height, width, 3)`, a static batch size.
        decoder: the model's NMS layer (its IoU and score thresholds and
            `max_detections` are used).
        bounding_box_format: str.

    Returns:
        `{"boxes", "labels", "scores", "num_detections"}` as `detect`.
    """
    import tensorflow as tf

    if images.shape[0] is None:
        raise ValueError(
            "`per_image=True` needs a static batch size (TFLite export uses "
            f"1). Received images of shape {tuple(images.shape)}."
        )
    height, width = images.shape[1:3]
    confidence = ops.max(scores, axis=-1)
    size = decoder.max_detections
    found = {"boxes": [], "labels": [], "scores": [], "num_detections": []}
    for i in range(images.shape[0]):
        index, count = tf.raw_ops.NonMaxSuppressionV4(
            boxes=keras.utils.bounding_boxes.convert_format(
                boxes[i], source=bounding_box_format, target="yxyx",
                height=height, width=width),
            scores=confidence[i],
            max_output_size=size,
            iou_threshold=decoder.iou_threshold,
            score_threshold=decoder.confidence_threshold,
            pad_to_max_output_size=True,
        )
        valid = ops.arange(size) < count
        # tf.argmax: Keras' argmax adds a BitwiseAnd (its -0.0 check),
        # which TFLite has no builtin for.
        labels = tf.argmax(ops.take(scores[i], index, axis=0), axis=-1,
                           output_type="int32")
        found["boxes"].append(
            ops.where(valid[:, None], ops.take(boxes[i], index, axis=0), -1.0))
        found["labels"].append(ops.where(valid, labels, -1))
        found["scores"].append(ops.where(valid, ops.take(confidence[i], index), -1.0))
        found["num_detections"].append(count)
    return {key: ops.stack(values) for key, values in found.items()}


def _pyramid_backbone(pyramid, image_size):
    """Wraps a cvseq feature pyramid as a backbone YOLOv8 can read."""
    by_stride = {image_size[0] // t.shape[1]: t for t in pyramid.outputs}
    missing = [level for level in LEVELS if _LEVEL_STRIDES[level] not in by_stride]
    if missing:
        raise ValueError(
            "The detector needs backbone features at strides 8, 16 and 32 "
            f"(P3, P4, P5); this backbone has strides {sorted(by_stride)}. "
            f"Use one of {', '.join(YOLO_BACKBONES)} or a Keras application "
            "such as 'mobilenet_v3_small'."
        )
    inputs = keras.Input((*image_size, 3), name="images")
    maps = pyramid(inputs)
    maps = {image_size[0] // t.shape[1]: t for t in maps}
    outputs = [
        keras.layers.Identity(name=level)(maps[_LEVEL_STRIDES[level]])
        for level in LEVELS
    ]
    model = keras.Model(inputs, outputs, name=backbones.BACKBONE_NAME)
    model.pyramid_level_inputs = {level: level for level in LEVELS}
    return model


def _yolo_backbone(name, image_size, weights):
    import keras_cv

    if weights == "imagenet":
        raise ValueError(
            f"Backbone {name!r} has no ImageNet weights. Received: "
            "weights='imagenet'. Use weights=None (train from scratch), a "
            "weights file, or an ImageNet backbone such as "
            "backbone='mobilenet_v3_small'."
        )
    model = keras_cv.models.YOLOV8Backbone(
        **YOLO_BACKBONES[name],
        include_rescaling=True,
        activation="swish",
        input_shape=(*image_size, 3),
    )
    if weights is not None:
        path = os.fspath(weights)
        if not os.path.isfile(path):
            raise ValueError(
                f"`weights` must be None or the path of a weights file; no "
                f"file is at that path. Received: weights={path!r}."
            )
        model.load_weights(path)
    return model


def _resolve_backbone(backbone, image_size, weights):
    if isinstance(backbone, str) and backbone in YOLO_BACKBONES:
        return _yolo_backbone(backbone, image_size, weights)
    if isinstance(backbone, keras.Model):
        found = backbone.backbone if isinstance(backbone, ObjectDetector) else backbone
        if getattr(found, "pyramid_level_inputs", None) and set(LEVELS) <= set(
            found.pyramid_level_inputs
        ):
            if weights is not None:
                raise ValueError(
                    "`weights` only applies to named backbones; a keras.Model "
                    f"brings its own. Received: weights={weights!r}."
                )
            return found
    if isinstance(backbone, (str, os.PathLike)) and os.path.isdir(os.fspath(backbone)):
        local = _keras_cv_preset(os.fspath(backbone))
        if local is not None:
            return local
    if isinstance(backbone, (str, os.PathLike)) and os.fspath(backbone).endswith(".keras"):
        path = os.fspath(backbone)
        if os.path.isfile(path):
            loaded = keras.saving.load_model(path)
            if isinstance(loaded, ObjectDetector):
                return loaded.backbone
    pyramid = backbones.build_feature_pyramid(
        backbone, image_size=image_size, weights=weights
    )
    return _pyramid_backbone(pyramid, image_size)


def _build_retinanet(backbone, num_classes, image_size, weights,
                     bounding_box_format, train_backbone, name):
    from cvseq.models.retinanet import RetinaNetDetector, build_retinanet

    if backbone is None:
        backbone = "mobilenet_v3_small"
    if isinstance(backbone, str) and backbone in YOLO_BACKBONES:
        raise ValueError(
            f"`backbone` {backbone!r} is a YOLOv8 backbone (keras-cv); RetinaNet "
            f"runs on cvseq's backbones. Received: backbone={backbone!r} with "
            "architecture='retinanet'. Use e.g. backbone='mobilenet_v3_small', "
            "or architecture='yolo_v8'."
        )
    if isinstance(backbone, (str, os.PathLike)) and os.fspath(backbone).endswith(".keras"):
        path = os.fspath(backbone)
        if os.path.isfile(path):
            loaded = keras.saving.load_model(path)
            if isinstance(loaded, RetinaNetDetector):
                backbone = loaded
    return build_retinanet(
        backbone, num_classes=num_classes, image_size=image_size, weights=weights,
        bounding_box_format=bounding_box_format, train_backbone=train_backbone,
        name=name or "object_detector")


def _keras_cv_preset(path):
    """A keras-cv backbone saved with `save_to_preset`, or None."""
    if not os.path.isfile(os.path.join(path, "config.json")):
        return None
    import keras_cv

    try:
        return keras_cv.models.Backbone.from_preset(path)
    except Exception:
        return None  # not a keras-cv preset; maybe a KerasHub one


def object_detector(
    num_classes,
    *,
    image_size=(320, 320),
    backbone=None,
    weights=None,
    bounding_box_format="xyxy",
    train_backbone=True,
    compile=True,
    name=None,
    architecture="yolo_v8",
):
    """Finds objects: boxes, labels and scores, with YOLOv8 or RetinaNet.

    Two architectures, one interface (`architecture=`): keras-cv's YOLOv8
    (`"yolo_v8"`, keras-cv is frozen at 0.9) and KerasHub's RetinaNet
    (`"retinanet"`, maintained) on a cvseq backbone; see the README for
    both measured on the same held-out scenes.

    Why YOLOv8: it is anchor-free (no anchor sizes to tune to a data set,
    which matters for small objects such as the embedded digits), its
    task-aligned assigner and distribution-focal box head train from
    scratch on a few thousand images, and keras-cv's version runs on every
    Keras backend. Two changes make keras-cv's version learn the classes
    (see `ObjectDetector` and `ClassCrossEntropy`); with them it reaches a
    held-out mAP@0.5 of 0.60-0.66 on the embedded `digit_detection` scenes
    in 8 epochs on its default compile (10 classes, 64x64, `yolo_v8_tiny`,
    seeds 0-2; see the README).

    Fit it on images and `{"boxes": (batch, max_boxes, 4), "labels":
    (batch, max_boxes)}` targets, boxes in pixels of the input image in
    `bounding_box_format`, rows without a box padded with -1 (boxes and
    label). `predict` decodes the boxes and applies non-max suppression
    (IoU 0.5, scores above 0.05, at most 100 boxes an image).

    Args:
        num_classes: int. Number of object classes (no background class).
        image_size: int or (height, width), multiples of 32. Defaults to
            `(320, 320)`.
        backbone: str or `keras.Model`. A YOLOv8 size built from scratch
            (`"yolo_v8_tiny"`, `"yolo_v8_xs"`, `"yolo_v8_s"`, `"yolo_v8_m"`,
            the architectures of keras-cv's presets), a cvseq backbone with
            strides 8, 16 and 32 (`"mobilenet_v3_small"`, `"efficientnet_b0"`,
            `"resnet50"`, with `weights="imagenet"` where there is network),
            a keras-cv backbone (model or local preset directory), or a path
            to a saved `.keras` detector whose backbone to reuse. RetinaNet
            takes the cvseq backbones (strides 8 to 32) and saved
            RetinaNet detectors, not the YOLOv8 sizes. None: `"yolo_v8_xs"`
            for YOLOv8, `"mobilenet_v3_small"` for RetinaNet. Defaults to
            None.
        weights: None, `"imagenet"` (Keras applications) or a weights file
            for the backbone. Defaults to None.
        bounding_box_format: str. Format of the boxes in and out (see
            `cvseq.boxes.FORMATS`). Defaults to `"xyxy"`.
        train_backbone: bool. False freezes the backbone (first stage of
            fine-tuning). Defaults to True.
        compile: bool. Compile with Adam on a `WarmUpInverseSqrt(4e-3, 250)`
            rate (250 warm-up steps to 4e-3, then decay with the step,
            whatever the epochs) with global gradient clipping at 10, CIoU
            box loss (weight 7.5) and `ClassCrossEntropy` on the class
            scores (weight 0.5), YOLOv8's losses. Defaults to True.
        name: str or None. Model name. Defaults to `"object_detector"`.
        architecture: `"yolo_v8"` or `"retinanet"`. RetinaNet compiles
            with Adam(1e-3, clipping at 10), Huber box loss and focal class
            loss (KerasHub's), normalized by the matched anchors. Defaults
            to `"yolo_v8"`.

    Returns:
        An `ObjectDetector` or a `RetinaNetDetector` (`keras.Model`s) from raw pixels `(batch,
        height, width, 3)` in [0, 255]. `predict` returns `{"boxes": (batch,
        100, 4), "labels": (batch, 100), "scores": (batch, 100),
        "num_detections": (batch,)}`, rows past `num_detections` padded
        with -1.

    Example:

    >>> model = object_detector(10, image_size=(64, 64), backbone="yolo_v8_tiny")
    >>> train = cvseq.datasets.load("digit_detection", "train", image_size=64)
    >>> model.fit(train, epochs=1)
    >>> found = model.predict(np.zeros((1, 64, 64, 3), "uint8"))
    >>> sorted(found)
    ['boxes', 'labels', 'num_detections', 'scores']
    """
    # Arguments.
    check_choice("architecture", architecture, ARCHITECTURES)
    num_classes = check_num_classes(num_classes, minimum=1)
    image_size = check_image_size(image_size, minimum=32)
    if any(side % 32 for side in image_size):
        raise ValueError(
            "`image_size` must be a multiple of 32 on each side (YOLOv8 reads "
            f"features at strides 8, 16 and 32). Received: image_size={image_size}. "
            f"Try {tuple(max(32, round(s / 32) * 32) for s in image_size)}."
        )
    bounding_box_format = box_utils.check_format("bounding_box_format", bounding_box_format)
    check_bool("train_backbone", train_backbone)
    check_bool("compile", compile)
    if architecture == "retinanet":
        model = _build_retinanet(backbone, num_classes, image_size, weights,
                                 bounding_box_format, train_backbone, name)
        if compile:
            model.compile()
        return model
    if backbone is None:
        backbone = "yolo_v8_xs"
    policy = keras.config.dtype_policy()
    if policy.compute_dtype != "float32":
        # keras-cv's YOLOv8 decodes its boxes against float32 anchors: under
        # a mixed policy `predict` and `fit` failed with "Input 'y' of 'Mul'
        # Op has type float32 that does not match type float16".
        warnings.warn(
            f"object_detector builds its YOLOv8 model in float32: keras-cv's "
            f"YOLOv8 fails under the global dtype policy {policy.name!r} (its box "
            "decoding is float32). The other factories follow the policy.",
            stacklevel=2)
    with _float32_policy():
        feature_extractor = _resolve_backbone(backbone, image_size, weights)
        feature_extractor.trainable = train_backbone
        model = _yolo_model(feature_extractor, num_classes, bounding_box_format, name)
    if compile:
        model.compile()
    return model


@contextlib.contextmanager
def _float32_policy():
    """Keras' global dtype policy set to float32 for a build, then restored."""
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(policy)


def _yolo_model(feature_extractor, num_classes, bounding_box_format, name):
    import keras_cv

    return ObjectDetector(
        backbone=feature_extractor,
        num_classes=num_classes,
        bounding_box_format=bounding_box_format,
        fpn_depth=1,
        prediction_decoder=keras_cv.layers.NonMaxSuppression(
            bounding_box_format=bounding_box_format,
            from_logits=False,
            iou_threshold=0.5,
            confidence_threshold=0.05,
            max_detections=100,
        ),
        name=name or "object_detector",
    )


# ---------------------------------------------------------------------------
# The task as `cvseq` commands, the examples and the tests see it.
# ---------------------------------------------------------------------------

from cvseq import tasks as _tasks  # noqa: E402


def _detect(model, inputs, run):
    """Boxes scoring at least `run["threshold"]` (default 0.5): `label score
    [x1 y1 x2 y2]` in input pixels."""
    images = _tasks.read_image_inputs(inputs, model)
    outputs = model.predict(images, verbose=0)
    names = run.get("class_names") or []
    threshold = run.get("threshold", 0.5)
    lines = []
    for i in range(len(images)):
        found = []
        for k in range(int(outputs["num_detections"][i])):
            score = float(outputs["scores"][i, k])
            if score < threshold:
                continue
            label = int(outputs["labels"][i, k])
            name = names[label] if label < len(names) else str(label)
            box = " ".join(f"{v:.0f}" for v in outputs["boxes"][i, k])
            found.append(f"{name} {score:.2f} [{box}]")
        lines.append("; ".join(found) or f"(no box scores {threshold:g} or more)")
    return lines


_tasks.register_task(_tasks.image_task(
    name="object_detector",
    description="CNN object detection (image -> boxes, labels, scores)",
    factory=object_detector,
    dataset="digit_detection",
    default_image_size=96,
    predict=_detect,
    metric="loss",
    small_data={"num_scenes": 4, "image_size": 64},
    example="object_detection.py",
))
