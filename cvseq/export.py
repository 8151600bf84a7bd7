"""Export trained models for serving: `.keras`, SavedModel and TFLite.

- `.keras`: `model.save(path)`, for Keras users.
- SavedModel (`export_saved_model`): a `serve` signature that takes the raw
  inputs the Keras model takes (pixels in [0, 255], strings), so TF
  Serving needs no preprocessing code.
- TFLite (`export_tflite`): for the image and video models. Recurrent
  layers and other ops without a TFLite builtin run through TensorFlow's
  select ops (the flex delegate, in the full `tensorflow` package and the
  `tensorflow-lite-select-tf-ops` runtime).
"""

import os
import shutil
import tempfile
import warnings

import keras
import numpy as np
from keras import ops

from cvseq._tf import tensorflow as _tensorflow
from cvseq._validation import check_bool, check_choice
from cvseq.errors import UserInputError

tf = _tensorflow("cvseq.export (SavedModel and TFLite export)")

FORMATS = ("keras", "saved_model", "tflite")


def export(model, path, format="saved_model", *, overwrite=False):
    """Writes `model` in `format` to `path` and returns the path.

    Args:
        model: a `keras.Model`.
        path: str. A directory for `"saved_model"`, a file otherwise
            (`.keras`, `.tflite`).
        format: `"keras"`, `"saved_model"` or `"tflite"`. Defaults to
            `"saved_model"`.
        overwrite: bool. Replace what is at `path` (a SavedModel folder is
            removed first, with anything else in it). Defaults to False: an
            existing `path` is a `FileExistsError`, as in `cvseq export`.
    """
    check_choice("format", format, FORMATS)
    path = _check_model_and_path(model, path)
    if format == "keras":
        if not path.endswith(".keras"):
            raise UserInputError(
                f"A Keras model file ends in .keras, in lowercase (Keras saves no "
                f"other). Received: path={path!r}.")
        _check_target(path, overwrite, folder=False)
        _make_parent(path)
        model.save(path)
        return path
    if format == "saved_model":
        if path.lower().endswith((".keras", ".tflite", ".h5")):
            ext = os.path.splitext(path)[1].lower()
            raise UserInputError(
                f"A SavedModel is a folder, and path={path!r} ends in {ext}: pass "
                f"format={'tflite' if ext == '.tflite' else 'keras'!r} for that "
                "file, or a folder name for a SavedModel.")
        return export_saved_model(model, path, overwrite=overwrite)
    return export_tflite(model, path, overwrite=overwrite)


def export_saved_model(model, path, *, overwrite=False):
    """SavedModel with a `serve` signature on the model's raw inputs.

    For most models `serve` is the model's call, as `predict` runs it. For
    an object detector (`cvseq.ObjectDetector`) it is `model.detect`: the
    head outputs decoded and passed through non-max suppression, so it
    returns what `predict` returns (`boxes`, `labels`, `scores`,
    `num_detections`). `overwrite`: as in `export`.
    """
    path = _check_model_and_path(model, path)
    _check_inputs(model)
    _check_target(path, overwrite, folder=True)
    if os.path.isdir(path):  # overwrite=True: nothing of the old one stays
        shutil.rmtree(path)
    _write_saved_model(model, path)
    return path


def _tail(line, size):
    """The end of `line`, at most `size` characters, cut between words."""
    if len(line) <= size:
        return line
    return "..." + line[-size:].split(" ", 1)[-1]


def _check_target(path, overwrite, *, folder):
    """Raises unless `path` can be written: no file on the way to it, not
    the other kind (a folder for a file, a file for a SavedModel folder),
    and, unless `overwrite`, nothing there yet."""
    check_bool("overwrite", overwrite)
    above = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(above) and os.path.dirname(above) != above:
        above = os.path.dirname(above)
    if not os.path.isdir(above):
        raise UserInputError(
            f"Cannot write path={path!r}: {above!r} on the way to it is a file, not "
            "a folder. Pass a path in a folder.")
    if not os.path.lexists(path):
        return
    if not overwrite:
        raise FileExistsError(
            f"path={path!r} exists; export does not replace it unless asked. Pass "
            "overwrite=True to replace it, or another path.")
    if folder and not os.path.isdir(path):
        raise UserInputError(
            f"path={path!r} is a file; a SavedModel is a folder. Pass a folder name.")
    if not folder and os.path.isdir(path):
        raise UserInputError(
            f"path={path!r} is a folder; this format writes one file. Pass a file "
            "name.")


def _check_model_and_path(model, path):
    """The path as a str, after checking that a model and a path were given."""
    if not isinstance(model, keras.Model):
        hint = (" To export a saved model file, load it first: "
                "keras.saving.load_model(path)." if isinstance(model, (str, os.PathLike))
                else "")
        raise TypeError(f"`model` must be a keras.Model. Received: model={model!r} "
                        f"of type {type(model).__name__}.{hint}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a str (or path-like): where to write. "
                        f"Received: path={path!r} of type {type(path).__name__}.")
    path = os.fspath(path)
    if not isinstance(path, str) or not path.strip():
        raise UserInputError(
            f"`path` must name where to write (it would write into the current "
            f"folder). Received: path={path!r}.")
    return path


def _check_inputs(model):
    """SavedModel and TFLite exports read the model's inputs."""
    if not model.built or not getattr(model, "inputs", None):
        raise UserInputError(
            f"`model` {model.name!r} has no known inputs (a subclassed or unbuilt "
            "model); cvseq exports functional models (built from keras.Input), as "
            "every cvseq factory returns, as a SavedModel or TFLite file. For a "
            "subclassed model use format='keras', or Keras' own model.export(path).")


def _make_parent(path):
    """The folder `path` goes in, made if missing (after the path's checks)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)


def _is_detector(model):
    from cvseq.models.object_detector import ObjectDetector

    if isinstance(model, ObjectDetector):
        return True
    from cvseq.models.retinanet import RetinaNetDetector

    return isinstance(model, RetinaNetDetector)


def _write_saved_model(model, path, batch_size=None):
    """`model.export`, with a fixed batch size if given; a detector's `serve`
    endpoint decodes and suppresses (one image at a time, with the NMS op
    TFLite has, when the batch size is fixed)."""
    specs = [tf.TensorSpec((batch_size, *t.shape[1:]), t.dtype) for t in model.inputs]
    if not _is_detector(model):
        signature = {} if batch_size is None else {"input_signature": specs}
        model.export(path, format="tf_saved_model", verbose=False, **signature)
        return

    def detect(images):
        return model.detect(images, per_image=batch_size is not None)

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", detect, input_signature=specs)
    archive.write_out(path, verbose=False)


def export_tflite(model, path, *, quantize=False, overwrite=False):
    """A TFLite flatbuffer of `model`, batch size 1.

    The image and video models convert to TFLite builtin ops only (3D max
    pooling is rewritten as 2D poolings, an object detector's NMS uses the
    builtin single-image op), so the file runs in any TFLite runtime,
    `tflite_predict` included. Ops without a builtin fall back to
    TensorFlow's select ops, which need the Flex delegate (the
    `tensorflow-lite-select-tf-ops` runtime); TensorFlow 2.21's Python
    interpreter does not have it.

    Args:
        model: a `keras.Model` with inputs of static shape but for the batch.
        path: str. The `.tflite` file to write.
        quantize: bool. Dynamic-range quantization of the weights.
        overwrite: bool. Replace a file at `path`. Defaults to False.
    """
    path = _check_model_and_path(model, path)
    check_bool("quantize", quantize)
    if not path.lower().endswith(".tflite"):
        raise UserInputError(f"A TFLite file ends in .tflite. Received: path={path!r}.")
    _check_target(path, overwrite, folder=False)
    _check_inputs(model)
    if len(model.inputs) != 1:
        raise UserInputError(
            "TFLite export takes models with one input (the image and video "
            f"models). Received a model with {len(model.inputs)} inputs; export "
            "it as a SavedModel instead."
        )
    for tensor in model.inputs:
        if None in tuple(tensor.shape)[1:]:
            raise UserInputError(
                "TFLite needs static input shapes (all but the batch axis). "
                f"Input {tensor.name!r} has shape {tuple(tensor.shape)}: build "
                "the model with fixed sizes (e.g. frames=16, not None)."
            )
    # Through a SavedModel with a batch-1 signature: the converter then
    # freezes the variables, also those read inside the recurrent loops.
    with tempfile.TemporaryDirectory() as tmp:
        _write_saved_model(_with_tflite_builtins(model), tmp, batch_size=1)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.TFLITE_BUILTINS,
            tf.lite.OpsSet.SELECT_TF_OPS,
        ]
        if quantize:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        flatbuffer = converter.convert()
    if b"Flex" in flatbuffer:  # select ops are custom ops named "Flex<op>"
        warnings.warn(
            f"{path!r} uses TensorFlow select ops (ops without a TFLite builtin, "
            "e.g. string ops, or float16 / bfloat16 ops under a mixed dtype "
            "policy): it runs only with the tensorflow-lite-select-tf-ops "
            "runtime, not in a plain TFLite interpreter. Image and video models "
            "built in float32 convert to builtins only.", stacklevel=2)
    _make_parent(path)
    with open(path, "wb") as f:
        f.write(flatbuffer)
    return os.fspath(path)


class _MaxPooling3DAs2D(keras.layers.Layer):
    """`MaxPooling3D` (channels last) as a spatial then a temporal 2D max
    pooling: the same values, with TFLite builtin ops only."""

    def __init__(self, pool_size, strides, padding, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = tuple(pool_size)
        self.strides = tuple(strides)
        self.padding = padding

    def call(self, x):
        _, frames, height, width, channels = x.shape
        x = ops.reshape(x, (-1, height, width, channels))
        x = ops.max_pool(x, self.pool_size[1:], self.strides[1:], self.padding)
        _, height, width, _ = x.shape
        x = ops.reshape(x, (-1, frames, height * width, channels))
        x = ops.max_pool(x, (self.pool_size[0], 1), (self.strides[0], 1), self.padding)
        return ops.reshape(x, (-1, x.shape[1], height, width, channels))


def _with_tflite_builtins(model):
    """`model` with its channels-last `MaxPooling3D` layers (no TFLite
    builtin) replaced by `_MaxPooling3DAs2D`; the other layers are shared."""

    def replace(layer):
        if (isinstance(layer, keras.layers.MaxPooling3D)
                and layer.data_format == "channels_last"):
            return _MaxPooling3DAs2D(layer.pool_size, layer.strides, layer.padding,
                                     name=layer.name)
        return layer

    if not any(replace(layer) is not layer for layer in model.layers):
        return model
    return keras.models.clone_model(model, clone_function=replace)


def tflite_predict(path, inputs):
    """Runs a `.tflite` model on a batch, one example at a time.

    Args:
        path: str. The `.tflite` file.
        inputs: an array (or list of arrays, one per model input) with the
            batch on axis 0.

    Returns:
        The outputs stacked over the batch: an array for a one-output model,
        else a dict by output name (a detector's `boxes`, `labels`,
        `scores`, `num_detections`).
    """
    if not os.path.isfile(os.fspath(path)):
        raise UserInputError(f"No TFLite file is at {os.fspath(path)!r}"
                             + (" (a folder)." if os.path.isdir(path) else "."))
    with open(os.fspath(path), "rb") as f:
        identifier = f.read(8)[4:8]
    if identifier != b"TFL3":  # a flatbuffer's file identifier
        raise UserInputError(
            f"{os.fspath(path)!r} is not a TFLite file (no 'TFL3' identifier); "
            "export one with cvseq.export.export(model, 'model.tflite', "
            "format='tflite').")
    with warnings.catch_warnings():
        # TF 2.21 warns that tf.lite.Interpreter moves to ai_edge_litert.
        warnings.simplefilter("ignore", UserWarning)
        interpreter = tf.lite.Interpreter(model_path=os.fspath(path))
    runner = interpreter.get_signature_runner()
    input_details = runner.get_input_details()
    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if len(inputs) != len(input_details):
        raise ValueError(
            f"{path!r} takes {len(input_details)} input(s) "
            f"({', '.join(input_details)}). Received {len(inputs)}."
        )
    inputs = [np.asarray(array) for array in inputs]
    for (name, detail), array in zip(input_details.items(), inputs):
        expected = tuple(int(n) for n in detail["shape"][1:])
        if array.ndim < 1 or tuple(array.shape[1:]) != expected:
            raise ValueError(
                f"{os.fspath(path)!r} takes input {name!r} of shape (batch, "
                f"{', '.join(map(str, expected))}). Received shape {array.shape}"
                + (": one example without its batch axis? Add one with array[None]."
                   if tuple(array.shape) == expected else "."))
        if len(array) == 0:
            raise ValueError(f"`inputs` holds no example (input {name!r} has shape "
                             f"{array.shape}).")
    results = {}
    for i in range(len(inputs[0])):
        feed = {
            name: np.asarray(array[i:i + 1]).astype(detail["dtype"])
            for (name, detail), array in zip(input_details.items(), inputs)
        }
        try:
            outputs = runner(**feed)
        except RuntimeError as err:
            if "Flex" not in str(err):
                raise
            raise RuntimeError(
                f"{path!r} uses TensorFlow select ops, which this TFLite "
                "interpreter cannot run (TensorFlow 2.21's Python interpreter has "
                "no Flex delegate). Run it with the tensorflow-lite-select-tf-ops "
                f"runtime. ({_tail(str(err).splitlines()[-1], 160)})"
            ) from err
        for name, value in outputs.items():
            results.setdefault(name, []).append(value)
    stacked = {name: np.concatenate(values) for name, values in results.items()}
    return next(iter(stacked.values())) if len(stacked) == 1 else stacked
