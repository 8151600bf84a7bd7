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
