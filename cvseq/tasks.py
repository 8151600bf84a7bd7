"""What the `cvseq` command knows about each use case.

A `Task` ties a factory to its default data set, to the options that make
the data fit the model, and to reading user files for `cvseq predict` and
describing the predictions. `register_task` adds one; `list_tasks()` names
them.
"""

import dataclasses
import os

import numpy as np

from cvseq._validation import check_image_size


class UserInputError(ValueError):
    """A mistake in what the user gave (file, option, data); shown as one line."""


@dataclasses.dataclass(frozen=True)
class Task:
    """One use case as the command sees it.

    Attributes:
        name: the factory's name, e.g. `"video_tagger"`.
        description: one line for `cvseq list`.
        default_dataset: the embedded data set `cvseq train NAME` uses.
        data_options: `(options) -> dict` of `load()` options, from the
            command's common options (`frames`, `image_size`, ...).
        build: `(info, options, model_options) -> keras.Model`.
        options_from_model: `(model) -> dict` of the options that make data
            fit a trained model (e.g. its frames and image size).
        read_inputs: `(paths_or_texts, model) -> batch` for `predict`.
        describe: `(outputs, run) -> list of str`, one per input.
        metric: the held-out metric printed after training.
    """

    name: str
    description: str
    default_dataset: str
    data_options: object
    build: object
    options_from_model: object
    read_inputs: object
    describe: object
    metric: str = "accuracy"


_TASKS = {}


def register_task(task):
    _TASKS[task.name] = task
    return task


def list_tasks():
    """Task names with their one-line descriptions."""
    return {name: task.description for name, task in _TASKS.items()}


def get_task(name):
    if name not in _TASKS:
        raise UserInputError(
            f"Unknown task {name!r}. Tasks: {', '.join(_TASKS)}."
        )
    return _TASKS[name]


# ---------------------------------------------------------------------------
# Shared readers and describers.
# ---------------------------------------------------------------------------


def read_video_inputs(paths, model):
    """Decodes video files to the clip shape `model` takes."""
    from cvseq.datasets.video_folder import VideoReadError, read_clip

    frames, height, width = model.inputs[0].shape[1:4]
    frames = frames or 16
    clips = []
    for path in paths:
        if not os.path.isfile(path):
            raise UserInputError(f"No such video file: {path!r}.")
        try:
            clips.append(read_clip(path, frames, (height, width)))
        except VideoReadError as err:
            raise UserInputError(f"Cannot read video {path!r}: {err}.") from err
    return np.stack(clips)


def read_image_inputs(paths, model):
    """Reads image files (any OpenCV format) resized to the model's input."""
    import cv2

    height, width = model.inputs[0].shape[1:3]
    images = []
    for path in paths:
        image = cv2.imread(path, cv2.IMREAD_COLOR) if os.path.isfile(path) else None
        if image is None:
            raise UserInputError(f"Cannot read image {path!r} (missing or not an image).")
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
        images.append(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    return np.stack(images)


def describe_classes(outputs, run, top=3):
    """Top classes with probabilities, or the tags over 0.5 for multi-label."""
    names = run.get("class_names") or [str(i) for i in range(outputs.shape[-1])]
    lines = []
    for probabilities in np.asarray(outputs):
        if run.get("multi_label"):
            tags = [f"{names[i]} {p:.2f}" for i, p in enumerate(probabilities) if p >= 0.5]
            lines.append(", ".join(tags) or "(no tag over 0.5)")
        else:
            order = np.argsort(probabilities)[::-1][:top]
            lines.append(", ".join(f"{names[i]} {probabilities[i]:.2f}" for i in order))
    return lines


# ---------------------------------------------------------------------------
# Tasks.
# ---------------------------------------------------------------------------


def _video_data_options(options):
    return {
        "frames": options.get("frames") or 8,
        "image_size": check_image_size(options.get("image_size") or 32),
    }


def _video_options_from_model(model):
    frames, height, width = model.inputs[0].shape[1:4]
    return {"frames": frames or 16, "image_size": (height, width)}


def _build_video_tagger(info, options, model_options):
    from cvseq import video_tagger

    data = _video_data_options(options)
    return video_tagger(
        info.num_classes, frames=data["frames"], image_size=data["image_size"],
        multi_label=info.multi_label, **model_options,
    )


register_task(Task(
    name="video_tagger",
    description="CNN+LSTM video tagging (clips -> class or tags)",
    default_dataset="moving_digits",
    data_options=_video_data_options,
    build=_build_video_tagger,
    options_from_model=_video_options_from_model,
    read_inputs=read_video_inputs,
    describe=describe_classes,
))
