"""Runs the benchmarks and the examples; writes BENCHMARKS.md (and JSON).

1. Training throughput of every factory against a plain Keras equivalent
   (the same architecture in stock Keras / keras-cv layers, checked to have
   the same parameter count) in the same process on the same data:
   `benchmarks/video_tagger.py`, `cnn_factories.py`,
   `sequence_factories.py` and `video_predictor.py`. `ratio` ~1: the kit
   adds nothing; >1: faster.
   Models are timed in alternation, best of several rounds (`_timing.py`).
2. Scaling with two replicas: the tagger under `MirroredStrategy` over two
   logical devices against one device, same global batch, in one process.
3. Optical flow (`benchmarks/flow.py --training`: each OpenCV method's
   frames/s and warp error, flow against the two-stream tagger's training)
   and the tagger's streams (`benchmarks/two_stream.py`: RGB, flow, both,
   one frame; held-out accuracy and clips/s).
4. The held-out metric of every example at its default settings (each
   example's closing lines and its metrics.json), with its wall time.

    python benchmarks/summary.py                # everything (well over an hour on 2 CPU cores)
    python benchmarks/summary.py --skip-examples
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = sorted(
    f for f in os.listdir(os.path.join(ROOT, "examples")) if f.endswith(".py")
)

# The benchmark scripts run by the benchmarks part, with their options; each
# prints JSON last, stored in the report under the script's name.
BENCHMARKS = (
    ("video_tagger", ()), ("cnn_factories", ()), ("sequence_factories", ()),
    ("video_predictor", ()), ("flow", ("--training",)), ("two_stream", ()),
)
# Scripts whose rows join the throughput table (cvseq against plain Keras).
THROUGHPUT_SCRIPTS = ("cnn_factories", "sequence_factories", "video_predictor")

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

from _timing import compare_training, repeat_batches

devices = ["/gpu:0", "/gpu:1"] if len(gpus) >= 2 else ["/cpu:0", "/cpu:1"]
models = {}
for name, strategy in [("one", tf.distribute.get_strategy()),
                       ("two", tf.distribute.MirroredStrategy(devices))]:
    with strategy.scope():
        models[name] = cvseq.video_tagger(4, frames=8, image_size=32)
rates = compare_training(models, repeat_batches(clips, labels, 32), 32, steps=8, rounds=4)
print(json.dumps({"devices": devices, "one_device_clips_per_s": rates["one"]["best"],
                  "two_replicas_clips_per_s": rates["two"]["best"],
                  "ratio_two_over_one": rates["two"]["ratio"]}))
'''

# The noise floor: the same plain Keras model timed against itself, the way
# every cvseq/plain pair is timed. Its ratios should be 1.0; how far they
# are from it is how far any other ratio can be trusted on this machine.
CONTROL = r'''
import json, os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras
import cnn_factories
from _timing import compare_training

rows = {}
for name, again in [
        ("image_classifier", lambda size: cnn_factories.plain_image_classifier(10, size)),
        ("video_classifier_3d",
         lambda size: cnn_factories.plain_video_classifier_3d(4, 8, size))]:
    _, first, data, unit, note = cnn_factories.build(name, batch_size=16)
    keras.utils.set_random_seed(0)
    second = again(cnn_factories.IMAGE_SIZE[name])
    r = compare_training({"first": first, "second": second}, data, 16, steps=10, rounds=5)
    rows[name] = {"data": note, "unit": unit, "first": r["first"]["best"],
                  "second": r["second"]["best"], "ratio_best": r["second"]["ratio"],
                  "ratio_median": round(r["second"]["median"] / r["first"]["median"], 3)}
print(json.dumps(rows))
'''


def run_python(args, timeout, code=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join([ROOT, os.path.join(ROOT, "benchmarks")]))
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
    lines = text.splitlines()
    for i in reversed(range(len(lines))):
        # An indented document after progress lines (opening with "{" at
        # the start of a line, running to the end), or one line.
        if not lines[i].startswith(("{", "[")):
            continue
        for candidate in ("\n".join(lines[i:]), lines[i]):
            try:
                return json.loads(candidate)
            except json.JSONDecodeError:
                continue
    raise ValueError(f"No JSON in the output: {text[-300:]!r}")


PROGRESS = re.compile("\x1b|\u2501|/step")  # Keras progress bars


def _held_out_lines(output, most=4):
    """An example's held-out result: from its last line that says
    "held-out" (each example prints one), that line and those after it."""
    output = [line.strip() for line in output if not PROGRESS.search(line)]
    starts = [i for i, line in enumerate(output) if "held-out" in line.lower()]
    return output[starts[-1]:starts[-1] + most] if starts else []


def _read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("all", "benchmarks", "examples"), default="all",
                        help="run only the throughput benchmarks or only the examples; the "
                             "other part is kept from the existing JSON report, with its "
                             "own date and machine")
    parser.add_argument("--skip-examples", action="store_true",
                        help="the same as --part benchmarks")
    parser.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    parser.add_argument("--note", default="",
                        help="a remark on the run's conditions, e.g. a shared CPU")
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite the Markdown from the existing JSON report, run nothing")
    args = parser.parse_args(argv)
    json_path = os.path.splitext(args.out)[0] + ".json"
    if args.render_only:
        kept = _hand_written(args.out)
        with open(args.out, "w") as f:
            f.write(render(_read_json(json_path)) + kept)
        return
    part = "benchmarks" if args.skip_examples else args.part
    import tensorflow as tf

    previous = _read_json(json_path) if part != "all" else None
    report = previous if isinstance(previous, dict) and "runs" in previous else {"runs": {}}
    machine = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "platform": platform.platform(), "processor": platform.processor(),
        "cpus": os.cpu_count(),
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "tensorflow": tf.__version__, "note": args.note}

    if part in ("all", "benchmarks"):
        report["runs"]["benchmarks"] = machine
        for name, options in BENCHMARKS:
            result, _ = run_python(
                [os.path.join(ROOT, "benchmarks", f"{name}.py"), *options], 3600)
            report[name] = last_json(result) if result.returncode == 0 else result.stderr[-500:]
            print(name, "done", flush=True)
        result, _ = run_python(None, 900, code=SCALING)
        report["scaling"] = last_json(result) if result.returncode == 0 else result.stderr[-500:]
        result, _ = run_python(None, 900, code=CONTROL)
        report["control"] = last_json(result) if result.returncode == 0 else result.stderr[-500:]

    if part in ("all", "examples"):
        report["runs"]["examples"] = machine
        report["examples"] = {}
        for example in EXAMPLES:
            result, seconds = run_python(
                [os.path.join("examples", example), "--out", f"runs/summary/{example[:-3]}"],
                3600)
            out = os.path.join(ROOT, "runs", "summary", example[:-3])
            lines = [line.rstrip() for line in result.stdout.strip().splitlines()
                     if line.strip() and "Saved " not in line]
            report["examples"][example] = {
                "returncode": result.returncode, "seconds": round(seconds),
                "closing": lines[-3:] if result.returncode == 0 else result.stderr[-300:],
                "output_tail": lines[-20:],
                "metrics": _read_json(os.path.join(out, "metrics.json")),
            }
            print(example, report["examples"][example], flush=True)

    with open(json_path, "w") as f:
        json.dump(report, f, indent=2)
    kept = _hand_written(args.out)
    with open(args.out, "w") as f:
        f.write(render(report) + kept)
    print(json.dumps(report, indent=2))


# BENCHMARKS.md holds sections measured by other scripts (the image
# classifier on real photos, the tagger's frontier, ...) after this line;
# rewriting the generated part keeps them as they are.
HAND_WRITTEN = "<!-- Hand-written sections below: summary.py keeps them as they are. -->"


def _hand_written(path):
    """The hand-written tail of an existing BENCHMARKS.md, from the
    `HAND_WRITTEN` marker on ("" when there is none)."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return ""
    at = text.find(HAND_WRITTEN)
    return "" if at < 0 else "\n" + text[at:]


def _machine(m):
    note = f" ({m['note']})" if m.get("note") else ""
    return (f"{m['date']} on {m['platform']}, {m['cpus']} CPUs, GPUs: {m['gpus'] or 'none'}, "
            f"TensorFlow {m['tensorflow']}{note}")


def render(report):
    runs = report["runs"]
    lines = ["# Benchmarks", "",
             "Written by `python benchmarks/summary.py`. Ratios compare runs in the same "
             "process: the models are trained in alternating rounds and each keeps its best "
             "round (medians are in BENCHMARKS.json).", ""]
    if "benchmarks" in runs:
        lines += [f"Throughput measured {_machine(runs['benchmarks'])}.", ""]
    if "examples" in runs:
        lines += [f"Examples run {_machine(runs['examples'])}.", ""]
    if "benchmarks" not in runs:
        return _render_examples(report, lines)
    lines += ["## Training throughput against plain Keras", "",
             "| factory | data | cvseq | plain Keras | ratio |", "|---|---|---|---|---|"]
    tagger = report["video_tagger"]
    rows = {"video_tagger": tagger["train_clips_per_s"] if isinstance(tagger, dict) else tagger}
    for script in THROUGHPUT_SCRIPTS:
        if script not in report:  # a report from before the script was run
            continue
        part = report[script]
        if isinstance(part, dict):
            rows.update({k: v for k, v in part.items() if k not in ("machine", "settings")})
        else:
            rows[script] = part
    for name, row in rows.items():
        if isinstance(row, dict) and "cvseq" in row:
            lines.append(f"| {name} ({row['unit']}) | {row.get('data', '')} | {row['cvseq']} | "
                         f"{row['plain_keras']} | {row['ratio_cvseq_over_plain_keras']} |")
        else:
            error = row.get("error") if isinstance(row, dict) else row
            lines.append(f"| {name} | | failed: {str(error)[-200:]!r} | | |".replace("\n", " "))
    control = report.get("control")
    if isinstance(control, dict):
        lines += ["", "Noise floor: the same plain Keras model timed against itself in the "
                  "same way (a ratio of 1.0 is the truth):", "",
                  "| model | data | best ratio | median ratio |", "|---|---|---|---|"]
        for name, c in control.items():
            lines.append(f"| plain {name}, twice | {c['data']} | {c['ratio_best']} | "
                         f"{c['ratio_median']} |")
    elif control is not None:
        lines += ["", f"Noise floor: failed: {str(control)[-200:]!r}".replace("\n", " ")]
    if isinstance(tagger, dict):
        p = tagger["input_pipeline"]
        lines += ["", "## Input pipeline", "",
                  f"Video folder reader: {p['decode_clips_per_s']} clips/s decoded against "
                  f"{p['train_clips_per_s']} clips/s trained (ratio "
                  f"{p['ratio_decode_over_train']}). Tagger step time by clip length (ms): "
                  f"{tagger['step_ms_by_frames']}."]
    lines += _render_flow(report.get("flow")) + _render_two_stream(report.get("two_stream"))
    s = report["scaling"]
    if isinstance(s, dict):
        lines += ["", "## Two replicas", "",
                  f"Tagger under MirroredStrategy on {s['devices']}: "
                  f"{s['two_replicas_clips_per_s']} clips/s against "
                  f"{s['one_device_clips_per_s']} on one device (ratio "
                  f"{s['ratio_two_over_one']}). Two logical CPU devices share the same "
                  "cores, so this measures the overhead of replication, not a speed-up."]
    return _render_examples(report, lines)


FLOW_DATA = (("sample_videos_96px", "`sample_videos` frames"),
             ("sample_videos_32px_clips", "`sample_videos` 32x32 clips"),
             ("moving_digits_32px", "`moving_digits` 32x32 clips"))


def _render_flow(flow):
    """The optical flow section from `benchmarks/flow.py --training`."""
    if flow is None:
        return []
    lines = ["", "## Optical flow", ""]
    if not isinstance(flow, dict):
        return lines + [f"Failed: {str(flow)[-200:]!r}".replace("\n", " ")]
    lines += ["`benchmarks/flow.py --training`: flow fields per second and the grey-level "
              "error left after warping frame t+1 back onto frame t (lower is better; "
              "with no flow it is the plain frame difference).", "",
              "| data | frame size | method | frames/s | warp error (no flow) | error removed |",
              "|---|---|---|---|---|---|"]
    for key, label in FLOW_DATA:
        part = flow.get(key)
        if not isinstance(part, dict):
            continue
        size = "x".join(map(str, part.get("frame_size", [])))
        for method, m in part.items():
            if isinstance(m, dict):
                lines.append(f"| {label} | {size} | {method} | {m['frames_per_s']} | "
                             f"{m['photometric_error']} "
                             f"({part['photometric_error_zero_flow']}) | "
                             f"{m['error_removed']} |")
    t = flow.get("flow_against_training")
    if isinstance(t, dict):
        lines += ["", f"Flow against training ({t['clips']} clips of {t['frames']} frames, "
                  f"{'x'.join(map(str, t['image_size']))}): flow "
                  f"{t['flow_clips_per_s_uncached']} clips/s uncached, "
                  f"{t['flow_clips_per_s_cached']} cached, against "
                  f"{t['train_clips_per_s_two_stream']} clips/s training the two-stream "
                  f"tagger (ratios {t['ratio_flow_uncached_over_train']} and "
                  f"{t['ratio_flow_cached_over_train']})."]
    return lines


def _render_two_stream(report):
    """The tagger's streams from `benchmarks/two_stream.py`."""
    if report is None:
        return []
    lines = ["", "## Two-stream tagger", ""]
    if not isinstance(report, dict):
        return lines + [f"Failed: {str(report)[-200:]!r}".replace("\n", " ")]
    lines += [f"`benchmarks/two_stream.py`: the same clips, epochs and seed for each "
              f"variant ({report.get('frames')} frames of {report.get('image_size')}x"
              f"{report.get('image_size')}); held-out accuracy and training clips/s.", "",
              "| data | variant | accuracy | clips/s | parameters |", "|---|---|---|---|---|"]
    for dataset, part in report.items():
        if not isinstance(part, dict):
            continue
        for variant, v in part.items():
            if isinstance(v, dict) and "accuracy" in v:
                lines.append(f"| {dataset} ({part.get('classes')} classes, "
                             f"{part.get('epochs')} epochs) | {variant} | {v['accuracy']} | "
                             f"{v['train_clips_per_s']} | {v['parameters']} |")
    return lines


def _render_examples(report, lines):
    if report.get("examples"):
        lines += ([""] if lines[-1] else []) + ["## Examples at their default settings", "",
                  "Each example's closing lines (its held-out metric against its baseline) "
                  "and wall time, including data loading and evaluation.", "",
                  "| example | seconds | held-out results (the example's closing lines) |", "|---|---|---|"]
        for name, e in report["examples"].items():
            if e["returncode"] != 0:
                shown = f"failed: {e['closing']}"
            else:
                shown = " / ".join(_held_out_lines(e.get("output_tail", []))
                                   or e["closing"])
            lines.append(f"| {name} | {e['seconds']} | {' '.join(shown.split()).replace('|', '/')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
