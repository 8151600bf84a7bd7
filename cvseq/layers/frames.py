"""Layers that work on clips: `(batch, frames, height, width, channels)`."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="cvseq")
class TimeDistributed(keras.layers.TimeDistributed):
    """Applies a layer to every frame of a clip, all frames in one call.

    Same contract as `keras.layers.TimeDistributed`, but the time axis is
    folded into the batch axis: `(batch, frames, ...)` becomes
    `(batch * frames, ...)`, the wrapped layer runs once, and the result is
    unfolded. Keras 3's `TimeDistributed` calls the layer once per frame
    (a Python loop when `frames` is static, `vectorized_map` otherwise),
    which is several times slower for a CNN and builds a graph that grows
    with the clip length. Batch normalization inside the wrapped layer sees
    all frames of the batch together.

    Args:
        layer: `keras.layers.Layer`. The layer (or model) to apply per frame.

    Example:

    >>> cnn = keras.Sequential([keras.layers.Conv2D(4, 3), keras.layers.Flatten()])
    >>> TimeDistributed(cnn)(np.zeros((2, 5, 8, 8, 3))).shape
    TensorShape([2, 5, 144])
    """

    def call(self, inputs, training=None, mask=None):
        shape = ops.shape(inputs)
        folded = ops.reshape(inputs, (-1, *shape[2:]))
        kwargs = {}
        if self.layer._call_has_training_arg:
            kwargs["training"] = training
        outputs = self.layer(folded, **kwargs)
        out_shape = ops.shape(outputs)
        return ops.reshape(outputs, (shape[0], shape[1], *out_shape[1:]))

    def compute_mask(self, inputs, mask=None):
        # The per-frame layer never consumes the clip mask; pass it through.
        return mask


@keras.saving.register_keras_serializable(package="cvseq")
class FrameMask(keras.layers.Layer):
    """Marks the real frames of clips padded at the end with all-zero frames.

    Input `(batch, frames, height, width, channels)`; output a boolean
    `(batch, frames)` tensor: `True` up to and including the last frame
    with a non-zero pixel, `False` for the all-zero frames after it. Only
    trailing all-zero frames are padding: a black frame at the start or in
    the middle of a clip (a fade to black, a dark first frame) stays real,
    and the first frame is always real, so an all-black clip is one frame
    long rather than empty. The mask is therefore always right-padded and
    never empty, as the cuDNN LSTM/GRU kernels require on GPU. Pass it as
    `mask=` to a recurrent layer so padding at the end of a clip is skipped.

    Example:

    >>> clips = np.ones((1, 5, 2, 2, 3))
    >>> clips[0, [0, 2, 4]] = 0  # black first, middle and last frames
    >>> FrameMask()(clips).numpy()
    array([[ True,  True,  True,  True, False]])
    """

    def call(self, clips):
        if len(clips.shape) != 5:
            raise ValueError(
                "FrameMask takes clips (batch, frames, height, width, channels). "
                f"Received shape {tuple(clips.shape)}.")
        lit = ops.any(ops.not_equal(clips, 0), axis=(2, 3, 4))
        # A frame is real when it or any later frame is lit: count lit frames
        # from the end (a reversed cumulative sum).
        lit_after = ops.flip(ops.cumsum(ops.cast(ops.flip(lit, axis=1), "int32"),
                                        axis=1), axis=1)
        first = ops.arange(ops.shape(clips)[1]) == 0
        return ops.logical_or(lit_after > 0, first[None, :])

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:2])

    def compute_output_spec(self, clips):
        return keras.KerasTensor(clips.shape[:2], dtype="bool")
