"""Train an image classifier and report its held-out accuracy.

Fits `cvseq.image_classifier` on a TFDS data set (cifar10, fashion_mnist)
when the network is there, otherwise on the embedded handwritten digits
(it says which), then prints the held-out accuracy, the confusion matrix
and a per-class report, and saves the model, a PNG of test images with true
and predicted classes and the training curves.

    python examples/image_classification.py                    # cifar10, or digits offline
    python examples/image_classification.py --dataset digits --epochs 8
    python examples/image_classification.py --dataset cifar10 --backbone mobilenet_v3_small \
        --weights imagenet --image-size 96 --freeze-backbone --fine-tune-epochs 5
"""

import os
import time

import _common  # first: it quiets TensorFlow's start-up logs
import numpy as np

import cvseq
from cvseq import reporting


def parse_args(argv=None):
    parser = _common.argument_parser(
        __doc__, epochs=8, dataset="cifar10",
        choices=cvseq.datasets.list_datasets("image_classifier"),
        dataset_help="TFDS name (falls back to the embedded digits without "
        "network) or 'digits'")
    _common.add_backbone_arguments(parser)
    parser.add_argument("--freeze-backbone", action="store_true",
                        help="stage 1 of fine-tuning: train the head only")
    parser.add_argument("--fine-tune-epochs", type=int, default=0,
                        help="stage 2: then unfreeze the backbone for this many "
                        "epochs at --fine-tune-rate")
    parser.add_argument("--fine-tune-rate", type=float, default=1e-4)
    parser.add_argument("--image-size", type=int, default=32)
    return _common.parse_args(parser, argv, out="image_classification")


def plot_predictions(images, true, predicted, names, path):
    count = min(16, len(images))
    fig, axes = _common.pyplot().subplots(2, (count + 1) // 2, figsize=(1.6 * ((count + 1) // 2), 3.8))
    for ax, image, t, p in zip(axes.flat, images, true, predicted):
        ax.imshow(image)
        title = names[p] if t == p else f"{names[p]} (true {names[t]})"
        ax.set_title(title, color="green" if t == p else "red", fontsize=9)
        ax.axis("off")
    fig.suptitle("held-out images: predicted class (red: wrong, with the true one)")
    _common.save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    _common.start(args)
    # TFDS sets have train and test: the end of train is held out for
    # validation. The embedded digits (also the offline fallback) have all three.
    train, val, test, info = _common.load_splits(
        args, args.dataset, "digits", splits=("train[:90%]", "train[90%:]", "test"),
        fallback_splits=("train", "validation", "test"),
        options=dict(image_size=args.image_size))
    print(f"Data: {info.name} ({info.source}), {info.num_examples} training images, "
          f"{info.num_classes} classes: {', '.join(info.class_names)}")

    model = _common.build(
        args, cvseq.image_classifier,
        info.num_classes,
        image_size=args.image_size,
        backbone=args.backbone,
        weights=args.weights,
        train_backbone=not args.freeze_backbone,
    )
    start = time.time()
    history = model.fit(train, validation_data=val, epochs=args.epochs)
    if args.fine_tune_epochs:
        print(f"\nStage 2: backbone unfrozen, learning rate {args.fine_tune_rate}")
        cvseq.training.unfreeze_backbone(model, learning_rate=args.fine_tune_rate)
        more = model.fit(train, validation_data=val, epochs=args.fine_tune_epochs)
        for key, values in more.history.items():
            history.history[key] = history.history[key] + values
    train_seconds = time.time() - start
    model_path = _common.save_model(args.out, model, "image_classifier.keras")

    results = model.evaluate(test, verbose=0, return_dict=True)
    images, labels = map(np.concatenate, zip(*[(x.numpy(), y.numpy()) for x, y in test]))
    predicted = model.predict(images, verbose=0).argmax(-1)
    names = info.class_names
    matrix = reporting.confusion_matrix(labels, predicted, len(names))
    print("\nConfusion matrix (rows: true class, columns: predicted):")
    print("      " + " ".join(f"{n[:5]:>5}" for n in names))
    for name, row in zip(names, matrix):
        print(f"{name[:5]:>5} " + " ".join(f"{v:5d}" for v in row))
    print("\nPer-class report (held-out images):")
    print(reporting.per_class_report(labels, predicted, names))

    _common.save_run(
        args.out, history=history,
        metrics={"dataset": info.name, "test": results,
                 "confusion_matrix": matrix.tolist(), "train_seconds": train_seconds})
    picture = os.path.join(args.out, "predictions.png")
    plot_predictions(images, labels, predicted, names, picture)
    print(f"Held-out accuracy: {results['accuracy']:.3f} on {len(labels)} "
          f"{info.name} test images (trained in {train_seconds:.0f} s)")
    print(f"Saved {model_path}, {picture}, curves.png and metrics.json")
    return results


if __name__ == "__main__":
    main()
