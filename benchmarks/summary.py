"""Runs the benchmarks and the examples; writes BENCHMARKS.md (and JSON).

1. Training throughput of factories against a plain Keras equivalent built
   in the same process on the same data (`ratio` ~1: the kit adds nothing;
   >1: faster): the video tagger (`benchmarks/video_tagger.py`) and the text
   classifier (here).
2. Scaling with two replicas: the tagger under `MirroredStrategy` over two
   logical devices against one device, same global batch, in one process.
3. The held-out metric of every example at its default settings (each
   example's own closing line), with its wall time.

    python benchmarks/summary.py                # everything (about 30 min on 2 CPU cores)
    python benchmarks/summary.py --skip-examples
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = sorted(
    f for f in os.listdir(os.path.join(ROOT, "examples")) if f.endswith(".py")
)

TEXT_CLASSIFIER = r'''
import json, os, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras, numpy as np, tensorflow as tf
import cvseq

texts, labels = cvseq.datasets.reviews.reviews("train")
texts, labels = np.array(texts[:2048], dtype=object), np.array(labels[:2048])
vocabulary = cvseq.text.build_vocabulary(texts, max_tokens=8000)

def plain(vocabulary):
    inputs = keras.Input((), dtype="string")
    vectorizer = keras.layers.TextVectorization(vocabulary=vocabulary.get_vocabulary(),
                                                output_sequence_length=40)
    x = keras.layers.Embedding(vectorizer.vocabulary_size(), 64, mask_zero=True)(vectorizer(inputs))
    x = keras.layers.Dropout(0.3)(x)
    x = keras.layers.Bidirectional(keras.layers.LSTM(64))(x)
    x = keras.layers.Dropout(0.3)(x)
    outputs = keras.layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=False)
    return model

def rate(model, batch=64, steps=20):
    data = tf.data.Dataset.from_tensor_slices((texts, labels)).batch(batch).repeat()
    model.fit(data, steps_per_epoch=3, verbose=0)
    start = time.perf_counter()
    model.fit(data, steps_per_epoch=steps, verbose=0)
    return steps * batch / (time.perf_counter() - start)

kit = cvseq.text_classifier(2, vocabulary=vocabulary, sequence_length=40)
base = plain(vocabulary)
assert kit.count_params() == base.count_params(), (kit.count_params(), base.count_params())
k, p = rate(kit), rate(base)
print(json.dumps({"cvseq": round(k, 1), "plain_keras": round(p, 1),
                  "ratio_cvseq_over_plain_keras": round(k / p, 3), "unit": "texts/s"}))
'''

SCALING = r'''
import json, os, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)
gpus = tf.config.list_physical_devices("GPU")
import keras, numpy as np
import cvseq
from cvseq.datasets import moving_digits

clips, labels, _ = moving_digits.generate("train", frames=8, image_size=32, num_clips=256)

def rate(strategy, batch=32, steps=16):
    with strategy.scope():
        model = cvseq.video_tagger(4, frames=8, image_size=32)
    data = tf.data.Dataset.from_tensor_slices((clips, labels)).batch(batch).repeat()
    model.fit(data, steps_per_epoch=3, verbose=0)
    start = time.perf_counter()
    model.fit(data, steps_per_epoch=steps, verbose=0)
    return steps * batch / (time.perf_counter() - start)

devices = ["/gpu:0", "/gpu:1"] if len(gpus) >= 2 else ["/cpu:0", "/cpu:1"]
one = rate(tf.distribute.get_strategy())
two = rate(tf.distribute.MirroredStrategy(devices))
print(json.dumps({"devices": devices, "one_device_clips_per_s": round(one, 1),
                  "two_replicas_clips_per_s": round(two, 1),
                  "ratio_two_over_one": round(two / one, 3)}))
'''


def run_python(args, timeout, code=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    command = [sys.executable] + (["-c", code] if code else args)
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                            env=env, timeout=timeout)
    return result, time.perf_counter() - start


def last_json(result):
    """The JSON a script printed last: one indented document or one line."""
    text = result.stdout.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    for line in reversed(text.splitlines()):
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            continue
    raise ValueError(f"No JSON in the output: {text[-300:]!r}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-examples", action="store_true")
    parser.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    args = parser.parse_args()
    import tensorflow as tf

    report = {"machine": {
        "platform": platform.platform(), "processor": platform.processor(),
        "cpus": os.cpu_count(),
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "tensorflow": tf.__version__}}

    result, _ = run_python([os.path.join(ROOT, "benchmarks", "video_tagger.py")], 1800)
    report["video_tagger"] = last_json(result) if result.returncode == 0 else result.stderr[-500:]
    result, _ = run_python(None, 900, code=TEXT_CLASSIFIER)
    report["text_classifier"] = last_json(result) if result.returncode == 0 else result.stderr[-500:]
    result, _ = run_python(None, 900, code=SCALING)
    report["scaling"] = last_json(result) if result.returncode == 0 else result.stderr[-500:]

    report["examples"] = {}
    if not args.skip_examples:
        for example in EXAMPLES:
            result, seconds = run_python(
                [os.path.join("examples", example), "--out", f"runs/summary/{example[:-3]}"],
                3600)
            lines = [l for l in result.stdout.strip().splitlines() if l.strip()]
            report["examples"][example] = {
                "returncode": result.returncode, "seconds": round(seconds),
                "closing": lines[-3:] if result.returncode == 0 else result.stderr[-300:],
            }
            print(example, report["examples"][example], flush=True)

    with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
        json.dump(report, f, indent=2)
    with open(args.out, "w") as f:
        f.write(render(report))
    print(json.dumps(report, indent=2))


def render(report):
    m = report["machine"]
    lines = ["# Benchmarks", "",
             f"Written by `python benchmarks/summary.py` on {time.strftime('%Y-%m-%d')}: "
             f"{m['platform']}, {m['cpus']} CPUs, GPUs: {m['gpus'] or 'none'}, "
             f"TensorFlow {m['tensorflow']}. Ratios compare runs in the same process.", "",
             "## Training throughput against plain Keras", "",
             "| factory | cvseq | plain Keras | ratio |", "|---|---|---|---|"]
    tagger = report["video_tagger"]
    if isinstance(tagger, dict):
        t = tagger["train_clips_per_s"]
        lines.append(f"| video_tagger (clips/s) | {t['cvseq']} | {t['plain_keras']} | "
                     f"{t['ratio_cvseq_over_plain_keras']} |")
    text = report["text_classifier"]
    if isinstance(text, dict):
        lines.append(f"| text_classifier (texts/s) | {text['cvseq']} | {text['plain_keras']} | "
                     f"{text['ratio_cvseq_over_plain_keras']} |")
    if isinstance(tagger, dict):
        p = tagger["input_pipeline"]
        lines += ["", "## Input pipeline", "",
                  f"Video folder reader: {p['decode_clips_per_s']} clips/s decoded against "
                  f"{p['train_clips_per_s']} clips/s trained (ratio "
                  f"{p['ratio_decode_over_train']}). Tagger step time by clip length (ms): "
                  f"{tagger['step_ms_by_frames']}."]
    s = report["scaling"]
    if isinstance(s, dict):
        lines += ["", "## Two replicas", "",
                  f"Tagger under MirroredStrategy on {s['devices']}: "
                  f"{s['two_replicas_clips_per_s']} clips/s against "
                  f"{s['one_device_clips_per_s']} on one device (ratio "
                  f"{s['ratio_two_over_one']}). Two logical CPU devices share the same "
                  "cores, so this measures the overhead of replication, not a speed-up."]
    if report["examples"]:
        lines += ["", "## Examples at their default settings", "",
                  "| example | seconds | closing lines |", "|---|---|---|"]
        for name, e in report["examples"].items():
            closing = " / ".join(e["closing"]) if isinstance(e["closing"], list) else \
                f"failed: {e['closing']}"
            lines.append(f"| {name} | {e['seconds']} | {closing.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
