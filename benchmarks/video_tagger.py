"""Benchmark of the video tagger; prints JSON.

Measures, in one process on the same data:

1. training throughput (clips/s) of `cvseq.video_tagger` against the same
   architecture written in plain Keras (`keras.layers.TimeDistributed`,
   which calls the CNN once per frame): `ratio_cvseq_over_plain_keras` > 1
   means cvseq is faster, ~1 means it adds no overhead;
2. the video folder reader's decode throughput (OpenCV, parallel map)
   against the model's training throughput on the same clip shape:
   `ratio_decode_over_train` > 1 means the input pipeline keeps up;
3. how the tagger's training step time grows with `frames` (8, 16, 32).

With `--frontier`, instead: held-out accuracy against training clips/s of
the tagger's design choices (motion stream, backbone depth and width, batch
norm, the per-frame descriptor, recurrent units) and of a minimal plain
Keras CNN+LSTM, on the real `sample_videos` and on `moving_digits`.

    python benchmarks/video_tagger.py                 # CPU-sized defaults
    python benchmarks/video_tagger.py --frontier --frames 4
    python benchmarks/video_tagger.py --image-size 112 --batch-size 32  # GPU
"""

import argparse
import json
import os
import platform
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2  # noqa: E402
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import cvseq  # noqa: E402
from cvseq.datasets import moving_digits  # noqa: E402

from _timing import (  # noqa: E402
    cached_batches,
    compare_training,
    kit_against_plain,
    repeat_batches,
)


class FrameDifferences(keras.layers.Layer):
    """Each frame minus the one before (zeros first): what a user would write."""

    def call(self, clips):
        clips = keras.ops.cast(clips, "float32")
        previous = keras.ops.concatenate([clips[:, :1], clips[:, :-1]], axis=1)
        return clips - previous


def plain_keras_tagger(num_classes, frames, image_size, units=128):
    """The tagger's architecture with stock Keras layers only (and the
    three-line frame difference above)."""
    from cvseq.backbones import FRAME_CNN_FILTERS

    cnn = keras.Sequential(name="cnn")
    cnn.add(keras.Input((*image_size, 3)))
    cnn.add(keras.layers.Rescaling(1 / 255))
    for stage, filters in enumerate(FRAME_CNN_FILTERS, start=1):
        cnn.add(keras.layers.Conv2D(filters, 3, padding="same", activation="relu"))
        if stage < len(FRAME_CNN_FILTERS):
            cnn.add(keras.layers.MaxPooling2D(2))
    motion = keras.Sequential(name="motion")
    motion.add(keras.Input((*image_size, 3)))
    motion.add(keras.layers.Rescaling(1 / 255))
    for filters in (16, 32):
        motion.add(keras.layers.Conv2D(filters, 3, strides=2, padding="same", use_bias=False))
        motion.add(keras.layers.BatchNormalization(momentum=0.9))
        motion.add(keras.layers.ReLU())
    motion.add(keras.layers.GlobalAveragePooling2D())
    clips = keras.Input((frames, *image_size, 3))
    x = keras.layers.TimeDistributed(cnn)(clips)
    what = keras.layers.TimeDistributed(keras.layers.GlobalAveragePooling2D())(x)
    where = keras.layers.Dense(16, activation="relu")(x)
    h, w, c = where.shape[2:]
    where = keras.layers.Reshape((frames, h * w * c))(where)
    moved = keras.layers.TimeDistributed(motion)(FrameDifferences()(clips))
    x = keras.layers.Concatenate()([what, where, moved])
    x = keras.layers.Dense(units, activation="relu")(x)
    x = keras.layers.Dropout(0.2)(x)
    x = keras.layers.LSTM(units)(x)
    x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(clips, outputs)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=False)
    return model


def minimal_cnn_lstm(num_classes, frames, image_size, units=64):
    """The smallest CNN+LSTM a user would write: two conv/pool stages per
    frame (Keras' own TimeDistributed), the feature map flattened (not
    pooled: positions matter for motion) into an LSTM."""
    cnn = keras.Sequential([
        keras.Input((*image_size, 3)), keras.layers.Rescaling(1 / 255),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten()], name="cnn")
    clips = keras.Input((frames, *image_size, 3))
    x = keras.layers.TimeDistributed(cnn)(clips)
    x = keras.layers.LSTM(units)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(clips, outputs)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=False)
    return model


def tagger_variant(num_classes, frames, image_size, *, filters=None, batch_norm=False,
                   spatial="what_where", motion=True, motion_filters=None,
                   motion_batch_norm=True, units=128):
    """The tagger with one of its design choices changed: backbone stages
    (`filters`), batch norm, the per-frame descriptor (`spatial`:
    "what_where" pooled + projected map, "pool" pooled only), the motion
    stream, its widths (`motion_filters`) and batch norm, the recurrent units. The
    defaults rebuild `cvseq.video_tagger` (checked by parameter count in the
    tests)."""
    from cvseq.backbones import FRAME_CNN_FILTERS
    from cvseq.layers import FrameMask, TimeDistributed
    from cvseq.models.video_tagger import _MOTION_FILTERS
    from cvseq.models.video_tagger import FrameDifferences as Differences

    filters = FRAME_CNN_FILTERS if filters is None else filters
    motion_filters = _MOTION_FILTERS if motion_filters is None else motion_filters
    x = inputs = keras.Input((*image_size, 3))
    x = keras.layers.Rescaling(1 / 255)(x)
    for stage, f in enumerate(filters, start=1):
        x = keras.layers.Conv2D(f, 3, padding="same", use_bias=not batch_norm)(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(momentum=0.9)(x)
        x = keras.layers.ReLU()(x)
        if stage < len(filters):
            x = keras.layers.MaxPooling2D(2)(x)
    cnn = keras.Model(inputs, x)
    clips = keras.Input((frames, *image_size, 3))
    mask = FrameMask()(clips)
    x = TimeDistributed(cnn)(clips)
    features = [TimeDistributed(keras.layers.GlobalAveragePooling2D())(x)]
    if spatial == "what_where":
        where = keras.layers.Dense(16, activation="relu")(x)
        h, w, c = where.shape[2:]
        features.append(keras.layers.Reshape((-1, h * w * c))(where))
    if motion:
        y = differences = keras.Input((*image_size, 3))
        y = keras.layers.Rescaling(1 / 255)(y)
        for f in motion_filters:
            y = keras.layers.Conv2D(f, 3, strides=2, padding="same",
                                    use_bias=not motion_batch_norm)(y)
            if motion_batch_norm:
                y = keras.layers.BatchNormalization(momentum=0.9)(y)
            y = keras.layers.ReLU()(y)
        y = keras.layers.GlobalAveragePooling2D()(y)
        motion_network = keras.Model(differences, y)
        features.append(TimeDistributed(motion_network)(Differences()(clips)))
    x = keras.layers.Concatenate()(features) if len(features) > 1 else features[0]
    x = keras.layers.Dense(units, activation="relu")(x)
    x = keras.layers.Dropout(0.2)(x)
    x = keras.layers.LSTM(units)(x, mask=mask)
    x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(clips, outputs)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=False)
    return model


def _variant(**changes):
    return lambda n, f, size: tagger_variant(n, f, size, **changes)


# Points of the frontier: name -> builder(num_classes, frames, image_size).
# Each variant differs from the default by the choices named.
FRONTIER = {
    "minimal plain CNN+LSTM": minimal_cnn_lstm,
    "cvseq.video_tagger (default)": lambda n, f, size: cvseq.video_tagger(
        n, frames=f, image_size=size),
    "no motion stream": _variant(motion=False),
    "batch norm in the backbone": _variant(batch_norm=True),
    "pooled only (no projected map)": _variant(spatial="pool"),
    "64 units": _variant(units=64),
    "motion stream 8-16": _variant(motion_filters=(8, 16)),
    "no batch norm in the motion stream": _variant(motion_batch_norm=False),
    "3 backbone stages (8-32)": _variant(filters=(8, 16, 32)),
    "full width (16-128, the previous default)": _variant(filters=(16, 32, 64, 128)),
    "full width, no motion stream": _variant(filters=(16, 32, 64, 128), motion=False),
}


def cpu_cost(models, clips, labels, *, steps=6, rounds=5):
    """Median CPU time (ms, all threads of this process) of one training
    step of each model on the same batch, in alternating rounds.

    Why CPU time besides clips/s: on a machine shared with other jobs the
    wall-clock rate of one model swings by 2x between rounds, while the CPU
    time a step consumes hardly moves (repeat runs agreed within 5%). Run
    with `--threads 1` it is the step's cost on one core, without the
    thread pool's spinning.
    """
    import statistics

    x, y = tf.constant(clips), tf.constant(labels)
    for model in models.values():
        for _ in range(2):
            model.train_on_batch(x, y)
    times = {name: [] for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            start = time.process_time()
            for _ in range(steps):
                model.train_on_batch(x, y)
            times[name].append(1000 * (time.process_time() - start) / steps)
    return {name: statistics.median(t) for name, t in times.items()}


def frontier(dataset, *, frames, image_size, epochs, batch_size, steps, rounds,
             names=None, seeds=(0,)):
    """Held-out accuracy (per seed) and training cost of each point of
    `FRONTIER` on `dataset`: clips/s (interleaved, as a ratio over the
    minimal plain CNN+LSTM, the first point) and CPU time per step (see
    `cpu_cost`), both timed on the first seed's models."""
    names = names or list(FRONTIER)
    rows, models = {name: {"accuracy": []} for name in names}, {}
    for seed in seeds:
        options = dict(frames=frames, image_size=image_size, batch_size=32, seed=seed)
        if dataset == "moving_digits":
            options["label"] = "direction"
        train, info = cvseq.datasets.load(dataset, "train", with_info=True, **options)
        test = cvseq.datasets.load(dataset, "test", **options)
        for name in names:
            keras.utils.set_random_seed(seed)
            model = FRONTIER[name](info.num_classes, frames, image_size)
            model.fit(train, epochs=epochs, verbose=0)
            accuracy = model.evaluate(test, verbose=0, return_dict=True)["accuracy"]
            rows[name]["accuracy"].append(round(accuracy, 3))
            rows[name]["parameters"] = model.count_params()
            models.setdefault(name, model)
        if seed == seeds[0]:
            timing_data = cached_batches(train, batch_size, 4)
    clips, labels = next(iter(timing_data))
    cost = cpu_cost(models, clips.numpy(), labels.numpy())
    timed = compare_training(models, timing_data, batch_size, steps=steps, rounds=rounds)
    first = names[0]
    for name in names:
        rows[name]["clips_per_s"] = timed[name]["best"]
        rows[name]["ratio_over_minimal"] = timed[name]["ratio"]
        rows[name]["median_ratio_over_minimal"] = round(
            timed[name]["median"] / timed[first]["median"], 3)
        rows[name]["cpu_ms_per_step"] = round(cost[name], 1)
        rows[name]["cpu_ratio_over_minimal"] = round(cost[first] / cost[name], 3)
    return {"data": f"{dataset}, {frames} frames of {image_size[0]}x{image_size[1]}, "
                    f"{epochs} epochs, test split, seeds {list(seeds)}; "
                    f"batch {batch_size} for speed",
            "rows": rows}


def write_videos(root, clips, labels, class_names):
    for i, (clip, label) in enumerate(zip(clips, labels)):
        folder = os.path.join(root, class_names[label])
        os.makedirs(folder, exist_ok=True)
        h, w = clip.shape[1:3]
        writer = cv2.VideoWriter(os.path.join(folder, f"clip{i}.avi"),
                                 cv2.VideoWriter_fourcc(*"MJPG"), 25, (w, h))
        for frame in clip:
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        writer.release()


def decode_throughput(root, frames, image_size, batch_size):
    dataset = cvseq.datasets.load("video_folder", "train", root=root, frames=frames,
                                  image_size=image_size, batch_size=batch_size)
    for _ in dataset.take(1):  # warm up the pipeline
        pass
    rates = []
    for _ in range(3):  # best of three passes, as for training (see _timing)
        count, start = 0, time.perf_counter()
        for clips, _ in dataset:
            count += len(clips)
        rates.append(count / (time.perf_counter() - start))
    return max(rates)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=10, help="training steps per round")
    parser.add_argument("--rounds", type=int, default=5,
                        help="alternating timed rounds; the best one counts")
    parser.add_argument("--videos", type=int, default=64,
                        help="video files written for the decode benchmark")
    parser.add_argument("--video-frames", type=int, default=64,
                        help="frames per written video (the reader samples --frames)")
    parser.add_argument("--frontier", action="store_true",
                        help="instead: held-out accuracy against clips/s of the tagger's "
                        "design choices on sample_videos and moving_digits")
    parser.add_argument("--epochs", type=int, default=8, help="epochs per frontier point")
    parser.add_argument("--datasets", nargs="+", default=["sample_videos", "moving_digits"])
    parser.add_argument("--points", nargs="+", type=int, default=None,
                        help="frontier points to run, by index in FRONTIER (0 = the "
                        "minimal plain model, the baseline of the ratios: keep it first)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0],
                        help="frontier: one data set and training run per seed")
    parser.add_argument("--threads", type=int, default=None,
                        help="TensorFlow intra- and inter-op threads (1: the CPU time "
                        "per step is the cost on one core)")
    args = parser.parse_args()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    size = (args.image_size, args.image_size)
    if args.frontier:
        points = list(FRONTIER)
        names = [points[i] for i in args.points] if args.points else None
        result = {name: frontier(name, frames=args.frames, image_size=size,
                                 epochs=args.epochs, batch_size=args.batch_size,
                                 steps=args.steps, rounds=args.rounds, names=names,
                                 seeds=tuple(args.seeds))
                  for name in args.datasets}
        print(json.dumps(result, indent=2))
        return
    n = args.batch_size * 4
    clips, labels, names = moving_digits.generate(
        "train", frames=32, image_size=size, num_clips=n)
    result = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
                    "tensorflow": tf.__version__, "keras": keras.__version__},
        "settings": vars(args),
    }

    # 1. cvseq against plain Keras, same architecture, same data.
    f = args.frames
    keras.utils.set_random_seed(0)
    kit = cvseq.video_tagger(4, frames=f, image_size=size)
    keras.utils.set_random_seed(0)
    plain = plain_keras_tagger(4, f, size)
    assert kit.count_params() == plain.count_params(), "architectures differ"
    result["train_clips_per_s"] = kit_against_plain(
        kit, plain, repeat_batches(clips[:, :f], labels, args.batch_size),
        args.batch_size, "clips/s", steps=args.steps, rounds=args.rounds)
    result["train_clips_per_s"]["data"] = (
        f"moving_digits, {f} frames of {args.image_size}x{args.image_size}, batch {args.batch_size}")
    kit_rate = result["train_clips_per_s"]["cvseq"]

    # 2. Folder reader decode throughput against training throughput.
    with tempfile.TemporaryDirectory() as root:
        video_clips, video_labels, _ = moving_digits.generate(
            "train", frames=args.video_frames, image_size=size,
            num_clips=args.videos, seed=1)
        write_videos(root, video_clips, video_labels, names)
        decode_rate = decode_throughput(root, f, size, args.batch_size)
    result["input_pipeline"] = {
        "decode_clips_per_s": round(decode_rate, 2),
        "train_clips_per_s": round(kit_rate, 2),
        "ratio_decode_over_train": round(decode_rate / kit_rate, 3),
        "video_frames": args.video_frames,
    }

    # 3. Step time against clip length.
    scaling = {}
    for frames in (8, 16, 32):
        keras.utils.set_random_seed(0)
        model = cvseq.video_tagger(4, frames=frames, image_size=size)
        measured = compare_training(
            {"tagger": model}, repeat_batches(clips[:, :frames], labels, args.batch_size),
            args.batch_size, steps=args.steps, rounds=args.rounds)
        scaling[frames] = round(1000 * args.batch_size / measured["tagger"]["best"], 1)
    result["step_ms_by_frames"] = scaling
    result["step_ratio_32_over_8_frames"] = round(scaling[32] / scaling[8], 3)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
