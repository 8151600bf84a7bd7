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

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import cvseq  # noqa: E402
from cvseq import reporting  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="cifar10",
                        choices=cvseq.datasets.list_datasets("image_classifier"),
                        help="TFDS name (falls back to the embedded digits "
                        "without network) or 'digits'")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--backbone", default="small_cnn",
                        help=f"one of {cvseq.backbones.list_backbones()}, a .keras "
                        "path or a KerasHub preset")
    parser.add_argument("--weights", default=None,
                        help="backbone weights: imagenet or a .weights.h5 file")
    parser.add_argument("--freeze-backbone", action="store_true",
                        help="stage 1 of fine-tuning: train the head only")
    parser.add_argument("--fine-tune-epochs", type=int, default=0,
                        help="stage 2: then unfreeze the backbone for this many "
                        "epochs at --fine-tune-rate")
    parser.add_argument("--fine-tune-rate", type=float, default=1e-4)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/image_classification")
    return parser.parse_args(argv)


def load_splits(args):
    common = dict(batch_size=args.batch_size, seed=args.seed, image_size=args.image_size)
    if args.dataset == "digits":
        train, info = cvseq.datasets.load("digits", "train", with_info=True, **common)
        val = cvseq.datasets.load("digits", "validation", **common)
        test = cvseq.datasets.load("digits", "test", **common)
        return train, val, test, info
    train, info = cvseq.datasets.load_with_fallback(
        args.dataset, "digits", "train", **common)
    if info.name == "digits":
        val = cvseq.datasets.load("digits", "validation", **common)
        test = cvseq.datasets.load("digits", "test", **common)
        return train, val, test, info
    # TFDS sets have train and test; hold out the end of train for validation.
    train, info = cvseq.datasets.load(args.dataset, "train[:90%]", with_info=True, **common)
    val = cvseq.datasets.load(args.dataset, "train[90%:]", **common)
    test = cvseq.datasets.load(args.dataset, "test", **common)
    return train, val, test, info


def plot_predictions(images, true, predicted, names, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    count = min(16, len(images))
    fig, axes = plt.subplots(2, (count + 1) // 2, figsize=(1.6 * ((count + 1) // 2), 3.8))
    for ax, image, t, p in zip(axes.flat, images, true, predicted):
        ax.imshow(image)
        ax.set_title(f"{names[p]}", color="green" if t == p else "red", fontsize=9)
        ax.axis("off")
    fig.suptitle("held-out images: predicted class (red: wrong)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    train, val, test, info = load_splits(args)
    print(f"Data: {info.name} ({info.source}), {info.num_examples} training images, "
          f"{info.num_classes} classes: {', '.join(info.class_names)}")

    model = cvseq.image_classifier(
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

    model_path = os.path.join(args.out, "image_classifier.keras")
    model.save(model_path)
    picture = os.path.join(args.out, "predictions.png")
    plot_predictions(images, labels, predicted, names, picture)
    curves = reporting.plot_history(history, os.path.join(args.out, "curves.png"))
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump({"dataset": info.name, "test": results,
                   "confusion_matrix": matrix.tolist(),
                   "train_seconds": train_seconds}, f, indent=2)
    print(f"Held-out accuracy: {results['accuracy']:.3f} on {len(labels)} "
          f"{info.name} test images (trained in {train_seconds:.0f} s)")
    print(f"Saved {model_path}, {picture}, {curves} and metrics.json")
    return results


if __name__ == "__main__":
    main()
