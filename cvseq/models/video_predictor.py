"""Next-frame prediction: the ConvLSTM encoder-forecaster of Shi et al. 2015.

Frames in, future frames out, raw pixels in [0, 255] on both sides. As in
the paper ("Convolutional LSTM Network", NIPS 2015, Moving MNIST set-up),
each frame is cut into non-overlapping `PATCH` x `PATCH` patches stacked on
the channel axis (64x64x1 -> 16x16x16), an encoder stack of `ConvLSTM2D`
layers reads the context, its final states start a forecaster stack of the
same shape that runs `frames_out` steps, and a 1x1 convolution over the
concatenated forecaster outputs, added to the last frame (its logits or its
intensities, `residual`), gives the future patches.

The model, its loss and its metrics use `keras.ops` and Keras layers only
(no TensorFlow import), so they run on any Keras backend.
"""

import numbers

import keras
import numpy as np
from keras import ops

from cvseq._validation import (
    check_bool,
    check_choice,
    check_image_size,
    check_int,
    check_int_tuple,
)
from cvseq.models.task import Task

# Patch side: frames are cut into PATCH x PATCH patches (Shi et al. use 4).
PATCH = 4
LOSSES = ("auto", "binary_crossentropy", "mse", "mae", "huber")
# Where the Huber loss turns from squared to absolute error, on [0, 1]
# intensities (25.5 grey levels): small changes are learned as with MSE
# (MAE's gradient does not tell a small change from none, and on real
# footage the model never left copy-last), large ones weigh as with MAE.
HUBER_DELTA = 0.1
RESIDUALS = ("auto", "logits", "pixels")


# --------------------------------------------------------------------------
# Metrics and loss on [0, 255] frames `(batch, frames, height, width, channels)`.


def _check_frames(y_true, y_pred):
    """Static shapes: both `(batch, frames, height, width, channels)`, the
    same (a frame count that differs would broadcast into a figure)."""
    true_shape, pred_shape = tuple(y_true.shape), tuple(y_pred.shape)
    if len(true_shape) != 5 or len(pred_shape) != 5 or any(
            t is not None and p is not None and t != p
            for t, p in zip(true_shape, pred_shape)):
        raise ValueError(
            "The frame metrics take `y_true` and `y_pred` of one shape (batch, frames, "
            f"height, width, channels), pixels in [0, 255]. Received shapes "
            f"{true_shape} and {pred_shape}.")


@keras.saving.register_keras_serializable(package="cvseq")
def frame_mse(y_true, y_pred):
    """Per-frame MSE as Moving MNIST papers report it: the sum over a
    frame's pixels of the squared error on [0, 1] intensities, `(batch,
    frames)` (PredRNN 56.8, SimVP 23.8 on 64x64 Moving MNIST). Pixels in
    [0, 255]."""
    _check_frames(y_true, y_pred)
    y_true = ops.cast(y_true, "float32") / 255.0
    y_pred = ops.cast(y_pred, "float32") / 255.0
    return ops.sum(ops.square(y_true - y_pred), axis=(2, 3, 4))


@keras.saving.register_keras_serializable(package="cvseq")
def psnr(y_true, y_pred):
    """Peak signal-to-noise ratio in dB per frame, `(batch, frames)`, with a
    peak of 255 (as `tf.image.psnr(..., max_val=255)`): pixels in [0, 255]
    (frames in [0, 1] would score as near-black frames)."""
    _check_frames(y_true, y_pred)
    y_true = ops.cast(y_true, "float32")
    y_pred = ops.cast(y_pred, "float32")
    mse = ops.mean(ops.square(y_true - y_pred), axis=(2, 3, 4))
    return 10.0 * ops.log(255.0**2 / mse) / np.log(10.0)


def _gaussian_kernel(size, sigma, channels):
    coords = np.arange(size, dtype=np.float32) - (size - 1) / 2.0
    g = np.exp(-(coords**2) / (2 * sigma**2))
    g /= g.sum()
    kernel = np.outer(g, g).astype(np.float32)
    # Depthwise: (h, w, channels, 1).
    return np.tile(kernel[:, :, None, None], (1, 1, channels, 1))


@keras.saving.register_keras_serializable(package="cvseq")
def ssim(y_true, y_pred):
    """Structural similarity per frame, `(batch, frames)`, computed as
    `tf.image.ssim(..., max_val=255)` does: an 11x11 Gaussian window (sigma
    1.5; shrunk to the frame when the frame is smaller, where
    `tf.image.ssim` raises), valid convolution, k1=0.01,
    k2=0.03, averaged over pixels and channels. Pixels in [0, 255] (frames
    in [0, 1] would all look alike)."""
    _check_frames(y_true, y_pred)
    y_true = ops.cast(y_true, "float32")
    y_pred = ops.cast(y_pred, "float32")
    shape = ops.shape(y_true)
    height, width, channels = y_true.shape[2], y_true.shape[3], y_true.shape[4]
    size = min(11, height, width)
    kernel = ops.convert_to_tensor(_gaussian_kernel(size, 1.5, channels))
    x = ops.reshape(y_true, (-1, height, width, channels))
    y = ops.reshape(y_pred, (-1, height, width, channels))

    def blur(z):
        return ops.depthwise_conv(z, kernel, strides=1, padding="valid")

    c1 = (0.01 * 255.0) ** 2
    c2 = (0.03 * 255.0) ** 2
    mu_x, mu_y = blur(x), blur(y)
    sigma_xx = blur(x * x) - mu_x * mu_x
    sigma_yy = blur(y * y) - mu_y * mu_y
    sigma_xy = blur(x * y) - mu_x * mu_y
    luminance = (2 * mu_x * mu_y + c1) / (mu_x * mu_x + mu_y * mu_y + c1)
    structure = (2 * sigma_xy + c2) / (sigma_xx + sigma_yy + c2)
    value = ops.mean(luminance * structure, axis=(1, 2, 3))
    return ops.reshape(value, (shape[0], shape[1]))


@keras.saving.register_keras_serializable(package="cvseq")
class FrameLoss(keras.losses.Loss):
    """A per-pixel loss on [0, 255] frames, computed on [0, 1] intensities.

    Args:
        kind: `"binary_crossentropy"` (frames that are mostly black with
            bright strokes, like Moving MNIST: the intensity is read as the
            probability that a pixel is on), `"mse"`, `"mae"` or `"huber"`
            (squared below `HUBER_DELTA`, absolute above).
    """

    def __init__(self, kind="binary_crossentropy", name=None, **kwargs):
        check_choice("kind", kind, LOSSES[1:])
        super().__init__(name=name or f"frame_{kind}", **kwargs)
        self.kind = kind

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "float32") / 255.0
        y_pred = ops.cast(y_pred, "float32") / 255.0
        if self.kind == "binary_crossentropy":
            eps = keras.config.epsilon()
            y_pred = ops.clip(y_pred, eps, 1.0 - eps)
            value = -(y_true * ops.log(y_pred) + (1 - y_true) * ops.log(1 - y_pred))
        elif self.kind == "mse":
            value = ops.square(y_true - y_pred)
        elif self.kind == "huber":
            batch = ops.shape(y_true)[0]
            return keras.losses.huber(ops.reshape(y_true, (batch, -1)),
                                      ops.reshape(y_pred, (batch, -1)), delta=HUBER_DELTA)
        else:
            value = ops.abs(y_true - y_pred)
        return ops.mean(value, axis=(1, 2, 3, 4))

    def get_config(self):
        return {**super().get_config(), "kind": self.kind}


# --------------------------------------------------------------------------
# Layers.


@keras.saving.register_keras_serializable(package="cvseq")
class Patchify(keras.layers.Layer):
    """`(b, t, h, w, c)` -> `(b, t, h / p, w / p, p * p * c)` and back
    (`inverse=True`): non-overlapping `p` x `p` patches on the channel axis."""

    def __init__(self, patch=PATCH, inverse=False, **kwargs):
        super().__init__(**kwargs)
        self.patch = patch
        self.inverse = inverse

    def call(self, x):
        p = self.patch
        t, h, w, c = x.shape[1:]
        if not self.inverse:
            x = ops.reshape(x, (-1, t, h // p, p, w // p, p, c))
            x = ops.transpose(x, (0, 1, 2, 4, 3, 5, 6))
            return ops.reshape(x, (-1, t, h // p, w // p, p * p * c))
        c = c // (p * p)
        x = ops.reshape(x, (-1, t, h, w, p, p, c))
        x = ops.transpose(x, (0, 1, 2, 4, 3, 5, 6))
        return ops.reshape(x, (-1, t, h * p, w * p, c))

    def compute_output_shape(self, shape):
        b, t, h, w, c = shape
        p = self.patch
        if not self.inverse:
            return (b, t, h // p, w // p, p * p * c)
        return (b, t, h * p, w * p, c // (p * p))

    def get_config(self):
        return {**super().get_config(), "patch": self.patch, "inverse": self.inverse}


class _FramesLayer(keras.layers.Layer):
    """A layer that outputs `frames` steps: `(b, t, ...)` -> `(b, frames,
    ...)` unless it says otherwise."""

    def __init__(self, frames, **kwargs):
        super().__init__(**kwargs)
        self.frames = frames

    def compute_output_shape(self, shape):
        return (shape[0], self.frames, *shape[2:])

    def get_config(self):
        return {**super().get_config(), "frames": self.frames}


@keras.saving.register_keras_serializable(package="cvseq")
class FutureSteps(_FramesLayer):
    """Zeros `(batch, frames, h, w, 1)`: the forecaster's input, which has
    nothing but its states to go on (as in Shi et al.)."""

    def call(self, x):
        return ops.zeros_like(x[:, :1, :, :, :1]) * ops.zeros(
            (1, self.frames, 1, 1, 1), dtype=x.dtype
        )

    def compute_output_shape(self, shape):
        return (shape[0], self.frames, shape[2], shape[3], 1)


@keras.saving.register_keras_serializable(package="cvseq")
class LastFrameLogits(_FramesLayer):
    """The logits of the last frame `(b, t, ...)` in [0, 1], repeated
    `frames` times: `(b, frames, ...)`. Intensities are clipped to [0.01,
    0.99] first, so black and white pixels have finite logits (about
    -4.6 and 4.6) and the model can still switch them."""

    def call(self, x):
        last = ops.clip(ops.cast(x[:, -1:], self.compute_dtype), 0.01, 0.99)
        logits = ops.log(last) - ops.log(1.0 - last)
        return ops.repeat(logits, self.frames, axis=1)


@keras.saving.register_keras_serializable(package="cvseq")
class LastFrame(_FramesLayer):
    """The last frame `(b, t, ...)`, repeated `frames` times: `(b, frames,
    ...)` (the base that a pixel-space residual adds to)."""

    def call(self, x):
        return ops.repeat(ops.cast(x[:, -1:], self.compute_dtype), self.frames, axis=1)


@keras.saving.register_keras_serializable(package="cvseq")
class ClipUnit(keras.layers.Layer):
    """Clips to [0, 1] on the way forward and passes the gradient through
    unchanged (straight-through), so a pixel that the residual pushes past
    black or white, or that starts there, still learns."""

    def call(self, x):
        return x + ops.stop_gradient(ops.clip(x, 0.0, 1.0) - x)


# --------------------------------------------------------------------------
# The model.


@keras.saving.register_keras_serializable(package="cvseq")
class VideoPredictor(Task):
    """A `video_predictor`: a functional model with `.predict_frames()`.

    Build it with `cvseq.video_predictor(...)`; it saves to `.keras` and
    loads back with `keras.saving.load_model`, `.predict_frames()` included.
    """

    @property
    def frames_in(self):
        return self.inputs[0].shape[1]

    @property
    def frames_out(self):
        return self.outputs[0].shape[1]

    def predict_frames(self, context, n):
        """Rolls the model forward for `n` frames.

        The model predicts `frames_out` frames at a time; past that, its
        own predictions become the context of the next call.

        Args:
            context: `(batch, t, height, width, channels)` frames in [0,
                255], `t >= frames_in`; the last `frames_in` are used.
            n: int. Frames to predict.

        Returns:
            float32 NumPy `(batch, n, height, width, channels)` in [0, 255].
        """
        n = check_int("n", n)
        if isinstance(context, (str, bytes)) or (
                isinstance(context, (list, tuple)) and context
                and all(isinstance(c, (str, bytes)) for c in context)):
            raise TypeError(
                "`context` must be frames (batch, t, height, width, channels), not "
                f"file names: read a video first (cvseq.tasks.read_video_inputs). "
                f"Received: {context!r}.")
        context = np.asarray(context, np.float32)
        expected = tuple(self.inputs[0].shape[2:])
        if context.ndim != 5 or context.shape[1] < self.frames_in or (
            tuple(context.shape[2:]) != expected
        ):
            raise ValueError(
                f"`context` must have shape (batch, t >= {self.frames_in}, "
                f"{', '.join(map(str, expected))}). Received shape {context.shape}."
            )
        # predict's checks (no examples, NaN, pixels that look divided by 255).
        frames, _ = self._check_data(context[:, -self.frames_in:], None, "predict",
                                     prefix="`context`: ")
        frames = np.asarray(frames, np.float32)
        predicted = []
        count = 0
        while count < n:
            step = ops.convert_to_numpy(self(frames, training=False))
            predicted.append(step)
            count += step.shape[1]
            frames = np.concatenate([frames, step], axis=1)[:, -self.frames_in:]
        return np.concatenate(predicted, axis=1)[:, :n]


def video_predictor(
    *,
    frames_in=10,
    frames_out=10,
    image_size=(64, 64),
    channels=1,
    filters=(32, 32),
    kernel_size=3,
    loss="auto",
    residual="auto",
    compile=True,
    name=None,
):
    """Predicts the next `frames_out` frames of a video from its last
    `frames_in` frames (Shi et al. 2015's ConvLSTM encoder-forecaster).

    Frames are rescaled to [0, 1] inside and cut into 4x4 patches stacked
    on the channel axis (as in the paper: 64x64x1 frames become 16x16x16).
    An encoder of `len(filters)` stacked `ConvLSTM2D` layers reads the
    context; each encoder layer's final states start the forecaster layer
    of the same size, which runs `frames_out` steps on zero input; a 1x1
    convolution over all forecaster outputs gives the change from the last
    context frame (`residual`): added to its logits, then a sigmoid, or
    added to its [0, 1] intensities, then clipped to [0, 1]; the inverse
    patching gives the future frames, scaled back to [0, 255]. The
    convolution starts at zero, so the untrained model copies the last
    frame (the copy-last-frame baseline) and training learns the change on
    top; with the paper's plain output, training first blurs every frame
    (SSIM 0.39 where copy-last has 0.59 on held-out moving digits after the
    same training).

    Args:
        frames_in: int >= 1. Context frames. Defaults to 10.
        frames_out: int >= 1. Frames predicted in one call (use
            `model.predict_frames(context, n)` for more). Defaults to 10.
        image_size: (height, width), each a multiple of 4 and >= 8.
            Defaults to (64, 64).
        channels: 1 (grey) or 3 (RGB). Defaults to 1.
        filters: int or tuple of ints. Filters of each ConvLSTM layer of
            the encoder (and of the forecaster). Defaults to (32, 32).
        kernel_size: odd int. ConvLSTM kernel side (on the patch grid).
            Defaults to 3. (The paper's (64, 64) and 5x5 trained 3.6x
            slower on a shared CPU, 4 -> 4 frames of 32x32; on held-out
            moving digits (32, 32) with 3x3 had a lower error than 5x5 after
            the same epochs: README, "Next-frame prediction".)
        loss: `"auto"`, `"binary_crossentropy"`, `"mse"`, `"mae"` or
            `"huber"`, per pixel on [0, 1] intensities (`FrameLoss`).
            `"auto"` picks binary cross-entropy for `channels=1`
            (Moving-MNIST-like: bright strokes on black, as in the paper)
            and Huber (squared error below 0.1, absolute above) for
            `channels=3` (natural video: on real footage MAE never left
            copy-last, and MSE drifted above it on held-out windows of
            slow footage; README, "Next-frame prediction"). Grey natural
            video should pass `loss="huber"`. Defaults to `"auto"`.
        residual: `"auto"`, `"logits"` or `"pixels"`: where the predicted
            change from the last frame is added. `"logits"`: to the last
            frame's logits (intensities clipped to [0.01, 0.99] first), so
            a pixel switches on or off in a few steps, as digit strokes do.
            `"pixels"`: to its intensities, clipped to [0, 1] on the way
            forward and not in the gradient (natural video changes by small
            amounts everywhere, which logits squash near black and white).
            `"auto"`: `"logits"` with the binary cross-entropy loss,
            `"pixels"` with MSE, MAE or Huber. Defaults to `"auto"`.
        compile: bool. Compile with Adam(3e-3, clipnorm=1: 1e-3 learned
            several times slower on moving digits), the loss, and
            the metrics `frame_mse` (sum over a frame's pixels of the squared
            error on [0, 1], the figure Moving MNIST papers report), `psnr`
            and `ssim` (per frame, peak 255). Defaults to True.
        name: str or None. Model name. Defaults to `"video_predictor"`.

    Returns:
        A `VideoPredictor` (a `cvseq.Task`) from frames `(batch, frames_in,
        height, width, channels)` in [0, 255] (any dtype) to float32 frames
        `(batch, frames_out, height, width, channels)` in [0, 255].

    Example:

    >>> model = video_predictor(frames_in=10, frames_out=10)
    >>> train = cvseq.datasets.load("moving_digit_frames", "train")
    >>> model.fit(train, epochs=10)
    >>> model.predict_frames(np.zeros((1, 10, 64, 64, 1)), 20).shape
    (1, 20, 64, 64, 1)
    """
    # Arguments.
    frames_in = check_int("frames_in", frames_in)
    frames_out = check_int("frames_out", frames_out)
    image_size = check_image_size(image_size)
    if image_size[0] % PATCH or image_size[1] % PATCH:
        raise ValueError(
            f"`image_size` must be multiples of {PATCH} (frames are cut into "
            f"{PATCH}x{PATCH} patches). Received: image_size={image_size!r}; "
            "resize or crop the frames."
        )
    if (isinstance(channels, bool) or not isinstance(channels, numbers.Integral)
            or channels not in (1, 3)):
        raise ValueError(
            f"`channels` must be 1 (grey) or 3 (RGB), an int. Received: "
            f"channels={channels!r}."
        )
    channels = int(channels)
    filters = check_int_tuple("filters", filters, allow_int=True)
    if (
        isinstance(kernel_size, bool)
        or not isinstance(kernel_size, numbers.Integral)
        or kernel_size < 1
        or kernel_size % 2 == 0
    ):
        raise ValueError(
            "`kernel_size` must be an odd int >= 1 (3 or 5 are usual). "
            f"Received: kernel_size={kernel_size!r}."
        )
    kernel_size = int(kernel_size)
    check_choice("loss", loss, LOSSES)
    check_choice("residual", residual, RESIDUALS)
    check_bool("compile", compile)
    if loss == "auto":
        loss = "binary_crossentropy" if channels == 1 else "huber"
    if residual == "auto":
        residual = "logits" if loss == "binary_crossentropy" else "pixels"

    # Layers.
    frames = keras.Input((frames_in, *image_size, channels), name="frames")
    x = keras.layers.Rescaling(1.0 / 255, name="rescale")(frames)
    x = patches = Patchify(name="patches")(x)
    states = []
    for i, f in enumerate(filters, start=1):
        x, h, c = keras.layers.ConvLSTM2D(
            f, kernel_size, padding="same", return_sequences=True,
            return_state=True, name=f"encoder_{i}",
        )(x)
        states.append([h, c])
    y = FutureSteps(frames_out, name="future_steps")(x)
    outputs = []
    for i, (f, state) in enumerate(zip(filters, states), start=1):
        y = keras.layers.ConvLSTM2D(
            f, kernel_size, padding="same", return_sequences=True,
            name=f"forecaster_{i}",
        )(y, initial_state=state)
        outputs.append(y)
    y = outputs[0] if len(outputs) == 1 else keras.layers.Concatenate(
        name="forecaster_outputs")(outputs)
    # The 1x1 convolution starts at zero and adds to the logits of the last
    # context frame: the untrained model copies the last frame (the
    # copy-last-frame baseline) and training learns the motion on top.
    # No bias on pixels: a bias is a change of brightness added to every
    # frame of every video, which a few training scenes teach and held-out
    # ones pay for.
    y = keras.layers.Conv3D(
        PATCH * PATCH * channels, 1, kernel_initializer="zeros", dtype="float32",
        use_bias=residual == "logits", name="future_patches",
    )(y)
    if residual == "logits":
        last = LastFrameLogits(frames_out, dtype="float32",
                               name="last_frame_logits")(patches)
        y = keras.layers.Add(dtype="float32", name="future_logits")([y, last])
        y = keras.layers.Activation("sigmoid", dtype="float32", name="future_pixels")(y)
    else:
        last = LastFrame(frames_out, dtype="float32", name="last_frame")(patches)
        y = keras.layers.Add(dtype="float32", name="future_sum")([y, last])
        y = ClipUnit(dtype="float32", name="future_pixels")(y)
    y = Patchify(inverse=True, dtype="float32", name="unpatch")(y)
    future = keras.layers.Rescaling(255.0, dtype="float32", name="future")(y)
    model = VideoPredictor(
        frames, future, name=name or "video_predictor", targets="values",
        compile_defaults=dict(
            optimizer=keras.optimizers.Adam(3e-3, clipnorm=1.0),
            loss=FrameLoss(loss),
            metrics=[
                keras.metrics.MeanMetricWrapper(frame_mse, name="frame_mse"),
                keras.metrics.MeanMetricWrapper(psnr, name="psnr"),
                keras.metrics.MeanMetricWrapper(ssim, name="ssim"),
            ],
        ),
    )
    if compile:
        model.compile()
    return model


# ---------------------------------------------------------------------------
# The task as `cvseq` commands, the examples and the tests see it.
# ---------------------------------------------------------------------------

from cvseq import tasks as _tasks  # noqa: E402


def _predictor_data_options(options):
    """`--frames` counts context and future frames (half each)."""
    data = _tasks.video_data_options(options)
    frames = check_int("frames", data["frames"], minimum=2)
    return {"frames_in": frames // 2, "frames_out": frames - frames // 2,
            "image_size": data["image_size"]}


def _shape(info, data_options):
    context, future = info.element_spec
    return {"frames_in": int(context.shape[0]), "frames_out": int(future.shape[0]),
            "image_size": _tasks.image_size_of(context.shape, data_options),
            "channels": int(context.shape[3])}


def _predict_video_frames(model, inputs, run):
    """Each input is a video file whose future the model predicts: its last
    `frames_in` frames, consecutive at the run's `stride`, are the context,
    read as `video_frames` reads training windows (centre-cropped to the
    model's aspect and resized; grey models see OpenCV's luminance)."""
    from cvseq.datasets import frame_sequences
    from cvseq.datasets.video_folder import VideoReadError

    if not callable(getattr(model, "predict_frames", None)):
        raise _tasks.UserInputError(
            f"Model {model.name!r} does not predict frames; is the run.json beside "
            "it that of another model? Predict with the model.keras of a "
            "video_predictor run.")
    frames_in, size = model.frames_in, tuple(model.inputs[0].shape[2:4])
    stride = int((run.get("data_options") or {}).get("stride") or 1)
    span = (frames_in - 1) * stride + 1
    contexts = []
    for path in inputs:
        _tasks.check_video_file(path)
        try:
            video = frame_sequences.decoded_file(path, size)
        except VideoReadError as err:
            raise _tasks.UserInputError(f"Cannot read video {path!r}: {err}.") from err
        if len(video) < span:
            raise _tasks.UserInputError(
                f"Video {path!r} has {len(video)} frame(s); the model continues "
                f"{frames_in} consecutive frames (stride {stride}). Give a video of "
                f"{span} frames or more.")
        context = video[len(video) - span::stride]
        if model.inputs[0].shape[-1] == 1:
            context = frame_sequences.grey_frames(context)
        contexts.append(context)
    clips = np.stack(contexts).astype("float32")
    future = model.predict_frames(clips, model.frames_out)
    change = np.abs(future - clips[:, -1:]).mean(axis=(2, 3, 4))
    return [f"{len(c)} frames predicted after its last {frames_in}; mean |change| from "
            "its last frame: " + " ".join(f"{v:.1f}" for v in c) for c in change]


def _frames_picture(model, inputs, targets, run, path):
    """Four held-out sequences: context, true future, predicted future."""
    from cvseq import reporting

    context, truth = inputs[:4], targets[:4]
    predicted = model.predict_frames(context, truth.shape[1])
    return reporting.plot_frame_predictions(context, truth, predicted, path)


def _predictor_options_from_model(model):
    return {"frames_in": model.frames_in, "frames_out": model.frames_out,
            "image_size": tuple(model.inputs[0].shape[2:4])}


_tasks.register_task(_tasks.TaskSpec(
    name="video_predictor",
    description="ConvLSTM next-frame prediction (frames -> future frames)",
    factory=video_predictor,
    dataset="moving_digit_frames",
    shape=_shape,
    data_options=_predictor_data_options,
    predict=_predict_video_frames,
    options_from_model=_predictor_options_from_model,
    picture=_frames_picture,
    metric="frame_mse",
    small_data={"num_clips": 8, "frames_in": 2, "frames_out": 2, "image_size": 16},
    example="video_prediction.py",
))
