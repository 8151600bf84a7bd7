"""A layer for token id sequences."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="cvseq")
class AtLeastOneToken(keras.layers.Layer):
    """Gives token id batches at least one position (padding, id 0).

    A `TextVectorization` without `output_sequence_length` pads to the
    longest text of the batch, so a batch whose texts hold no token (`""`,
    punctuation only) comes out `(batch, 0)`, and a recurrent layer cannot
    run zero steps. This adds one padding position then, which the
    embedding's mask skips: such a text reads as it does beside longer
    texts in a batch (all padding). Other batches pass unchanged.

    >>> AtLeastOneToken()(np.zeros((2, 0), "int64")).shape
    (2, 1)
    """

    def call(self, token_ids):
        length = ops.shape(token_ids)[1]
        if isinstance(length, int):  # a static length (JAX, or a fixed one)
            return token_ids if length else ops.pad(token_ids, [[0, 0], [0, 1]])
        return ops.pad(token_ids, [[0, 0], [0, ops.maximum(1 - length, 0)]])

    def compute_output_shape(self, input_shape):
        length = input_shape[1]
        return (input_shape[0], None if length is None else max(length, 1))
