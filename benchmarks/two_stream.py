"""RGB against optical flow against both: the video tagger's streams, held out.

Trains, on the same clips with the same epochs and seed, the default tagger
(`streams=("rgb",)`), the flow stream alone (`("flow",)`), both with late
fusion (the default of `("rgb", "flow")`: one recurrent layer per stream,
clip summaries concatenated) and with frame fusion (flow features joined to
each frame's descriptor, one recurrent layer), and the single-frame baseline
(the middle frame), and prints JSON: held-out accuracy, training clips/s,
and the flow's cost (clips/s computing it, uncached) on the same machine.

Data: `sample_videos` (real video files, label: normal or triple playback
speed) and `moving_digits` with `label="motion"` (8 classes: direction and
speed).

    python benchmarks/two_stream.py                       # both data sets
    python benchmarks/two_stream.py --datasets sample_videos --epochs 8
"""

import argparse
import json
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import cvseq  # noqa: E402
from cvseq import flow  # noqa: E402
from cvseq.models import two_stream  # noqa: E402

VARIANTS = ("rgb", "flow", "rgb+flow late", "rgb+flow frame", "single_frame")


def run(dataset, *, frames, size, epochs, seed, variants):
    options = dict(frames=frames, image_size=size, batch_size=32, seed=seed)
    if dataset == "moving_digits":
        options["label"] = "motion"
    train, info = cvseq.datasets.load(dataset, "train", with_info=True, **options)
    test = cvseq.datasets.load(dataset, "test", **options)
    clips = np.concatenate([c.numpy() for c, _ in train])
    start = time.perf_counter()
    flow.batch_flow(clips, cache=flow.default_cache)  # the models reuse these
    flow_rate = len(clips) / (time.perf_counter() - start)
    for c, _ in test:
        flow.batch_flow(c.numpy(), cache=flow.default_cache)

    def middle(c, y):
        return c[:, frames // 2:frames // 2 + 1], y

    result = {"classes": info.num_classes, "train_clips": len(clips), "epochs": epochs,
              "flow_clips_per_s_uncached": round(flow_rate, 1)}
    for variant in variants:
        keras.utils.set_random_seed(seed)
        kwargs = dict(frames=frames, image_size=size)
        tr, te = train, test
        if variant == "single_frame":
            kwargs["frames"] = 1
            tr, te = train.map(middle), test.map(middle)
        else:
            kwargs["streams"] = tuple(variant.split()[0].split("+"))
            two_stream._FUSION = variant.split()[1] if " " in variant else "late"
        model = cvseq.video_tagger(info.num_classes, **kwargs)
        two_stream._FUSION = "late"
        model.fit(tr, epochs=1, verbose=0)  # traces; timed epochs follow
        start = time.perf_counter()
        model.fit(tr, epochs=epochs - 1, verbose=0)
        rate = len(clips) * (epochs - 1) / (time.perf_counter() - start)
        accuracy = model.evaluate(te, verbose=0, return_dict=True)["accuracy"]
        result[variant] = {"accuracy": round(accuracy, 3),
                           "train_clips_per_s": round(rate, 1),
                           "parameters": model.count_params()}
        print(dataset, variant, result[variant], flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["sample_videos", "moving_digits"])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    report = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared with "
                         "other jobs)", "frames": args.frames,
              "image_size": args.image_size}
    for dataset in args.datasets:
        report[dataset] = run(dataset, frames=args.frames, size=args.image_size,
                              epochs=args.epochs, seed=args.seed, variants=args.variants)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
