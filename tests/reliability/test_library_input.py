"""Bad input to the library's metrics, tracker and readers: an error that
names it, never a silently wrong figure (found by a bad-input battery,
2026-12-01: each of these returned a score or dropped a value before)."""

import numpy as np
import pytest

from cvseq import text, tracking
from cvseq.metrics import (
    bleu,
    classification_scores,
    exact_match,
    mean_average_precision,
    next_token_scores,
    segmentation_report,
)


@pytest.mark.parametrize("call, error, says", [
    (lambda: exact_match(["a", "b"], ["a"]), ValueError, "2 references but 1"),
    (lambda: exact_match([], []), ValueError, "both are empty"),
    (lambda: exact_match("ab", "ab"), TypeError, r"one str: 'ab'; pass \['ab'\]"),
    (lambda: bleu([], []), ValueError, "both are empty"),
    (lambda: bleu("the cat", "the cat"), TypeError, "must be a list of str"),
    (lambda: bleu(["a"], [3]), TypeError, "an item 3 of type int"),
    (lambda: classification_scores([0, 1], np.eye(3)), ValueError, r"n=2 labels"),
    (lambda: next_token_scores(np.full((1, 2, 3), 1 / 3), [[1, -1]]), ValueError,
     "ids from 0 to 2"),
    (lambda: next_token_scores(np.full((1, 2, 3), 1 / 3), [[0, 0]]), ValueError,
     "no token to score"),
    (lambda: next_token_scores(np.full((1, 2, 3), 1 / 3), [1, 2]), ValueError,
     "shape of `probabilities` without its last axis"),
])
def test_text_metrics_refuse_what_they_cannot_score(call, error, says):
    with pytest.raises(error, match=says):
        call()


def test_text_metrics_still_score():
    assert exact_match(["a ", "b"], ["a", "c"]) == 0.5
    assert bleu(["the cat sat on the mat"], ["the cat sat on the mat"]) == pytest.approx(100)
    assert next_token_scores(np.eye(3)[None], [[0, 1, 2]])["accuracy"] == 1.0


@pytest.mark.parametrize("truth, found, error, says", [
    (np.full((1, 2, 2), 5), np.full((1, 2, 2), 5), ValueError, "class ids from 5 to 5"),
    (np.full((1, 2, 2), 0.7), np.zeros((1, 2, 2)), TypeError, "fractions such as 0.7"),
    (np.zeros((0, 2, 2), int), np.zeros((0, 2, 2), int), ValueError, "no pixels"),
    (np.zeros((1, 2, 2), int), np.zeros((1, 2, 2, 5)), ValueError,
     "probabilities of 5 classes; num_classes=2"),
])
def test_segmentation_report_refuses_ids_it_would_drop(truth, found, error, says):
    with pytest.raises(error, match=says):
        segmentation_report(truth, found, 2)


def _detections(label=0, score=0.9, box=(10, 10, 30, 40)):
    truth = {"boxes": np.array([[[10, 10, 30, 40]]], "float32"), "labels": np.array([[0]])}
    found = {"boxes": np.array([[box]], "float32"), "labels": np.array([[label]]),
             "scores": np.array([[score]], "float32")}
    return truth, found


@pytest.mark.parametrize("found, options, says", [
    (dict(label=3), dict(num_classes=2), "holds label 3, but num_classes=2"),
    (dict(score=np.nan), {}, "scores'\\]` holds NaN"),
    (dict(box=(10, np.nan, 30, 40)), {}, "boxes'\\]` holds NaN"),
    ({}, dict(max_detections=0), "max_detections"),
    ({}, dict(num_classes=0), "num_classes"),
])
def test_mean_average_precision_refuses_what_cocoeval_would_drop(found, options, says):
    truth, predicted = _detections(**found)
    with pytest.raises(ValueError, match=says):
        mean_average_precision(truth, predicted, **options)
    assert mean_average_precision(*_detections())["map_50"] == pytest.approx(1.0)


def test_tracker_evaluation_and_detector_refuse_mismatched_input():
    truth = np.array([[[0, 0, 4, 4]]] * 3, "float32")  # 3 frames, one object
    one_frame = [[(np.zeros((1, 4), "float32"), np.ones(1, "float32"))]]
    with pytest.raises(ValueError, match="1 frames of detections but 3 frames"):
        tracking.evaluate_tracker(tracking.Tracker(), one_frame, [truth], [np.array([1])])
    with pytest.raises(TypeError, match="must be a cvseq.tracking.Tracker"):
        tracking.evaluate_tracker("kalman", one_frame, [truth], [np.array([1])])
    with pytest.raises(ValueError, match="blob detector scores no boxes"):
        tracking.frame_detector("blobs", threshold=0.9)
    detect = tracking.frame_detector("blobs")
    with pytest.raises(ValueError, match=r"one frame: pass frames\[None\]"):
        detect(np.zeros((32, 32, 3), "uint8"))
    with pytest.raises(TypeError, match="uint8 pixels"):
        detect(np.zeros((1, 32, 32, 3), "float32"))
    assert len(detect(np.zeros((2, 32, 32, 3), "uint8"))) == 2


def test_language_model_windows_stride_zero_is_an_error():
    with pytest.raises(ValueError, match="stride"):
        text.language_model_windows(["to be or not to be"] * 4, vocabulary=["to", "be"],
                                    sequence_length=2, stride=0)


def test_video_folder_random_sampling_must_be_a_bool(tmp_path):
    import cvseq

    with pytest.raises(TypeError, match="random_sampling"):
        cvseq.datasets.load("video_folder", "train", root=str(tmp_path),
                            random_sampling="no")


def test_load_splits_with_info_and_a_string_iou_threshold_are_named():
    import cvseq
    from cvseq.metrics import TrackingEvaluator

    with pytest.raises(TypeError, match="load_splits takes no `with_info`"):
        cvseq.datasets.load_splits("digits", with_info=True)
    with pytest.raises(ValueError, match="iou_threshold='0.5'"):
        TrackingEvaluator(iou_threshold="0.5")


# Training, fault tolerance, distribution and export (a second battery,
# 2026-12-01): each value here was taken and silently ignored or replaced.
def _training_refusals():
    from cvseq import callbacks, distribute, export, training

    return [
        (lambda m, p: distribute.mixed_precision(1), ValueError, "Received: enabled=1"),
        (lambda m, p: training.unfreeze_backbone(m, float("inf")), ValueError,
         "finite number"),
        (lambda m, p: callbacks.fault_tolerant(p, keep_backup="no"), TypeError,
         "keep_backup"),
        (lambda m, p: callbacks.fault_tolerant(p, save_freq=0), ValueError, "save_freq"),
        (lambda m, p: callbacks.fault_tolerant(None), TypeError, "run_dir"),
        (lambda m, p: distribute.strategy("default", devices=["/cpu:0"]), ValueError,
         "would ignore it"),
        (lambda m, p: distribute.strategy("mirrored", devices="/cpu:0"), TypeError,
         "list of device names"),
        (lambda m, p: distribute.strategy("mirrored", devices=["/gpu:7"]), ValueError,
         r"lacks: \['/gpu:7'\]"),
        (lambda m, p: export.export_tflite(m, p + ".tflite", quantize="no"), TypeError,
         "quantize"),
    ]


@pytest.mark.parametrize("case", range(9))
def test_training_helpers_refuse_values_they_would_ignore(case, tmp_path):
    import cvseq

    call, error, says = _training_refusals()[case]
    model = cvseq.image_classifier(3, image_size=16)
    with pytest.raises(error, match=says):
        call(model, str(tmp_path / "x"))


@pytest.mark.parametrize("config", ['["a"]', "{bad", '{"cluster": []}'])
def test_a_malformed_tf_config_is_named(config, monkeypatch):
    from cvseq import distribute

    monkeypatch.setenv("TF_CONFIG", config)
    with pytest.raises(ValueError, match="TF_CONFIG must be JSON of the form"):
        distribute.strategy("auto")


def test_a_run_commits_numpy_metrics(tmp_path):
    import json

    import cvseq
    from cvseq import training

    run_dir = training.RunDirectory(str(tmp_path / "run"))
    run_dir.begin({"task": "t"})
    run_dir.commit(cvseq.image_classifier(3, image_size=16), {"task": "t"},
                   {"accuracy": np.float32(0.5), "per_class": np.arange(2)})
    assert json.load(open(run_dir.file("metrics.json"))) == {
        "accuracy": 0.5, "per_class": [0, 1]}
    assert run_dir.state == "finished"
