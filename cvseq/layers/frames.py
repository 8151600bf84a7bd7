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
    """Marks the real frames of clips padded with all-zero frames.

    Input `(batch, frames, height, width, channels)`; output a boolean
    `(batch, frames)` tensor, `True` where a frame has any non-zero pixel.
    Pass it as `mask=` to a recurrent layer so padding at the end of a clip
    is skipped.
    """

    def call(self, clips):
        return ops.any(ops.not_equal(clips, 0), axis=(2, 3, 4))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:2])

    def compute_output_spec(self, clips):
        return keras.KerasTensor(clips.shape[:2], dtype="bool")
