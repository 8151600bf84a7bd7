"""Training throughput in float32 and bfloat16 on any Keras backend; one JSON.

For each model (tagger, 3D CNN, image classifier, image segmenter), builds
it twice, under the `float32` and the `mixed_bfloat16` dtype policy, and
times both interleaved (`_timing.compare_training`: alternating rounds,
best of each), on random pixels (throughput does not depend on content).
`ratio` is bfloat16's best rate over float32's: > 1 means bfloat16 is
faster. Needs no TensorFlow (data is a Python generator), so it runs on a
machine with JAX only:

    KERAS_BACKEND=jax python benchmarks/backends.py --device gpu --main-job --out gpu.json
    KERAS_BACKEND=jax python benchmarks/backends.py --device cpu --tiny  # test
"""

import argparse
import json
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

MODELS = ("video_tagger", "video_classifier_3d", "image_classifier", "image_segmenter")


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--tiny", action="store_true",
                        help="tiny shapes and rounds (a test that the script runs)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--main-job", action="store_true",
                        help="also run the README's main job (tagger on moving "
                        "digits, NumPy data) and report its held-out accuracy")
    parser.add_argument("--out", help="also write the JSON here")
    return parser.parse_args(argv)


def _sizes(tiny, device):
    if tiny:
        return dict(batch=2, frames=4, image_size=16, steps=2, min_round_seconds=0.0)
    if device == "gpu":
        return dict(batch=32, frames=16, image_size=112, steps=10, min_round_seconds=2.0)
    return dict(batch=8, frames=8, image_size=64, steps=5, min_round_seconds=1.0)


def _build(name, policy, sizes):
    import keras

    import cvseq

    keras.config.set_dtype_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        size, frames = sizes["image_size"], sizes["frames"]
        if name == "video_tagger":
            return cvseq.video_tagger(10, frames=frames, image_size=size)
        if name == "video_classifier_3d":
            return cvseq.video_classifier_3d(10, frames=frames, image_size=size)
        if name == "image_classifier":
            return cvseq.image_classifier(10, image_size=size)
        return cvseq.image_segmenter(4, image_size=size)
    finally:
        keras.config.set_dtype_policy("float32")


def _batches(name, sizes):
    import numpy as np

    rng = np.random.default_rng(0)
    batch, size, frames = sizes["batch"], sizes["image_size"], sizes["frames"]
    shape = (batch, frames, size, size, 3) if name.startswith("video") else (batch, size, size, 3)
    x = rng.integers(0, 256, shape).astype("uint8")
    y = (rng.integers(0, 4, (batch, size, size)) if name == "image_segmenter"
         else rng.integers(0, 10, (batch,))).astype("int32")

    def forever():
        while True:
            yield x, y

    return forever()


def main_job(tiny):
    """The README's main job (examples/video_tagging.py's defaults: the
    tagger on moving digits, 8 frames of 32x32, 8 epochs, batch 32) with
    the data as NumPy batches (`format="numpy"`), so it runs without
    TensorFlow: held-out accuracy and training seconds, in float32."""
    import keras

    import cvseq

    keras.utils.set_random_seed(0)
    options = dict(frames=8, image_size=32, batch_size=32, format="numpy")
    if tiny:
        options.update(frames=4, image_size=16, batch_size=8)
    clips = dict(num_clips=16) if tiny else {}
    train, info = cvseq.datasets.load("moving_digits", "train", with_info=True,
                                      **clips, **options)
    val = cvseq.datasets.load("moving_digits", "validation", **clips, **options)
    test = cvseq.datasets.load("moving_digits", "test", **clips, **options)
    model = cvseq.video_tagger(info.num_classes, frames=options["frames"],
                               image_size=options["image_size"])
    epochs = 1 if tiny else 8
    start = time.perf_counter()
    model.fit(train, validation_data=val, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - start
    accuracy = model.evaluate(test, verbose=0, return_dict=True)["accuracy"]
    return {"dataset": "moving_digits", "epochs": epochs,
            "train_clips": info.num_examples, "test_accuracy": round(accuracy, 3),
            "train_seconds": round(seconds, 1)}


def main(argv=None):
    args = _parse(argv)
    if args.device == "cpu":
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
        os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    import keras

    from _timing import compare_training

    backend = keras.backend.backend()
    devices = []
    if backend == "jax":
        import jax

        devices = [str(d) for d in jax.devices()]
        if args.device == "gpu" and not any(d.platform == "gpu" for d in jax.devices()):
            raise SystemExit(f"--device gpu but JAX sees no GPU: {devices}")
    sizes = _sizes(args.tiny, args.device)
    rounds = 2 if args.tiny else args.rounds
    results = {}
    for name in args.models:
        models = {p: _build(name, p, sizes) for p in ("float32", "mixed_bfloat16")}
        start = time.perf_counter()
        measured = compare_training(
            models, _batches(name, sizes), sizes["batch"], steps=sizes["steps"],
            rounds=rounds, warmup_steps=1 if args.tiny else 3,
            min_round_seconds=sizes["min_round_seconds"],
        )
        results[name] = {
            "unit": "clips/s" if name.startswith("video") else "images/s",
            "float32": measured["float32"], "bfloat16": measured["mixed_bfloat16"],
            "ratio_bfloat16_over_float32": measured["mixed_bfloat16"]["ratio"],
            "seconds": round(time.perf_counter() - start, 1),
        }
        print(name, results[name]["ratio_bfloat16_over_float32"], file=sys.stderr, flush=True)
    if args.main_job:
        results["main_job"] = main_job(args.tiny)
        print("main_job", results["main_job"], file=sys.stderr, flush=True)
    report = {
        "backend": backend, "keras": keras.__version__, "device": args.device,
        "devices": devices, "machine": platform.processor() or platform.machine(),
        "sizes": sizes, "rounds": rounds, "results": results,
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return report


if __name__ == "__main__":
    main()
