"""TensorFlow on demand, for the parts of cvseq that need it.

cvseq's vision and video models run on any Keras 3 backend (JAX, PyTorch,
TensorFlow); `tf.data` pipelines, `tf.distribute`, TFLite/SavedModel export,
the text models' string layers and keras-cv's YOLOv8 need TensorFlow. Those
parts call `tensorflow(what)` when used, so `import cvseq` works without it.
"""

INSTALL_HINT = (
    "Install TensorFlow (`pip install tensorflow`, part of cvseq's default "
    "install `pip install cvseq`), or use a part of cvseq that runs on any "
    "Keras backend (the vision and video factories; see the README's "
    "'Backends' section)."
)


class TensorFlowRequiredError(ImportError):
    """A TensorFlow-only part of cvseq was used without TensorFlow."""


def tensorflow(what):
    """Returns the `tensorflow` module, or raises one clear error.

    Args:
        what: str. The part of cvseq that needs TensorFlow, for the message
            (e.g. "cvseq.datasets.load (tf.data pipelines)").

    Raises:
        TensorFlowRequiredError (an ImportError) naming `what` and what to
        install.
    """
    try:
        import tensorflow as tf
    except ImportError as error:
        raise TensorFlowRequiredError(
            f"{what} needs TensorFlow, which is not importable here "
            f"({error}). {INSTALL_HINT}"
        ) from None
    return tf


class LazyTensorFlow:
    """A stand-in for the `tensorflow` module in modules that use it only
    inside functions: `tf = LazyTensorFlow("...")` at the top keeps the
    module importable without TensorFlow, and the first `tf.<name>` imports
    it (or raises `TensorFlowRequiredError` naming `what`)."""

    def __init__(self, what):
        self._what = what

    def __getattr__(self, name):
        return getattr(tensorflow(self._what), name)
