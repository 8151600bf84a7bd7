"""RetinaNet (KerasHub) on cvseq's backbones, speaking cvseq's box convention.

`object_detector(..., architecture="retinanet")` builds it. KerasHub's
`RetinaNetObjectDetector` brings the feature pyramid network, the anchors,
the IoU label encoder, the focal loss and the non-max suppression (all
maintained code, unlike keras-cv's YOLOv8); cvseq brings the backbone
(`backbones.build_feature_pyramid`), the `cvseq.Task` compile contract,
`detect` for export, and two fixes measured on digit scenes (see
`RetinaNetDetector`).
"""

import math

import keras
import keras_hub
from keras import ops

from cvseq import backbones
from cvseq.models._detector_compile import DetectorCompile, reject_loss_and_metrics
from cvseq.models.task import Task

_CLASS_PRIOR = 0.01


@keras.saving.register_keras_serializable(package="cvseq")
class PyramidEncoder(keras_hub.models.FeaturePyramidBackbone):
    """A cvseq feature pyramid as a KerasHub image encoder.

    Wraps the model of `backbones.build_feature_pyramid` (raw pixels in,
    feature maps at strides 2..32 out) so that it exposes KerasHub's
    `pyramid_outputs`: `{"P3": stride 8, "P4": stride 16, "P5": stride 32,
    ...}`, which `keras_hub.models.RetinaNetBackbone` reads.

    Args:
        pyramid: `keras.Model` from `build_feature_pyramid`.
        image_shape: `(height, width, 3)`.
    """

    def __init__(self, pyramid, image_shape, **kwargs):
        image_shape = tuple(image_shape)
        inputs = keras.Input(image_shape, name="images")
        maps = pyramid(inputs)
        maps = maps if isinstance(maps, (list, tuple)) else [maps]
        outputs = {}
        for feature_map in maps:
            stride = image_shape[0] // feature_map.shape[1]
            level = int(round(math.log2(stride)))
            if 2 ** level == stride:
                outputs[f"P{level}"] = feature_map  # the deepest at each stride
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.pyramid = pyramid
        self.image_shape = image_shape
        self.pyramid_outputs = outputs

    def get_config(self):
        config = super().get_config()
        config.update(pyramid=keras.saving.serialize_keras_object(self.pyramid),
                      image_shape=list(self.image_shape))
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["pyramid"] = keras.saving.deserialize_keras_object(config["pyramid"])
        return super().from_config(config)


@keras.saving.register_keras_serializable(package="cvseq")
class RetinaNetDetector(DetectorCompile, keras_hub.models.RetinaNetObjectDetector, Task):
    """KerasHub's `RetinaNetObjectDetector` as a `cvseq.Task`.

    Targets are `{"boxes": (batch, max_boxes, 4), "labels": (batch,
    max_boxes)}` padded with -1, as for the YOLOv8 detector; `predict`
    returns `{"boxes", "labels", "scores", "num_detections"}` after non-max
    suppression, rows past `num_detections` set to -1. Calling the model
    directly returns the raw head outputs (`bbox_regression`, `cls_logits`).
    Build it with `cvseq.object_detector(..., architecture="retinanet")`.

    `force_match=True` gives every ground-truth box its best anchor even
    below the 0.5 IoU threshold (`BestAnchorMatcher`), so that objects
    smaller than the smallest anchors (32 pixels) still train.

    One fix over KerasHub 0.32: its constructor gives the focal-loss prior
    (class scores start at 1%, Lin et al. 2017) to the *box* head and leaves
    the class head at 50%, so every box delta starts at -4.6 and the first
    steps push all class scores down. Here the class head starts at the
    prior and the box head at zero deltas.
    """

    # KerasHub's `PipelineModel` comes before `cvseq.Task` in the MRO and
    # turns in-memory data into a tf.data pipeline first: check it here,
    # while it is still arrays.
    def fit(self, x=None, y=None, *args, validation_data=None, **kwargs):
        x, y, validation_data = self._check_fit_data(x, y, validation_data)
        return super().fit(x, y, *args, validation_data=validation_data, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        x, y = self._check_data(x, y, "evaluate")
        return super().evaluate(x, y, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        x, _ = self._check_data(x, None, "predict")
        return super().predict(x, *args, **kwargs)

    def __init__(self, backbone, num_classes, bounding_box_format="xyxy",
                 force_match=False, **kwargs):
        kwargs.setdefault("compile", False)  # the factory or Keras' loader compiles
        super().__init__(backbone=backbone, num_classes=num_classes,
                         bounding_box_format=bounding_box_format, **kwargs)
        self.force_match = force_match
        if force_match:
            matcher = self.label_encoder.box_matcher
            # Untracked: a matcher has no state, and a deserialized encoder
            # is already built (locked against new sub-layers).
            object.__setattr__(self.label_encoder, "box_matcher", BestAnchorMatcher(
                thresholds=matcher.thresholds[1:-1], match_values=matcher.match_values))
        prior = -math.log((1 - _CLASS_PRIOR) / _CLASS_PRIOR)
        classes = self.classification_head.prediction_layer
        classes.bias.assign(ops.full(classes.bias.shape, prior))
        boxes = self.box_head.prediction_layer
        boxes.bias.assign(ops.zeros(boxes.bias.shape))

    # Prediction: `detect`, which also takes batches of unknown size (Keras
    # traces `predict` on a tensor with the batch axis unknown, which
    # KerasHub's batched NMS cannot take) and renames KerasHub's
    # "confidence" to "scores".
    def predict_step(self, data):
        images, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self.detect(images)

    def detect(self, images, per_image=False):
        """What `predict` returns, for one batch, as a traceable function.

        Args:
            images: `(batch, height, width, 3)` pixels in [0, 255].
            per_image: bool. Suppress one image at a time with TensorFlow's
                single-image NMS op (`NonMaxSuppressionV4`, a TFLite
                builtin) in a Python loop; needs a static batch size. False
                runs the same op in a `tf.map_fn` (any batch size), as
                `predict` does. Same detections either way. KerasHub's
                `NonMaxSuppression` layer only holds the thresholds.
                Defaults to False.

        Returns:
            `{"boxes": (batch, 100, 4), "labels": (batch, 100), "scores":
            (batch, 100), "num_detections": (batch,)}`, rows past
            `num_detections` set to -1.
        """
        from cvseq.models.object_detector import suppress_per_image

        raw = self(images, training=False)
        boxes, scores = self.decode_boxes(raw, images)
        if per_image:
            return suppress_per_image(boxes, scores, images, self.prediction_decoder,
                                      self.bounding_box_format)
        # One image at a time in a `tf.map_fn`, with the same op: any batch
        # size (KerasHub's batched NMS needs a static one), and the same
        # boxes as the TFLite path (KerasHub's NMS kept other boxes than
        # TensorFlow's in about one case in ten, measured untrained).
        import tensorflow as tf

        def one_image(args):
            found = suppress_per_image(*(a[None] for a in args), self.prediction_decoder,
                                       self.bounding_box_format)
            return {key: value[0] for key, value in found.items()}

        return tf.map_fn(one_image, (boxes, scores, images), fn_output_signature={
            "boxes": tf.float32, "labels": tf.int32, "scores": tf.float32,
            "num_detections": tf.int32})

    def decode_boxes(self, raw, images):
        """Boxes `(batch, anchors, 4)` in `bounding_box_format`, cut at the
        image's border, and class probabilities `(batch, anchors,
        num_classes)`, before suppression (KerasHub's `decode_predictions` up
        to its NMS, and the cut)."""
        from cvseq.models.object_detector import clip_to_image

        height, width = images.shape[1:3]
        anchors = self.anchor_generator(images)
        anchors = ops.concatenate(list(anchors.values()), axis=0)
        xyxy = keras.utils.bounding_boxes.decode_deltas_to_boxes(
            anchors=anchors,
            # float32 under a mixed dtype policy too (the anchors are).
            boxes_delta=ops.cast(raw["bbox_regression"], "float32"),
            encoded_format="center_xywh",
            anchor_format=self.anchor_generator.bounding_box_format,
            box_format="xyxy",
            image_shape=(height, width, 3),
        )
        xyxy = clip_to_image(xyxy, "xyxy", "xyxy", height, width)
        scores = ops.cast(raw["cls_logits"], "float32")
        if self.prediction_decoder.from_logits:
            scores = ops.sigmoid(scores)
        # A box wholly outside the image is cut to no area: it scores 0 (under
        # the score threshold) rather than take a detection's place.
        seen = ops.logical_and(xyxy[..., 2] > xyxy[..., 0], xyxy[..., 3] > xyxy[..., 1])
        boxes = keras.utils.bounding_boxes.convert_format(
            xyxy, source="xyxy", target=self.bounding_box_format, height=height,
            width=width)
        return boxes, scores * ops.cast(seen, "float32")[..., None]

    # Compile: KerasHub's focal and Huber losses under the Task contract.
    def _fallback_compile_defaults(self):
        return dict(optimizer=keras.optimizers.Adam(1e-3, global_clipnorm=10.0))

    def compile(self, optimizer="auto", loss="auto", metrics="auto", *,
                box_loss=None, classification_loss=None, jit_compile=False,
                **kwargs):
        """Compiles with RetinaNet's losses.

        `optimizer="auto"` is Adam(1e-3) with global gradient clipping at
        10; `box_loss` (None: Huber, summed) and `classification_loss`
        (None: binary focal cross-entropy from logits, summed), both
        normalized by the number of matched anchors, as in the RetinaNet
        paper. `loss` and `metrics` must stay `"auto"` (use
        `cvseq.metrics.detection` on `predict`'s output).
        """
        reject_loss_and_metrics(loss, metrics)
        if isinstance(optimizer, str) and optimizer == "auto":
            optimizer = self._fallback_compile_defaults()["optimizer"]
        optimizer = keras.optimizers.get(optimizer)
        if box_loss is None:
            box_loss = keras.losses.Huber(reduction="sum")
        if classification_loss is None:
            classification_loss = keras.losses.BinaryFocalCrossentropy(
                from_logits=True, reduction="sum")
        self._compile_library(
            dict(optimizer=optimizer, box_loss=box_loss,
                 classification_loss=classification_loss, jit_compile=jit_compile),
            **kwargs)

    def get_config(self):
        config = super().get_config()
        config["force_match"] = self.force_match
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        backbone = config.get("backbone")
        if isinstance(backbone, dict):
            backbone = config["backbone"] = keras.saving.deserialize_keras_object(backbone)
        # A frozen encoder: its `trainable=False` stays on the model and does
        # not reach the layers the detector's graph reuses; set it again.
        encoder = getattr(backbone, "image_encoder", None)
        if encoder is not None and not encoder.trainable:
            encoder.trainable = True
            encoder.trainable = False
        return super().from_config(config)


class BestAnchorMatcher(keras_hub.layers.BoxMatcher):
    """KerasHub's `BoxMatcher`, plus each ground-truth box's best anchor.

    Anchors match boxes by IoU thresholds as in `BoxMatcher`; then every
    box that overlaps some anchor also takes its highest-IoU anchor as a
    positive, even below the positive threshold (Detectron's "low-quality
    matches"). KerasHub 0.32's own `force_match_for_each_col=True` fails:
    it also force-matches the extra "no match" column it appends, whose
    index is out of range for the label encoder's gather. Padding boxes
    (-1) overlap no anchor and take none.
    """

    def call(self, similarity_matrix):
        squeeze = len(similarity_matrix.shape) == 2
        if squeeze:
            similarity_matrix = ops.expand_dims(similarity_matrix, 0)
        columns, values = super().call(similarity_matrix)
        if similarity_matrix.shape[-1] == 0:
            return (columns[0], values[0]) if squeeze else (columns, values)
        num_rows = ops.shape(similarity_matrix)[1]
        best_row = ops.argmax(similarity_matrix, axis=1)  # (batch, boxes)
        overlaps = ops.cast(ops.max(similarity_matrix, axis=1) > 0, "float32")
        chosen = ops.one_hot(best_row, num_rows) * overlaps[..., None]  # (b, boxes, rows)
        forced = ops.max(chosen, axis=1) > 0  # (batch, rows)
        columns = ops.where(forced, ops.cast(ops.argmax(chosen, axis=1), "int32"), columns)
        values = ops.where(forced, ops.cast(self.match_values[-1], values.dtype), values)
        if squeeze:
            return columns[0], values[0]
        return columns, values


def _rename(outputs):
    return {"boxes": outputs["boxes"], "labels": outputs["labels"],
            "scores": outputs["confidence"],
            "num_detections": outputs["num_detections"]}


def build_retinanet(backbone, *, num_classes, image_size, weights,
                    bounding_box_format, train_backbone, name):
    """The `RetinaNetDetector` of `object_detector(architecture="retinanet")`.

    Levels P3 to P5 come from the backbone, the FPN adds P6 and P7 where the
    image is large enough (a level needs at least 2x2 cells: 64-pixel images
    stop at P5). Anchors: KerasHub's (3 scales, ratios 0.5/1/2, 4 strides
    wide). Every ground-truth box gets at least its best anchor, also below
    the 0.5 IoU threshold (`force_match`), so that small objects train. A
    backbone built here from scratch gets batch-norm momentum 0.9
    (`_settle_batch_norm`).
    """
    if isinstance(backbone, RetinaNetDetector):
        encoder = backbone.backbone.image_encoder
        pyramid = backbones.build_feature_pyramid(encoder.pyramid, image_size=image_size)
    else:
        pyramid = backbones.build_feature_pyramid(backbone, image_size=image_size,
                                                  weights=weights)
    # A backbone built here from scratch (by name, no weights); a model or
    # saved file the user passes keeps its own settings.
    if weights is None and (backbone is None or (
            isinstance(backbone, str) and not backbone.endswith(".keras"))):
        _settle_batch_norm(pyramid)
    encoder = PyramidEncoder(pyramid, (*image_size, 3), name="image_encoder")
    missing = [f"P{level}" for level in (3, 4, 5) if f"P{level}" not in encoder.pyramid_outputs]
    if missing:
        strides = sorted(2 ** int(k[1:]) for k in encoder.pyramid_outputs)
        raise ValueError(
            "The detector needs backbone features at strides 8, 16 and 32 "
            f"(P3, P4, P5); this backbone has strides {strides}. Use a Keras "
            "application such as 'mobilenet_v3_small'."
        )
    max_level = max(5, min(7, int(math.log2(min(image_size))) - 1))
    encoder.trainable = train_backbone
    feature_pyramid = keras_hub.models.RetinaNetBackbone(
        image_encoder=encoder, min_level=3, max_level=max_level, use_p5=False,
        image_shape=(*image_size, 3), name="retinanet_backbone",
    )
    anchors = keras_hub.layers.AnchorGenerator(
        bounding_box_format, min_level=3, max_level=max_level, num_scales=3,
        aspect_ratios=[0.5, 1.0, 2.0], anchor_size=4,
    )
    decoder = keras_hub.layers.NonMaxSuppression(
        bounding_box_format=bounding_box_format, from_logits=True,
        iou_threshold=0.5, confidence_threshold=0.05, max_detections=100,
    )
    return RetinaNetDetector(
        backbone=feature_pyramid, num_classes=num_classes,
        bounding_box_format=bounding_box_format, anchor_generator=anchors,
        force_match=True, prediction_decoder=decoder, name=name,
    )



def _settle_batch_norm(model, momentum=0.9):
    """Sets the batch normalization momentum of a backbone built from scratch.

    Keras applications use 0.999: their moving statistics then take
    thousands of steps to leave their initial values, and a detector
    trained from scratch for a few hundred steps predicts on statistics
    that match nothing (measured: after 100 steps on 32x32 digit scenes, the
    highest class score per image 0.1-0.6 in training mode, 0.012, the
    prior, in inference mode; held-out mAP 0.000). 0.9 settles within the
    first epoch, as in cvseq's `small_cnn`. The momentum is saved with the
    model, so saved detectors keep theirs.
    """
    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = momentum
