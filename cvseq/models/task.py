"""`cvseq.Task`: the one `keras.Model` base that every factory returns.

A task knows its own compile defaults (`compile()` with no argument, or
`compile(optimizer="sgd")` alone, compiles with the task's loss and metrics)
and takes what users naturally pass to `fit`, `evaluate` and `predict`:
Python lists and NumPy arrays of str (any dtype) or `tf.Tensor`s for text
inputs, uint8 or float pixels for images. NumPy (and list) inputs are
checked at the boundary, before Keras traces anything: their shapes against
the model's inputs, floats for NaN and inf, and class labels for being
integers in range. Of a `tf.data` dataset only its `element_spec` is read
(inputs without targets, single examples not batched, inputs of another
rank); its values and other iterables pass through unchecked (checking
them would cost a pass over the data; the cvseq data sets validate their
examples as they load them).
"""

import inspect
import numbers
import os
import sys
import warnings

import keras
import numpy as np

# What `targets=` says about the labels `fit` and `evaluate` receive.
TARGETS = ("class_ids", "multi_hot", "values")


def _is_string_dtype(dtype):
    return dtype is not None and "string" in str(dtype)


def _serialize_compile(arguments):
    """Compile keyword arguments -> a JSON-able dict (Keras object configs)."""
    serialized = {}
    for key, value in arguments.items():
        if key == "metrics" and value is not None:
            value = [keras.saving.serialize_keras_object(m) for m in value]
        elif key in ("optimizer", "loss"):
            value = keras.saving.serialize_keras_object(value)
        serialized[key] = value
    return serialized


def _deserialize_compile(serialized):
    """Fresh compile objects from `_serialize_compile`'s dict."""
    arguments = dict(serialized)
    if "optimizer" in arguments:
        arguments["optimizer"] = keras.optimizers.get(arguments["optimizer"])
    if "loss" in arguments:
        arguments["loss"] = keras.losses.get(arguments["loss"])
    if arguments.get("metrics") is not None:
        arguments["metrics"] = [keras.metrics.get(m) for m in arguments["metrics"]]
    return arguments


@keras.saving.register_keras_serializable(package="cvseq")
class Task(keras.Model):
    """A `keras.Model` that knows its task: compile defaults and input checks.

    Build one like a functional model, with the task's compile defaults:

        Task(inputs, outputs, compile_defaults={"optimizer": ..., "loss":
             ..., "metrics": [...]}, targets="class_ids")

    Every cvseq factory returns one (or a subclass: the generating models,
    both detectors, the instance segmenter, the video predictor, the
    two-stream video models). The defaults are saved with the model, so a
    loaded model compiles the same way.

    Args:
        *args, **kwargs: as for a functional `keras.Model`.
        compile_defaults: dict or None. Keyword arguments of `compile` that
            `"auto"` stands for (`optimizer`, `loss`, `metrics`, and any
            other compile argument such as `jit_compile`).
        targets: `"class_ids"`, `"multi_hot"`, `"values"` or None. What
            `fit`/`evaluate` check NumPy targets for: integer class ids in
            `[0, num_classes)` (num_classes from the output's last axis),
            multi-hot rows in [0, 1], or finite values. None checks nothing.
    """

    def __init__(self, *args, compile_defaults=None, targets=None, **kwargs):
        super().__init__(*args, **kwargs)
        if targets is not None and targets not in TARGETS:
            raise ValueError(
                f"`targets` must be one of {', '.join(map(repr, TARGETS))} or "
                f"None. Received: targets={targets!r}."
            )
        _untracked(self, "_compile_defaults", None if compile_defaults is None
                   else _serialize_compile(compile_defaults))
        self._targets = targets
        _untracked(self, "_compile_arguments", {})

    # Defaults of models saved before these were in the config (subclasses).
    def _fallback_compile_defaults(self):
        return None

    _fallback_targets = None

    def get_compile_defaults(self):
        """Fresh objects for `compile`'s `"auto"` arguments (a dict), or None."""
        serialized = getattr(self, "_compile_defaults", None)
        if serialized is None:
            defaults = self._fallback_compile_defaults()
            return None if defaults is None else dict(defaults)
        return _deserialize_compile(serialized)

    @property
    def targets(self):
        """What `fit` checks NumPy targets for (see the class docstring)."""
        return getattr(self, "_targets", None) or self._fallback_targets

    # Methods, not properties: Keras' saving walks a model's public
    # attributes, and an optimizer object met there first (the one a loaded
    # model was compiled with) was saved and loaded under that path instead
    # of "optimizer", so a reloaded model lost its optimizer state.
    def get_compile_arguments(self):
        """The arguments of the last `compile` call (`"auto"` kept as given)."""
        return dict(getattr(self, "_compile_arguments", {}))

    # Compile ------------------------------------------------------------

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Compiles; each `"auto"` argument takes the task's default.

        So `model.compile()` restores the factory's compile, and
        `model.compile(optimizer="sgd")` changes the optimizer alone,
        keeping the task's loss and metrics. Other keyword arguments (and
        `jit_compile`, which the defaults may set) go to `keras.Model.compile`.
        """
        if getattr(self, "_compiling_as_parent", False):
            # A parent's compile calling through (keras-cv's YOLOv8 for the
            # object detector, which resolved its own defaults).
            metrics = None if isinstance(metrics, str) and metrics == "auto" else metrics
            return super().compile(optimizer=optimizer, loss=loss, metrics=metrics,
                                   **kwargs)
        _untracked(self, "_compile_arguments", {
            "optimizer": optimizer, "loss": loss, "metrics": metrics, **kwargs
        })
        auto = [name for name, value in
                (("optimizer", optimizer), ("loss", loss), ("metrics", metrics))
                if isinstance(value, str) and value == "auto"]
        if auto:
            defaults = self.get_compile_defaults()
            if defaults is None:
                received = ", ".join(f"{a}='auto'" for a in auto)
                raise ValueError(
                    f"{self.name!r} has no compile defaults, so {received} "
                    "cannot be resolved. Pass the optimizer, loss and metrics "
                    "explicitly."
                )
            optimizer = defaults.pop("optimizer") if optimizer == "auto" else optimizer
            if metrics == "auto" and loss != "auto" and _one_hot_loss(_single(loss)):
                # The task's class-id metrics, read from one-hot targets.
                metrics = [_one_hot_metric(m) for m in defaults.pop("metrics", None) or []]
            loss = defaults.pop("loss", None) if loss == "auto" else loss
            metrics = defaults.pop("metrics", None) if metrics == "auto" else metrics
            for key in ("optimizer", "loss", "metrics"):
                defaults.pop(key, None)
            jit_default = defaults.pop("jit_compile", None)  # below
            kwargs = {**defaults, **kwargs}
        if "jit_compile" not in kwargs and keras.backend.backend() != "jax":
            # The task's XLA setting (off: XLA cannot use the cuDNN RNN
            # kernels), also when every other argument is given, as
            # `unfreeze_backbone` gives them. On JAX `jit_compile=False`
            # means no jit at all (the tagger's train step took 0.7-1.5 s
            # against 7 ms jitted), so there Keras' "auto" stays.
            if not auto:
                jit_default = (self.get_compile_defaults() or {}).get("jit_compile")
            if jit_default is not None:
                kwargs["jit_compile"] = jit_default
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def get_compile_config(self):
        """Keras' compile config, with `jit_compile` only when the user
        passed it (as `"cvseq_jit_compile"`). Keras saves the value it
        resolved on the saving backend, and the task's default differs
        between backends (XLA off on TensorFlow, jit on JAX)."""
        config = super().get_compile_config()
        if config is not None:
            config.pop("jit_compile", None)
            arguments = self.get_compile_arguments()
            if "jit_compile" in arguments:
                config["cvseq_jit_compile"] = arguments["jit_compile"]
            note_optimizer_state(self, config)
        return config

    def compile_from_config(self, config):
        """Compiles a loaded model as it was saved (Keras skips models whose
        `compile` is overridden unless they define this)."""
        config = keras.saving.deserialize_keras_object(config)
        # Keras' `jit_compile` (in files saved before `get_compile_config`
        # left it out) is the saving backend's resolution, not a choice: a
        # TensorFlow file's `False` made a model loaded on JAX train op by
        # op, without jit. This backend's default replaces it; the user's
        # own choice is kept.
        config.pop("jit_compile", None)
        if "cvseq_jit_compile" in config:
            config["jit_compile"] = config.pop("cvseq_jit_compile")
        optimizer_built = config.pop(OPTIMIZER_BUILT, True)
        self.compile(**config)
        build_optimizer_as_saved(self, optimizer_built)

    # Inputs -------------------------------------------------------------

    def fit(self, x=None, y=None, *args, **kwargs):
        kwargs = fit_keywords(args, kwargs)
        validation_data = kwargs.pop("validation_data", None)
        if self.compiled and getattr(self, "optimizer", None) is None:
            raise ValueError(
                f"{self.name!r} was compiled with optimizer=None, which can "
                "evaluate but not train. Compile it with an optimizer "
                "(model.compile(optimizer=\"adam\")), or model.compile() for the "
                "task's default.")
        _check_strategy(self)
        _check_rate_callbacks(self, kwargs.get("callbacks"))
        x, y, validation_data = self._check_fit_data(x, y, validation_data)
        if "shuffle" not in kwargs and _is_tf_dataset(x):
            # Keras ignores `shuffle` for a tf.data.Dataset (it shuffles
            # itself, as `cvseq.datasets.load` does) and warns at every fit
            # that its default True is ignored; a `shuffle` given is kept.
            kwargs["shuffle"] = False
        _build_state_before_tracing(self, x, y)
        return super().fit(x, y, validation_data=validation_data, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        x, y = self._check_data(x, y, "evaluate")
        _build_state_before_tracing(self, x, y)
        return super().evaluate(x, y, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        x, _ = self._check_data(x, None, "predict")
        return super().predict(x, *args, **kwargs)

    def _check_fit_data(self, x, y, validation_data):
        """`fit`'s in-memory `x`, `y` and `validation_data`, checked (see
        `_check_data`)."""
        x, y = self._check_data(x, y, "fit")
        if _is_tf_dataset(validation_data):
            self._check_dataset(validation_data, "evaluate", "validation_data: ")
        if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3):
            vx, vy = self._check_data(
                validation_data[0], validation_data[1], "fit", prefix="validation_data: "
            )
            validation_data = (vx, vy, *validation_data[2:])
        return x, y, validation_data

    def _check_data(self, x, y, method, prefix=""):
        """Converts and checks in-memory `x` (and `y`); of a `tf.data`
        dataset, only what its `element_spec` tells (no pass over it)."""
        if _is_tf_dataset(x):
            self._check_dataset(x, method, prefix)
        if x is None or not _in_memory(x):
            return x, y
        if y is None and method != "predict":
            raise ValueError(
                f"{prefix}`{method}` needs targets: pass `y` (one per example of "
                f"`x`), or a dataset of (inputs, targets) pairs. Received: `x` "
                "and no `y`.")
        inputs = self._named_inputs()
        if isinstance(x, dict):
            unknown = sorted(set(x) - set(inputs))
            if unknown:
                raise ValueError(
                    f"{prefix}`x` has keys {unknown} that are not inputs of "
                    f"{self.name!r}; its inputs are {sorted(inputs)}."
                )
            x = {key: self._check_input(value, key, inputs[key], method, prefix)
                 for key, value in x.items()}
            sizes = {v.shape[0] for v in x.values()}
            if len(sizes) > 1:
                raise ValueError(
                    f"{prefix}The inputs of `x` must hold the same number of examples; "
                    "they hold "
                    + ", ".join(f"{key!r} {value.shape[0]}" for key, value in x.items())
                    + ".")
        elif len(inputs) == 1:
            name, spec = next(iter(inputs.items()))
            x = self._check_input(x, name, spec, method, prefix)
            sizes = {x.shape[0]}
        else:
            return x, y
        if sizes == {0}:
            raise ValueError(
                f"{prefix}`x` holds no examples: `{method}` needs at least one. "
                "Received: an empty input."
            )
        if y is not None and _in_memory(y):
            y = self._check_targets(y, prefix)
        return x, y

    def _check_dataset(self, dataset, method, prefix):
        """A `tf.data` dataset's elements against the model: (inputs,
        targets) pairs for `fit` and `evaluate`, and batches, not single
        examples (the rank of each input one more than an example's)."""
        import tensorflow as tf

        element = dataset.element_spec
        if method != "predict" and not isinstance(element, tuple):
            raise ValueError(
                f"{prefix}`{method}` needs (inputs, targets) pairs; the dataset's "
                f"elements are inputs alone ({_spec_text(element)}). Map it to "
                "pairs, e.g. `dataset.map(lambda x: (x, label_of(x)))`.")
        x = element[0] if isinstance(element, tuple) else element
        inputs = self._named_inputs()
        if isinstance(x, dict):
            pairs = [(name, x[name], inputs[name]) for name in x if name in inputs]
        elif len(inputs) == 1:
            (name, model_input), = inputs.items()
            pairs = [(name, x, model_input)]
        else:
            return
        for name, spec, model_input in pairs:
            if type(spec) is not tf.TensorSpec or spec.shape.rank is None:
                continue
            received, expected = tuple(spec.shape), tuple(model_input.shape)
            # One example's shape, where the model's is known (a None
            # where the model has a size is a batch axis: not one example).
            if len(received) == len(expected) - 1 and all(
                    e is None or r == e for r, e in zip(received, expected[1:])):
                raise ValueError(
                    f"{prefix}The dataset's elements are single examples ({name!r}: "
                    f"shape {received}); {self.name!r} takes batches "
                    f"{_shape_text(expected)}. Batch it first: "
                    "`dataset.batch(32)` (cvseq.datasets.load batches for you).")
            # The array checks' message: a rank or a known size that differs
            # (Keras would say so deep inside the first trace, or not at all
            # once the step is traced for another size).
            _check_shape(received, expected, name, f"{prefix}The dataset's elements: ")
        self._check_dataset_targets(element, method, prefix)

    def _check_dataset_targets(self, element, method, prefix):
        """The dataset's targets' shape against a single output (sizes the
        dataset leaves unknown fit any)."""
        import tensorflow as tf

        if method == "predict" or not isinstance(element, tuple) or len(element) < 2:
            return
        kind = self._target_kind()
        outputs = self.outputs or []
        target = element[1]
        if (kind is None or len(outputs) != 1 or type(target) is not tf.TensorSpec
                or target.shape.rank is None):
            return
        _check_target_shape(tuple(target.shape), tuple(outputs[0].shape), kind,
                            f"{prefix}The dataset's targets: ")

    def _named_inputs(self):
        model_inputs = self.inputs or []
        names = [getattr(t, "name", None) or f"input_{i}" for i, t in enumerate(model_inputs)]
        if len(names) == 1 and names[0].startswith("keras_tensor"):
            names = ["inputs"]  # unnamed (keras-cv's detector): not Keras' internal name
        return dict(zip(names, model_inputs))

    def _check_input(self, value, name, spec, method, prefix):
        expected = tuple(spec.shape)
        if _is_string_dtype(spec.dtype):
            return self._string_input(value, name, expected, prefix)
        if _looks_like_paths(value):
            reader = {4: "read_image_inputs", 5: "read_video_inputs"}.get(len(expected))
            read = (f" Read the files first: cvseq.tasks.{reader}(paths, model) "
                    "gives pixels sized for the model." if reader else "")
            raise TypeError(
                f"{prefix}`x` ({name!r}) must be numbers of shape "
                f"{_shape_text(expected)}. Received text ({_few_texts(value)}), "
                f"not arrays.{read}")
        if not hasattr(value, "shape"):
            try:
                value = np.asarray(value)
            except ValueError:  # NumPy >= 1.24: ragged nested lists
                value = np.empty(0, object)
            if value.dtype == object:
                raise TypeError(
                    f"{prefix}`x` ({name!r}) must be numbers of shape "
                    f"{_shape_text(expected)}. Received ragged or non-numeric "
                    "data; pad it to one shape first."
                )
        _check_shape(tuple(value.shape), expected, name, prefix)
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            if not np.all(np.isfinite(value)):
                bad = int(np.size(value) - np.count_nonzero(np.isfinite(value)))
                raise ValueError(
                    f"{prefix}`x` ({name!r}) holds {bad} NaN or infinite "
                    f"value(s); `{method}` needs finite inputs. Drop or repair "
                    "those examples (e.g. np.nan_to_num) first."
                )
            _warn_if_pixels_look_rescaled(value, name, expected, method, prefix)
        return value

    def _string_input(self, value, name, expected, prefix):
        import tensorflow as tf

        if isinstance(value, (tf.Tensor, tf.RaggedTensor)):
            if value.dtype != tf.string:
                raise TypeError(
                    f"{prefix}`x` ({name!r}) must be strings. Received a "
                    f"tensor of dtype {value.dtype.name}."
                )
            _check_shape(tuple(value.shape), expected, name, prefix)
            return value
        if isinstance(value, (str, bytes)):
            raise ValueError(
                f"{prefix}`x` ({name!r}) must be a batch of texts of shape "
                f"{_shape_text(expected)}. Received one str: wrap it in a "
                f"list, e.g. [{value!r}]."
            )
        array = np.asarray(value, dtype=object)
        _check_shape(array.shape, expected, name, prefix)
        flat = array.reshape(-1)
        wrong = [v for v in flat if not isinstance(v, (str, bytes))]
        if wrong:
            raise TypeError(
                f"{prefix}`x` ({name!r}) must hold str. Received "
                f"{type(wrong[0]).__name__} values, e.g. {wrong[0]!r}."
            )
        # Keras takes strings as tensors (NumPy's fixed-width 'U' arrays,
        # and object arrays of more than one axis, it refuses).
        return tf.constant(array if array.size else np.zeros(array.shape, bytes),
                           dtype=tf.string)

    def _target_kind(self):
        """`targets`, as the loss the model is compiled with reads them: a
        one-hot loss takes `y` of the output's shape, and a loss of the
        user's own that is neither (KL divergence on soft labels, a lambda)
        is left to judge its own targets (None: not checked)."""
        kind = self.targets
        if kind != "class_ids":
            return kind
        loss = _single(self.get_compile_arguments().get("loss"))
        if _one_hot_loss(loss):
            return "one_hot"
        defaults = self.get_compile_defaults() or {}
        if (loss is None or (isinstance(loss, str) and loss == "auto")
                or _sparse_loss(loss) or _same_loss(loss, defaults.get("loss"))):
            return kind
        return None

    def _check_targets(self, y, prefix):
        kind = self._target_kind()
        if kind is None or isinstance(y, dict):  # dict targets: the task's own check
            return y
        if not hasattr(y, "shape"):
            y = np.asarray(y)
        if not isinstance(y, np.ndarray):
            return y  # tensors: Keras checks them as it runs
        if y.dtype.kind not in "biuf":
            hint = ""
            if y.dtype.kind in "USO" and kind == "class_ids":
                hint = (" Map the labels to class indices first, e.g. index = "
                        "{name: i for i, name in enumerate(class_names)}; "
                        "y = np.array([index[label] for label in labels]).")
            raise TypeError(
                f"{prefix}`y` must be numbers. Received dtype {y.dtype}.{hint}"
            )
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            raise ValueError(
                f"{prefix}`y` holds NaN or infinite values. Drop or repair "
                "those examples first."
            )
        outputs = self.outputs or []
        output = tuple(outputs[0].shape) if len(outputs) == 1 else None
        if output is not None:
            _check_target_shape(y.shape, output, kind, prefix)
        if kind == "values" or y.size == 0:
            return y
        num_classes = output[-1] if output is not None else None
        if kind == "one_hot":  # probabilities per class (soft labels too)
            if y.min() < 0 or y.max() > 1:
                raise ValueError(
                    f"{prefix}`y` must be one-hot (or soft) class targets in [0, 1] "
                    f"for the one-hot loss it is compiled with. Received values from "
                    f"{y.min()} to {y.max()}.")
            return y
        if kind == "multi_hot":
            if y.min() < 0 or y.max() > 1:
                raise ValueError(
                    f"{prefix}`y` must be multi-hot tags in [0, 1] of shape "
                    f"(batch, {num_classes}). Received values from {y.min()} "
                    f"to {y.max()}."
                )
            return y
        if y.dtype.kind == "f":
            fractional = y[y != np.round(y)]
            if fractional.size:
                raise ValueError(
                    f"{prefix}`y` must be integer class ids. Received float "
                    f"labels such as {fractional.reshape(-1)[0].item()!r}; a class "
                    "is not a fraction (for soft or multi-hot targets build "
                    "the model with multi_label=True)."
                )
        if y.min() < 0 or (num_classes is not None and y.max() >= num_classes):
            raise ValueError(
                f"{prefix}`y` must be class ids in [0, {num_classes}) for "
                f"{self.name!r}, which has {num_classes} classes. Received "
                f"labels from {y.min().item()} to {y.max().item()}. Build the model with "
                "num_classes covering every label, or remap the labels."
            )
        return y

    # Config -------------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        if getattr(self, "_compile_defaults", None) is not None:
            config["compile_defaults"] = self._compile_defaults
        if getattr(self, "_targets", None) is not None:
            config["targets"] = self._targets
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        defaults = config.pop("compile_defaults", None)
        targets = config.pop("targets", None)
        model = super().from_config(config, custom_objects=custom_objects)
        _untracked(model, "_compile_defaults", defaults)
        model._targets = targets
        return model


# Compile-config key: whether the saved optimizer had its state.
OPTIMIZER_BUILT = "cvseq_optimizer_built"


def note_optimizer_state(model, config):
    """Records in a compiled model's compile config whether its optimizer is
    built (has its variables), for `build_optimizer_as_saved` at loading.
    An uncompiled model's config stays as it is (empty or None): anything in
    it would make Keras compile the loaded model."""
    if config and model.compiled:
        optimizer = getattr(model, "optimizer", None)
        config[OPTIMIZER_BUILT] = bool(optimizer is not None and optimizer.built)
    return config


def build_optimizer_as_saved(model, optimizer_built=True):
    """Builds a loaded model's optimizer when the saved one was built, so
    that its saved state loads into it (what Keras' `compile_from_config`
    does). A model saved before any `fit` saved an unbuilt optimizer (2
    variables): building it made Keras warn "Skipping variable loading for
    optimizer ... it has 48 variables whereas the saved optimizer has 2".
    Files saved before the key was kept default to built, as in Keras."""
    if optimizer_built and model.built and getattr(model, "optimizer", None) is not None:
        model.optimizer.build(model.trainable_variables)


def _build_state_before_tracing(model, x, y):
    """Builds the optimizer, loss and metric state before Keras traces the
    train (or test) step, on the TensorFlow backend.

    Keras 3 builds that state symbolically first only for a model made
    under a `tf.distribute` scope; otherwise it defers it "to when the
    train/test/predict function gets traced". Variables made during a
    `tf.function`'s first trace make TensorFlow trace it a second time, so
    every model's first `fit` traced its train step twice (measured: YOLOv8
    34 -> 16 CPU-s for the first step, the tagger 3.5 -> 1.8, a plain Keras
    model the same). Here Keras' own symbolic build runs first, on symbolic
    tensors shaped like the data (a dataset's `element_spec`, the arrays'
    shapes): no batch is read, so the data order and the results stay
    those of plain Keras. Data of other kinds (generators, `PyDataset`s,
    ragged or sparse specs), and models that cannot be built this way, keep
    Keras' own path.
    """
    if (keras.backend.backend() != "tensorflow" or not model.compiled
            or model.run_eagerly or model._distribute_strategy is not None
            or _compile_state_built(model)):
        return
    batch = _symbolic_batch(x, y)
    if batch is None:
        return
    import tensorflow as tf

    try:
        with tf.distribute.get_strategy().scope():
            model._symbolic_build(data_batch=batch)
    except Exception:  # noqa: BLE001
        # A model Keras cannot run on symbolic tensors (a subclass's own
        # train step, say) is built in the first trace, as without this:
        # only speed is at stake here, and Keras raises any real error there.
        return


def _compile_state_built(model):
    """Whether the optimizer, loss and metric state is built (by an earlier
    symbolic build or trace), so that nothing is left to build before tracing.

    Keras' own check also asks every layer, and the `StringLookup` inside a
    `TextVectorization` never reports built: every `fit` of a text model ran
    the whole symbolic pass again (measured on the 2-core CPU machine: 210
    ms per `fit` call for the translator, 100 ms for the text classifier,
    a fifth of a one-second benchmark round). A new `compile` makes new,
    unbuilt state, so the next `fit` or `evaluate` builds it again.
    """
    metrics = getattr(model, "_compile_metrics", None)
    loss = getattr(model, "_compile_loss", None)
    optimizer = getattr(model, "optimizer", None)
    return (optimizer is not None and optimizer.built
            and (metrics is None or metrics.built)
            and (loss is None or loss.built))


def _symbolic_batch(x, y):
    """`KerasTensor`s shaped like one batch of `(x, y)` (or of the dataset
    `x`), batch size None; None where a part has no plain tensor shape."""
    if _is_tf_dataset(x):
        import tensorflow as tf

        data = x.element_spec
        if not all(type(spec) is tf.TensorSpec for spec in keras.tree.flatten(data)):
            return None
        return keras.tree.map_structure(
            lambda spec: keras.KerasTensor(tuple(spec.shape), spec.dtype.name), data)
    if x is None or not _in_memory(x):
        return None
    data = (x,) if y is None else (x, y)
    leaves = keras.tree.flatten(data)
    if not all(hasattr(v, "shape") and hasattr(v, "dtype") and len(v.shape) for v in leaves):
        return None
    return keras.tree.map_structure(
        lambda v: keras.KerasTensor((None, *tuple(v.shape)[1:]),
                                    keras.backend.standardize_dtype(v.dtype)), data)


def _untracked(model, name, value):
    """Sets an attribute that Keras' tracker must not collect (the compile
    arguments hold metric objects, which would join `model.metrics`)."""
    object.__setattr__(model, name, value)


def _is_tf_dataset(x):
    tf = sys.modules.get("tensorflow")
    return tf is not None and isinstance(x, tf.data.Dataset)


def _in_memory(x):
    """NumPy arrays, lists, tensors, dicts of them: not datasets or generators."""
    if isinstance(x, dict):
        return all(_in_memory(v) for v in x.values())
    if isinstance(x, (np.ndarray, list, tuple, str, bytes, numbers.Number)):
        return True
    return type(x).__name__ in ("EagerTensor", "Tensor", "RaggedTensor")


def _looks_like_paths(value):
    """A str, or a non-empty list or array of str (file names, most often)."""
    if isinstance(value, (str, bytes)):
        return True
    if isinstance(value, (list, tuple)):
        return bool(value) and all(isinstance(v, (str, bytes)) for v in value)
    return isinstance(value, np.ndarray) and value.dtype.kind in "US"


def _few_texts(value):
    values = [value] if isinstance(value, (str, bytes)) else [
        v.item() if isinstance(v, np.generic) else v for v in np.ravel(value)]
    shown = ", ".join(repr(v) for v in values[:2])
    return shown + (f" and {len(values) - 2} more" if len(values) > 2 else "")


def _spec_text(element):
    return ", ".join(f"shape {tuple(spec.shape)}" if hasattr(spec, "shape")
                     else type(spec).__name__ for spec in keras.tree.flatten(element))


def _shape_text(shape):
    return "(" + ", ".join("batch" if i == 0 else ("any" if d is None else str(d))
                           for i, d in enumerate(shape)) + ")"


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def warn_user(message, category=UserWarning):
    """A warning attributed to the first caller outside cvseq (the user's
    line), however deep in cvseq it is raised. Python shows a
    `DeprecationWarning` by default only when it is attributed to
    `__main__`, so a fixed `stacklevel` one frame off hides it."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


# `keras.Model.fit`'s arguments after `x` and `y`, in order.
_FIT_ARGUMENTS = tuple(inspect.signature(keras.Model.fit).parameters)[3:]


def fit_keywords(args, kwargs):
    """`fit`'s positional arguments after `x` and `y` as keywords, by
    `keras.Model.fit`'s own order (`validation_data` given by position was
    "got multiple values for argument")."""
    if len(args) > len(_FIT_ARGUMENTS):
        raise TypeError(
            f"fit() takes at most {len(_FIT_ARGUMENTS) + 2} positional arguments "
            f"after self. Received {len(args) + 2}.")
    kwargs = dict(kwargs)
    for name, value in zip(_FIT_ARGUMENTS, args):
        if name in kwargs:
            raise TypeError(f"fit() got multiple values for argument {name!r}.")
        kwargs[name] = value
    return kwargs


def _check_rate_callbacks(model, callbacks):
    """A callback that sets the learning rate (`ReduceLROnPlateau`,
    `LearningRateScheduler`) on an optimizer whose rate is a schedule fails
    in Keras when it first sets it, after epochs have trained: warned at
    the start, with the fix (a callback that never fires does no harm)."""
    optimizer = getattr(model, "optimizer", None)
    optimizer = getattr(optimizer, "inner_optimizer", optimizer)  # mixed precision
    rate = getattr(optimizer, "_learning_rate", None)
    if not isinstance(rate, keras.optimizers.schedules.LearningRateSchedule):
        return
    setters = (keras.callbacks.ReduceLROnPlateau, keras.callbacks.LearningRateScheduler)
    for callback in callbacks or ():
        if isinstance(callback, setters):
            warn_user(
                f"{type(callback).__name__} sets the learning rate, but {model.name!r}'s "
                f"optimizer follows a schedule ({type(rate).__name__}, the task's "
                "default or yours), which Keras cannot set: the fit fails when "
                "the callback first sets it. Compile with a float rate to use it, "
                f"e.g. model.compile(optimizer=keras.optimizers.{type(optimizer).__name__}"
                "(1e-3)), or leave the callback out.")


def _check_strategy(model):
    """A model built outside a `tf.distribute` strategy's scope and trained
    inside it fails in Keras' optimizer with a bare AssertionError."""
    if "tensorflow" not in sys.modules or keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    mirrored = (tf.distribute.MirroredStrategy, tf.distribute.MultiWorkerMirroredStrategy)
    if not (tf.distribute.has_strategy()
            and isinstance(tf.distribute.get_strategy(), mirrored) and model.weights):
        return
    if not isinstance(model.weights[0].value, tf.distribute.DistributedValues):
        raise ValueError(
            f"{model.name!r} was built outside the tf.distribute strategy whose "
            "scope `fit` runs in. Build (and compile) it inside `with "
            "strategy.scope():`, then call fit there or after it.")


def _single(loss):
    """The loss of a one-output model given as a one-item list or dict."""
    if isinstance(loss, (list, tuple)) and len(loss) == 1:
        return loss[0]
    if isinstance(loss, dict) and len(loss) == 1:
        return next(iter(loss.values()))
    return loss


def _loss_function(loss):
    """The function behind `loss` as given to `compile`: a name, a
    `LossFunctionWrapper` or a `functools.partial` of one; None for a name
    Keras does not know."""
    if isinstance(loss, str):
        try:
            loss = keras.losses.get(loss)
        except ValueError:
            return None
    loss = getattr(loss, "fn", loss)  # keras.losses.LossFunctionWrapper
    return getattr(loss, "func", loss)  # functools.partial


def _sparse_loss(loss):
    """Whether `loss` is Keras' sparse categorical cross-entropy (class ids)."""
    if isinstance(loss, keras.losses.SparseCategoricalCrossentropy):
        return True
    return _loss_function(loss) is keras.losses.sparse_categorical_crossentropy


def _same_loss(loss, default):
    """`loss` is the task's default loss (a reloaded model compiles with the
    object itself, not "auto")."""
    if default is None or loss is None:
        return False
    if isinstance(loss, str) or isinstance(default, str):
        return loss == default
    return type(loss) is type(default)


def _one_hot_loss(loss):
    """Whether `loss` (as given to `compile`) reads one-hot class targets:
    categorical (focal) cross-entropy, as a name, a Loss (subclasses too)
    or the function (a `functools.partial` of it too)."""
    if loss is None or (isinstance(loss, str) and loss == "auto"):
        return False
    if isinstance(loss, (keras.losses.CategoricalCrossentropy,
                         keras.losses.CategoricalFocalCrossentropy)):
        return True
    function = _loss_function(loss)
    return any(function is f for f in (keras.losses.categorical_crossentropy,
                                       keras.losses.categorical_focal_crossentropy))


# Class-id metrics and their one-hot twins (the same figures).
_ONE_HOT_TWINS = {
    "SparseCategoricalAccuracy": lambda m: keras.metrics.CategoricalAccuracy(name=m.name),
    "SparseTopKCategoricalAccuracy": lambda m: keras.metrics.TopKCategoricalAccuracy(
        k=m.k, name=m.name),
    "SparseCategoricalCrossentropy": lambda m: keras.metrics.CategoricalCrossentropy(
        name=m.name),
    "MeanIoU": lambda m: keras.metrics.MeanIoU(
        m.num_classes, sparse_y_true=False, sparse_y_pred=m.sparse_y_pred, name=m.name),
}


def _one_hot_metric(metric):
    twin = _ONE_HOT_TWINS.get(type(metric).__name__)
    return twin(metric) if twin is not None else metric


def _check_target_shape(shape, output, kind, prefix):
    """`y`'s `shape` against the model's single output `output` (None, in
    either, fits any size: a dataset's unknown sizes):
    the same shape for values and multi-hot tags; for class ids, the output
    without its class axis (or with it as 1). One-hot class ids get their
    own message."""
    def fits(shape, expected):
        return len(shape) == len(expected) and all(
            e is None or r is None or r == e for r, e in zip(shape[1:], expected[1:]))

    shape = tuple(shape)
    if kind == "class_ids":
        sparse = output[:-1]
        if fits(shape, sparse) or fits(shape, sparse + (1,)):
            return
        if fits(shape, output) and (output[-1] or 0) > 1:
            raise ValueError(
                f"{prefix}`y` looks one-hot (shape {shape} for {output[-1]} classes); "
                f"this model takes class ids of shape {_shape_text(sparse)}: pass "
                "y.argmax(axis=-1)"
                + (", or build the model with multi_label=True for multi-hot tags."
                   if len(output) == 2 else "."))
        expected = _shape_text(sparse)
    elif fits(shape, output):
        return
    else:
        expected = _shape_text(output)
    raise ValueError(
        f"{prefix}`y` must have shape {expected} for this model"
        + (" (class ids)" if kind == "class_ids" else "")
        + f". Received shape {shape}."
        + (" It is compiled with a one-hot loss: pass keras.utils.to_categorical(y, "
           f"{output[-1]}), or compile with the task's loss (loss='auto') for class ids."
           if kind == "one_hot" and fits(shape, output[:-1]) else ""))


def _warn_if_pixels_look_rescaled(value, name, expected, method, prefix):
    """cvseq's image and clip inputs (rank 4 or 5, 1 or 3 channels) are
    pixels in [0, 255], rescaled inside the model. Float pixels that all lie
    within [-1, 1] were most likely rescaled already (x / 255): the model
    then sees near-black images and predicts nonsense without an error, so
    say so (a warning: a truly dark batch is possible)."""
    if len(expected) < 4 or expected[-1] not in (1, 3) or value.size == 0:
        return
    low, high = float(value.min()), float(value.max())
    if high > 0 and low >= -1 and high <= 1:
        warn_user(
            f"{prefix}`x` ({name!r}) holds float pixels from {low:.3g} to {high:.3g}; "
            f"cvseq models take pixels in [0, 255] and rescale them inside. If "
            f"they were rescaled to [0, 1] (x / 255), pass them unscaled (or "
            f"x * 255) to `{method}`.")


def _check_shape(received, expected, name, prefix):
    """A clear message when `received` cannot feed an input of `expected` shape."""
    fits = len(received) == len(expected) and all(
        e is None or r is None or r == e for r, e in zip(received[1:], expected[1:])
    )
    if fits:
        return
    hint = ""
    if len(received) == len(expected) - 1 and all(
        e is None or r == e for r, e in zip(received, expected[1:])
    ):
        hint = " This is one example without its batch axis: pass x[None]."
    elif len(expected) == 5 and len(received) == 4 and received[-1:] == (3,):
        hint = (" This is a batch of images; the model reads clips (batch, "
                "frames, height, width, 3): stack frames into clips.")
    elif (len(expected) >= 4 and expected[-1] == 3 and len(received) == len(expected)
          and received[-1:] == (1,)):
        hint = (" It looks like grayscale (one channel): repeat it to three, "
                "np.repeat(x, 3, axis=-1).")
    elif len(expected) >= 4 and expected[-1] == 3 and received[-1:] == (4,):
        hint = (" It looks like RGBA (four channels): drop the alpha channel, "
                "x[..., :3]"
                + (", and add the batch axis, x[None, ..., :3]."
                   if len(received) == len(expected) - 1 else "."))
    elif len(expected) >= 4 and expected[-1] == 3 and len(received) == len(expected) - 1:
        hint = (" It looks like grayscale without a channel axis: "
                "np.repeat(x[..., None], 3, axis=-1).")
    elif len(expected) >= 4 and expected[-1] == 1 and received[-1:] == (3,):
        hint = (" The model reads one channel (grey) and this is colour: convert "
                "it (e.g. cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)[..., None]), or "
                "build the model for three channels (channels=3).")
    raise ValueError(
        f"{prefix}`x` ({name!r}) must have shape {_shape_text(expected)} "
        f"(rank {len(expected)}). Received shape {tuple(received)} "
        f"(rank {len(received)}).{hint}"
    )
