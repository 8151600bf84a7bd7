"""Benchmark of the next-frame predictor against the same model in plain Keras.

Times training (sequences/s) of `cvseq.video_predictor` against
`plain_keras_predictor`, the same encoder-forecaster written with stock
Keras layers and `keras.ops` calls (no cvseq layer, loss or metric): the
same weights give the same frames (tests/test_benchmarks_video_predictor.py).
The plain model is compiled as a keras.io user would (binary cross-entropy,
MSE metric), cvseq with its defaults (its frame loss and the frame MSE,
PSNR and SSIM metrics), so the ratio includes what those cost. Models are
trained in alternating rounds, best round kept (`_timing.py`). Prints JSON.

    python benchmarks/video_predictor.py                 # 4 -> 4 frames of 32x32, defaults
    python benchmarks/video_predictor.py --frames 10 --image-size 64 \
        --filters 64 64 --kernel-size 5
"""

import argparse
import json
import os
import platform

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

import cvseq  # noqa: E402
from cvseq.datasets import frame_sequences  # noqa: E402

from _timing import kit_against_plain, repeat_batches  # noqa: E402

PATCH = 4


def plain_keras_predictor(frames_in, frames_out, image_size, channels=1,
                          filters=(32, 32), kernel_size=3):
    """Shi et al.'s encoder-forecaster as `video_predictor` builds it, in
    plain Keras: frames in [0, 255] in, frames in [0, 255] out."""
    h, w = image_size
    p = PATCH
    frames = keras.Input((frames_in, h, w, channels), name="frames")
    x = keras.layers.Rescaling(1.0 / 255)(frames)
    x = keras.layers.Reshape((frames_in, h // p, p, w // p, p, channels))(x)
    x = keras.layers.Permute((1, 2, 4, 3, 5, 6))(x)
    x = patches = keras.layers.Reshape((frames_in, h // p, w // p, p * p * channels))(x)
    states = []
    for f in filters:
        x, state_h, state_c = keras.layers.ConvLSTM2D(
            f, kernel_size, padding="same", return_sequences=True, return_state=True)(x)
        states.append([state_h, state_c])
    y = ops.zeros_like(x[:, :1, :, :, :1]) * ops.zeros((1, frames_out, 1, 1, 1))
    outputs = []
    for f, state in zip(filters, states):
        y = keras.layers.ConvLSTM2D(f, kernel_size, padding="same",
                                    return_sequences=True)(y, initial_state=state)
        outputs.append(y)
    y = outputs[0] if len(outputs) == 1 else keras.layers.Concatenate()(outputs)
    y = keras.layers.Conv3D(p * p * channels, 1, kernel_initializer="zeros")(y)
    last = ops.clip(patches[:, -1:], 0.01, 0.99)
    last = ops.repeat(ops.log(last) - ops.log(1.0 - last), frames_out, axis=1)
    y = keras.layers.Activation("sigmoid")(keras.layers.Add()([y, last]))
    y = keras.layers.Reshape((frames_out, h // p, w // p, p, p, channels))(y)
    y = keras.layers.Permute((1, 2, 4, 3, 5, 6))(y)
    y = keras.layers.Reshape((frames_out, h, w, channels))(y)
    future = keras.layers.Rescaling(255.0)(y)
    model = keras.Model(frames, future, name="plain_video_predictor")

    def loss(y_true, y_pred):
        return keras.losses.binary_crossentropy(
            ops.reshape(ops.cast(y_true, "float32") / 255.0, (-1, 1)),
            ops.reshape(y_pred / 255.0, (-1, 1)))

    model.compile(keras.optimizers.Adam(3e-3, clipnorm=1.0), loss=loss, metrics=["mse"])
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=4, help="context and future each")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--filters", type=int, nargs="+", default=[32, 32])
    parser.add_argument("--kernel-size", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    size = (args.image_size, args.image_size)
    context, future = frame_sequences.generate(
        "train", frames_in=args.frames, frames_out=args.frames, image_size=size,
        num_clips=128)
    keras.utils.set_random_seed(0)
    kit = cvseq.video_predictor(frames_in=args.frames, frames_out=args.frames,
                                image_size=size, filters=tuple(args.filters),
                                kernel_size=args.kernel_size)
    plain = plain_keras_predictor(args.frames, args.frames, size,
                                  filters=tuple(args.filters),
                                  kernel_size=args.kernel_size)
    data = repeat_batches(context, future.astype(np.float32), args.batch_size)
    row = kit_against_plain(kit, plain, data, args.batch_size, "sequences/s",
                            rounds=args.rounds)
    row["data"] = (f"moving_digit_frames, {args.frames} -> {args.frames} frames of "
                   f"{args.image_size}x{args.image_size}, filters {args.filters}, "
                   f"kernel {args.kernel_size}, batch {args.batch_size}")
    print(json.dumps({"machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared)",
                      "video_predictor": row}, indent=1))


if __name__ == "__main__":
    main()
