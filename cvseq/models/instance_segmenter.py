"""Instance segmentation, bottom-up as Panoptic-DeepLab (Cheng et al. 2020).

One U-Net (the `image_segmenter`'s) predicts, at every pixel, its class, how
likely it is to be an object's centre (a heatmap), and the offset from the
pixel to the centre of its object. After the model, `group_instances` keeps
the heatmap's peaks as centres and gives each object pixel to the centre its
offset points closest to; an instance's label is its pixels' likeliest class.

Why bottom-up: two touching digits of one class are one blob to a semantic
segmenter; the offsets tell them apart without anchors or boxes, the model
stays one fully convolutional network (it trains from scratch on a CPU and
runs on every Keras backend), and the grouping is a few array operations
over the whole batch, with no per-instance loop.
"""

import math

import keras
import numpy as np
from keras import ops

from cvseq._validation import check_bool, check_fraction, check_int
from cvseq.models.image_segmenter import (
    DiceCrossEntropy,
    _conv_block,
    check_segmenter_arguments,
    class_map,
    segmentation_metrics,
    unet,
)
from cvseq.models.task import Task
from cvseq.training import WarmUpInverseSqrt

# The centre heatmap starts near 0 everywhere (as the target mostly is).
_CENTER_PRIOR = 0.01


@keras.saving.register_keras_serializable(package="cvseq")
class InstanceCenterLoss(keras.losses.Loss):
    """Panoptic-DeepLab's instance losses, from an instance id map.

    The targets are computed here, from the ids, so a data set only needs
    what annotations hold: for each instance its centre of mass; the target
    heatmap is a Gaussian at every centre (standard deviation
    `sigma_scale * sqrt(area)` pixels, at least 1: small objects get small
    peaks, as in CenterNet), the target offset of each instance pixel points
    to its centre. Loss: `center_weight` times the mean squared error of the
    heatmap over all pixels, plus `offset_weight` times the mean L1 error of
    the offsets over the instance pixels. Cheng et al. 2020 use 200 and 0.01;
    here 200 (with 0.1) held the classes back, as the instance maps learn
    fast and their gradients filled the shared decoder: after 750 steps on
    the digit instances the pixels' classes were right 14% of the time
    (chance 10%), against 44% with 20 and 0.02 (mask AP@0.5 0.09 and 0.36).

    Args:
        max_instances: int. Instance ids above it are ignored.
        center_weight: float. Defaults to 20.0.
        offset_weight: float. Defaults to 0.02.
        sigma_scale: float. Defaults to 0.15.

    Call arguments: `y_true` int `(batch, H, W)` instance ids (0: no
    instance); `y_pred` float `(batch, H, W, 3)`: heatmap in [0, 1], then
    the offset `(dy, dx)` in pixels.
    """

    def __init__(self, max_instances, center_weight=20.0, offset_weight=0.02,
                 sigma_scale=0.15, name="instance_center_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.max_instances = max_instances
        self.center_weight = center_weight
        self.offset_weight = offset_weight
        self.sigma_scale = sigma_scale

    def call(self, y_true, y_pred):
        y_pred = ops.cast(y_pred, "float32")
        ids = ops.cast(y_true, "int32")
        if len(ids.shape) == len(y_pred.shape):
            ids = ops.squeeze(ids, axis=-1)
        heat, offsets = instance_targets(ids, self.max_instances, self.sigma_scale)
        inside = ops.cast((ids > 0) & (ids <= self.max_instances), "float32")
        center_loss = ops.mean(ops.square(y_pred[..., 0] - heat), axis=(1, 2))
        error = ops.sum(ops.abs(y_pred[..., 1:3] - offsets), axis=-1) * inside
        offset_loss = ops.sum(error, axis=(1, 2)) / ops.maximum(
            ops.sum(inside, axis=(1, 2)), 1.0
        )
        return self.center_weight * center_loss + self.offset_weight * offset_loss

    def get_config(self):
        return {
            **super().get_config(),
            "max_instances": self.max_instances,
            "center_weight": self.center_weight,
            "offset_weight": self.offset_weight,
            "sigma_scale": self.sigma_scale,
        }


def _grid(height, width):
    rows = ops.cast(ops.arange(height), "float32")
    cols = ops.cast(ops.arange(width), "float32")
    return rows, cols


def instance_targets(instance_ids, max_instances, sigma_scale=0.15):
    """The centre heatmap and offsets that an instance id map asks for.

    Args:
        instance_ids: int `(batch, H, W)`; 0 for no instance, ids above
            `max_instances` are ignored.
        max_instances: int.
        sigma_scale: float. Gaussian standard deviation per instance, as a
            share of the square root of its area (at least 1 pixel).

    Returns:
        `(heatmap, offsets)`: float32 `(batch, H, W)` in [0, 1] and
        `(batch, H, W, 2)` `(dy, dx)` from each pixel to its instance's
        centre of mass (0 outside instances).
    """
    ids = ops.cast(instance_ids, "int32")
    ids = ops.where((ids > 0) & (ids <= max_instances), ids, 0)
    height, width = ids.shape[1], ids.shape[2]
    rows, cols = _grid(height, width)
    # (batch, H, W, max_instances): which pixels each instance holds.
    member = ops.one_hot(ids, max_instances + 1, dtype="float32")[..., 1:]
    area = ops.sum(member, axis=(1, 2))
    safe = ops.maximum(area, 1.0)
    cy = ops.sum(member * rows[None, :, None, None], axis=(1, 2)) / safe
    cx = ops.sum(member * cols[None, None, :, None], axis=(1, 2)) / safe
    sigma = ops.maximum(1.0, sigma_scale * ops.sqrt(area))
    # Separable Gaussians (batch, n, H) and (batch, n, W), one per instance.
    gy = ops.exp(-ops.square(rows[None, None, :] - cy[..., None])
                 / (2 * ops.square(sigma[..., None])))
    gx = ops.exp(-ops.square(cols[None, None, :] - cx[..., None])
                 / (2 * ops.square(sigma[..., None])))
    present = ops.cast(area > 0, "float32")[..., None, None]
    heat = ops.max(present * gy[..., :, None] * gx[..., None, :], axis=1)
    pixel_cy = ops.sum(member * cy[:, None, None, :], axis=-1)
    pixel_cx = ops.sum(member * cx[:, None, None, :], axis=-1)
    inside = ops.sum(member, axis=-1)
    offsets = ops.stack([
        (pixel_cy - rows[None, :, None]) * inside,
        (pixel_cx - cols[None, None, :]) * inside,
    ], axis=-1)
    return heat, offsets


def group_instances(semantic, instances, *, max_instances, center_threshold=0.1,
                    nms_kernel=5, min_area=4):
    """Instances from the model's maps: Panoptic-DeepLab's grouping, batched.

    Centres are the heatmap's local maxima (within `nms_kernel` pixels)
    scoring above `center_threshold`, the `max_instances` best per image.
    Each object pixel (the object classes together likelier than the
    background, class 0; its class the likeliest object class) goes to the
    centre nearest to where its offset points. An instance's label is the
    class of highest mean probability over its pixels (each pixel's class
    probabilities given that it is an object's: soft votes); its score is
    its centre's heatmap value times that mean probability. Instances of
    fewer than `min_area` pixels are dropped (their pixels get id 0).

    Args:
        semantic: float `(batch, H, W, num_classes)` class probabilities.
        instances: float `(batch, H, W, 3)`: heatmap, offset `(dy, dx)`.
        max_instances: int. At most this many instances an image.

    Returns:
        A dict of `"instance_ids"` int32 `(batch, H, W)` (0: none; id `k`
        is the instance at index `k - 1` below), `"labels"` int32 `(batch,
        max_instances)` (class ids, -1 where no instance) and `"scores"`
        float32 `(batch, max_instances)` (-1 where none).
    """
    semantic = ops.cast(semantic, "float32")
    instances = ops.cast(instances, "float32")
    height, width = semantic.shape[1], semantic.shape[2]
    heat = instances[..., 0]
    pooled = ops.max_pool(heat[..., None], nms_kernel, strides=1, padding="same")[..., 0]
    peaks = ops.where((heat >= pooled) & (heat > center_threshold), heat, 0.0)
    count = min(max_instances, height * width)
    flat = ops.reshape(peaks, (-1, height * width))
    center_scores, index = ops.top_k(flat, count)
    found = center_scores > center_threshold
    cy = ops.cast(index // width, "float32")
    cx = ops.cast(index % width, "float32")

    rows, cols = _grid(height, width)
    vote_y = rows[None, :, None] + instances[..., 1]
    vote_x = cols[None, None, :] + instances[..., 2]
    distance = (ops.square(vote_y[..., None] - cy[:, None, None, :])
                + ops.square(vote_x[..., None] - cx[:, None, None, :]))
    distance = ops.where(found[:, None, None, :], distance, np.inf)
    nearest = ops.argmin(distance, axis=-1)
    # A pixel is an object's where the object classes together outweigh the
    # background: early in training, and on hard pixels, the background is
    # often the likeliest single class while the ten digits together are
    # likelier still. Its class is the likeliest object class.
    object_probability = 1.0 - semantic[..., 0]
    thing = (object_probability > 0.5) & ops.any(found, axis=-1)[:, None, None]
    conditional = semantic[..., 1:] / ops.maximum(object_probability, 1e-6)[..., None]

    member = ops.one_hot(nearest, count, dtype="float32") * ops.cast(thing, "float32")[..., None]
    area = ops.sum(member, axis=(1, 2))
    # Soft votes: each pixel's class probabilities (given an object),
    # averaged over the instance.
    mean_probability = ops.einsum("bhwk,bhwc->bkc", member, conditional) / ops.maximum(
        area, 1.0)[..., None]
    labels = ops.argmax(mean_probability, axis=-1) + 1
    label_probability = ops.max(mean_probability, axis=-1)
    keep = found & (area >= min_area)
    scores = ops.where(keep, center_scores * label_probability, -1.0)
    labels = ops.where(keep, ops.cast(labels, "int32"), -1)
    kept_pixel = ops.take_along_axis(
        ops.reshape(keep, (-1, 1, count)),
        ops.reshape(nearest, (-1, height * width, 1)), axis=-1)
    kept_pixel = ops.reshape(kept_pixel, (-1, height, width))
    ids = ops.where(thing & kept_pixel, ops.cast(nearest, "int32") + 1, 0)
    if count < max_instances:
        pad = [(0, 0), (0, max_instances - count)]
        labels = ops.pad(labels, pad, constant_values=-1)
        scores = ops.pad(scores, pad, constant_values=-1.0)
    return {"instance_ids": ids, "labels": labels, "scores": scores}


@keras.saving.register_keras_serializable(package="cvseq")
class InstanceSegmenter(Task):
    """An `instance_segmenter`: a functional model with `.predict_instances()`.

    `predict` (and calling the model) returns the raw maps `{"semantic":
    (batch, H, W, num_classes), "instances": (batch, H, W, 3)}`;
    `predict_instances` groups them into instances. Build it with
    `cvseq.instance_segmenter(...)`; it saves to `.keras` and loads back
    with `keras.saving.load_model`, its grouping settings included.
    """

    def __init__(self, *args, max_instances=16, center_threshold=0.1, nms_kernel=5,
                 min_area=4, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_instances = max_instances
        self.center_threshold = center_threshold
        self.nms_kernel = nms_kernel
        self.min_area = min_area

    @property
    def num_classes(self):
        return int(self.get_layer("semantic").filters)

    def _fallback_compile_defaults(self):
        return compile_defaults(self.num_classes, self.max_instances)

    def _check_targets(self, y, prefix):
        """In-memory targets: `{"semantic", "instances"}`, each `(batch, H,
        W)` integer ids of the image's size (Keras would take a tuple in its
        own, alphabetical, order of the outputs: instances first)."""
        if not isinstance(y, dict):
            raise TypeError(
                f"{prefix}`y` must be a dict {{\"semantic\": (batch, H, W) class ids, "
                "\"instances\": (batch, H, W) instance ids}: a tuple or list does not "
                "say which is which (Keras would read it in the order of the outputs' "
                f"names, instances first). Received {type(y).__name__}.")
        keys = {"semantic", "instances"}
        if set(y) != keys:
            raise ValueError(
                f"{prefix}`y` must have the keys 'semantic' and 'instances'. Received "
                f"keys {sorted(map(str, y))}.")
        height, width = (int(d) for d in self.inputs[0].shape[1:3])
        checked = {}
        for key, what in (("semantic", "class ids"), ("instances", "instance ids")):
            value = y[key]
            if not isinstance(value, np.ndarray) and not isinstance(value, (list, tuple)):
                checked[key] = value  # tensors: Keras checks them as it runs
                continue
            value = np.asarray(value)
            where = f"{prefix}`y[{key!r}]`"
            if value.dtype.kind not in "biuf":
                raise TypeError(f"{where} must be integer {what}. Received dtype "
                                f"{value.dtype}.")
            if key == "semantic" and value.ndim == 4 and value.shape[-1] == self.num_classes:
                raise ValueError(
                    f"{where} must be class ids (batch, H, W), not one-hot (batch, H, W, "
                    f"{value.shape[-1]}): pass y['semantic'].argmax(axis=-1).")
            if value.ndim != 3 or value.shape[1:] != (height, width):
                raise ValueError(
                    f"{where} must have shape (batch, {height}, {width}) ({what} per "
                    f"pixel of the {height}x{width} images). Received shape "
                    f"{value.shape}.")
            if value.size and value.dtype.kind == "f":
                if not np.all(np.isfinite(value)):
                    raise ValueError(f"{where} holds NaN or infinite values.")
                if np.any(value != np.round(value)):
                    raise ValueError(f"{where} must be integer {what}; received "
                                     "fractions.")
            if value.size:
                low, high = value.min().item(), value.max().item()
                if key == "semantic" and (low < 0 or high >= self.num_classes):
                    raise ValueError(
                        f"{where} must be class ids in [0, {self.num_classes}) for "
                        f"{self.name!r}, which has {self.num_classes} classes (0 the "
                        f"background). Received ids from {low} to {high}. Build the "
                        "model with num_classes covering every class, or remap them.")
                if key == "instances" and low < 0:
                    raise ValueError(
                        f"{where} must be instance ids >= 0 (0: no instance). "
                        f"Received ids from {low} to {high}.")
            checked[key] = value
        sizes = {len(v) for v in checked.values() if hasattr(v, "__len__")}
        if len(sizes) > 1:
            raise ValueError(
                f"{prefix}`y['semantic']` and `y['instances']` must hold one map per "
                f"image each. Received {len(checked['semantic'])} and "
                f"{len(checked['instances'])}.")
        return checked

    def _check_dataset(self, dataset, method, prefix):
        super()._check_dataset(dataset, method, prefix)
        element = dataset.element_spec
        if method == "predict" or not isinstance(element, tuple) or len(element) < 2:
            return
        targets = element[1]
        if not isinstance(targets, dict) or set(targets) != {"semantic", "instances"}:
            raise ValueError(
                f"{prefix}The dataset's targets must be a dict {{\"semantic\": (batch, "
                "H, W) class ids, \"instances\": (batch, H, W) instance ids}. Received "
                f"{_spec_of(targets)}.")
        height, width = (int(d) for d in self.inputs[0].shape[1:3])
        for key, spec in targets.items():
            shape = tuple(spec.shape) if spec.shape.rank is not None else None
            if shape is None:
                continue
            if len(shape) == 4 and shape[-1] == 1:
                hint = " Drop the channel axis: tf.squeeze(y, -1)."
            elif len(shape) == 3:
                hint = (" Load the data at the model's image size "
                        f"(image_size=({height}, {width})).")
            else:
                hint = ""
            if len(shape) != 3 or any(
                    r is not None and r != e for r, e in zip(shape[1:], (height, width))):
                raise ValueError(
                    f"{prefix}The dataset's targets[{key!r}] must have shape (batch, "
                    f"{height}, {width}). Received shape {shape}.{hint}")

    def _grouping(self):
        return {"max_instances": self.max_instances,
                "center_threshold": self.center_threshold,
                "nms_kernel": self.nms_kernel, "min_area": self.min_area}

    def segment(self, images):
        """`predict_instances` for one batch, as a traceable function.

        Args:
            images: `(batch, height, width, 3)` pixels in [0, 255].

        Returns:
            The dict of `group_instances` (tensors).
        """
        outputs = self(images, training=False)
        return group_instances(outputs["semantic"], outputs["instances"],
                               **self._grouping())

    def predict_instances(self, images, *, batch_size=32, center_threshold=None,
                          min_area=None):
        """Finds the instances in `images`: an id map, labels and scores.

        Args:
            images: `(n, height, width, 3)` pixels in [0, 255] (NumPy).
            batch_size: int. Defaults to 32.
            center_threshold: float in [0, 1) or None. Lowest heatmap value
                of a centre; None keeps the model's (0.1 by default).
            min_area: int or None. Smallest instance, in pixels; None keeps
                the model's (4 by default).

        Returns:
            A dict of NumPy arrays: `"instance_ids"` int32 `(n, height,
            width)`, 0 where there is no instance and `k` on the pixels of
            the instance at index `k - 1` of `"labels"` int32 `(n,
            max_instances)` (class ids of the semantic classes, never 0;
            -1 where no instance) and `"scores"` float32 `(n,
            max_instances)` in [0, 1] (-1 where none). The mask of instance
            `k` of image `i`: `instance_ids[i] == k + 1`.
        """
        batch_size = check_int("batch_size", batch_size)
        grouping = self._grouping()
        if center_threshold is not None:
            grouping["center_threshold"] = check_fraction(
                "center_threshold", center_threshold)
        if min_area is not None:
            grouping["min_area"] = check_int("min_area", min_area, minimum=0)
        outputs = self.predict(images, batch_size=batch_size, verbose=0)
        found = {"instance_ids": [], "labels": [], "scores": []}
        # Grouping holds (batch, H, W, max_instances) arrays: in chunks.
        for start in range(0, len(outputs["semantic"]), batch_size):
            part = group_instances(outputs["semantic"][start:start + batch_size],
                                   outputs["instances"][start:start + batch_size],
                                   **grouping)
            for key, value in part.items():
                found[key].append(ops.convert_to_numpy(value))
        return {key: np.concatenate(values) for key, values in found.items()}

    def get_config(self):
        return {**super().get_config(), "grouping": self._grouping()}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        grouping = config.pop("grouping", {})
        model = super().from_config(config, custom_objects=custom_objects)
        for key, value in grouping.items():
            setattr(model, key, value)
        return model


def _spec_of(targets):
    if isinstance(targets, dict):
        return "a dict of keys " + str(sorted(map(str, targets)))
    return type(targets).__name__ + " of " + ", ".join(
        f"shape {tuple(t.shape)}" for t in keras.tree.flatten(targets))


def compile_defaults(num_classes, max_instances):
    """The compile defaults of `instance_segmenter` (fresh objects).

    The model builds them from its class count and `max_instances` (its
    losses and metrics are dicts by output, which `Task`'s saved defaults
    do not hold).
    """
    return dict(
        jit_compile=False,
        # As the other image factories: on the digit scenes 12 epochs
        # reach what 16 of a constant Adam(2e-3) did (docs/instance_segmentation.md).
        optimizer=keras.optimizers.Adam(WarmUpInverseSqrt(4e-3, 250)),
        loss={"semantic": DiceCrossEntropy(num_classes),
              "instances": InstanceCenterLoss(max_instances)},
        metrics={"semantic": segmentation_metrics(num_classes)},
    )


def instance_segmenter(
    num_classes,
    *,
    image_size=(128, 128),
    backbone="small_cnn",
    weights=None,
    train_backbone=True,
    max_instances=16,
    compile=True,
    name=None,
):
    """Segments each object on its own: masks, labels and scores.

    Bottom-up, as Panoptic-DeepLab (Cheng et al. 2020): the `image_segmenter`'s
    U-Net, then a semantic head (per-pixel class probabilities) and an
    instance head (one 3x3 convolution block, then a centre heatmap and the
    offset `(dy, dx)` in pixels from each pixel to its object's centre).
    `predict_instances` groups the maps into instances (`group_instances`).
    Class 0 is the background; every other class is an object class.

    Fit it on images and `{"semantic": (batch, H, W) class ids,
    "instances": (batch, H, W) instance ids}` (0: no instance, ids 1 to
    `max_instances`, any order; as `cvseq.datasets.load("digit_instances")`
    and `"coco_instances"` give them). The heatmap and offset targets are
    computed from the ids inside the loss (`InstanceCenterLoss`).

    Args:
        num_classes: int. Number of classes, the background included.
        image_size: int or (height, width). Each side a multiple of the
            backbone's largest stride (8 for `small_cnn`, 32 for the Keras
            applications). Defaults to `(128, 128)`.
        backbone: str or `keras.Model`. See `cvseq.backbones.build_backbone`.
            Defaults to `"small_cnn"`.
        weights: None, `"imagenet"` or a weights file for the backbone.
            Defaults to None.
        train_backbone: bool. False freezes the encoder. Defaults to True.
        max_instances: int. Most instances an image (the loss ignores ids
            above it; grouping keeps the best this many). Defaults to 16.
        compile: bool. Compile with Adam on a `WarmUpInverseSqrt(4e-3, 250)`
            rate (250 warm-up steps to 4e-3, then decay with the step,
            whatever the epochs), `DiceCrossEntropy` on the semantic map (with pixel accuracy and mean IoU) and
            `InstanceCenterLoss` on the instance maps. Defaults to True.
        name: str or None. Model name. Defaults to `"instance_segmenter"`.

    Returns:
        An `InstanceSegmenter` (a `cvseq.Task`) from raw pixels `(batch, H,
        W, 3)` in [0, 255] to `{"semantic": (batch, H, W, num_classes),
        "instances": (batch, H, W, 3)}`; `predict_instances(images)` returns
        `{"instance_ids": (n, H, W), "labels": (n, max_instances),
        "scores": (n, max_instances)}`.

    Example:

    >>> model = instance_segmenter(11, image_size=32)
    >>> train = cvseq.datasets.load("digit_instances", "train", image_size=32)
    >>> model.fit(train, epochs=1)
    >>> found = model.predict_instances(np.zeros((1, 32, 32, 3), "uint8"))
    >>> found["instance_ids"].shape, found["labels"].shape
    ((1, 32, 32), (1, 16))
    """
    # Arguments.
    num_classes, image_size = check_segmenter_arguments(
        num_classes, image_size, train_backbone)
    max_instances = check_int("max_instances", max_instances)
    check_bool("compile", compile)
    # One decoder for both heads. What held the classes back was the
    # instance loss's weight (see InstanceCenterLoss); a second decoder
    # (Panoptic-DeepLab's dual decoder) under the old weights trained
    # slower a step and reached the same semantic mean IoU after 3 epochs
    # (0.14) as one decoder with the new weights.
    images, x = unet(image_size, backbone, weights=weights,
                     train_backbone=train_backbone)

    # Heads; they stay float32 under mixed precision for stable losses.
    semantic = class_map(x, num_classes, name="semantic")
    y = _conv_block(x, 32, name="instance_head")
    center = keras.layers.Conv2D(
        1, 1, activation="sigmoid", dtype="float32", name="center",
        bias_initializer=keras.initializers.Constant(
            -math.log((1 - _CENTER_PRIOR) / _CENTER_PRIOR)),
    )(y)
    offset = keras.layers.Conv2D(2, 1, dtype="float32", name="offset")(y)
    instances = keras.layers.Concatenate(dtype="float32", name="instances")(
        [center, offset])

    # Model.
    model = InstanceSegmenter(
        images,
        {"semantic": semantic, "instances": instances},
        name=name or "instance_segmenter",
        max_instances=max_instances,
    )
    if compile:
        model.compile()
    return model


# ---------------------------------------------------------------------------
# The task as `cvseq` commands, the examples and the tests see it.
# ---------------------------------------------------------------------------

from cvseq import tasks as _tasks  # noqa: E402


def _instances(model, inputs, run):
    """Instances scoring at least `run["threshold"]` (default 0.5): `label
    score (area px)`, best first."""
    images = _tasks.read_image_inputs(inputs, model)
    found = model.predict_instances(images)
    names = run.get("class_names") or []
    threshold = run.get("threshold", 0.5)
    lines = []
    for ids, labels, scores in zip(found["instance_ids"], found["labels"], found["scores"]):
        kept = [k for k in np.argsort(-scores) if labels[k] >= 0 and scores[k] >= threshold]
        lines.append("; ".join(
            f"{names[labels[k]] if labels[k] < len(names) else labels[k]} "
            f"{scores[k]:.2f} ({int((ids == k + 1).sum())} px)" for k in kept)
            or f"(no instance scores {threshold:g} or more)")
    return lines


_tasks.register_task(_tasks.image_task(
    name="instance_segmenter",
    description="CNN instance segmentation (image -> a mask per object)",
    factory=instance_segmenter,
    dataset="digit_instances",
    default_image_size=32,
    predict=_instances,
    metric="semantic_mean_iou",
    small_data={"num_scenes": 4, "image_size": 32},
    example="instance_segmentation.py",
))
