"""YOLOv8 against RetinaNet: held-out COCO mAP and training speed, same data.

    python benchmarks/detector_architectures.py                 # the README figures
    python benchmarks/detector_architectures.py --epochs 2 --num-scenes 200  # quick

Trains the detectors on the same embedded digit scenes (real handwritten
digits pasted onto real photos; the test split uses other digits and other
photos), one epoch each in alternation on the same seeded batches. Each
model trains on its own default compile (`--compile default`): the cvseq
factories' (YOLOv8: Adam on `WarmUpInverseSqrt(4e-3, 250)`, clipping at
10; RetinaNet: Adam(1e-3), clipping at 10), keras-cv's documented one for
its YOLOv8 (SGD with clipping at 10, CIoU, binary cross-entropy) and
KerasHub's `compile()` for its RetinaNet (Adam(5e-5), Huber, focal).
`--compile schedule` gives every model the same optimizer instead (Adam,
warm-up to `--learning-rate` over the first tenth of the steps, cosine
decay to zero, clipping at 10); `--compile yolo_default` gives every model
the optimizer of cvseq's YOLOv8 default (Adam on `WarmUpInverseSqrt(4e-3,
250)`, clipping at 10), each with its own losses. Then COCO mAP@0.5 and mAP@[0.5:0.95] on
the held-out test split (pycocotools, through
`cvseq.metrics.evaluate_detector`), training images/s (each model's
fastest epoch after the first, and its ratio to the first model's: the
epochs are interleaved, so drift of a shared machine hits every model
alike) and the CPU seconds of each model's `fit` calls (all threads of
this process; robust to other jobs on the machine, unlike wall time),
with the load average before and after.

Models (`--models`, comma-separated):
- `yolo_v8`: `cvseq.object_detector(architecture="yolo_v8")` on
  `--yolo-backbone` (keras-cv 0.9 with cvseq's class-prior and loss fixes).
- `retinanet`: `cvseq.object_detector(architecture="retinanet")` on
  `--retinanet-backbone` (KerasHub, with cvseq's class prior and
  best-anchor matching).
- `stock_retinanet`: `keras_hub.models.RetinaNetObjectDetector` as KerasHub
  0.32 builds it (its prior on the box head, no forced matches, its own
  losses), on the same cvseq backbone.
- `stock_yolo_v8`: `keras_cv.models.YOLOV8Detector` as keras-cv builds it
  (class scores start at 50%, its class loss), same backbone as `yolo_v8`.
"""

import argparse
import json
import os
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import cvseq  # noqa: E402
from cvseq.metrics import evaluate_detector  # noqa: E402

MODELS = ("yolo_v8", "retinanet", "stock_retinanet", "stock_yolo_v8")


def _optimizer(learning_rate, steps):
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, steps, warmup_target=learning_rate, warmup_steps=max(1, steps // 10))
    return keras.optimizers.Adam(schedule, global_clipnorm=10.0)


def build(name, args, steps):
    """Model `name`, compiled on its own default (`args.compile ==
    "default"`) or on the shared warm-up + cosine schedule."""
    size = args.image_size
    if args.compile == "yolo_default":
        return _with_yolo_default_optimizer(name, args, steps)
    shared = args.compile == "schedule"
    if name == "yolo_v8":
        model = cvseq.object_detector(10, image_size=size, backbone=args.yolo_backbone)
        if shared:
            model.compile(optimizer=_optimizer(args.learning_rate, steps))
    elif name == "retinanet":
        model = cvseq.object_detector(10, image_size=size, architecture="retinanet",
                                      backbone=args.retinanet_backbone)
        if shared:
            model.compile(optimizer=_optimizer(args.learning_rate, steps))
    elif name == "stock_retinanet":
        model = stock_retinanet(10, size, args.retinanet_backbone)
        # KerasHub's defaults: Adam(5e-5), Huber box loss, focal class loss.
        model.compile(**({"optimizer": _optimizer(args.learning_rate, steps)}
                         if shared else {}))
    elif name == "stock_yolo_v8":
        model = stock_yolo_v8(10, size, args.yolo_backbone)
        # keras-cv's YOLOv8 has no default compile; its docstring's is this.
        optimizer = (_optimizer(args.learning_rate, steps) if shared
                     else keras.optimizers.SGD(global_clipnorm=10.0))
        model.compile(optimizer=optimizer, box_loss="ciou",
                      classification_loss="binary_crossentropy", jit_compile=False)
    else:
        raise ValueError(f"Unknown model {name!r}; choose from {MODELS}.")
    return model


def _with_yolo_default_optimizer(name, args, steps):
    """Model `name` on its own losses and the optimizer of cvseq's YOLOv8
    default compile: separates the stock compile from the stock heads."""
    from cvseq.training import WarmUpInverseSqrt

    def optimizer():
        return keras.optimizers.Adam(WarmUpInverseSqrt(4e-3, 250), global_clipnorm=10.0)

    if name in ("yolo_v8", "retinanet"):
        model = build(name, argparse.Namespace(**{**vars(args), "compile": "default"}), steps)
        model.compile(optimizer=optimizer())
    elif name == "stock_retinanet":
        model = stock_retinanet(10, args.image_size, args.retinanet_backbone)
        model.compile(optimizer=optimizer())
    elif name == "stock_yolo_v8":
        model = stock_yolo_v8(10, args.image_size, args.yolo_backbone)
        model.compile(optimizer=optimizer(), box_loss="ciou",
                      classification_loss="binary_crossentropy", jit_compile=False)
    else:
        raise ValueError(f"Unknown model {name!r}; choose from {MODELS}.")
    return model


def stock_retinanet(num_classes, image_size, backbone):
    """KerasHub's RetinaNet as KerasHub builds it, on a cvseq backbone."""
    import keras_hub

    from cvseq.backbones import build_feature_pyramid
    from cvseq.models.retinanet import PyramidEncoder

    encoder = PyramidEncoder(build_feature_pyramid(backbone, image_size=image_size),
                             (image_size, image_size, 3))
    pyramid = keras_hub.models.RetinaNetBackbone(
        image_encoder=encoder, min_level=3, max_level=5, use_p5=False,
        image_shape=(image_size, image_size, 3))
    return keras_hub.models.RetinaNetObjectDetector(
        backbone=pyramid, num_classes=num_classes, bounding_box_format="xyxy",
        prediction_decoder=keras_hub.layers.NonMaxSuppression(
            bounding_box_format="xyxy", from_logits=True, iou_threshold=0.5,
            confidence_threshold=0.05, max_detections=100))


def stock_yolo_v8(num_classes, image_size, backbone):
    """keras-cv's YOLOv8 as keras-cv builds it (its class prior, its loss)."""
    import keras_cv

    from cvseq.models.object_detector import YOLO_BACKBONES

    return keras_cv.models.YOLOV8Detector(
        backbone=keras_cv.models.YOLOV8Backbone(
            **YOLO_BACKBONES[backbone], include_rescaling=True, activation="swish",
            input_shape=(image_size, image_size, 3)),
        num_classes=num_classes, bounding_box_format="xyxy", fpn_depth=1,
        prediction_decoder=keras_cv.layers.NonMaxSuppression(
            bounding_box_format="xyxy", from_logits=False, iou_threshold=0.5,
            confidence_threshold=0.05, max_detections=100))


class _Scores:
    """`predict` with cvseq's keys for the stock models."""

    def __init__(self, model):
        self.model = model
        self.num_classes = model.num_classes
        self.bounding_box_format = "xyxy"

    def predict(self, images, verbose=0):
        # Eagerly: traced with an unknown batch size, KerasHub 0.32's
        # NonMaxSuppression fails (`ops.zeros([None])`).
        self.model.run_eagerly = True
        found = self.model.predict(images, verbose=verbose)
        return {"boxes": found["boxes"],
                "labels": found.get("labels", found.get("classes")),
                "scores": found["confidence"],
                "num_detections": found["num_detections"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="yolo_v8,retinanet")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--num-scenes", type=int, default=2000)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--digit-size", default="24,32",
                        help="smallest,largest digit side in pixels")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--compile", choices=("default", "schedule", "yolo_default"),
                        default="default",
                        help="each model's own default compile, the same "
                             "warm-up + cosine schedule for all, or cvseq's "
                             "YOLOv8 default optimizer for all (own losses)")
    parser.add_argument("--learning-rate", type=float, default=2e-3,
                        help="peak rate of --compile schedule")
    parser.add_argument("--yolo-backbone", default="yolo_v8_tiny")
    parser.add_argument("--retinanet-backbone", default="mobilenet_v3_small")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="write the JSON result here too")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = sorted(set(names) - set(MODELS))
    if unknown or not names:
        parser.error(f"--models: unknown {unknown or names}; choose from {', '.join(MODELS)}.")

    digit_size = tuple(int(v) for v in args.digit_size.split(","))
    scenes = dict(image_size=args.image_size, max_digits=2, digit_size=digit_size)
    train = cvseq.datasets.load("digit_detection", "train", num_scenes=args.num_scenes,
                                batch_size=args.batch_size, seed=args.seed,
                                shuffle=True, **scenes)
    # keras-cv's YOLOv8 reads "classes"; the targets carry both keys.
    train = train.map(lambda x, y: (x, {**y, "classes": y["labels"]})).cache()
    test = cvseq.datasets.load("digit_detection", "test", batch_size=64, **scenes)
    steps = args.epochs * (args.num_scenes // args.batch_size)

    load_before = os.getloadavg()
    models, params, seconds, cpu, rates = {}, {}, {}, {}, {}
    for name in names:
        keras.utils.set_random_seed(args.seed)
        models[name] = build(name, args, steps)
        params[name] = models[name].count_params()
        seconds[name], cpu[name], rates[name] = 0.0, [], []
    for epoch in range(args.epochs):
        for name, model in models.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            model.fit(train, epochs=1, verbose=0)
            took = time.perf_counter() - start
            cpu[name].append(time.process_time() - start_cpu)
            seconds[name] += took
            rates[name].append(args.num_scenes / took)
            print(f"epoch {epoch + 1} {name}: {took:.0f} s, {cpu[name][-1]:.0f} CPU-s, "
                  f"load {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
    load_after = os.getloadavg()

    first = names[0]
    best = {n: max(r[1:] or r) for n, r in rates.items()}
    result = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "load_average_before": load_before, "load_average_after": load_after,
                    "tensorflow": tf.__version__,
                    "keras": keras.__version__},
        "settings": vars(args),
        "models": {},
    }
    for name, model in models.items():
        scored = model if name in ("yolo_v8", "retinanet") else _Scores(model)
        coco = evaluate_detector(scored, test, num_classes=10)
        result["models"][name] = {
            "map_50": round(coco["map_50"], 3), "map": round(coco["map"], 3),
            "mar_100": round(coco["mar_100"], 3), "parameters": params[name],
            "train_seconds": round(seconds[name]), "images_per_s": round(best[name], 1),
            # the first epoch includes tracing the train step
            "train_cpu_seconds": round(sum(cpu[name])),
            "first_epoch_cpu_seconds": round(cpu[name][0]),
            "speed_ratio": round(best[name] / best[first], 3),
        }
        # each model's figures as soon as they exist: a later failure keeps them
        print(json.dumps({name: result["models"][name]}), file=sys.stderr, flush=True)
    print(json.dumps(result, indent=2))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    main()
