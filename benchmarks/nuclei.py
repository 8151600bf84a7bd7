"""The segmenters' and detector's defaults on real nuclei, against classic baselines.

Trains `image_segmenter`, `instance_segmenter` or `object_detector` with the
factory's defaults (default compile; only epochs, image size and batch size
chosen) on the `nuclei_*` training tiles (left columns of a real annotated
fluorescence image, stardist's files) and scores the fixed test grid (right
columns) against Otsu thresholding (scikit-image) and its connected
components, computed on the same test tiles. Prints one JSON line per run.

    python benchmarks/nuclei.py segmenter --epochs 8 --seed 0
    python benchmarks/nuclei.py instances --epochs 8 --seed 0
    python benchmarks/nuclei.py detector --epochs 8 --seed 0
"""

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def otsu_masks(images, threshold=None):
    """Foreground masks `(n, H, W)` int32: Otsu's threshold per tile (or the
    one given) on the grey channel."""
    from skimage.filters import threshold_otsu

    grey = images[..., 0].astype(np.float32)
    masks = []
    for tile in grey:
        t = threshold_otsu(tile) if threshold is None else threshold
        masks.append(tile > t)
    return np.stack(masks).astype(np.int32)


def one_hot(masks, num_classes=2):
    """Class-id masks as probabilities `(n, H, W, num_classes)`."""
    return np.eye(num_classes, dtype=np.float32)[masks]


def components_boxes(found, max_instances):
    """Boxes `{"boxes", "labels", "scores"}` of the instances in `found`
    (the dict `predict_instances` / `connected_components` return)."""
    from cvseq.datasets.digit_scenes import mask_box

    ids = found["instance_ids"]
    n = len(ids)
    boxes = np.full((n, max_instances, 4), -1, np.float32)
    labels = np.full((n, max_instances), -1, np.int32)
    scores = np.full((n, max_instances), -1.0, np.float32)
    for i in range(n):
        for k in range(min(max_instances, found["labels"].shape[1])):
            mask = ids[i] == k + 1
            if found["labels"][i, k] < 0 or not mask.any():
                continue
            boxes[i, k] = mask_box(mask)
            labels[i, k] = 0
            scores[i, k] = found["scores"][i, k]
    return {"boxes": boxes, "labels": labels, "scores": scores}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("task", choices=("segmenter", "instances", "detector"))
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--num-tiles", type=int, default=1000)
    args = parser.parse_args()

    import keras

    import cvseq
    from cvseq.datasets import nuclei
    from cvseq.metrics import instances as im
    from cvseq.metrics import mean_average_precision, segmentation_report

    keras.utils.set_random_seed(args.seed)
    size = args.image_size
    name = {"segmenter": "nuclei_segmentation", "instances": "nuclei_instances",
            "detector": "nuclei_detection"}[args.task]
    train = cvseq.datasets.load(name, "train", image_size=size, num_tiles=args.num_tiles,
                                batch_size=args.batch_size, seed=args.seed)
    test = nuclei.generate("test", image_size=size)
    train_tiles = nuclei.generate("train", image_size=size, num_tiles=args.num_tiles,
                                  seed=args.seed)
    images, semantic = test["images"], test["semantic"]
    from skimage.filters import threshold_otsu
    otsu_train_threshold = float(threshold_otsu(train_tiles["images"][..., 0]))
    otsu_tile = otsu_masks(images)
    otsu_fixed = otsu_masks(images, otsu_train_threshold)
    result = {"task": args.task, "seed": args.seed, "epochs": args.epochs,
              "image_size": size, "batch_size": args.batch_size,
              "train_tiles": args.num_tiles, "test_tiles": len(images)}

    start = time.process_time()
    if args.task == "segmenter":
        model = cvseq.image_segmenter(2, image_size=size)
    elif args.task == "instances":
        model = cvseq.instance_segmenter(2, image_size=size)
    else:
        model = cvseq.object_detector(1, image_size=size)
    model.fit(train, epochs=args.epochs, verbose=0)
    result["train_cpu_s"] = round(time.process_time() - start, 1)

    def seg(pred):
        r = segmentation_report(semantic, pred, 2)
        return {"fg_iou": round(r["per_class_iou"][1], 3), "mean_iou": round(r["mean_iou"], 3)}

    result["otsu_per_tile"] = seg(otsu_tile)
    result["otsu_train_threshold"] = seg(otsu_fixed)
    truth = {"semantic": semantic, "instances": test["instances"]}
    if args.task == "segmenter":
        result["model"] = seg(model.predict(images, verbose=0))
    elif args.task == "instances":
        out = model.predict(images, verbose=0)
        result["model_semantic"] = seg(out["semantic"])
        found = model.predict_instances(images)

        def inst(pred):
            ap = im.mask_average_precision(truth, pred, num_classes=2)
            pq = im.panoptic_quality(truth, pred, num_classes=2)
            return {"ap50": round(ap["map_50"], 3), "ap": round(ap["map"], 3),
                    "pq": round(pq["pq"], 3)}

        mi = model.max_instances
        result["model"] = inst(found)
        result["model_components"] = inst(im.connected_components(
            out["semantic"], max_instances=mi))
        for key, masks in (("otsu_components", otsu_tile),
                           ("otsu_train_components", otsu_fixed)):
            result[key] = inst(im.connected_components(one_hot(masks), max_instances=mi))
    else:
        found = model.predict(images, verbose=0)
        box_truth = {"boxes": test["boxes"], "labels": test["labels"]}

        def det(pred):
            r = mean_average_precision(box_truth, pred, num_classes=1)
            return {"map50": round(r["map_50"], 3), "map": round(r["map"], 3)}

        result["model"] = det(found)
        for key, masks in (("otsu_component_boxes", otsu_tile),
                           ("otsu_train_component_boxes", otsu_fixed)):
            blobs = im.connected_components(one_hot(masks), max_instances=32)
            result[key] = det(components_boxes(blobs, 32))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
