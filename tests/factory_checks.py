"""The one helper every factory test calls.

`check_factory(...)` builds a model with a factory and checks, in order:
that it is a `cvseq.Task`; the output shape of `predict`; one `fit` step
with the default compile; that `compile=False` returns an uncompiled model
whose `compile(optimizer="sgd")` alone takes the task's default loss (the
Task contract); the `.keras` round trip in
safe mode with equal predictions (and, if the model has them, equal
generated outputs); and that each bad argument raises a `ValueError` or
`TypeError` whose message names the argument.
"""

import os
import tempfile

import keras
import numpy as np

import cvseq

# Hides TensorFlow's start-up chatter in test output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _shapes(tree):
    return keras.tree.map_structure(lambda a: tuple(np.shape(a)), tree)


def _assert_outputs_close(a, b, atol):
    keras.tree.assert_same_structure(a, b)
    for x, y in zip(keras.tree.flatten(a), keras.tree.flatten(b)):
        x, y = np.asarray(x), np.asarray(y)
        if x.dtype.kind in "fc":
            np.testing.assert_allclose(x, y, atol=atol, rtol=1e-5)
        else:
            np.testing.assert_array_equal(x, y)


def check_bad_arguments(factory, args, kwargs, bad_arguments):
    """Each `{argument: bad value}` raises, naming the argument."""
    for argument, value in bad_arguments.items():
        call_kwargs = {**kwargs, argument: value}
        try:
            factory(*args, **call_kwargs)
        except (ValueError, TypeError) as err:
            message = str(err)
            assert f"`{argument}`" in message or argument in message, (
                f"The error for {argument}={value!r} does not name the "
                f"argument: {message!r}"
            )
            assert repr(value) in message or str(value) in message, (
                f"The error for {argument}={value!r} does not show the "
                f"received value: {message!r}"
            )
        else:
            raise AssertionError(
                f"{factory.__name__}({argument}={value!r}) did not raise."
            )


def check_factory(
    factory,
    *,
    args=(),
    kwargs=None,
    inputs,
    targets,
    output_shape,
    bad_arguments=None,
    round_trip=None,
    atol=1e-5,
):
    """Runs the shared factory checks.

    Args:
        factory: the cvseq factory function.
        args: positional arguments (usually `(num_classes,)`).
        kwargs: keyword arguments, tiny shapes.
        inputs: a batch of model inputs.
        targets: matching targets for one fit step.
        output_shape: expected shape of `predict`: a tuple, or for models
            with several outputs the same structure (e.g. a dict) of tuples.
        bad_arguments: dict `{argument: bad value}`; each must raise.
        round_trip: optional callable `model -> outputs` compared before
            and after the save/load round trip (e.g. a `.generate()` call).
        atol: tolerance for the save/load comparison.

    Returns:
        The compiled model, after its fit step.
    """
    kwargs = dict(kwargs or {})

    # Build, predict, one fit step.
    model = factory(*args, **kwargs)
    assert isinstance(model, cvseq.Task), f"{factory.__name__} must return a cvseq.Task"
    assert model.compiled, "compile=True (the default) must compile the model"
    predictions = model.predict(inputs, verbose=0)
    assert _shapes(predictions) == output_shape, (
        f"predict gave {_shapes(predictions)}, expected {output_shape}"
    )
    for value in keras.tree.flatten(predictions):
        value = np.asarray(value)
        if value.dtype.kind == "f":
            assert np.all(np.isfinite(value)), "predictions contain NaN or inf"
    history = model.fit(inputs, targets, epochs=1, verbose=0)
    for name, values in history.history.items():
        assert np.all(np.isfinite(values)), f"{name} is not finite after a step"

    # Uncompiled when asked.
    uncompiled = factory(*args, **{**kwargs, "compile": False})
    assert not uncompiled.compiled, "compile=False must return an uncompiled model"
    # The Task contract: an optimizer alone, the task's loss (never compiled
    # before, so nothing of an earlier compile can be kept).
    uncompiled.compile(optimizer="sgd")
    assert isinstance(uncompiled.optimizer, keras.optimizers.SGD)
    assert type(uncompiled.loss) is type(model.loss), (
        f"compile(optimizer=...) gave loss {uncompiled.loss!r}, the factory {model.loss!r}"
    )

    # Save and load in safe mode: same predictions.
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
    _assert_outputs_close(
        model.predict(inputs, verbose=0), loaded.predict(inputs, verbose=0), atol
    )
    if round_trip is not None:
        _assert_outputs_close(round_trip(model), round_trip(loaded), atol)

    if bad_arguments:
        check_bad_arguments(factory, args, kwargs, bad_arguments)
    return model

