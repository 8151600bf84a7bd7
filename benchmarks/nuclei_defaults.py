"""The segmenters' and detector's defaults on real nuclei, against classic baselines.

Trains `image_segmenter`, `instance_segmenter` or `object_detector` with the
factory's defaults (default compile; only epochs, image size and batch size
chosen) on the `nuclei_*` training tiles (left columns of a real annotated
fluorescence image, stardist's files) and scores the fixed test grid (right
columns) against Otsu thresholding (scikit-image) and its connected
components, computed on the same test tiles. Prints one JSON line per run.

    python benchmarks/nuclei_defaults.py segmenter --epochs 8 --seed 0
    python benchmarks/nuclei_defaults.py instances --epochs 8 --seed 0
    python benchmarks/nuclei_defaults.py detector --epochs 8 --seed 0
    python benchmarks/nuclei_defaults.py detector --architecture retinanet \
        --bn-momentum 0.999   # RetinaNet with Keras' batch-norm momentum
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


def cleaned_otsu_masks(images):
    """The usual clean-up around Otsu: Gaussian smoothing (sigma 1) before
    the per-tile threshold, then holes filled and blobs under 16 pixels
    dropped. Fixed beforehand, not tuned on the test tiles."""
    from scipy import ndimage
    from skimage.filters import gaussian, threshold_otsu
    from skimage.morphology import remove_small_objects

    masks = []
    for tile in images[..., 0].astype(np.float32):
        smooth = gaussian(tile, sigma=1, preserve_range=True)
        mask = ndimage.binary_fill_holes(smooth > threshold_otsu(smooth))
        masks.append(remove_small_objects(mask, max_size=15))
    return np.stack(masks).astype(np.int32)


def watershed_instances(masks, min_distance, max_instances=32):
    """The classic nuclei pipeline: split each foreground mask by a watershed
    on its distance transform, from peaks `min_distance` apart (scikit-image).
    Returns the dict `predict_instances` returns (label 1, score 1)."""
    from scipy import ndimage
    from skimage.feature import peak_local_max
    from skimage.segmentation import watershed

    n = len(masks)
    ids = np.zeros(masks.shape, np.int32)
    labels = np.full((n, max_instances), -1, np.int32)
    scores = np.full((n, max_instances), -1.0, np.float32)
    for i, mask in enumerate(masks.astype(bool)):
        distance = ndimage.distance_transform_edt(mask)
        blobs, _ = ndimage.label(mask)
        peaks = peak_local_max(distance, min_distance=min_distance, labels=blobs,
                               exclude_border=False)
        markers = np.zeros(mask.shape, np.int32)
        markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
        # Blobs with no peak (tiny ones) keep one marker of their own.
        for b in np.setdiff1d(np.unique(blobs[mask]), np.unique(blobs[tuple(peaks.T)])):
            y, x = np.argwhere(blobs == b)[0]
            markers[y, x] = markers.max() + 1
        split = watershed(-distance, markers, mask=mask)
        values, counts = np.unique(split[split > 0], return_counts=True)
        for k, v in enumerate(values[np.argsort(-counts)][:max_instances]):
            ids[i][split == v] = k + 1
            labels[i, k], scores[i, k] = 1, 1.0
    return {"instance_ids": ids, "labels": labels, "scores": scores}


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
    parser.add_argument("--architecture", default="yolo_v8", choices=("yolo_v8", "retinanet"),
                        help="detector only")
    parser.add_argument("--bn-momentum", type=float, default=None,
                        help="RetinaNet only: the backbone's batch-norm momentum instead "
                        "of the factory's 0.9 (Keras applications: 0.999)")
    args = parser.parse_args()
    if args.task != "detector" and (args.architecture != "yolo_v8" or args.bn_momentum is not None):
        parser.error("--architecture and --bn-momentum go with the detector")
    if args.bn_momentum is not None and args.architecture != "retinanet":
        parser.error("--bn-momentum goes with --architecture retinanet")

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
    otsu_clean = cleaned_otsu_masks(images)
    result = {"task": args.task, "seed": args.seed, "epochs": args.epochs,
              "image_size": size, "batch_size": args.batch_size,
              "train_tiles": args.num_tiles, "test_tiles": len(images)}

    start = time.process_time()
    if args.task == "segmenter":
        model = cvseq.image_segmenter(2, image_size=size)
    elif args.task == "instances":
        model = cvseq.instance_segmenter(2, image_size=size)
    else:
        model = cvseq.object_detector(1, image_size=size, architecture=args.architecture)
        result["architecture"] = args.architecture
        if args.bn_momentum is not None:
            from cvseq.models import retinanet

            retinanet._settle_batch_norm(model, momentum=args.bn_momentum)
            result["bn_momentum"] = args.bn_momentum
    model.fit(train, epochs=args.epochs, verbose=0)
    result["train_cpu_s"] = round(time.process_time() - start, 1)

    def seg(pred):
        r = segmentation_report(semantic, pred, 2)
        return {"fg_iou": round(r["per_class_iou"][1], 3), "mean_iou": round(r["mean_iou"], 3)}

    result["otsu_per_tile"] = seg(otsu_tile)
    result["otsu_train_threshold"] = seg(otsu_fixed)
    result["otsu_cleaned"] = seg(otsu_clean)
    # The watershed's one parameter, chosen on the training tiles.
    train_truth = {"semantic": train_tiles["semantic"][:200],
                   "instances": train_tiles["instances"][:200]}
    train_otsu = cleaned_otsu_masks(train_tiles["images"][:200])
    min_distance = max((im.mask_average_precision(
        train_truth, watershed_instances(train_otsu, d), num_classes=2)["map_50"], d)
        for d in (3, 5, 7, 9, 12))[1]
    result["watershed_min_distance"] = min_distance
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
        result["otsu_cleaned_watershed"] = inst(watershed_instances(otsu_clean, min_distance))
        result["model"] = inst(found)
        result["model_components"] = inst(im.connected_components(
            out["semantic"], max_instances=mi))
        for key, masks in (("otsu_components", otsu_tile),
                           ("otsu_train_components", otsu_fixed),
                           ("otsu_cleaned_components", otsu_clean)):
            result[key] = inst(im.connected_components(one_hot(masks), max_instances=mi))
    else:
        found = model.predict(images, verbose=0)
        box_truth = {"boxes": test["boxes"], "labels": test["labels"]}

        def det(pred):
            r = mean_average_precision(box_truth, pred, num_classes=1)
            return {"map50": round(r["map_50"], 3), "map": round(r["map"], 3)}

        result["model"] = det(found)
        for key, masks in (("otsu_component_boxes", otsu_tile),
                           ("otsu_train_component_boxes", otsu_fixed),
                           ("otsu_cleaned_component_boxes", otsu_clean)):
            blobs = im.connected_components(one_hot(masks), max_instances=32)
            result[key] = det(components_boxes(blobs, 32))
        result["otsu_cleaned_watershed_boxes"] = det(components_boxes(
            watershed_instances(otsu_clean, min_distance), 32))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
