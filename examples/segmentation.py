"""Train a U-Net segmenter and report its held-out mean IoU.

Fits `cvseq.image_segmenter` on TFDS `oxford_iiit_pet` (pet / background /
outline masks) when the network is there, otherwise on the embedded digit
scenes (real handwritten digits pasted onto real photos, 11 classes; it
says which), then prints the held-out mean IoU (background included), the
IoU of each class and the pixel accuracy, and saves the model, a PNG of test
images with the predicted masks overlaid and the training curves.

    python examples/segmentation.py                       # pets, or digit scenes offline
    python examples/segmentation.py --dataset digit_segmentation --epochs 20
    python examples/segmentation.py --dataset oxford_iiit_pet --backbone mobilenet_v3_small \
        --weights imagenet --image-size 128                 # needs the network
"""

import os
import time

import _common  # first: it quiets TensorFlow's start-up logs
import numpy as np

import cvseq
from cvseq.metrics import evaluate_segmenter


def parse_args(argv=None):
    parser = _common.argument_parser(
        __doc__, epochs=12, dataset="oxford_iiit_pet",
        choices=cvseq.datasets.list_datasets("image_segmenter"),
        dataset_help="'oxford_iiit_pet' (TFDS; falls back to the embedded digit "
        "scenes without network) or 'digit_segmentation'")
    _common.add_segmenter_arguments(parser, dataset="digit_segmentation", num_scenes=3000)
    return _common.parse_args(parser, argv, out="segmentation", batch_size=16)


def plot_masks(images, truth, predicted, names, path):
    plt = _common.pyplot()
    count = min(6, len(images))
    colours = plt.get_cmap("tab20")(np.linspace(0, 1, len(names)))[:, :3]
    colours[0] = 0  # background: no overlay
    fig, axes = plt.subplots(3, count, figsize=(2.1 * count, 6.6), squeeze=False)
    for i in range(count):
        for row, (mask, title) in enumerate(((None, "image"), (truth[i], "true"),
                                              (predicted[i], "predicted"))):
            ax = axes[row, i]
            picture = images[i].astype(float) / 255.0
            if mask is not None:
                alpha = (mask > 0)[..., None] * 0.6
                picture = (1 - alpha) * picture + alpha * colours[mask]
            ax.imshow(picture)
            ax.set_title(title, fontsize=8)
            ax.axis("off")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[c]) for c in range(1, len(names))]
    fig.legend(handles, names[1:], loc="lower center", ncol=min(10, len(names) - 1),
               fontsize=7)
    fig.suptitle("held-out images: masks overlaid")
    _common.save_figure(fig, path, rect=(0, 0.05, 1, 1))


def main(argv=None):
    args = parse_args(argv)
    _common.start(args)
    # TFDS pets has train and test: the end of train is held out for
    # validation. The embedded digit scenes (also offline) have all three.
    size = (args.image_size, args.image_size)
    train, val, test, info = _common.load_splits(
        args, args.dataset, "digit_segmentation",
        splits=("train[:90%]", "train[90%:]", "test"), options=dict(image_size=size),
        fallback_options=_common.scene_options(args),
        fallback_splits=(("train", dict(num_scenes=args.num_scenes)), "validation", "test"))
    names = info.class_names
    print(f"Data: {info.name} ({info.source}), {info.num_examples} training images, "
          f"{len(names)} classes: {', '.join(names)}")

    model = _common.build(
        args, cvseq.image_segmenter,
        len(names), image_size=args.image_size, backbone=args.backbone,
        weights=args.weights,
    )
    _common.apply_learning_rate(model, args)  # else the factory's compile
    start = time.time()
    history = model.fit(train, validation_data=val, epochs=args.epochs)
    train_seconds = time.time() - start
    model_path = _common.save_model(args.out, model, "image_segmenter.keras")

    report = evaluate_segmenter(model, test)
    print("\nIoU per class (held-out):")
    for name, iou in zip(names, report["per_class_iou"]):
        print(f"  {name:>12}: {'-' if iou is None else f'{iou:.3f}'}")
    images, masks = (t.numpy() for t in next(iter(test)))
    predicted = model.predict(images, verbose=0).argmax(-1)
    _common.save_run(
        args.out, history=history,
        metrics={"dataset": info.name, "train_seconds": train_seconds,
                 **{k: v for k, v in report.items() if k != "confusion_matrix"}})
    picture = os.path.join(args.out, "predictions.png")
    plot_masks(images, masks, predicted, names, picture)
    print(f"\nHeld-out mean IoU (background included): {report['mean_iou']:.3f}, "
          f"pixel accuracy {report['pixel_accuracy']:.3f} ({info.name} test split; "
          f"trained in {train_seconds:.0f} s)")
    print(f"Saved {model_path}, {picture}, curves.png and metrics.json")
    return report


if __name__ == "__main__":
    main()
