"""Multi-object tracking by detection, with a Kalman filter or a learned motion model.

The "vehicles" are real handwritten digits driving across the frame on
their own straight paths and bouncing off the edges (the embedded
`digit_tracks` clips: true ids and boxes known in every frame). A simple
detector finds them as bright blobs; digits that pass each other merge
into one blob, which is what makes the tracking non-trivial.

The script trains `cvseq.trajectory_predictor` on digit trajectories
(held-out ADE/FDE against the constant-velocity baseline), then tracks the
held-out clips twice with `cvseq.tracking.Tracker`: with its
constant-velocity Kalman filter, and with the learned motion model. It
prints MOTA, IDF1 and ID switches for both (motmetrics), saves the motion
model, and writes a PNG strip of frames with the track ids drawn. (The
tracker's defaults are made for real detectors and checked on real
pedestrian tracks in tests/test_tracking_real.py; the blob detector here
uses `cvseq.tracking.BLOB_OPTIONS`.)

    python examples/vehicle_tracking.py
    python examples/vehicle_tracking.py --clips 100 --num-digits 4 --epochs 15
"""

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _common  # noqa: E402

import cvseq  # noqa: E402
from cvseq import reporting  # noqa: E402
from cvseq.datasets import digit_tracks  # noqa: E402
from cvseq.metrics import (  # noqa: E402
    average_displacement_error,
    constant_velocity,
    final_displacement_error,
)
from cvseq.tracking import BLOB_OPTIONS, Tracker, evaluate_tracker  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=50, help="held-out clips to track")
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--num-digits", type=int, default=3)
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--history", type=int, default=12)
    parser.add_argument("--horizon", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=20,
                        help="epochs of the motion model")
    parser.add_argument("--max-age", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    _common.add_out_arguments(parser, "vehicle_tracking")
    return _common.checked(parser, parser.parse_args(argv))


def train_motion_model(args):
    size = (args.image_size, args.image_size)
    options = dict(history=args.history, horizon=args.horizon, image_size=size)
    train = _common.build(args, cvseq.datasets.load, "digit_trajectories", "train",
                          batch_size=64, seed=args.seed, **options)
    val = _common.build(args, cvseq.datasets.load, "digit_trajectories", "validation",
                        batch_size=256, seed=args.seed, **options)
    model = _common.build(args, cvseq.trajectory_predictor, history=args.history,
                          horizon=args.horizon)
    history = model.fit(train, validation_data=val, epochs=args.epochs, verbose=2)
    model_path = _common.save_model(args.out, model, "trajectory_predictor.keras")

    past, future = digit_tracks.generate_trajectories("test", seed=args.seed, **options)
    predicted = model.predict(past, verbose=0, batch_size=256)
    baseline = constant_velocity(past, args.horizon)
    pixels = args.image_size  # positions are fractions of the frame side
    scores = {
        "trajectory_predictor": {
            "ade_px": pixels * average_displacement_error(future, predicted),
            "fde_px": pixels * final_displacement_error(future, predicted)},
        "constant_velocity": {
            "ade_px": pixels * average_displacement_error(future, baseline),
            "fde_px": pixels * final_displacement_error(future, baseline)},
    }
    return model, model_path, history, scores


def main(argv=None):
    args = parse_args(argv)
    _common.start(args)

    print("Motion model: trajectory_predictor on digit_trajectories")
    model, model_path, history, motion_scores = train_motion_model(args)
    reporting.plot_history(history, os.path.join(args.out, "motion_curves.png"))

    clips, boxes, ids = digit_tracks.generate_tracks(
        "test", num_clips=args.clips, frames=args.frames,
        image_size=(args.image_size, args.image_size), num_digits=args.num_digits,
        seed=args.seed)
    detections = [[digit_tracks.detect_digits(frame) for frame in clip] for clip in clips]
    print(f"\nTracking {args.clips} held-out clips of {args.frames} frames, "
          f"{args.num_digits} digits each ...")
    size = (args.image_size, args.image_size)
    # Blobs merge when digits overlap: the tracker options for blob detectors.
    options = {**BLOB_OPTIONS, "max_age": args.max_age}
    kalman, kalman_out = evaluate_tracker(
        _common.build(args, Tracker, "kalman", image_size=size, **options),
        detections, boxes, ids)
    learned, learned_out = evaluate_tracker(
        _common.build(args, Tracker, model, image_size=size, **options),
        detections, boxes, ids)

    picture = os.path.join(args.out, "tracks.png")
    reporting.draw_tracks(clips[0], [("Kalman tracker", kalman_out[0]),
                                  ("learned motion model", learned_out[0])], picture)
    metrics = {"motion": motion_scores, "kalman": kalman, "learned_motion": learned}
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)

    print("\nHeld-out motion prediction (pixels, next "
          f"{args.horizon} frames from the last {args.history}):")
    for name, score in motion_scores.items():
        print(f"  {name:22s} ADE {score['ade_px']:.2f}   FDE {score['fde_px']:.2f}")
    print(f"\nHeld-out tracking ({int(kalman['num_objects'])} object-frames):")
    print(f"  {'tracker':22s} {'MOTA':>6s} {'IDF1':>6s} {'ID sw.':>7s} {'misses':>7s} "
          f"{'false +':>7s} {'frames/s':>9s}")
    for name, result in (("Kalman", kalman), ("learned motion", learned)):
        print(f"  {name:22s} {result['mota']:6.3f} {result['idf1']:6.3f} "
              f"{int(result['num_switches']):7d} {int(result['num_misses']):7d} "
              f"{int(result['num_false_positives']):7d} {result['frames_per_second']:9.0f}")
    print(f"Saved {model_path}, {picture} and metrics.json")
    return metrics


if __name__ == "__main__":
    main()
