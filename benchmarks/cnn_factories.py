"""Benchmark of the CNN factories against plain Keras; prints JSON.

For each of `image_classifier`, `object_detector`, `image_segmenter` and
`video_classifier_3d`, measures in one process, on the same embedded data
set, the training throughput of the cvseq model against the same
architecture written with stock `keras.layers` (for the detector: stock
`keras_cv.models.YOLOV8Detector` on the same `YOLOV8Backbone`), with the
same parameter count, optimizer, loss and metrics. `ratio_cvseq_over_plain_keras`
> 1 means cvseq is faster, ~1 means it adds no overhead. The two models are
timed in alternation, best of `--rounds` (see `_timing.py`).

    python benchmarks/cnn_factories.py                          # CPU-sized defaults
    python benchmarks/cnn_factories.py --only image_segmenter --steps 20
    python benchmarks/cnn_factories.py --image-size 128 --batch-size 32   # GPU
    python benchmarks/cnn_factories.py --real-images --batch-size 32      # accuracy race

`--real-images` answers another question: is `image_classifier`'s default
as accurate as the CNN a Keras user would write (`plain_conv_bn_cnn`), at
equal epochs on real photos, and how fast is it next to it? See
`race_on_real_images`.

The `plain_*` builders are importable (tests check that each computes the
same function as its cvseq model, weights copied across).
"""

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

import cvseq  # noqa: E402
from cvseq.backbones import COMPACT_CNN_FILTERS  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import cached_batches, kit_against_plain  # noqa: E402

FACTORIES = ("image_classifier", "object_detector", "image_segmenter",
             "video_classifier_3d")
# CPU-friendly shapes; each factory's own default is larger (224, 320, 128, 112).
IMAGE_SIZE = {"image_classifier": 32, "object_detector": 64,
              "image_segmenter": 64, "video_classifier_3d": 32}
# The detector's default backbone is "yolo_v8_xs"; "yolo_v8_tiny" is the
# size the project trains on a CPU (README, learning test).
DETECTOR_BACKBONE = "yolo_v8_tiny"
# What cvseq's `object_detector` passes to keras-cv (see object_detector.py).
_DETECTOR_CLASS_PRIOR = 0.01


# ---------------------------------------------------------------------------
# Plain Keras equivalents.
# ---------------------------------------------------------------------------


def _small_cnn(x, *, taps=None):
    """cvseq's `small_cnn` backbone with stock layers: 4 x (conv, BN, ReLU),
    max-pooling after the first three (output stride 8). Appends each
    stage's ReLU output (strides 1, 2, 4, 8) to `taps` when given: the
    feature pyramid the segmenter reads.

    cvseq's BN is `synchronized=True` (global-batch statistics under
    tf.distribute); on one device it computes the same, and a plain Keras
    user would not set it, so the baseline does not (as in video_tagger.py).
    """
    for stage, filters in enumerate((16, 32, 64, 128), start=1):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization(momentum=0.9)(x)
        x = keras.layers.ReLU()(x)
        if taps is not None:
            taps.append(x)
        if stage < 4:
            x = keras.layers.MaxPooling2D(2)(x)
    return x


def _compact_cnn(x):
    """cvseq's `compact_cnn` backbone (`image_classifier`'s default) with
    stock layers: 4 x (conv, BN, ReLU) of 32, 64, 128 and 256 filters,
    max-pooling after the first three (output stride 8)."""
    for stage, filters in enumerate(COMPACT_CNN_FILTERS, start=1):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization(momentum=0.9)(x)
        x = keras.layers.ReLU()(x)
        if stage < len(COMPACT_CNN_FILTERS):
            x = keras.layers.MaxPooling2D(2)(x)
    return x


def _compile_classifier(model):
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
                  jit_compile=False)
    return model


def plain_image_classifier(num_classes, image_size, dropout=0.2):
    """`cvseq.image_classifier(num_classes, image_size=...)` (compact_cnn)
    with stock Keras layers."""
    images = keras.Input((image_size, image_size, 3))
    x = keras.layers.Rescaling(1 / 255)(images)
    x = _compact_cnn(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(dropout)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    return _compile_classifier(keras.Model(images, outputs))


def plain_conv_bn_cnn(num_classes, image_size, filters=(32, 64, 128), dropout=0.2):
    """The CNN a Keras user writes for small images, as the accuracy
    reference: per block two Conv-BN-ReLU and a 2x2 max-pool (32, 64, 128
    filters; 0.29M parameters), global average pooling, dropout, a dense
    softmax; Adam(1e-3). Not cvseq's architecture: the question is whether
    cvseq's default is as accurate."""
    images = keras.Input((image_size, image_size, 3))
    x = keras.layers.Rescaling(1 / 255)(images)
    for width in filters:
        for _ in range(2):
            x = keras.layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
            x = keras.layers.BatchNormalization(momentum=0.9)(x)
            x = keras.layers.ReLU()(x)
        x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(dropout)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    return _compile_classifier(keras.Model(images, outputs))


def dice_cross_entropy(num_classes, smooth=1.0):
    """Cross-entropy plus soft Dice over the batch, as a plain loss function
    (what `cvseq.models.DiceCrossEntropy` computes)."""

    def loss(y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        y_pred = ops.cast(y_pred, "float32")
        cross_entropy = ops.mean(
            keras.losses.sparse_categorical_crossentropy(y_true, y_pred))
        one_hot = ops.one_hot(y_true, num_classes, dtype="float32")
        overlap = ops.sum(one_hot * y_pred, axis=(0, 1, 2))
        total = ops.sum(one_hot, axis=(0, 1, 2)) + ops.sum(y_pred, axis=(0, 1, 2))
        dice = (2.0 * overlap + smooth) / (total + smooth)
        value = cross_entropy + 1.0 - ops.mean(dice)
        return ops.broadcast_to(value, ops.shape(y_true)[:1])

    return loss


def plain_image_segmenter(num_classes, image_size):
    """`cvseq.image_segmenter(num_classes, image_size=...)` (small_cnn
    encoder, U-Net decoder with transposed convolutions) with stock layers."""
    images = keras.Input((image_size, image_size, 3))
    x = keras.layers.Rescaling(1 / 255)(images)
    taps = []
    x = _small_cnn(x, taps=taps)
    for skip in reversed(taps[:-1]):
        filters = min(256, max(16, skip.shape[-1]))
        x = keras.layers.Conv2DTranspose(filters, 3, strides=2, padding="same")(x)
        x = keras.layers.Concatenate()([x, skip])
        for _ in range(2):
            x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = keras.layers.BatchNormalization(momentum=0.9)(x)
            x = keras.layers.ReLU()(x)
    outputs = keras.layers.Conv2D(num_classes, 1, activation="softmax")(x)
    model = keras.Model(images, outputs)
    # The factory's optimizer (a schedule is a setting, not architecture).
    from cvseq.training import WarmUpInverseSqrt

    model.compile(
        optimizer=keras.optimizers.Adam(WarmUpInverseSqrt(2e-3, 250)),
        loss=dice_cross_entropy(num_classes),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
                 keras.metrics.MeanIoU(num_classes, sparse_y_pred=False,
                                       name="mean_iou")],
        jit_compile=False,
    )
    return model


def plain_video_classifier_3d(num_classes, frames, image_size,
                              filters=(16, 32, 64, 128), dropout=0.2):
    """`cvseq.video_classifier_3d(num_classes, frames=..., image_size=...)`
    (R(2+1)D blocks) with stock layers: the frames and their differences
    from the frame before (zeros for the first), six channels."""
    clips = keras.Input((frames, image_size, image_size, 3))
    pixels = ops.cast(clips, "float32")
    previous = ops.concatenate([pixels[:, :1], pixels[:, :-1]], axis=1)
    x = keras.layers.Concatenate()([keras.layers.Rescaling(1 / 255)(clips),
                                    keras.layers.Rescaling(1 / 255)(pixels - previous)])
    for stage, channels in enumerate(filters, start=1):
        for kernel in ((1, 3, 3), (3, 1, 1)):  # spatial, then temporal
            x = keras.layers.Conv3D(channels, kernel, padding="same", use_bias=False)(x)
            x = keras.layers.BatchNormalization(momentum=0.9)(x)
            x = keras.layers.ReLU()(x)
        pool = (1, 2, 2) if stage == 1 else (2, 2, 2)
        x = keras.layers.MaxPooling3D(pool, padding="same")(x)
    x = keras.layers.GlobalAveragePooling3D()(x)
    x = keras.layers.Dropout(dropout)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    return _compile_classifier(keras.Model(clips, outputs))


class ClassCrossEntropy(keras.losses.Loss):
    """Binary cross-entropy summed over the classes, probabilities clipped
    at 1e-30, summed over anchors (what `cvseq.models.object_detector.
    ClassCrossEntropy` computes; keras-cv's default averages over classes
    and clips at 1e-7). Stock Keras has no public wrapper that turns a
    function into a loss with `reduction="sum"`, hence the subclass."""

    def __init__(self):
        super().__init__(name="class_cross_entropy", reduction="sum")

    def call(self, y_true, y_pred):
        y_pred = ops.clip(ops.cast(y_pred, "float32"), 1e-30, 1.0 - 1e-7)
        y_true = ops.cast(y_true, "float32")
        loss = y_true * ops.log(y_pred) + (1.0 - y_true) * ops.log(1.0 - y_pred)
        return -ops.sum(loss, axis=-1)


def plain_object_detector(num_classes, image_size, backbone=DETECTOR_BACKBONE):
    """Stock `keras_cv.models.YOLOV8Detector` with what `cvseq.object_detector`
    gives it: the same `YOLOV8Backbone`, FPN depth 1, NMS settings, class
    prior, optimizer and losses. It takes keras-cv's targets
    `{"boxes", "classes"}`."""
    import keras_cv

    from cvseq.models.object_detector import YOLO_BACKBONES

    yolo_backbone = keras_cv.models.YOLOV8Backbone(
        **YOLO_BACKBONES[backbone], include_rescaling=True, activation="swish",
        input_shape=(image_size, image_size, 3))
    model = keras_cv.models.YOLOV8Detector(
        backbone=yolo_backbone,
        num_classes=num_classes,
        bounding_box_format="xyxy",
        fpn_depth=1,
        prediction_decoder=keras_cv.layers.NonMaxSuppression(
            bounding_box_format="xyxy", from_logits=False, iou_threshold=0.5,
            confidence_threshold=0.05, max_detections=100),
    )
    prior = -math.log((1 - _DETECTOR_CLASS_PRIOR) / _DETECTOR_CLASS_PRIOR)
    for layer in model.layers:
        if layer.name.endswith("_class_3_conv"):
            layer.bias.assign(ops.full(layer.bias.shape, prior))
    # The factory's optimizer (a schedule is a setting, not architecture).
    from cvseq.training import WarmUpInverseSqrt

    model.compile(
        optimizer=keras.optimizers.Adam(WarmUpInverseSqrt(4e-3, 250), global_clipnorm=10.0),
        box_loss="ciou",
        classification_loss=ClassCrossEntropy(),
        box_loss_weight=7.5,
        classification_loss_weight=0.5,
        jit_compile=False,
    )
    return model


# ---------------------------------------------------------------------------
# One factory: data, both models, the measurement.
# ---------------------------------------------------------------------------


BATCHES = 4  # distinct batches cycled through while timing


def build(name, *, batch_size, image_size=None, frames=8):
    """`(kit, plain, dataset, unit, data note)` for one factory, both models
    seeded alike."""
    size = image_size or IMAGE_SIZE[name]
    load = cvseq.datasets.load
    examples = BATCHES * batch_size  # scenes and clips generated (the digits: all)
    shape = f"{size}x{size}, batch {batch_size}"
    if name == "image_classifier":
        data = load("digits", "train", batch_size=batch_size, image_size=size)
        kit = lambda: cvseq.image_classifier(10, image_size=size)  # noqa: E731
        plain = lambda: plain_image_classifier(10, size)  # noqa: E731
        unit, note = "images/s", f"digits, {shape}"
    elif name == "object_detector":
        data = load("digit_detection", "train", batch_size=batch_size,
                    image_size=size, num_scenes=examples)
        # cvseq reads "labels", keras-cv "classes": the targets carry both.
        data = data.map(lambda x, y: (x, {**y, "classes": y["labels"]}))
        kit = lambda: cvseq.object_detector(  # noqa: E731
            10, image_size=size, backbone=DETECTOR_BACKBONE)
        plain = lambda: plain_object_detector(10, size)  # noqa: E731
        unit, note = "images/s", f"digit_detection, {shape}, {DETECTOR_BACKBONE}"
    elif name == "image_segmenter":
        data = load("digit_segmentation", "train", batch_size=batch_size,
                    image_size=size, num_scenes=examples)
        kit = lambda: cvseq.image_segmenter(11, image_size=size)  # noqa: E731
        plain = lambda: plain_image_segmenter(11, size)  # noqa: E731
        unit, note = "images/s", f"digit_segmentation, {shape}"
    elif name == "video_classifier_3d":
        data = load("moving_digits", "train", batch_size=batch_size,
                    frames=frames, image_size=size, num_clips=examples)
        kit = lambda: cvseq.video_classifier_3d(  # noqa: E731
            4, frames=frames, image_size=size)
        plain = lambda: plain_video_classifier_3d(4, frames, size)  # noqa: E731
        unit, note = "clips/s", f"moving_digits, {frames} frames of {shape}"
    else:
        raise ValueError(f"Unknown factory {name!r}. Choose from {', '.join(FACTORIES)}.")
    keras.utils.set_random_seed(0)
    kit = kit()
    keras.utils.set_random_seed(0)
    plain = plain()
    return kit, plain, cached_batches(data, batch_size, BATCHES), unit, note


def measure(name, *, batch_size, steps, rounds, image_size=None, frames=8):
    """The summary's row for one factory, or `{"error": ...}`."""
    try:
        kit, plain, dataset, unit, note = build(
            name, batch_size=batch_size, image_size=image_size, frames=frames)
        row = kit_against_plain(kit, plain, dataset, batch_size, unit,
                                steps=steps, rounds=rounds)
        return {**row, "data": note}
    except Exception as err:  # one broken baseline must not stop the others
        traceback.print_exc(file=sys.stderr)
        return {"error": f"{type(err).__name__}: {err}"}


# ---------------------------------------------------------------------------
# Accuracy on real images: the default classifier against plain Keras.
# ---------------------------------------------------------------------------


def real_image_models(image_size, names=None):
    """The models of the accuracy race, each seeded alike: cvseq's default
    `image_classifier`, the same with the video models' `small_cnn`, and the
    plain Keras Conv-BN CNN (`plain_conv_bn_cnn`); `names` picks some."""
    builders = {
        "cvseq_default": lambda: cvseq.image_classifier(10, image_size=image_size),
        "cvseq_small_cnn": lambda: cvseq.image_classifier(
            10, image_size=image_size, backbone="small_cnn"),
        "plain_keras_cnn": lambda: plain_conv_bn_cnn(10, image_size),
    }
    models = {}
    for name in names or builders:
        build_model = builders[name]
        keras.utils.set_random_seed(0)
        models[name] = build_model()
    return models


def race_on_real_images(*, train_images=20_000, epochs=5, image_size=32,
                        batch_size=32, test_images=10_000, seed=0, models=None):
    """Trains each model on the same real images (Fashion-MNIST product
    photos, `fashion_products`), one epoch each in turn, and returns per
    model its held-out accuracy after `epochs` epochs and its training rate.

    Interleaving the epochs (A, B, C, A, B, C, ...) exposes every model to
    the same load on a shared machine, so the rate ratios hold where the
    absolute rates do not. Each model sees the same batches in the same
    order. The rate is images/s of the fastest epoch after the first (which
    traces the graph) and the median epoch; ratios are over
    `"plain_keras_cnn"` when it is in `models`, else over the first model.

    Args:
        train_images, test_images: int. Examples from the training split
            and the official test split, balanced over the 10 classes.
        epochs: int. Training epochs for every model (>= 2).
        image_size: int. Side of the square images (28 -> bilinear).
        batch_size: int. Defaults to 32, as `cvseq.datasets.load`.
        seed: int. Seeds the shuffling.
        models: dict name -> compiled model, or None for `real_image_models`.

    Returns:
        A dict with `"data"` and, per model, `accuracy`, `parameters`,
        `images_per_s` (best), `median_images_per_s`, `epoch_seconds`,
        `ratio_speed_over_plain` and `accuracy_minus_plain`.
    """
    from cvseq.datasets import fashion_images

    if epochs < 2:
        raise ValueError(f"`epochs` must be at least 2 (the first traces). Received: {epochs}.")
    images, labels = fashion_images.generate(
        "train", image_size=image_size, examples_per_class=train_images // 10)
    test, test_labels = fashion_images.generate(
        "test", image_size=image_size, examples_per_class=test_images // 10)
    models = models or real_image_models(image_size)

    def batches():  # the same seeded order for every model
        data = tf.data.Dataset.from_tensor_slices((images, labels))
        data = data.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
        return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    datasets = {name: batches() for name in models}
    seconds = {name: [] for name in models}
    for _ in range(epochs):
        for name, model in models.items():
            start = time.perf_counter()
            model.fit(datasets[name], epochs=1, verbose=0)
            seconds[name].append(time.perf_counter() - start)
    rows = {}
    for name, model in models.items():
        rates = [len(images) / t for t in seconds[name][1:]]
        accuracy = model.evaluate(test, test_labels, batch_size=256, verbose=0,
                                  return_dict=True)["accuracy"]
        rows[name] = {"accuracy": round(float(accuracy), 4),
                      "parameters": model.count_params(),
                      "images_per_s": round(max(rates), 1),
                      "median_images_per_s": round(statistics.median(rates), 1),
                      "epoch_seconds": [round(t, 1) for t in seconds[name]]}
    reference = rows.get("plain_keras_cnn", next(iter(rows.values())))
    for row in rows.values():
        row["ratio_speed_over_plain"] = round(row["images_per_s"] / reference["images_per_s"], 3)
        row["accuracy_minus_plain"] = round(row["accuracy"] - reference["accuracy"], 4)
    return {"data": f"fashion_products (Fashion-MNIST, Debian dataset-fashion-mnist): "
                    f"{len(images)} training images, {len(test)} of the official test set, "
                    f"{image_size}x{image_size} RGB, {epochs} epochs, batch {batch_size}",
            **rows}


def _names(text):
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in FACTORIES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"--only takes factory names from {', '.join(FACTORIES)}. "
            f"Received: {text!r}.")
    return names


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", type=_names, default=list(FACTORIES),
                        help="comma-separated factories (default: all four)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=10, help="training steps per round")
    parser.add_argument("--rounds", type=int, default=5,
                        help="alternating timed rounds; the best one counts")
    parser.add_argument("--image-size", type=int, default=None,
                        help="one image side for every factory (default: "
                        + ", ".join(f"{k} {v}" for k, v in IMAGE_SIZE.items()) + ")")
    parser.add_argument("--frames", type=int, default=8,
                        help="frames per clip (video_classifier_3d)")
    parser.add_argument("--real-images", action="store_true",
                        help="instead: accuracy race of image_classifier's default "
                        "against a plain Keras Conv-BN CNN on real product photos "
                        "(fashion_products), epochs interleaved")
    parser.add_argument("--train-images", type=int, default=20_000,
                        help="--real-images: training images (default 20000)")
    parser.add_argument("--epochs", type=int, default=5,
                        help="--real-images: epochs for every model (default 5)")
    args = parser.parse_args(argv)
    result = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
                    "tensorflow": tf.__version__, "keras": keras.__version__},
        "settings": {**vars(args), "detector_backbone": DETECTOR_BACKBONE,
                     "image_sizes": {n: args.image_size or IMAGE_SIZE[n]
                                     for n in args.only}},
    }
    if args.real_images:
        result["real_images"] = race_on_real_images(
            train_images=args.train_images, epochs=args.epochs,
            image_size=args.image_size or IMAGE_SIZE["image_classifier"],
            batch_size=args.batch_size)
        print(json.dumps(result, indent=2))
        return result
    for name in args.only:
        result[name] = measure(name, batch_size=args.batch_size, steps=args.steps,
                               rounds=args.rounds, image_size=args.image_size,
                               frames=args.frames)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
