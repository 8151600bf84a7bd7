"""A layer for token id sequences."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="cvseq")
class AtLeastOneToken(keras.layers.Layer):
    """Gives every text of a token id batch at least one token.

    A `TextVectorization` without `output_sequence_length` pads to the
    longest text of the batch, so a batch whose texts hold no token (`""`,
    punctuation only) comes out `(batch, 0)`, which a recurrent layer
    cannot run, and such a text beside longer ones is all padding, which
    the cuDNN LSTM/GRU kernels refuse on GPU (a fully masked row). This
    layer gives each such text one unknown word (`oov_id`, `"[UNK]"` in
    cvseq's vocabularies) in its first position, adding that position to
    an empty batch; other texts pass unchanged. So a text without a
    token reads the same alone or in a batch, on CPU and GPU.

    Args:
        oov_id: int. The id of the unknown token. Defaults to 1.

    >>> AtLeastOneToken()(np.array([[0, 0], [4, 0]])).tolist()
    [[1, 0], [4, 0]]
    """

    def __init__(self, oov_id=1, **kwargs):
        super().__init__(**kwargs)
        self.oov_id = int(oov_id)

    def call(self, token_ids):
        length = ops.shape(token_ids)[1]
        if isinstance(length, int):  # a static length (JAX, or a fixed one)
            if not length:
                token_ids = ops.pad(token_ids, [[0, 0], [0, 1]])
        else:
            token_ids = ops.pad(token_ids, [[0, 0], [0, ops.maximum(1 - length, 0)]])
        empty = ops.all(ops.equal(token_ids, 0), axis=1, keepdims=True)
        first = ops.expand_dims(ops.equal(ops.arange(ops.shape(token_ids)[1]), 0), 0)
        unknown = ops.cast(self.oov_id, token_ids.dtype)
        return ops.where(ops.logical_and(empty, first), unknown, token_ids)

    def compute_output_shape(self, input_shape):
        length = input_shape[1]
        return (input_shape[0], None if length is None else max(length, 1))

    def get_config(self):
        return {**super().get_config(), "oov_id": self.oov_id}
