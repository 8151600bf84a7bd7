"""benchmarks/summary.py: the report it renders and merging of its parts."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks"))
import summary  # noqa: E402

MACHINE = {"date": "2026-11-26 07:00", "platform": "Linux", "cpus": 2, "gpus": [],
           "tensorflow": "2.21.0"}


def _row(kit, plain, unit="images/s"):
    return {"unit": unit, "cvseq": kit, "plain_keras": plain, "data": "digits 32x32",
            "ratio_cvseq_over_plain_keras": round(kit / plain, 3)}


def _report():
    return {
        "runs": {"benchmarks": MACHINE, "examples": MACHINE},
        "video_tagger": {
            "train_clips_per_s": _row(440.0, 340.0, "clips/s"),
            "input_pipeline": {"decode_clips_per_s": 580.0, "train_clips_per_s": 440.0,
                               "ratio_decode_over_train": 1.318},
            "step_ms_by_frames": {"8": 36.0, "16": 69.0, "32": 148.0}},
        "cnn_factories": {"machine": {}, "settings": {},
                          "image_classifier": _row(1100.0, 1000.0),
                          "object_detector": {"error": "ValueError: boom"}},
        "sequence_factories": "Traceback ... killed",
        "video_predictor": {"machine": "x86_64",
                            "video_predictor": _row(30.0, 34.0, "sequences/s")},
        "flow": {"machine": "x86_64",
                 "sample_videos_96px": {
                     "pairs": 10, "frame_size": [96, 171], "photometric_error_zero_flow": 3.65,
                     "dis_medium": {"frames_per_s": 77.0, "photometric_error": 2.09,
                                    "error_removed": 0.427}},
                 "flow_against_training": {
                     "clips": 600, "frames": 8, "image_size": [32, 32],
                     "flow_clips_per_s_uncached": 57.0, "flow_clips_per_s_cached": 2136.0,
                     "train_clips_per_s_two_stream": 126.0,
                     "ratio_flow_uncached_over_train": 0.45,
                     "ratio_flow_cached_over_train": 17.0}},
        "two_stream": {"machine": "x86_64", "frames": 8, "image_size": 32,
                       "moving_digits": {"classes": 8, "epochs": 6, "train_clips": 900,
                                         "rgb": {"accuracy": 0.497, "train_clips_per_s": 120.0,
                                                 "parameters": 1000}}},
        "scaling": {"devices": ["/cpu:0", "/cpu:1"], "one_device_clips_per_s": 400.0,
                    "two_replicas_clips_per_s": 380.0, "ratio_two_over_one": 0.95},
        "control": {"image_classifier": {"data": "digits", "unit": "images/s", "first": 10.0,
                                         "second": 10.5, "ratio_best": 1.05,
                                         "ratio_median": 0.98}},
        "examples": {
            "next_word.py": {"returncode": 0, "seconds": 84, "closing": ["sample text"],
                             "output_tail": ["\x1b[1m4/4\x1b[0m 2s 40ms/step - accuracy: 0.1",
                                             "Held-out perplexity 185 | unigram 265",
                                             "  beam 4   35.7",
                                             ]},
            "broken.py": {"returncode": 1, "seconds": 3, "closing": "ImportError: x"},
        },
    }


def test_render_lists_every_factory_and_says_what_failed():
    text = summary.render(_report())
    assert "| video_tagger (clips/s) | digits 32x32 | 440.0 | 340.0 | 1.294 |" in text
    assert "| image_classifier (images/s) | digits 32x32 | 1100.0 | 1000.0 | 1.1 |" in text
    assert "object_detector | | failed: 'ValueError: boom'" in text
    assert "sequence_factories | | failed:" in text
    assert "| plain image_classifier, twice | digits | 1.05 | 0.98 |" in text
    assert "ratio 0.95" in text and "2026-11-26 07:00 on Linux, 2 CPUs" in text


def test_render_shows_the_metric_lines_of_each_example():
    text = summary.render(_report())
    assert "| next_word.py | 84 | Held-out perplexity 185 / unigram 265 / beam 4 35.7 |" in text
    assert "| broken.py | 3 | failed: ImportError: x |" in text


def test_render_only_rewrites_the_markdown_from_the_json(tmp_path):
    out = tmp_path / "BENCHMARKS.md"
    (tmp_path / "BENCHMARKS.json").write_text(json.dumps(_report()))
    summary.main(["--render-only", "--out", str(out)])
    assert out.read_text() == summary.render(_report())


def test_render_only_keeps_the_hand_written_sections(tmp_path):
    out = tmp_path / "BENCHMARKS.md"
    (tmp_path / "BENCHMARKS.json").write_text(json.dumps(_report()))
    tail = f"{summary.HAND_WRITTEN}\n## The tagger's frontier\n\n| a | b |\n"
    out.write_text("# old generated part\n\n" + tail)
    summary.main(["--render-only", "--out", str(out)])
    assert out.read_text() == summary.render(_report()) + "\n" + tail


def test_render_shows_the_predictor_flow_and_two_stream_benchmarks():
    text = summary.render(_report())
    assert "| video_predictor (sequences/s) | digits 32x32 | 30.0 | 34.0 | 0.882 |" in text
    assert "| `sample_videos` frames | 96x171 | dis_medium | 77.0 | 2.09 (3.65) | 0.427 |" in text
    assert "flow 57.0 clips/s uncached, 2136.0 cached, against 126.0 clips/s" in text
    assert "| moving_digits (8 classes, 6 epochs) | rgb | 0.497 | 120.0 | 1000 |" in text
    # A report written before these scripts were run still renders.
    old = {k: v for k, v in _report().items()
           if k not in ("video_predictor", "flow", "two_stream")}
    assert "## Optical flow" not in summary.render(old)


def test_the_benchmarks_part_runs_every_benchmark_script(tmp_path, monkeypatch):
    # The wiring only: run_python is replaced by canned JSON per script.
    import subprocess

    report, ran = _report(), []
    canned = {"SCALING": report["scaling"], "CONTROL": report["control"]}

    def fake_run_python(args, timeout, code=None):
        if code is not None:
            key = "SCALING" if code == summary.SCALING else "CONTROL"
            out = canned[key]
        else:
            name = os.path.basename(args[0])[:-3]
            ran.append([name, *args[1:]])
            out = report[name] if isinstance(report[name], dict) else {"error": "x"}
        return subprocess.CompletedProcess(args, 0, json.dumps(out), ""), 1.0

    monkeypatch.setattr(summary, "run_python", fake_run_python)
    out = tmp_path / "BENCHMARKS.md"
    summary.main(["--part", "benchmarks", "--out", str(out)])
    assert ["video_predictor"] in ran and ["two_stream"] in ran
    assert ["flow", "--training"] in ran
    text = out.read_text()
    assert "| video_predictor (sequences/s)" in text
    assert "## Optical flow" in text and "## Two-stream tagger" in text
    stored = json.loads((tmp_path / "BENCHMARKS.json").read_text())
    assert stored["two_stream"] == report["two_stream"]


def test_last_json_reads_an_indented_report_after_progress_lines():
    # benchmarks/two_stream.py prints a line per variant, then an indented
    # report: the summary run failed on it ("No JSON in the output").
    import types

    import pytest

    report = {"moving_digits": {"rgb": {"accuracy": 0.98}}, "n": [1, 2]}
    stdout = "moving_digits rgb {'accuracy': 0.98}\n" + json.dumps(report, indent=1)
    assert summary.last_json(types.SimpleNamespace(stdout=stdout)) == report
    one_line = "progress\n" + json.dumps(report) + "\n"
    assert summary.last_json(types.SimpleNamespace(stdout=one_line)) == report
    with pytest.raises(ValueError, match="No JSON"):
        summary.last_json(types.SimpleNamespace(stdout="no json here\n{ broken"))
