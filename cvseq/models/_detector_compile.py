"""Compile plumbing and target checks shared by both detector
architectures (`ObjectDetector`, YOLOv8 on keras-cv, and
`RetinaNetDetector`, on KerasHub).

Both compile with their library's box and class losses under the
`cvseq.Task` contract: `loss` and `metrics` stay `"auto"`, the compile
arguments are remembered so a saved model reloads compiled, and
`cvseq.training.unfreeze_backbone` can recompile it. Both check in-memory
box targets before `fit` and `evaluate` (`DetectorCompile._check_targets`):
the libraries take boxes of NaN, boxes 100 times the image or relative
boxes given as pixels without a word, and train to NaN weights or to
nothing.
"""

import keras
import numpy as np

from cvseq.models.task import (
    OPTIMIZER_BUILT,
    _untracked,
    build_optimizer_as_saved,
    note_optimizer_state,
)


def reject_loss_and_metrics(loss, metrics):
    """ValueError unless `loss` and `metrics` are `"auto"` (or None)."""
    for argument, value in (("loss", loss), ("metrics", metrics)):
        if not (isinstance(value, str) and value == "auto") and value is not None:
            raise ValueError(
                f"`{argument}` cannot be set on an object detector. Received: "
                f"{argument}={value!r}. Set `box_loss=` and "
                "`classification_loss=` instead (metrics: "
                "cvseq.metrics.detection on predict's output)."
            )


def compile_config(model):
    """A detector's compile arguments, serialized."""
    config = getattr(model, "_detector_compile_config", None)
    if not model.compiled or config is None:
        return {}
    return {
        key: value if isinstance(value, (str, int, float, bool))
        else keras.saving.serialize_keras_object(value)
        for key, value in config.items()
    }


class DetectorCompile:
    """Mixin, first among a detector's bases: the library detector's
    `compile` follows it in the MRO, then `cvseq.Task`."""

    def _check_targets(self, y, prefix):
        return check_box_targets(
            y, prefix, num_classes=self.num_classes,
            bounding_box_format=self.bounding_box_format,
            image_size=tuple(self.inputs[0].shape[1:3]) if self.inputs else (None, None))

    def _compile_library(self, config, **kwargs):
        """Calls the library detector's `compile(**config, **kwargs)` and
        remembers the arguments. Its compile ends in `Task.compile`, which
        must pass them through untouched while `_compiling_as_parent`."""
        _untracked(self, "_compiling_as_parent", True)
        try:
            super().compile(**config, **kwargs)
        finally:
            _untracked(self, "_compiling_as_parent", False)
        self._detector_compile_config = dict(config)
        _untracked(self, "_compile_arguments", dict(config, **kwargs))

    def get_compile_config(self):
        return note_optimizer_state(self, compile_config(self))

    def compile_from_config(self, config):
        config = dict(config)
        optimizer_built = config.pop(OPTIMIZER_BUILT, True)
        config = {
            key: keras.saving.deserialize_keras_object(value)
            if isinstance(value, dict) else value
            for key, value in config.items()
        }
        self.compile(**config)
        build_optimizer_as_saved(self, optimizer_built)


_TARGETS = ("`y` must be {'boxes': (batch, max_boxes, 4), 'labels': (batch, "
            "max_boxes)}, padded with -1 (`cvseq.boxes.pad` pads lists of boxes)")


def check_box_targets(y, prefix, *, num_classes, bounding_box_format, image_size):
    """Checks in-memory detection targets; returns them as NumPy arrays.

    Raises `ValueError` (or `TypeError`) naming what is wrong: not a dict of
    `boxes` and `labels`, ragged lists, shapes that differ, NaN or infinite
    boxes, labels outside [-1, num_classes), boxes wholly off the image or
    reaching further than its size beyond it (crossing the border is
    fine), inverted boxes, and boxes that all lie within a pixel or two of the
    corner for a pixel format (relative boxes given as pixels).
    """
    from cvseq import boxes as box_utils

    if not isinstance(y, dict) or set(y) != {"boxes", "labels"}:
        received = f"keys {sorted(y)}" if isinstance(y, dict) else type(y).__name__
        raise ValueError(f"{prefix}{_TARGETS}. Received: {received}.")
    arrays = {}
    for key, ndim in (("boxes", 3), ("labels", 2)):
        value = y[key]
        if not isinstance(value, (np.ndarray, list, tuple)):
            return y  # tensors: the library checks them as it runs
        try:
            value = np.asarray(value, dtype="float32")
        except ValueError as err:
            raise ValueError(
                f"{prefix}{_TARGETS}. Received ragged {key!r} (images with "
                "different numbers of boxes): pad them first.") from err
        if value.ndim != ndim or (key == "boxes" and value.shape[-1] != 4):
            raise ValueError(f"{prefix}{_TARGETS}. Received {key!r} of shape {value.shape}.")
        arrays[key] = value
    boxes, labels = arrays["boxes"], arrays["labels"]
    if boxes.shape[:2] != labels.shape:
        raise ValueError(
            f"{prefix}{_TARGETS}. Received boxes {boxes.shape} and labels "
            f"{labels.shape}: one label per box.")
    if not np.all(np.isfinite(boxes)):
        raise ValueError(
            f"{prefix}`y['boxes']` holds NaN or infinite values; drop or repair "
            "those boxes (padding rows are -1).")
    if labels.size and (labels.min() < -1 or labels.max() >= num_classes
                        or np.any(labels != np.round(labels))):
        raise ValueError(
            f"{prefix}`y['labels']` must be class ids in [0, {num_classes}) and -1 "
            f"for padding. Received labels from {labels.min():g} to {labels.max():g}. "
            "Build the detector with num_classes covering every label, or remap them.")
    real = labels >= 0
    if not real.any():
        return {"boxes": boxes, "labels": labels.astype("int32")}
    height, width = image_size
    relative = bounding_box_format.startswith("rel_")
    if not relative and (height is None or width is None):
        return {"boxes": boxes, "labels": labels.astype("int32")}
    xyxy = box_utils.convert_format(boxes[real], bounding_box_format,
                                    "rel_xyxy" if relative else "xyxy",
                                    image_size=(height, width))
    # A box may cross the image's border (an object cut by the frame, an
    # annotation dragged past the edge); one wholly outside it, or reaching
    # further than the image's own size beyond it, is in another scale.
    limit = np.array([1, 1, 1, 1] if relative else [width, height, width, height], "float32")
    where = "in [0, 1]" if relative else f"in pixels of the {width}x{height} input"
    outside = ((xyxy[:, 2] <= 0) | (xyxy[:, 3] <= 0)
               | (xyxy[:, 0] >= limit[0]) | (xyxy[:, 1] >= limit[1]))
    if np.any(outside) or np.any(xyxy < -limit) or np.any(xyxy > 2 * limit):
        raise ValueError(
            f"{prefix}`y['boxes']` must lie on the image ({bounding_box_format!r}, "
            f"{where}; they may cross its border). Received coordinates from "
            f"{boxes[real].min():g} to {boxes[real].max():g}. Scale them to the image "
            "the model reads, or build the detector with the format they are in "
            "(bounding_box_format=).")
    if np.any(xyxy[:, 2] <= xyxy[:, 0]) or np.any(xyxy[:, 3] <= xyxy[:, 1]):
        raise ValueError(
            f"{prefix}`y['boxes']` holds boxes of no width or height, or inverted "
            f"ones, for {bounding_box_format!r}; are they in another format? "
            "(`cvseq.boxes.FORMATS`; build the detector with bounding_box_format=).")
    # Relative boxes (fractions of the image) given as pixels: every box
    # within a pixel or two of the corner. Boxes that cross the border go a
    # little below 0 and above 1 (real annotations: TUD, -0.05 to 1.07).
    if not relative and min(height, width) > 8 and np.abs(xyxy).max() <= 2.0:
        rel = f"rel_{bounding_box_format}"
        raise ValueError(
            f"{prefix}`y['boxes']` are all within [{xyxy.min():g}, {xyxy.max():g}]: "
            f"fractions of the image, not pixels of the {width}x{height} input that "
            f"{bounding_box_format!r} boxes are. Multiply relative boxes by the image size"
            + (f", or build the detector with bounding_box_format={rel!r}."
               if rel in box_utils.FORMATS else "."))
    return {"boxes": boxes, "labels": labels.astype("int32")}
