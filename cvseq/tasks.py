"""Each use case as the `cvseq` command, the examples and the tests see it.

A `TaskSpec` is declared beside its factory (at the bottom of the factory's
module: `register_task(TaskSpec(...))`): the factory, its default data set,
how to shape the model from the data it will see, how to read user files
for `cvseq predict` and print the predictions. `list_tasks()` is the one
list that `cvseq list`, `cvseq train`, the examples and the tests sweep.

A new factory needs its module (factory + `register_task` line) and its
test: `cvseq.models` imports every module of its package, and a spec's
`dataset` serves the task (`DatasetInfo.tasks`, `list_datasets(task=...)`)
without a change to the data set's own registration.
"""

import dataclasses
import os

import numpy as np

from cvseq._validation import check_image_size, check_int
from cvseq.errors import UserInputError  # noqa: F401 (re-exported)


def _no_options(options):
    return {}


def _no_model_options(model):
    return {}


@dataclasses.dataclass(frozen=True, kw_only=True)
class TaskSpec:
    """One use case as the command sees it (keyword fields only).

    Attributes:
        name: the factory's name, e.g. `"video_tagger"`.
        description: one line for `cvseq list`.
        factory: the factory, returning a `cvseq.Task`; None for a task
            with nothing to train (the tracker).
        dataset: the data set `cvseq train NAME` uses by default; its
            `DatasetInfo.tasks` (and `list_datasets(task=NAME)`) name this
            task without a change to the data set's registration.
        datasets: other data sets the task trains on (`cvseq train NAME
            --dataset D`), named by their `DatasetInfo.tasks` the same way
            (e.g. every clip data set for a clip classifier).
        shape: `(info, data_options) -> dict` of the factory arguments that
            the data decides, read from `info.element_spec` (frames, image
            size, sequence lengths) and `info` (classes, vocabulary), so the
            model is always shaped from the data it will see.
            `data_options` stand in for a size the spec leaves unknown.
        data_options: `(options) -> dict` of `load()` options from the
            command's common options (`frames`, `image_size`, ...), None
            where not given.
        predict: `(model, inputs, run) -> list of str`, one line per input
            (file paths or texts given to `cvseq predict`). `run` is the
            run's `run.json` plus `"threshold"`, the lowest score to print
            (`cvseq predict --threshold`, 0.5 when absent).
        options_from_model: `(model) -> dict` of the data options that make
            data fit a trained model (e.g. its frames and image size).
        picture: `(model, inputs, targets, run, path) -> path or None`: draws
            the predictions on a held-out batch (`inputs`, `targets` as
            NumPy) to `path` (`predictions.png` of a `cvseq train` run);
            None draws none.
        metric: the held-out metric printed after training.
        small_data: `load()` options for a small, quick copy of `dataset`
            (smoke runs and the tests' sweep of every task).
        example: the script in `examples/` that shows the task end to end,
            or None (none yet).
        command: how to run it: `"train"`, or `"track"` for the tracker.
    """

    name: str
    description: str
    factory: object = None
    dataset: str = None
    datasets: tuple = ()
    shape: object = None
    data_options: object = _no_options
    predict: object = None
    options_from_model: object = _no_model_options
    picture: object = None
    metric: str = "accuracy"
    small_data: dict = dataclasses.field(default_factory=dict)
    example: str = None
    command: str = "train"

    # The old field name, kept for code written against it.
    @property
    def default_dataset(self):
        return self.dataset

    def build(self, info, data_options=None, model_options=None):
        """The factory's model, shaped from `info` (the loaded data).

        Args:
            info: the `DatasetInfo` of the data the model will see.
            data_options: dict. The `load()` options the data was loaded
                with (they stand in for sizes the data leaves unknown).
            model_options: dict. More factory arguments (`--set`); those
                the data decides are refused.

        Raises:
            UserInputError: a model option names an argument the data
                decides, or the task has nothing to train.
        """
        if self.factory is None:
            raise UserInputError(
                f"Task {self.name!r} has no model to train; run it with "
                f"`cvseq {self.command}`.")
        model_options = dict(model_options or {})
        shaped = self.shape(info, dict(data_options or {}))
        clash = sorted(set(shaped) & set(model_options))
        if clash:
            raise UserInputError(
                f"--set {clash[0]}: the {self.name}'s {clash[0]} comes from the data "
                f"({clash[0]}={shaped[clash[0]]!r} for {info.name!r}). Change the "
                "data instead (--data, --frames, --image-size), or leave it out.")
        try:
            return self.factory(**shaped, **model_options)
        except ValueError as err:
            # A size the data decided and the factory refuses (one class,
            # clips too short): the data's doing, which the user never set.
            refused = next((k for k in shaped if f"`{k}`" in str(err)), None)
            if refused is None:
                raise
            what = f"{refused}={shaped[refused]!r}"
            if refused == "num_classes" and info.class_names:
                what += f" (classes {list(info.class_names)!r})"
            fix = ("Train it on data with more classes (video_folder: one "
                   "folder per label)." if refused == "num_classes" else
                   "Change the data (--data, --frames, --image-size).")
            raise UserInputError(
                f"The data of {info.name!r} gives {what}, which {self.name} "
                f"refuses: {str(err).splitlines()[0]} {fix}") from err


_TASKS = {}


def _origin(spec):
    return getattr(spec.factory, "__module__", None), getattr(
        spec.factory, "__qualname__", None)


def register_task(spec):
    """Adds a `TaskSpec` to `list_tasks()`; returns it.

    Raises:
        TypeError: `spec` is not a `TaskSpec`, or has a factory but no `shape`.
        ValueError: another factory's task has this name already (a module
            registering its own task again, as on reload, replaces it).
    """
    if not isinstance(spec, TaskSpec):
        raise TypeError(f"register_task takes a TaskSpec. Received: {spec!r}.")
    if spec.factory is not None and spec.shape is None:
        raise TypeError(f"TaskSpec {spec.name!r}: a factory needs `shape` (how the "
                        "data decides its arguments).")
    held = _TASKS.get(spec.name)
    if held is not None and _origin(held) != _origin(spec):
        raise ValueError(
            f"register_task: the task name {spec.name!r} is taken by "
            f"{'.'.join(filter(None, _origin(held)))}. Received a spec of that name "
            f"for {'.'.join(filter(None, _origin(spec))) or 'no factory'}; name the "
            "new task otherwise.")
    _TASKS[spec.name] = spec
    return spec


def _registered():
    # The specs sit at the bottom of the factories' modules: importing the
    # package registers them.
    import cvseq.models  # noqa: F401
    import cvseq.tracking  # noqa: F401

    return _TASKS


def list_tasks():
    """Every registered `TaskSpec`, by name (sorted)."""
    tasks = _registered()
    return {name: tasks[name] for name in sorted(tasks)}


def get_task(name):
    """The `TaskSpec` called `name`; `UserInputError` naming the tasks if none."""
    tasks = _registered()
    if name not in tasks:
        raise UserInputError(
            f"Unknown task {name!r}. Tasks: {', '.join(sorted(tasks))}."
        )
    return tasks[name]


# ---------------------------------------------------------------------------
# Shared readers and describers.
# ---------------------------------------------------------------------------


def check_video_file(path):
    """A path given to `cvseq predict` as a video: `UserInputError` for a
    folder or a missing file."""
    if os.path.isdir(path):
        raise UserInputError(
            f"{path!r} is a folder; give video files (e.g. {os.path.join(path, '*.mp4')}).")
    if not os.path.isfile(path):
        raise UserInputError(f"No such video file: {path!r}.")


_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def read_video_inputs(paths, model):
    """Decodes video files to the clip shape `model` takes: uint8
    `(len(paths), frames, height, width, 3)`.

    Raises:
        UserInputError: a file is missing or not a readable video, or the
            model does not read clips (a model file beside another task's
            run.json).
    """
    from cvseq.datasets.video_folder import (
        VideoReadError,
        _cached_count,
        _file_key,
        read_clip,
    )

    paths = _path_list(paths)
    shape = tuple(model.inputs[0].shape) if model.inputs else ()
    if len(shape) != 5:
        raise UserInputError(
            f"Model {model.name!r} does not read video clips (its input is "
            f"{shape or 'unknown'}); is the run.json beside it that of another "
            "model? Predict with the model.keras of a video run.")
    frames, height, width = shape[1:4]
    frames = frames or 16
    import warnings

    clips = []
    for path in paths:
        check_video_file(path)
        still = None
        if os.path.splitext(path)[1].lower() in _IMAGE_EXTENSIONS:
            # Decoded as an image (upright as its EXIF orientation says, which
            # OpenCV's video reader ignores), then repeated.
            clips.append(np.repeat(_read_image(path, (height, width))[None], frames, 0))
            still = "is an image"
        else:
            try:
                clips.append(read_clip(path, frames, (height, width)))
            except VideoReadError as err:
                raise UserInputError(f"Cannot read video {path!r}: {err}.") from err
            if frames > 1 and _cached_count(_file_key(path)) == 1:
                still = "has one frame"
        if still:
            warnings.warn(
                f"{path!r} {still}: the video model reads it as one frame repeated "
                f"{frames} times, so it sees no motion.", stacklevel=2)
    return np.stack(clips)


# The largest image `cvseq predict` decodes (100 megapixels, 300 MB as RGB):
# a file whose header claims more is refused before any pixel is decoded.
MAX_IMAGE_PIXELS = 100_000_000


def _pillow_check(path):
    """What Pillow finds of an image file, opened once: `(size, problem)`.

    `size` is `(width, height)` from the header, or None when Pillow does
    not know the format (OpenCV may). When the size is within
    `MAX_IMAGE_PIXELS` the pixels are decoded too, and `problem` says why a
    recognized file does not decode (a cut or broken pixel stream, which
    OpenCV would decode in part, padding the rest with grey), else None.
    """
    import warnings

    from PIL import Image, PngImagePlugin

    limits = Image.MAX_IMAGE_PIXELS, PngImagePlugin.MAX_TEXT_CHUNK
    size = None
    try:
        # Pillow's own bomb check would raise before telling the size (ours
        # is applied by the caller); a large metadata chunk (Photoshop's
        # XMP) is no damage.
        Image.MAX_IMAGE_PIXELS, PngImagePlugin.MAX_TEXT_CHUNK = None, 1 << 30
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                size = image.size
                if size[0] * size[1] <= MAX_IMAGE_PIXELS:
                    image.load()
    except OSError as err:  # only a cut or broken pixel stream is damage
        said = str(err).strip()
        if size and ("truncated" in said or "broken data stream" in said):
            return size, said.splitlines()[0][:200]
    except Exception:  # noqa: BLE001 (unknown format, SyntaxError, ...: OpenCV decides)
        pass
    finally:
        Image.MAX_IMAGE_PIXELS, PngImagePlugin.MAX_TEXT_CHUNK = limits
    return size, None


def _path_list(paths):
    """`paths` as a non-empty list of file names (a lone str is one name's
    characters to iterate, not a list)."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        raise TypeError(f"`paths` must be a list of file names: pass [{paths!r}].")
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise UserInputError("`paths` is empty: give at least one file.")
    return paths


def read_image_inputs(paths, model):
    """Reads image files (any OpenCV format) resized to the model's input.

    Files whose header claims more than `MAX_IMAGE_PIXELS` pixels are
    refused before decoding, damaged ones before OpenCV pads them.
    """
    paths = _path_list(paths)
    image_input = next((t for t in model.inputs if len(t.shape) == 4), None)
    if image_input is None:
        raise UserInputError(f"Model {model.name!r} does not take images.")
    height, width = image_input.shape[1:3]
    if height is None or width is None or image_input.shape[-1] != 3:
        raise UserInputError(
            f"Model {model.name!r} takes images of shape {tuple(image_input.shape[1:])}; "
            "read_image_inputs reads RGB files into a fixed (height, width, 3).")
    return np.stack([_read_image(path, (height, width)) for path in paths])


def _read_image(path, size):
    """An image file as uint8 RGB resized to `size` `(height, width)`, or a
    `UserInputError` that names it (too large, damaged, not an image)."""
    import cv2

    height, width = size
    header, problem = _pillow_check(path) if os.path.isfile(path) else (None, None)
    if header and header[0] * header[1] > MAX_IMAGE_PIXELS:
        raise UserInputError(
            f"Image {path!r} is {header[0]}x{header[1]} pixels by its header, more "
            f"than the {MAX_IMAGE_PIXELS:,} pixels cvseq decodes. Resize it first.")
    if problem:
        raise UserInputError(
            f"Image {path!r} is damaged or cut short ({problem}); it would be read "
            "with part of the picture missing. Copy it again from its source.")
    try:
        # IMREAD_COLOR turns the picture as its EXIF orientation says.
        image = cv2.imread(path, cv2.IMREAD_COLOR) if os.path.isfile(path) else None
    except cv2.error as err:
        raise UserInputError(
            f"Cannot read image {path!r}: {str(err).strip().splitlines()[-1][:200]}"
        ) from err
    if image is None:
        raise UserInputError(f"Cannot read image {path!r} (missing or not an image).")
    image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def describe_classes(outputs, run, top=3, model=None):
    """Top classes with probabilities, or for multi-label the tags scoring at
    least `run["threshold"]` (default 0.5). Without a run description
    (no run.json), the classes are their indices and `model` says whether
    it tags (`Task.targets == "multi_hot"`)."""
    names = run.get("class_names") or [str(i) for i in range(outputs.shape[-1])]
    threshold = run.get("threshold", 0.5)
    multi_label = run.get("multi_label")
    if multi_label is None:
        multi_label = getattr(model, "targets", None) == "multi_hot"
    lines = []
    for probabilities in np.asarray(outputs):
        if multi_label:
            tags = [f"{names[i]} {p:.2f}" for i, p in enumerate(probabilities)
                    if p >= threshold]
            lines.append(", ".join(tags) or f"(no tag scores {threshold:g} or more)")
        else:
            order = np.argsort(probabilities)[::-1][:top]
            lines.append(", ".join(f"{names[i]} {probabilities[i]:.2f}" for i in order))
    return lines


# ---------------------------------------------------------------------------
# Pieces the task specs share.
# ---------------------------------------------------------------------------


def classify(read):
    """A `predict` for classifiers: `read(inputs, model)`, then the top
    classes (or tags) of each."""
    def predict(model, inputs, run):
        return describe_classes(model.predict(read(inputs, model), verbose=0), run,
                                model=model)
    return predict


def read_texts(inputs, model):
    """The texts given to `cvseq predict`, as an object array `(n,)`;
    `UserInputError` if the model does not read text."""
    dtype = str(model.inputs[0].dtype) if model.inputs else ""
    if "string" not in dtype:
        raise UserInputError(
            f"Model {model.name!r} does not read text (its input is {dtype or 'unknown'}); "
            "is the run.json beside it that of another model? Predict with the "
            "model.keras of a text run.")
    _check_texts(inputs, "classified", "nothing to classify",
                 "'a gripping, beautiful film'")
    return np.array(inputs, dtype=object)


def read_prompts(inputs, model):
    """The texts given to a generating task's `cvseq predict`, as a list of
    str; a blank one (nothing to start from) is a `UserInputError`."""
    _check_texts(inputs, "read", f"{model.name!r} needs words to start from",
                 "'to be or not'")
    return [str(t) for t in inputs]


# A text that ends like this names a file, most likely, not a sentence.
_FILE_ENDINGS = (".txt", ".csv", ".tsv", ".json", ".md", ".mid", ".midi", ".png",
                 ".jpg", ".jpeg", ".mp4", ".avi", ".keras")


def _check_texts(inputs, verb, why, example):
    """`cvseq predict`'s texts: a blank one, or one that is not UTF-8 (a
    terminal in another encoding), is a `UserInputError` naming it; one
    that names a file (it exists, or it ends as a file name) is warned
    about: it is read as text, not opened."""
    import warnings

    which = (lambda i: "The text") if len(inputs) == 1 else (
        lambda i: f"Text {i + 1} of {len(inputs)}")
    for i, text in enumerate(inputs):
        text = str(text)
        if not text.strip():
            raise UserInputError(
                f"{which(i)} is blank: {why}. Give each text in quotes, e.g. "
                f"{example}.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            shown = text.encode("utf-8", "surrogateescape")[:40]
            raise UserInputError(
                f"{which(i)} is not UTF-8 ({shown!r}): set your terminal to UTF-8, "
                "or convert the text (e.g. iconv -f latin1 -t utf-8).") from None
        if os.path.isfile(text):
            warnings.warn(
                f"{text!r} is also a file name; it is {verb} as this text, not as "
                f"the file's contents. To give those: \"$(cat '{text}')\".",
                stacklevel=3)
        elif " " not in text and text.lower().endswith(_FILE_ENDINGS):
            warnings.warn(
                f"{text!r} looks like a file name (there is no such file here); it "
                f"is {verb} as this text. Texts are given as texts, in quotes.",
                stacklevel=3)


def read_token_ids(text, model):
    """The space-separated int ids of `text`, for a model fed token ids:
    at least one, each in `[1, vocabulary size)` (0 pads); else a
    `UserInputError`."""
    size = model.outputs[0].shape[-1] if len(model.outputs or []) == 1 else None
    allowed = f"ints from 1 to {size - 1}" if size else "positive ints"
    words = text.split()
    ids = [int(w) for w in words if w.isascii() and w.isdecimal()]  # not "²"
    if not words or len(ids) != len(words) or not all(
            0 < i and (size is None or i < size) for i in ids):
        raise UserInputError(
            f"{text!r}: {model.name!r} reads token ids; give {allowed}, "
            "space-separated (e.g. '3 5 2').")
    return ids


def given(options, name, default):
    """`options[name]`, or `default` when it is absent or None (never when 0:
    zero is checked, and refused, like any other value)."""
    value = options.get(name)
    return default if value is None else value


def dimension(value, fallback, what):
    """A static size from an element spec, else `fallback` (a data option)."""
    if value is not None:
        return int(value)
    if fallback is None:
        raise UserInputError(
            f"The data leaves the {what} unknown (None in its element spec); pass "
            f"it as a data option (--data {what}=N).")
    return fallback


def image_size_of(shape, data_options):
    """`(height, width)` of an image spec `(h, w, c)` or clip spec `(t, h, w, c)`."""
    height, width = shape[-3:-1]
    fallback = data_options.get("image_size")
    fallback = check_image_size(fallback) if fallback is not None else (None, None)
    return (dimension(height, fallback[0], "image_size"),
            dimension(width, fallback[1], "image_size"))


def sequence_length(info):
    """The target length of a sequence data set's examples."""
    return int(info.element_spec[1].shape[0])


def image_shape(info, data_options):
    """Factory arguments of an image task: its classes and image size, from
    `(h, w, 3)` images."""
    return {"num_classes": info.num_classes,
            "image_size": image_size_of(info.element_spec[0].shape, data_options)}


def token_sequence_shape(info, data_options):
    """Factory arguments of a next-token model: vocabulary and window length."""
    return {"vocabulary": info.vocabulary, "sequence_length": sequence_length(info)}


def image_data_options(default):
    """`data_options` of the image tasks: `--image-size`, else `default`."""
    def options_(options):
        return {"image_size": check_image_size(given(options, "image_size", default))}
    return options_


def image_options_from_model(model):
    return {"image_size": tuple(model.inputs[0].shape[1:3])}


def video_data_options(options):
    """`data_options` of the clip tasks: `--frames` (8) and `--image-size` (32)."""
    return {
        "frames": check_int("frames", given(options, "frames", 8)),
        "image_size": check_image_size(given(options, "image_size", 32)),
    }


def video_options_from_model(model):
    frames, height, width = model.inputs[0].shape[1:4]
    return {"frames": frames or 16, "image_size": (height, width)}


def clip_classifier_shape(info, data_options):
    """Factory arguments of a clip classifier, from `(frames, h, w, 3)` clips."""
    clips = info.element_spec[0].shape
    return {"num_classes": info.num_classes,
            "frames": dimension(clips[0], data_options.get("frames"), "frames"),
            "image_size": image_size_of(clips, data_options),
            "multi_label": bool(info.multi_label)}


def clip_picture(model, inputs, targets, run, path):
    """A `picture`: sample clips titled with their true and predicted
    classes (tags for multi-label)."""
    from cvseq import reporting

    inputs, targets = inputs[:6], targets[:6]
    outputs = model.predict(inputs, verbose=0)
    names = run.get("class_names") or [str(i) for i in range(outputs.shape[-1])]
    if run.get("multi_label"):
        true = [",".join(names[i] for i in np.flatnonzero(t)) for t in targets]
        pred = [",".join(names[i] for i in np.flatnonzero(o >= 0.5)) or "-" for o in outputs]
    else:
        true = [names[int(t)] for t in targets]
        pred = [names[int(o.argmax())] for o in outputs]
    return reporting.plot_clip_predictions(inputs, true, pred, path)


def generate_texts(**options):
    """A `predict` for the text-to-text generators: `model.generate(texts,
    **options)` on the given texts, one str per input."""
    def predict(model, inputs, run):
        return [str(t) for t in model.generate(read_prompts(inputs, model), **options)]
    return predict


def image_task(*, default_image_size, **fields):
    """A `TaskSpec` of a task on `(h, w, 3)` images: classes and image size
    from the data (`image_shape`), `--image-size` (else
    `default_image_size`), and new data sized as the trained model's input.
    `fields` are the task's own (and may replace these)."""
    return TaskSpec(**{"shape": image_shape,
                       "data_options": image_data_options(default_image_size),
                       "options_from_model": image_options_from_model,
                       **fields})


def clip_classifier_task(**fields):
    """A `TaskSpec` of a clip classifier (`video_tagger`,
    `video_classifier_3d`): the labelled clips of `"moving_digits"` by
    default (and of `sample_videos`, `video_folder` and `ucf101`), shaped
    from `(frames, h, w, 3)` clips (`clip_classifier_shape`), `--frames`
    and `--image-size`, and the top classes of video files for
    `cvseq predict`. `fields` are the task's own (and may replace these)."""
    return TaskSpec(**{"dataset": "moving_digits",
                       # The other labelled clip data sets: they name only
                       # video_tagger, the specs pair them with every clip
                       # classifier (a new one needs no edit of theirs).
                       "datasets": ("sample_videos", "video_folder", "ucf101"),
                       "shape": clip_classifier_shape,
                       "data_options": video_data_options,
                       "predict": classify(read_video_inputs),
                       "picture": clip_picture,
                       "options_from_model": video_options_from_model,
                       "small_data": {"num_clips": 8, "frames": 4, "image_size": 16},
                       **fields})
