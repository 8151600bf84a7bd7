"""Trains the same tagger on one CPU device and mirrored over two logical
CPU devices; prints JSON with both losses and weights' max difference."""

import json
import os
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2
)

import keras  # noqa: E402
import numpy as np  # noqa: E402

import cvseq  # noqa: E402


def train(strategy):
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = cvseq.video_tagger(4, frames=4, image_size=16, units=8, dropout=0.0)
    data = cvseq.datasets.load("moving_digits", "train", frames=4, image_size=16,
                               num_clips=64, batch_size=16, shuffle=False)
    history = model.fit(data, epochs=2, verbose=0)
    return history.history["loss"], model.get_weights()


one_loss, one_weights = train(tf.distribute.get_strategy())
mirrored = cvseq.distribute.strategy("mirrored", devices=["/cpu:0", "/cpu:1"])
two_loss, two_weights = train(mirrored)
json.dump({
    "replicas": mirrored.num_replicas_in_sync,
    "one_device_loss": one_loss,
    "mirrored_loss": two_loss,
    "max_weight_difference": max(
        float(np.max(np.abs(a - b))) for a, b in zip(one_weights, two_weights)),
}, sys.stdout)
