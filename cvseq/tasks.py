"""What the `cvseq` command knows about each use case.

A `Task` ties a factory to its default data set, to the options that make
the data fit the model, and to reading user files for `cvseq predict` and
describing the predictions. `register_task` adds one; `list_tasks()` names
them.
"""

import dataclasses
import os

import numpy as np

from cvseq._validation import check_image_size, check_int
from cvseq.errors import UserInputError  # noqa: F401 (re-exported)


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
        predict: `(model, inputs, run) -> list of str`, one line per input
            (file paths or texts given to `cvseq predict`). `run` is the
            run's `run.json` plus `"threshold"`, the lowest score to print
            (`cvseq predict --threshold`, 0.5 when absent).
        options_from_model: `(model) -> dict` of the options that make data
            fit a trained model (e.g. its frames and image size).
        metric: the held-out metric printed after training.
    """

    name: str
    description: str
    default_dataset: str
    data_options: object
    build: object
    predict: object
    options_from_model: object = lambda model: {}
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


# The largest image `cvseq predict` decodes (100 megapixels, 300 MB as RGB):
# a file whose header claims more is refused before any pixel is decoded.
MAX_IMAGE_PIXELS = 100_000_000


def _header_size(path):
    """`(width, height)` from an image file's header, without decoding the
    pixels; None when Pillow does not know the format (OpenCV may)."""
    import warnings

    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    try:
        # Pillow's own bomb check would raise before telling the size; ours
        # is applied by the caller.
        Image.MAX_IMAGE_PIXELS = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return image.size
    except Exception:  # noqa: BLE001 (unknown format: let OpenCV try)
        return None
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def read_image_inputs(paths, model):
    """Reads image files (any OpenCV format) resized to the model's input.

    Files whose header claims more than `MAX_IMAGE_PIXELS` pixels are
    refused before decoding.
    """
    import cv2

    image_input = next((t for t in model.inputs if len(t.shape) == 4), None)
    if image_input is None:
        raise UserInputError(f"Model {model.name!r} does not take images.")
    height, width = image_input.shape[1:3]
    images = []
    for path in paths:
        size = _header_size(path) if os.path.isfile(path) else None
        if size and size[0] * size[1] > MAX_IMAGE_PIXELS:
            raise UserInputError(
                f"Image {path!r} is {size[0]}x{size[1]} pixels by its header, more "
                f"than the {MAX_IMAGE_PIXELS:,} pixels cvseq decodes. Resize it first.")
        try:
            image = cv2.imread(path, cv2.IMREAD_COLOR) if os.path.isfile(path) else None
        except cv2.error as err:
            raise UserInputError(
                f"Cannot read image {path!r}: {str(err).strip().splitlines()[-1][:200]}"
            ) from err
        if image is None:
            raise UserInputError(f"Cannot read image {path!r} (missing or not an image).")
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
        images.append(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    return np.stack(images)


def describe_classes(outputs, run, top=3):
    """Top classes with probabilities, or for multi-label the tags scoring at
    least `run["threshold"]` (default 0.5)."""
    names = run.get("class_names") or [str(i) for i in range(outputs.shape[-1])]
    threshold = run.get("threshold", 0.5)
    lines = []
    for probabilities in np.asarray(outputs):
        if run.get("multi_label"):
            tags = [f"{names[i]} {p:.2f}" for i, p in enumerate(probabilities)
                    if p >= threshold]
            lines.append(", ".join(tags) or f"(no tag scores {threshold:g} or more)")
        else:
            order = np.argsort(probabilities)[::-1][:top]
            lines.append(", ".join(f"{names[i]} {probabilities[i]:.2f}" for i in order))
    return lines


# ---------------------------------------------------------------------------
# Tasks.
# ---------------------------------------------------------------------------


def _no_options(options):
    return {}


def _sequence_length(info):
    """The target length of a sequence data set's examples."""
    return int(info.element_spec[1].shape[0])


def _classify(read):
    def predict(model, inputs, run):
        return describe_classes(model.predict(read(inputs, model), verbose=0), run)
    return predict


def _given(options, name, default):
    """`options[name]`, or `default` when it is absent or None (never when 0:
    zero is checked, and refused, like any other value)."""
    value = options.get(name)
    return default if value is None else value


def _video_data_options(options):
    return {
        "frames": check_int("frames", _given(options, "frames", 8)),
        "image_size": check_image_size(_given(options, "image_size", 32)),
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


def _build_video_classifier_3d(info, options, model_options):
    from cvseq import video_classifier_3d

    data = _video_data_options(options)
    return video_classifier_3d(
        info.num_classes, frames=data["frames"], image_size=data["image_size"],
        multi_label=info.multi_label, **model_options,
    )


def _read_texts(inputs, model):
    return np.array(inputs, dtype=object)


def _build_text_classifier(info, options, model_options):
    from cvseq import text_classifier

    return text_classifier(info.num_classes, vocabulary=info.vocabulary, **model_options)


def _build_language_model(info, options, model_options):
    from cvseq import language_model

    return language_model(vocabulary=info.vocabulary,
                          sequence_length=_sequence_length(info), **model_options)


def _generate_text(model, inputs, run):
    return [str(t) for t in model.generate(list(inputs), seed=0)]


def _build_translator(info, options, model_options):
    from cvseq import translator

    return translator(source_vocabulary=info.vocabulary["source"],
                      target_vocabulary=info.vocabulary["target"],
                      sequence_length=_sequence_length(info), **model_options)


def _translate(model, inputs, run):
    return [str(t) for t in model.translate(list(inputs), beam_width=4)]


def _build_sequence_generator(info, options, model_options):
    from cvseq import sequence_generator

    return sequence_generator(vocabulary=info.vocabulary,
                              sequence_length=_sequence_length(info), **model_options)


def _generate_sequence(model, inputs, run):
    """Each input is a primer of space-separated tokens ("-": start token only)."""
    lines = []
    for primer in inputs:
        seed = None if primer.strip() in ("", "-") else [primer.split()]
        tokens = model.generate(seed, seed=0)
        tokens = tokens[0] if tokens and isinstance(tokens[0], (list, tuple)) else tokens
        lines.append(" ".join(str(t) for t in tokens))
    return lines


def _captions_data_options(options):
    size = options.get("image_size")
    return {} if size is None else {"image_size": check_image_size(size)}


def _build_image_captioner(info, options, model_options):
    from cvseq import image_captioner

    image_shape = info.element_spec[0]["images"].shape
    return image_captioner(vocabulary=info.vocabulary, image_size=tuple(image_shape[:2]),
                           sequence_length=_sequence_length(info), **model_options)


def _caption(model, inputs, run):
    images = read_image_inputs(inputs, model)
    return [str(c) for c in model.caption(images, beam_width=3)]


def _build_trajectory_predictor(info, options, model_options):
    from cvseq import trajectory_predictor

    history, features = info.element_spec[0].shape
    return trajectory_predictor(history=int(history), horizon=_sequence_length(info),
                                features=int(features), **model_options)


def _predict_trajectory(model, inputs, run):
    """Each input is a CSV file of positions, one `x,y` row per time step."""
    history, features = model.inputs[0].shape[1:3]
    lines = []
    for path in inputs:
        try:
            track = np.loadtxt(path, delimiter=",", ndmin=2, dtype="float32")
        except (OSError, ValueError) as err:
            raise UserInputError(f"Cannot read positions from {path!r}: {err}.") from err
        if track.size and track.shape[1] != features:
            raise UserInputError(
                f"{path!r} has {track.shape[1]} columns; the model reads {features} "
                "(one `x,y` row per time step).")
        bad = np.flatnonzero(~np.isfinite(track).all(axis=1))
        if len(bad):
            raise UserInputError(
                f"{path!r} has NaN or infinite positions (row {bad[0] + 1} of "
                f"{len(track)}); every row must hold finite numbers.")
        if len(track) < history:
            raise UserInputError(
                f"{path!r} has {len(track)} positions; the model reads the last "
                f"{history}."
            )
        future = model.predict(track[None, -history:], verbose=0)[0]
        lines.append(" ".join(f"({x:.1f},{y:.1f})" for x, y in future[:, :2]))
    return lines


def _image_data_options(default):
    def options_(options):
        return {"image_size": check_image_size(_given(options, "image_size", default))}
    return options_


def _image_options_from_model(model):
    return {"image_size": tuple(model.inputs[0].shape[1:3])}


def _image_factory(factory_name, default_size):
    def build(info, options, model_options):
        import cvseq

        size = _image_data_options(default_size)(options)["image_size"]
        kwargs = dict(image_size=size, **model_options)
        if factory_name == "image_classifier":
            kwargs["multi_label"] = info.multi_label
        return getattr(cvseq, factory_name)(info.num_classes, **kwargs)
    return build


def _detect(model, inputs, run):
    """Boxes scoring at least `run["threshold"]` (default 0.5): `label score
    [x1 y1 x2 y2]` in input pixels."""
    images = read_image_inputs(inputs, model)
    outputs = model.predict(images, verbose=0)
    names = run.get("class_names") or []
    threshold = run.get("threshold", 0.5)
    lines = []
    for i in range(len(images)):
        found = []
        for k in range(int(outputs["num_detections"][i])):
            score = float(outputs["scores"][i, k])
            if score < threshold:
                continue
            label = int(outputs["labels"][i, k])
            name = names[label] if label < len(names) else str(label)
            box = " ".join(f"{v:.0f}" for v in outputs["boxes"][i, k])
            found.append(f"{name} {score:.2f} [{box}]")
        lines.append("; ".join(found) or f"(no box scores {threshold:g} or more)")
    return lines


def _segment(model, inputs, run):
    """The share of pixels given to each class present."""
    images = read_image_inputs(inputs, model)
    masks = model.predict(images, verbose=0).argmax(-1)
    names = run.get("class_names") or [str(i) for i in range(int(masks.max()) + 1)]
    lines = []
    for mask in masks:
        counts = np.bincount(mask.ravel(), minlength=len(names)) / mask.size
        lines.append(", ".join(f"{names[c]} {counts[c]:.1%}"
                               for c in np.argsort(counts)[::-1] if counts[c] > 0))
    return lines


for _task in (
    Task("image_classifier", "CNN image classification (image -> class or tags)",
         "digits", _image_data_options(32), _image_factory("image_classifier", 32),
         _classify(read_image_inputs), _image_options_from_model),
    Task("object_detector", "CNN object detection (image -> boxes, labels, scores)",
         "digit_detection", _image_data_options(96),
         _image_factory("object_detector", 96), _detect, _image_options_from_model,
         metric="loss"),
    Task("image_segmenter", "CNN encoder-decoder segmentation (image -> class per pixel)",
         "digit_segmentation", _image_data_options(64),
         _image_factory("image_segmenter", 64), _segment, _image_options_from_model,
         metric="mean_iou"),
    Task("video_tagger", "CNN+LSTM video tagging (clips -> class or tags)",
         "moving_digits", _video_data_options, _build_video_tagger,
         _classify(read_video_inputs), _video_options_from_model),
    Task("video_classifier_3d", "3D-CNN action classification (clips -> class)",
         "moving_digits", _video_data_options, _build_video_classifier_3d,
         _classify(read_video_inputs), _video_options_from_model),
    Task("text_classifier", "RNN sequence classification (text -> class)",
         "rotten_tomatoes", _no_options, _build_text_classifier,
         _classify(_read_texts)),
    Task("language_model", "RNN next-word prediction (prompt -> continuation)",
         "hamlet", _no_options, _build_language_model, _generate_text,
         metric="perplexity"),
    Task("translator", "RNN encoder-decoder with attention (text -> text)",
         "cldr_names", _no_options, _build_translator, _translate),
    Task("sequence_generator", "RNN music generation (primer -> note sequence)",
         "bach_chorales", _no_options, _build_sequence_generator, _generate_sequence,
         metric="perplexity"),
    Task("image_captioner", "CNN encoder + LSTM decoder (image -> caption)",
         "digit_captions", _captions_data_options, _build_image_captioner, _caption),
    Task("trajectory_predictor", "RNN motion prediction (past positions -> future)",
         "digit_trajectories", _no_options, _build_trajectory_predictor,
         _predict_trajectory, metric="ade"),
):
    register_task(_task)


# video_predictor: `--frames` counts context and future (half each).
def _predictor_data_options(options):
    data = _video_data_options(options)
    frames = check_int("frames", data["frames"], minimum=2)
    return {"frames_in": frames // 2, "frames_out": frames - frames // 2,
            "image_size": data["image_size"]}


def _build_video_predictor(info, options, model_options):
    from cvseq import video_predictor

    context, future = info.element_spec
    return video_predictor(frames_in=int(context.shape[0]),
                           frames_out=int(future.shape[0]),
                           image_size=tuple(int(s) for s in context.shape[1:3]),
                           channels=int(context.shape[3]), **model_options)


def _predict_video_frames(model, inputs, run):
    """Each input is a video file: `frames_in` frames sampled uniformly across
    it (as `read_video_inputs` reads every video task's input) are the
    context; grey models see each pixel's brightest channel."""
    clips = read_video_inputs(inputs, model).astype("float32")
    if model.inputs[0].shape[-1] == 1:
        clips = clips.max(axis=-1, keepdims=True)
    future = model.predict_frames(clips, model.frames_out)
    change = np.abs(future - clips[:, -1:]).mean(axis=(2, 3, 4))
    return [f"{len(c)} frames predicted; mean |change| from the last frame: "
            + " ".join(f"{v:.1f}" for v in c) for c in change]


def _predictor_options_from_model(model):
    return {"frames_in": model.frames_in, "frames_out": model.frames_out,
            "image_size": tuple(model.inputs[0].shape[2:4])}


register_task(
    Task("video_predictor", "ConvLSTM next-frame prediction (frames -> future frames)",
         "moving_digit_frames", _predictor_data_options, _build_video_predictor,
         _predict_video_frames, _predictor_options_from_model, metric="frame_mse"))


# instance_segmenter: each object its own mask (issue 14).
def _instances(model, inputs, run):
    """Instances scoring at least `run["threshold"]` (default 0.5): `label
    score (area px)`, best first."""
    images = read_image_inputs(inputs, model)
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


register_task(
    Task("instance_segmenter", "CNN instance segmentation (image -> a mask per object)",
         "digit_instances", _image_data_options(32), _image_factory("instance_segmenter", 32),
         _instances, _image_options_from_model, metric="semantic_mean_iou"))
