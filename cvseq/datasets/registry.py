"""The data set registry behind `cvseq.datasets.load` and `list_datasets`."""

import dataclasses
import inspect
import sys

import numpy as np

from cvseq._tf import tensorflow as _tensorflow
from cvseq._validation import check_bool, check_choice, check_int
from cvseq.datasets import batches
from cvseq.errors import UserError, UserInputError


class DatasetUnavailableError(UserError, RuntimeError):
    """A data set could not be downloaded (no network) or found on disk."""


@dataclasses.dataclass
class DatasetInfo:
    """What `load(..., with_info=True)` says about a data set.

    `load` fills `name`, `split`, `tasks` and `source` from the data set's
    `register_dataset` call (and `description` when the builder leaves it
    empty), and `num_examples` when the builder gives NumPy arrays; a
    builder sets the rest.

    Attributes:
        name: registry name.
        split: the split loaded.
        tasks: tuple of the cvseq factories whose models fit this data
            (e.g. `("video_tagger", "video_classifier_3d")`): those of its
            `register_dataset`, then the tasks whose spec names it as their
            default data set; `task` is the first.
        source: `"embedded"`, `"tfds"` or `"folder"`.
        class_names: names of the classes (or tags), in label order.
        multi_label: whether targets are multi-hot vectors.
        num_examples: examples in the split, when known.
        element_spec: the `(inputs, targets)` spec of one unbatched example
            (`tf.TensorSpec`s; `ArraySpec`s with `format="numpy"`).
        skipped: files that could not be read (folder readers), as
            `(path, reason)` pairs: those found when loading, and any that
            fail later while the data set is iterated.
        description: one line about the data.
        shuffled: the source already shuffles (e.g. file names before
            decoding), so `load` does not buffer decoded examples to shuffle.
        vocabulary: text and token data sets: the vocabulary built on the
            training split, to pass as the model's `vocabulary` (a
            `{"source": ..., "target": ...}` dict for translation pairs).
    """

    name: str = None
    split: str = None
    tasks: tuple = ()
    source: str = None
    class_names: list = dataclasses.field(default_factory=list)
    multi_label: bool = False
    num_examples: int = None
    element_spec: object = None
    skipped: list = dataclasses.field(default_factory=list)
    description: str = ""
    shuffled: bool = False
    vocabulary: object = None

    def __post_init__(self):
        self.tasks = _task_tuple(self.tasks)

    @property
    def task(self):
        """The first of `tasks` (the factory the data set was made for)."""
        return self.tasks[0] if self.tasks else None

    @property
    def num_classes(self):
        return len(self.class_names)


def _task_tuple(tasks):
    return (tasks,) if isinstance(tasks, str) else tuple(tasks or ())


def _tasks_by_dataset():
    """`{data set name: (task, ...)}`: the registered task specs that name
    each data set as their default `dataset` or among their `datasets`
    (sorted by task name)."""
    from cvseq import tasks

    served = {}
    for name, spec in tasks.list_tasks().items():
        for dataset in dict.fromkeys((spec.dataset, *spec.datasets)):
            served.setdefault(dataset, []).append(name)
    return served


def _served_tasks(entry, by_dataset):
    """The data set's own `tasks`, then the tasks whose spec names it (as
    their default `dataset` or in `datasets`), so a new task needs no
    change to its data set's registration. `by_dataset`:
    `_tasks_by_dataset()`, read once per call of the public
    function."""
    return entry.tasks + tuple(name for name in by_dataset.get(entry.name, ())
                               if name not in entry.tasks)


@dataclasses.dataclass(frozen=True)
class _Entry:
    name: str
    tasks: tuple
    source: str
    description: str
    build: object
    options: tuple  # the options `load` accepts; None: the builder checks

    @property
    def task(self):
        return self.tasks[0]


_REGISTRY = {}
# Keyword arguments of every builder that are `load`'s own, not options.
_LOAD_ARGUMENTS = ("split", "seed", "shuffle")


def _keywords(function):
    """`(names of keyword parameters after the first, takes **kwargs)`."""
    parameters = list(inspect.signature(function).parameters.values())[1:]
    names = tuple(p.name for p in parameters
                  if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
                  and p.name not in _LOAD_ARGUMENTS)
    return names, any(p.kind is p.VAR_KEYWORD for p in parameters)


def _builder_options(build, options_from):
    """The options `load` accepts: the builder's keyword parameters, and
    those of `options_from` (the function it passes `**options` on to);
    None when the builder takes `**options` from nowhere named (it checks
    them itself)."""
    names, open_ended = _keywords(build)
    if options_from is not None:
        forwarded, open_ended = _keywords(options_from)
        names += tuple(n for n in forwarded if n not in names)
    return None if open_ended else names


def register_dataset(name, *, task=None, tasks=(), source, description,
                     options_from=None):
    """Decorator: `build(split, *, seed, shuffle, <options>) -> (dataset, info)`.

    The builder returns the examples as NumPy arrays `(inputs, targets)`
    (served as `tf.data` or, with `format="numpy"`, as NumPy batches on any
    backend), a reader (see `batches.is_reader`), or an unbatched
    `tf.data.Dataset` of `(inputs, targets)`, and a `DatasetInfo`; `load`
    fills the info's `name`, `split`, `tasks` and `source` from these
    arguments, shuffles, batches and prefetches the data. The builder's
    keyword parameters (after `seed` and `shuffle`) are the data set's
    options: `load` refuses any other, naming them (a builder taking
    `**options` checks its own).

    Args:
        name: str. The registry name.
        task, tasks: str, or tuple of str. The factories whose models fit
            the data (the first is the one it was made for). A task whose
            spec names this data set as its default `dataset` is added
            without being named here.
        source: str. `"embedded"`, `"tfds"` or `"folder"`.
        description: str. One line for `cvseq list`.
        options_from: function or None. Where the builder passes its
            `**options` (e.g. the data set's `generate`): its keyword
            parameters are options too.
    """
    tasks = _task_tuple(task) + _task_tuple(tasks)
    if not tasks:
        raise TypeError(f"register_dataset({name!r}): pass `task=` (or `tasks=`), "
                        "the factory whose model fits the data.")

    def decorator(build):
        _REGISTRY[name] = _Entry(name, tasks, source, description, build,
                                 _builder_options(build, options_from))
        return build

    return decorator


def register_generated(name, generate, *, task, description, targets,
                       class_names=(), source="embedded"):
    """Registers `name`: the examples `(scenes["images"], targets(scenes))`
    of `scenes = generate(split, seed=seed, **options)`, a dict of NumPy
    arrays (a generator of scenes or tiles that serves several tasks,
    each with its own `targets`); `generate`'s keyword parameters are the
    data set's options."""

    def build(split, *, seed=0, shuffle=None, **options):
        scenes = generate(split, seed=seed, **options)
        info = DatasetInfo(class_names=list(class_names))
        return (scenes["images"], targets(scenes)), info

    register_dataset(name, task=task, source=source, description=description,
                     options_from=generate)(build)


def list_datasets(task=None):
    """Maps each data set name to the factory (task) it was made for.

    Args:
        task: str or None. Keep only the data sets whose models this task
            fits (any of their `tasks`).
    """
    from cvseq import tasks

    served = _tasks_by_dataset()
    if task is not None:
        known = sorted({t for entry in _REGISTRY.values() for t in _served_tasks(entry, served)}
                       | set(tasks.list_tasks()))
        if task not in known:
            raise ValueError(f"Unknown task {task!r}. Tasks: {', '.join(known)}.")
    return {
        name: entry.task
        for name, entry in _REGISTRY.items()
        if task is None or task in _served_tasks(entry, served)
    }


def describe_datasets():
    """One dict per data set: name, task (the first), tasks, source,
    description and options (the option names `load` takes; None where the
    builder checks its own)."""
    served = _tasks_by_dataset()
    return [{"name": e.name, "task": e.task, "tasks": _served_tasks(e, served),
             "source": e.source, "description": e.description, "options": e.options}
            for e in _REGISTRY.values()]


def load(
    name,
    split="train",
    *,
    batch_size=32,
    shuffle=None,
    seed=0,
    with_info=False,
    format="tf",
    **options,
):
    """Loads a data set as a batched, prefetched `tf.data.Dataset`, or as
    NumPy batches for any Keras backend (`format="numpy"`).

    Args:
        name: str. A name from `list_datasets()`.
        split: str. `"train"`, `"validation"` or `"test"` (TFDS data sets
            also take TFDS split strings such as `"train[:10%]"`).
            Defaults to `"train"`.
        batch_size: int. Defaults to 32.
        shuffle: bool or None. Shuffle examples every epoch; None shuffles
            the training split only. Defaults to None.
        seed: int. Seeds generation, sampling and shuffling. Defaults to 0.
        with_info: bool. Also return a `DatasetInfo`. Defaults to False.
        format: `"tf"` or `"numpy"`. `"numpy"` needs no TensorFlow and
            returns a `cvseq.datasets.ArrayBatches` (a `keras.utils.PyDataset`
            of NumPy `(inputs, targets)` batches, with `.arrays` for the
            whole split): `model.fit` takes it on JAX, PyTorch or
            TensorFlow. It serves the embedded vision, video and trajectory
            data sets and `video_folder`; TFDS and text data sets are
            `tf.data` pipelines (`"tf"` only). Defaults to `"tf"`.
        **options: options of the data set (e.g. `frames`, `image_size`).

    Returns:
        A `tf.data.Dataset` (or `ArrayBatches`) of `(inputs, targets)`
        batches, or `(dataset, info)` when `with_info=True`.

    Example:

    >>> ds, info = cvseq.datasets.load("moving_digits", "test", frames=8,
    ...                                image_size=32, with_info=True)
    >>> info.class_names
    ['right', 'left', 'down', 'up']
    >>> batches = cvseq.datasets.load("moving_digits", frames=8, image_size=32,
    ...                               format="numpy")  # any Keras backend
    """
    check_choice("format", format, ("tf", "numpy"))
    if format == "tf":
        tf = _tensorflow("cvseq.datasets.load (tf.data pipelines; "
                         "format='numpy' needs no TensorFlow)")
    if not isinstance(name, str):
        raise TypeError(
            f"`name` must be a str, one data set's name such as 'moving_digits'. "
            f"Received: name={name!r}.")
    if name not in _REGISTRY:
        raise ValueError(
            f"Unknown data set {name!r}. Available: {', '.join(_REGISTRY)}. "
            "(`cvseq.datasets.list_datasets()` names them with their task.)"
        )
    batch_size = check_int("batch_size", batch_size)
    seed = check_int("seed", seed, minimum=0)
    check_bool("with_info", with_info)
    if not isinstance(split, str):
        raise TypeError(
            f"`split` must be a str such as 'train', 'validation' or 'test'. "
            f"Received: split={split!r}.")
    if shuffle is None:
        shuffle = split.startswith("train")
    check_bool("shuffle", shuffle)

    entry = _REGISTRY[name]
    if entry.options is not None:
        reject_unknown_options(name, options, entry.options)
    dataset, info = entry.build(split, seed=seed, shuffle=shuffle, **options)
    info.name, info.split, info.source = entry.name, split, entry.source
    info.tasks = _served_tasks(entry, _tasks_by_dataset())
    info.description = info.description or entry.description
    if format == "numpy":
        return _numpy_batches(name, dataset, info, batch_size, shuffle, seed,
                              with_info)
    if batches.is_reader(dataset):
        dataset = dataset.to_tf()
    elif batches.is_arrays(dataset):
        info.num_examples = batches.num_arrays_examples(dataset, name)
        dataset = tf.data.Dataset.from_tensor_slices(dataset)
        # In memory: shuffle all of it, not through a buffer (examples
        # often come grouped, e.g. ship tracks vessel by vessel).
        if shuffle and not info.shuffled:
            dataset = dataset.shuffle(info.num_examples, seed=seed,
                                      reshuffle_each_iteration=True)
            info.shuffled = True
    info.element_spec = dataset.element_spec
    _check_class_labels(name, info)
    if shuffle and not info.shuffled:
        buffer = info.num_examples if info.num_examples else 1024
        dataset = dataset.shuffle(
            min(buffer, 4096), seed=seed, reshuffle_each_iteration=True
        )
    dataset = dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
    return (dataset, info) if with_info else dataset


def _numpy_batches(name, data, info, batch_size, shuffle, seed, with_info):
    """`load(..., format="numpy")` once the builder gave its examples."""
    if not (batches.is_arrays(data) or batches.is_reader(data)):
        raise ValueError(
            f"Data set {name!r} is a tf.data pipeline, which format='numpy' does "
            "not serve (it serves the embedded vision, video and trajectory data "
            "sets and video_folder). Load it with format='tf' (needs TensorFlow); "
            "Keras fits a tf.data.Dataset on any backend."
        )
    info.element_spec = (data.element_spec if batches.is_reader(data)
                         else batches.array_spec(data))
    _check_class_labels(name, info)
    result = batches.ArrayBatches(data, batch_size=batch_size, shuffle=shuffle,
                                  seed=seed, name=name)
    info.num_examples = result.num_examples
    return (result, info) if with_info else result


def _check_class_labels(name, info):
    """Class labels are integers: float labels (0.5, 1.7) would be cast and
    train as classes without a word."""
    spec = info.element_spec[1] if isinstance(info.element_spec, tuple) else None
    if spec is None:
        is_integer = True  # no single target to check
    elif isinstance(spec, batches.ArraySpec):
        is_integer = np.issubdtype(spec.dtype, np.integer)
    else:
        import tensorflow as tf  # a tf.data pipeline: TensorFlow is there

        is_integer = not isinstance(spec, tf.TensorSpec) or spec.dtype.is_integer
    if info.class_names and not info.multi_label and not is_integer:
        raise TypeError(
            f"Data set {name!r} gives labels of dtype {spec.dtype.name}; class labels "
            f"are integers 0 to {len(info.class_names) - 1}. Map the labels to class "
            "indices (or set multi_label for multi-hot targets)."
        )


def reject_unknown_options(name, options, allowed):
    """Raises `TypeError` naming options a data set does not take."""
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TypeError(
            f"Data set {name!r} got unknown option(s) {', '.join(unknown)}. "
            f"Its options are: {', '.join(sorted(allowed))}."
        )


def load_splits(name, splits=("train", "validation", "test"), *, fallback=None,
                fallback_options=None, fallback_splits=None, reuse_vocabulary=False,
                batch_size=32, shuffle=None, seed=0, **options):
    """Loads several splits of a data set, or of `fallback` if it cannot be had.

    When `name` is not available (a TFDS set with no network), every split
    comes from `fallback` instead, and stderr says which data set is used
    and why, so a run never switches data silently. This is the one split
    loader of cvseq: `cvseq train` and the examples load through it.

    Args:
        name: str. A name from `list_datasets()`.
        splits: tuple. Each a split (str), or a `(split, options)` pair whose
            options apply to that split only (e.g.
            `("train", {"num_clips": 512})`: the training set's size, with
            the held-out splits at their own). Defaults to
            `("train", "validation", "test")`; a `"validation"` split the
            data set does not have gives None.
        fallback: str or None. An embedded data set that works offline.
        fallback_options: dict or None. Options for `fallback` instead of
            `options` (data sets take different options).
        fallback_splits: tuple or None. The splits of `fallback`, as many as
            `splits` (e.g. `("train", "validation", "test")` where `splits`
            holds out TFDS slices `("train[:90%]", "train[90%:]", "test")`).
            None: `splits`.
        reuse_vocabulary: bool. Give the later splits of `name` the first
            split's `info.vocabulary` (TFDS text sets that build one from
            their training split).
        batch_size, shuffle, seed: as for `load`.
        **options: options of `name`, for every split.

    When `name` is `fallback` itself, `fallback_options` and
    `fallback_splits` apply, so one call serves both choices.

    Returns:
        `(*datasets, info)`: one batched data set per split, then the
        `DatasetInfo` of the first; `info.name` tells which set was loaded.

    Example:

    >>> train, validation, test, info = cvseq.datasets.load_splits(
    ...     "imdb_reviews", fallback="rotten_tomatoes")
    """
    if "with_info" in options:
        raise TypeError(
            "load_splits takes no `with_info`: it always returns `(*datasets, info)`. "
            f"Received: with_info={options['with_info']!r}; leave it out.")
    entries = _split_entries("splits", splits)
    fallback_entries = entries
    if fallback_splits is not None:
        fallback_entries = _split_entries("fallback_splits", fallback_splits)
        if len(fallback_entries) != len(entries):
            raise ValueError(
                "`fallback_splits` must name as many splits as `splits`, so that "
                f"callers unpack one way. Received: splits={splits!r}, "
                f"fallback_splits={fallback_splits!r}.")
    if name == fallback:  # asked for the embedded set itself
        entries = fallback_entries
        if fallback_options is not None:
            options = dict(fallback_options)
    if fallback is not None and fallback not in _REGISTRY:
        raise ValueError(
            f"Unknown fallback data set {fallback!r}. Available: {', '.join(_REGISTRY)}.")
    common = dict(batch_size=batch_size, shuffle=shuffle, seed=seed)
    (split, extra), later = entries[0], entries[1:]
    try:
        first, info = load(name, split, with_info=True, **common, **{**options, **extra})
    except DatasetUnavailableError as err:
        if fallback is None or name == fallback:
            raise
        print(
            f"[cvseq] {name!r} is not available ({str(err).split('. ')[0]}). "
            f"Using the embedded data set {fallback!r} instead.",
            file=sys.stderr,
        )
        name = fallback
        options = dict(options if fallback_options is None else fallback_options)
        (split, extra), later = fallback_entries[0], fallback_entries[1:]
        first, info = load(name, split, with_info=True, **common, **{**options, **extra})
    if reuse_vocabulary and name != fallback:
        options = dict(options, vocabulary=info.vocabulary)
    datasets = [first]
    for split, extra in later:
        try:
            datasets.append(load(name, split, **common, **{**options, **extra}))
        except ValueError as err:
            # The data set has no validation split: said, then None. A
            # mistake in what the user gave (UserInputError) is not that.
            if split != "validation" or isinstance(err, UserInputError):
                raise
            reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
            print(f"[cvseq] {name!r} has no validation split ({reason}); training "
                  "without validation.", file=sys.stderr)
            datasets.append(None)
    return (*datasets, info)


def _split_entries(argument, splits):
    """`splits` as `[(split, options), ...]`; TypeError naming `argument`."""
    entries = []
    for entry in (splits,) if isinstance(splits, str) else tuple(splits):
        if isinstance(entry, str):
            entries.append((entry, {}))
        elif (isinstance(entry, tuple) and len(entry) == 2
              and isinstance(entry[0], str) and isinstance(entry[1], dict)):
            entries.append((entry[0], dict(entry[1])))
        else:
            raise TypeError(
                f"`{argument}` holds splits (str) or (split, options) pairs such as "
                f"(\"train\", {{\"num_clips\": 512}}). Received: {entry!r} in "
                f"{argument}={splits!r}.")
    if not entries:
        raise ValueError(f"`{argument}` must name at least one split. Received: "
                         f"{argument}={splits!r}.")
    return entries


def load_with_fallback(name, fallback, split="train", *, fallback_options=None,
                       **kwargs):
    """Deprecated: `load_splits(name, (split,), fallback=fallback)`.

    Returns:
        `(dataset, info)`.
    """
    import warnings

    warnings.warn("cvseq.datasets.load_with_fallback is deprecated; use "
                  "cvseq.datasets.load_splits(name, (split,), fallback=...).",
                  DeprecationWarning, stacklevel=2)
    kwargs.pop("with_info", None)
    return load_splits(name, (split,), fallback=fallback,
                       fallback_options=fallback_options, **kwargs)
