"""Train an instance segmenter and draw each object in its own colour.

Fits `cvseq.instance_segmenter` (Panoptic-DeepLab-style: classes, centres
and offsets, grouped into instances) on TFDS `coco/2017` when the network
is there, otherwise on the embedded digit instances (real handwritten
digits pasted onto real photos, with two digits of one class touching in
about a third of the test scenes; it says which). It prints the held-out
COCO mask AP (pycocotools), AP@0.5 and panoptic quality, for all test
images and for those where same-class objects touch, next to the baseline
a semantic segmenter gives (connected components of the class map), and
saves the model and a PNG where every instance has its own colour and its
label.

    python examples/instance_segmentation.py                 # COCO, or digits offline
    python examples/instance_segmentation.py --dataset digit_instances --epochs 20
"""

import os
import time

import _common  # first: it quiets TensorFlow's start-up logs
import numpy as np

import cvseq
from cvseq.metrics import instances as instance_metrics


def parse_args(argv=None):
    parser = _common.argument_parser(
        __doc__, epochs=12, dataset="coco_instances",
        choices=cvseq.datasets.list_datasets("instance_segmenter"),
        dataset_help="'coco_instances' (TFDS coco/2017; falls back to the embedded "
        "digit instances without network) or 'digit_instances'")
    _common.add_segmenter_arguments(parser, dataset="digit_instances", num_scenes=2000)
    return _common.parse_args(parser, argv, out="instance_segmentation", batch_size=16)


def draw_instances(images, found, names, path):
    """Each instance in its own colour, its label and score at its centre."""
    plt = _common.pyplot()
    count = min(8, len(images))
    colours = plt.get_cmap("tab10")(np.arange(10))[:, :3]
    fig, axes = plt.subplots(1, count, figsize=(2.2 * count, 2.6), squeeze=False)
    for i, ax in enumerate(axes[0]):
        picture = images[i].astype(float) / 255.0
        ids = found["instance_ids"][i]
        for k in np.unique(ids[ids > 0]):
            mask = ids == k
            picture[mask] = 0.4 * picture[mask] + 0.6 * colours[(k - 1) % 10]
        ax.imshow(picture)
        for k in np.unique(ids[ids > 0]):
            rows, cols = np.nonzero(ids == k)
            label = int(found["labels"][i, k - 1])
            ax.text(cols.mean(), rows.mean(),
                    f"{names[label]} {found['scores'][i, k - 1]:.2f}",
                    color="white", fontsize=7, ha="center", va="center",
                    bbox=dict(facecolor=colours[(k - 1) % 10], alpha=0.8, pad=1))
        ax.axis("off")
    fig.suptitle("held-out images: one colour per instance")
    _common.save_figure(fig, path)


def _report(truth, found, num_classes, subset=None):
    if subset is not None:
        truth = {k: v[subset] for k, v in truth.items()}
        found = {k: v[subset] for k, v in found.items()}
    ap = instance_metrics.mask_average_precision(truth, found, num_classes=num_classes)
    pq = instance_metrics.panoptic_quality(truth, found, num_classes=num_classes)
    return {"mask_ap": ap["map"], "mask_ap_50": ap["map_50"], "pq": pq["pq"],
            "sq": pq["sq"], "rq": pq["rq"]}


def main(argv=None):
    args = parse_args(argv)
    _common.start(args)
    # COCO (its labelled validation split held out), or the embedded scenes.
    size = (args.image_size, args.image_size)
    embedded = _common.scene_options(args)
    train, test, info = _common.load_splits(
        args, args.dataset, "digit_instances", splits=("train", "validation"),
        options=dict(image_size=size), fallback_options=embedded,
        fallback_splits=(("train", dict(num_scenes=args.num_scenes)), "test"))
    touching = None
    if info.name == "digit_instances":
        touching = cvseq.datasets.digit_instances.generate(
            "test", seed=args.seed, **embedded)["touching"]
    names = info.class_names
    print(f"Data: {info.name} ({info.source}), {info.num_examples} training images, "
          f"{len(names)} classes")

    model = _common.build(args, cvseq.instance_segmenter, len(names),
                          image_size=args.image_size, backbone=args.backbone,
                          weights=args.weights)
    _common.apply_learning_rate(model, args)  # else the factory's compile
    start = time.time()
    history = model.fit(train, epochs=args.epochs)
    train_seconds = time.time() - start
    model_path = _common.save_model(args.out, model, "instance_segmenter.keras")

    images, truth = [], {"semantic": [], "instances": []}
    for batch, targets in test:
        images.append(batch.numpy())
        for key in truth:
            truth[key].append(targets[key].numpy())
    images = np.concatenate(images)
    truth = {key: np.concatenate(value) for key, value in truth.items()}
    found = model.predict_instances(images)
    blobs = instance_metrics.connected_components(
        model.predict(images, verbose=0)["semantic"], max_instances=model.max_instances)
    results = {}
    subsets = {"all": None}
    if touching is not None:
        subsets["touching"] = touching
    for subset, index in subsets.items():
        for method, predicted in (("model", found), ("connected_components", blobs)):
            results[f"{subset}/{method}"] = _report(truth, predicted, len(names), index)
    print("\nHeld-out instances (mask AP from pycocotools, PQ = SQ x RQ):")
    for key, value in results.items():
        print(f"  {key:>32}: mask AP {value['mask_ap']:.3f}, AP@0.5 "
              f"{value['mask_ap_50']:.3f}, PQ {value['pq']:.3f}")

    _common.save_run(
        args.out, history=history,
        metrics={"dataset": info.name, "train_seconds": train_seconds, **results})
    picture = os.path.join(args.out, "instances.png")
    shown = np.flatnonzero(touching)[:8] if touching is not None else np.arange(8)
    draw_instances(images[shown], {k: v[shown] for k, v in found.items()}, names, picture)
    print(f"\nTrained in {train_seconds:.0f} s. Saved {model_path}, {picture}, "
          "curves.png and metrics.json")
    return results


if __name__ == "__main__":
    main()
