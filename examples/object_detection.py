"""Train an object detector and report its held-out COCO mAP.

Fits `cvseq.object_detector` (keras-cv's YOLOv8, or KerasHub's RetinaNet
with `--architecture retinanet`) on TFDS `voc` when the
network is there, otherwise on the embedded digit scenes (real handwritten
digits pasted onto real photos; it says which), then prints COCO mAP@0.5
and mAP@[0.5:0.95] on held-out images (pycocotools), and saves the model, a
PNG of test images with the boxes found (label and score) and the training
curves.

    python examples/object_detection.py                     # voc, or digit scenes offline
    python examples/object_detection.py --dataset digit_detection --epochs 30
    python examples/object_detection.py --architecture retinanet
    python examples/object_detection.py --dataset voc --backbone yolo_v8_s \
        --image-size 320 --epochs 50                        # needs the network
"""

import os
import time

import _common  # first: it quiets TensorFlow's start-up logs

import cvseq
from cvseq.metrics import evaluate_detector


def parse_args(argv=None):
    parser = _common.argument_parser(
        __doc__, epochs=20, dataset="voc",
        choices=cvseq.datasets.list_datasets("object_detector"),
        dataset_help="'voc' (TFDS; falls back to the embedded digit scenes "
        "without network) or 'digit_detection'")
    _common.add_backbone_arguments(
        parser, default=None,
        help="yolo_v8_tiny|xs|s|m (YOLOv8 only, from scratch), a Keras application "
        "such as mobilenet_v3_small, or a saved .keras detector (default: "
        "yolo_v8_tiny for yolo_v8, mobilenet_v3_small for retinanet)",
        weights_help="backbone weights: imagenet (Keras applications) or a file")
    parser.add_argument("--architecture", default="yolo_v8",
                        choices=("yolo_v8", "retinanet"),
                        help="keras-cv's YOLOv8 or KerasHub's RetinaNet")
    parser.add_argument("--image-size", type=int, default=64,
                        help="a multiple of 32")
    _common.add_scene_arguments(parser, dataset="digit_detection", num_scenes=2000,
                                digit_size=(24, 32))
    parser.add_argument("--min-score", type=float, default=0.25,
                        help="draw boxes scoring at least this")
    return _common.parse_args(parser, argv, out="object_detection", batch_size=16)


def plot_detections(images, found, names, path, min_score):
    import matplotlib.patches as patches

    count = min(8, len(images))
    fig, axes = _common.pyplot().subplots(2, (count + 1) // 2, figsize=(2.6 * ((count + 1) // 2), 5.4))
    for i, ax in enumerate(axes.flat[:count]):
        ax.imshow(images[i])
        for box, label, score in zip(found["boxes"][i], found["labels"][i],
                                     found["scores"][i]):
            if label < 0 or score < min_score:
                continue
            x1, y1, x2, y2 = box
            ax.add_patch(patches.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False,
                                           edgecolor="yellow", linewidth=1.5))
            ax.text(x1, y1 - 1, f"{names[label]} {score:.2f}", color="black",
                    fontsize=7, backgroundcolor="yellow")
        ax.axis("off")
    fig.suptitle(f"held-out images: boxes found (score >= {min_score})")
    _common.save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    _common.start(args)
    # A TFDS set (VOC, COCO), or the embedded digit scenes offline.
    size = (args.image_size, args.image_size)
    train, val, test, info = _common.load_splits(
        args, args.dataset, "digit_detection", options=dict(image_size=size),
        fallback_options=_common.scene_options(args),
        fallback_splits=(("train", dict(num_scenes=args.num_scenes)), "validation", "test"))
    print(f"Data: {info.name} ({info.source}), {info.num_examples} training images, "
          f"{info.num_classes} classes: {', '.join(info.class_names)}")

    backbone = args.backbone
    if backbone is None and args.architecture == "yolo_v8":
        backbone = "yolo_v8_tiny"  # trains in minutes on a CPU
    model = _common.build(
        args, cvseq.object_detector,
        info.num_classes,
        image_size=args.image_size,
        backbone=backbone,
        weights=args.weights,
        architecture=args.architecture,
    )
    _common.apply_learning_rate(model, args)  # else the factory's compile
    start = time.time()
    history = model.fit(train, validation_data=val, epochs=args.epochs)
    train_seconds = time.time() - start
    model_path = _common.save_model(args.out, model, "object_detector.keras")

    scores = evaluate_detector(model, test, num_classes=info.num_classes)
    images = next(iter(test))[0].numpy()
    found = model.predict(images, verbose=0)
    _common.save_run(
        args.out, history=history,
        metrics={"dataset": info.name, "coco": scores, "train_seconds": train_seconds})
    picture = os.path.join(args.out, "predictions.png")
    plot_detections(images, found, info.class_names, picture, args.min_score)
    print(f"\nHeld-out COCO mAP@0.5: {scores['map_50']:.3f}, "
          f"mAP@[0.5:0.95]: {scores['map']:.3f}, mAR@100: {scores['mar_100']:.3f} "
          f"({info.name} test split; trained in {train_seconds:.0f} s)")
    print(f"Saved {model_path}, {picture}, curves.png and metrics.json")
    return scores


if __name__ == "__main__":
    main()
