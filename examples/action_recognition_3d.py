"""Action recognition with a 3D CNN, against the CNN+LSTM video tagger.

Trains `cvseq.video_classifier_3d` (R(2+1)D or C3D blocks) and
`cvseq.video_tagger` on the same clips, one line each, then prints both
held-out accuracies and their training throughput (clips per second, the
first epoch left out: it includes tracing). Saves both models, a PNG of
held-out clips with the 3D CNN's predictions and its training curves, and
metrics.json.

    python examples/action_recognition_3d.py                 # embedded moving digits
    python examples/action_recognition_3d.py --block c3d --epochs 8
    python examples/action_recognition_3d.py --dataset ucf101 --frames 16 \
        --image-size 112                                      # needs the network
"""

import json
import os
import time

import _common  # first: it quiets TensorFlow's start-up logs
import keras
import numpy as np

import cvseq
from cvseq import reporting


def parse_args(argv=None):
    parser = _common.argument_parser(
        __doc__, epochs=6, dataset="moving_digits", choices=["moving_digits", "ucf101"],
        dataset_help="data set (default: the embedded moving digits; ucf101 falls "
        "back to them without network)")
    parser.add_argument("--label", default="motion", choices=["direction", "motion"],
                        help="moving_digits target: direction (4 classes) or "
                        "motion (8: direction and speed)")
    parser.add_argument("--block", default="r2plus1d", choices=["r2plus1d", "c3d"])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--num-clips", type=int, default=None,
                        help="training clips to generate (moving_digits)")
    return _common.parse_args(parser, argv, out="action_recognition_3d")


class Throughput(keras.callbacks.Callback):
    """Training clips per second, from the second epoch on."""

    def __init__(self, clips_per_epoch):
        super().__init__()
        self.clips_per_epoch = clips_per_epoch
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)

    @property
    def clips_per_second(self):
        timed = self.seconds[1:] or self.seconds
        return self.clips_per_epoch * len(timed) / sum(timed)


def train_and_evaluate(model, train, test, epochs, clips_per_epoch, path):
    """Trains `model`, saves it at `path` (before anything else can fail),
    then evaluates it."""
    throughput = Throughput(clips_per_epoch)
    history = model.fit(train, validation_data=test, epochs=epochs, callbacks=[throughput])
    model.save(path)
    results = model.evaluate(test, verbose=0, return_dict=True)
    return history, results, throughput.clips_per_second


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    # Embedded moving digits, or a TFDS set that falls back to them offline;
    # the test split is the held-out set.
    options = dict(frames=args.frames, image_size=(args.image_size, args.image_size))
    train, test, info = _common.load_splits(
        args, args.dataset, "moving_digits", splits=("train", "test"), options=options,
        fallback_options=dict(options, label=args.label),
        fallback_splits=(("train", dict(num_clips=args.num_clips)), "test"))
    clips_per_epoch = info.num_examples or sum(len(y) for _, y in train)
    print(f"Data: {info.name} ({info.source}), {clips_per_epoch} training clips, "
          f"{info.num_classes} classes: {', '.join(info.class_names[:10])}"
          f"{' ...' if info.num_classes > 10 else ''}")
    shape = dict(frames=args.frames, image_size=(args.image_size, args.image_size))

    # The two models, one line each, on the same clips.
    keras.utils.set_random_seed(args.seed)
    cnn3d = _common.build(args, cvseq.video_classifier_3d, info.num_classes,
                          block=args.block, **shape)
    keras.utils.set_random_seed(args.seed)
    tagger = _common.build(args, cvseq.video_tagger, info.num_classes, **shape)

    runs = {}
    for name, model in (("video_classifier_3d", cnn3d), ("video_tagger", tagger)):
        print(f"\n{name} ({model.count_params():,} parameters):")
        history, results, speed = train_and_evaluate(
            model, train, test, args.epochs, clips_per_epoch,
            os.path.join(args.out, f"{name}.keras"))
        runs[name] = dict(results, clips_per_second=speed,
                          parameters=model.count_params())
        if name == "video_classifier_3d":
            cnn3d_history = history

    # A picture of held-out clips with the 3D CNN's predictions.
    clips, labels = next(iter(test))
    predicted = cnn3d.predict(clips[:6], verbose=0).argmax(-1)
    picture = os.path.join(args.out, "predictions.png")
    reporting.plot_clip_predictions(
        np.asarray(clips[:6]),
        [info.class_names[int(t)] for t in labels[:6]],
        [info.class_names[int(p)] for p in predicted],
        picture, history=cnn3d_history,
    )
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump({"dataset": info.name, "label": args.label, **runs}, f, indent=2)

    label = args.label if info.name == "moving_digits" else "label"
    print(f"\nHeld-out accuracy on {info.name} ({label}):")
    for name, run in runs.items():
        print(f"  {name:20s} {run['accuracy']:.3f}   "
              f"{run['clips_per_second']:.0f} training clips/s   "
              f"{run['parameters']:,} parameters")
    print(f"Saved {args.out}/video_classifier_3d.keras, video_tagger.keras, "
          f"{picture} and metrics.json")
    return runs


if __name__ == "__main__":
    main()
