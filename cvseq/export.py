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
import tempfile
import warnings

import numpy as np
import tensorflow as tf

from cvseq._validation import check_choice

FORMATS = ("keras", "saved_model", "tflite")


def export(model, path, format="saved_model"):
    """Writes `model` in `format` to `path` and returns the path.

    Args:
        model: a `keras.Model`.
        path: str. A directory for `"saved_model"`, a file otherwise
            (`.keras`, `.tflite`).
        format: `"keras"`, `"saved_model"` or `"tflite"`. Defaults to
            `"saved_model"`.
    """
    check_choice("format", format, FORMATS)
    path = os.fspath(path)
    if format == "keras":
        if not path.endswith(".keras"):
            raise ValueError(f"A Keras model file ends in .keras. Received: path={path!r}.")
        model.save(path)
        return path
    if format == "saved_model":
        return export_saved_model(model, path)
    return export_tflite(model, path)


def export_saved_model(model, path):
    """SavedModel with a `serve` signature on the model's raw inputs."""
    model.export(path, format="tf_saved_model", verbose=False)
    return path


def export_tflite(model, path, *, quantize=False):
    """A TFLite flatbuffer of `model` (select TF ops allowed).

    Args:
        model: a `keras.Model` with inputs of static shape but for the batch.
        path: str. The `.tflite` file to write.
        quantize: bool. Dynamic-range quantization of the weights.
    """
    if not os.fspath(path).endswith(".tflite"):
        raise ValueError(f"A TFLite file ends in .tflite. Received: path={path!r}.")
    if len(model.inputs) != 1:
        raise ValueError(
            "TFLite export takes models with one input (the image and video "
            f"models). Received a model with {len(model.inputs)} inputs; export "
            "it as a SavedModel instead."
        )
    for tensor in model.inputs:
        if None in tuple(tensor.shape)[1:]:
            raise ValueError(
                "TFLite needs static input shapes (all but the batch axis). "
                f"Input {tensor.name!r} has shape {tuple(tensor.shape)}: build "
                "the model with fixed sizes (e.g. frames=16, not None)."
            )
    # Through a SavedModel with a batch-1 signature: the converter then
    # freezes the variables, also those read inside the recurrent loops.
    spec = tf.TensorSpec((1, *model.inputs[0].shape[1:]), model.inputs[0].dtype)
    with tempfile.TemporaryDirectory() as tmp:
        model.export(tmp, format="tf_saved_model", verbose=False,
                     input_signature=[spec])
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.TFLITE_BUILTINS,
            tf.lite.OpsSet.SELECT_TF_OPS,
        ]
        if quantize:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        flatbuffer = converter.convert()
    with open(path, "wb") as f:
        f.write(flatbuffer)
    return os.fspath(path)


def tflite_predict(path, inputs):
    """Runs a `.tflite` model on a batch, one example at a time.

    Args:
        path: str. The `.tflite` file.
        inputs: an array (or list of arrays, one per model input) with the
            batch on axis 0.

    Returns:
        The outputs stacked over the batch (a list if several outputs).
    """
    with warnings.catch_warnings():
        # TF 2.21 warns that tf.lite.Interpreter moves to ai_edge_litert.
        warnings.simplefilter("ignore", UserWarning)
        interpreter = tf.lite.Interpreter(model_path=os.fspath(path))
    interpreter.allocate_tensors()
    input_details = interpreter.get_input_details()
    output_details = interpreter.get_output_details()
    inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    results = [[] for _ in output_details]
    for i in range(len(inputs[0])):
        for detail, array in zip(input_details, inputs):
            interpreter.set_tensor(
                detail["index"], np.asarray(array[i:i + 1]).astype(detail["dtype"])
            )
        interpreter.invoke()
        for out, detail in zip(results, output_details):
            out.append(interpreter.get_tensor(detail["index"]))
    stacked = [np.concatenate(r) for r in results]
    return stacked[0] if len(stacked) == 1 else stacked
