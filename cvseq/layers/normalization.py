"""Batch normalization that uses the global batch under tf.distribute."""

import keras
import numpy as np


@keras.saving.register_keras_serializable(package="cvseq")
class BatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization(synchronized=True)` without its cost
    on one device.

    Under a strategy with several replicas, the batch statistics are those
    of the global batch (summed across replicas), so N replicas train the
    same model as one device with the same global batch. On one replica,
    Keras' synchronized path still builds a tensor of ones the size of the
    input to count elements and calls the (trivial) all-reduce three times;
    here one replica computes the same moments directly, with the same
    formula (`E[x^2] - E[x]^2`) so both paths agree to float rounding.

    Takes the arguments of `keras.layers.BatchNormalization`; `synchronized`
    defaults to True. Synchronization across replicas exists only under
    `tf.distribute`: on the JAX and PyTorch backends cvseq trains on one
    replica, where synchronized and plain batch statistics are the same
    numbers, so the layer runs Keras' plain path there (Keras itself rejects
    `synchronized=True` off TensorFlow). The requested value is kept in the
    config, so a model saved on one backend loads on any other.
    """

    def __init__(self, synchronized=True, **kwargs):
        if not isinstance(synchronized, (bool, np.bool_)):
            raise TypeError(
                f"`synchronized` must be True or False. Received: "
                f"synchronized={synchronized!r}.")
        self._requested_synchronized = bool(synchronized)
        if keras.backend.backend() != "tensorflow":
            synchronized = False
        super().__init__(synchronized=synchronized, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["synchronized"] = self._requested_synchronized
        return config

    def _moments(self, inputs, mask):
        if not self.synchronized:  # always the case off TensorFlow
            return super()._moments(inputs, mask)
        import tensorflow as tf  # only reached on the TensorFlow backend

        context = tf.distribute.get_replica_context()
        several = context is not None and context.num_replicas_in_sync > 1
        if mask is not None or several:
            return super()._moments(inputs, mask)
        x = inputs
        if x.dtype in (tf.float16, tf.bfloat16):  # statistics in float32
            x = tf.cast(x, tf.float32)
        mean = tf.reduce_mean(x, axis=self._reduction_axes)
        mean_of_squares = tf.reduce_mean(tf.square(x), axis=self._reduction_axes)
        variance = tf.maximum(mean_of_squares - tf.square(mean), 0.0)
        return tf.cast(mean, inputs.dtype), tf.cast(variance, inputs.dtype)
