"""Pixel preprocessing inside the model, so saved models take raw pixels."""

import keras
from keras import ops

from cvseq._validation import check_choice

# ImageNet statistics, for backbones trained on normalized inputs.
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)

MODES = ("unit", "symmetric", "caffe", "torch", "none")


@keras.saving.register_keras_serializable(package="cvseq")
class ImagePreprocessing(keras.layers.Layer):
    """Turns raw pixels in [0, 255] into what a backbone was trained on.

    Args:
        mode: str. `"unit"` scales to [0, 1]; `"symmetric"` to [-1, 1];
            `"caffe"` flips RGB to BGR and subtracts the ImageNet mean (Keras
            ResNet50); `"torch"` scales to [0, 1] and standardizes with the
            ImageNet mean and std; `"none"` passes pixels through (for
            backbones that rescale inside). Defaults to `"unit"`.
    """

    def __init__(self, mode="unit", **kwargs):
        super().__init__(**kwargs)
        self.mode = check_choice("mode", mode, MODES)

    def call(self, images):
        images = ops.cast(images, self.compute_dtype)
        if self.mode == "unit":
            return images / 255.0
        if self.mode == "symmetric":
            return images / 127.5 - 1.0
        if self.mode == "caffe":
            bgr = ops.flip(images, axis=-1)
            return bgr - ops.convert_to_tensor(_CAFFE_MEAN_BGR, self.compute_dtype)
        if self.mode == "torch":
            mean = ops.convert_to_tensor(_TORCH_MEAN, self.compute_dtype)
            std = ops.convert_to_tensor(_TORCH_STD, self.compute_dtype)
            return (images / 255.0 - mean) / std
        return images

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
