"""TensorFlow on demand, for the parts of cvseq that need it.

cvseq's vision and video models run on any Keras 3 backend (JAX, PyTorch,
TensorFlow); `tf.data` pipelines, `tf.distribute`, TFLite/SavedModel export,
the text models' string layers and keras-cv's YOLOv8 need TensorFlow. Those
parts call `tensorflow(what)` when used, so `import cvseq` works without it.
"""

import contextlib
import os
import re
import sys
import tempfile

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
        with quiet_tensorflow_import():
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


# A line of TensorFlow's C++ log: severity letter, date, time, thread, file.
_LOG_LINE = re.compile(r"^([IWEF])\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] ")
_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 3}
_BEFORE_ABSL = "WARNING: All log messages before absl::InitializeLog() is called"
# The second lines of TensorFlow's multi-line start-up records.
_CONTINUATIONS = ("To enable the following instructions",)


def _shown(text, level):
    """`text` without the lines `TF_CPP_MIN_LOG_LEVEL=level` hides: log
    records under that severity (with their continuation lines), and absl's
    notice that they were written before its set-up."""
    kept, hiding = [], False
    for line in text.splitlines(keepends=True):
        record = _LOG_LINE.match(line)
        if record:
            hiding = _SEVERITY[record.group(1)] < level
        elif line.startswith(_BEFORE_ABSL):
            hiding = False
            continue
        elif not (hiding and line.startswith(_CONTINUATIONS)):
            hiding = False  # anything else is shown
        if not hiding:
            kept.append(line)
    return "".join(kept)


@contextlib.contextmanager
def quiet_tensorflow_import():
    """Makes TensorFlow's import honour `TF_CPP_MIN_LOG_LEVEL`.

    TensorFlow 2.19 and later write their start-up records (oneDNN, no CUDA
    driver, CPU instructions) before absl's logging reads the variable, so
    `TF_CPP_MIN_LOG_LEVEL=3` no longer quiets them
    (tensorflow/tensorflow#100442). While TensorFlow is imported for the
    first time, this holds the process's stderr (file descriptor 2) in a
    temporary file, then writes back everything but the records the
    variable hides: an import error's output and Python's warnings come
    through. Does nothing when TensorFlow is imported already, the
    variable is unset or 0, or the process has no stderr. An import that
    aborts the process (a CPU without the instructions TensorFlow's wheel
    needs) loses what it wrote: set `TF_CPP_MIN_LOG_LEVEL=0` to see it.
    Only an import after `import cvseq` is held: `import keras` or
    `import tensorflow` first imports TensorFlow as it is.
    """
    try:
        level = int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        level = 0
    if level <= 0 or "tensorflow" in sys.modules or sys.stderr is None:
        yield
        return
    try:
        os.fstat(2)
    except OSError:  # no stderr at all (a daemon, a --noconsole build)
        yield
        return
    with _holding_stderr(level):
        yield


@contextlib.contextmanager
def _holding_stderr(level):
    """File descriptor 2 in a temporary file while inside; then what
    `_shown(..., level)` keeps of it is written to the real one."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            shown = _shown(held.read().decode("utf-8", "replace"), level)
            if shown:
                os.write(2, shown.encode("utf-8"))
