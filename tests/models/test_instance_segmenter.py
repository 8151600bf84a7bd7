import os

import keras
import numpy as np
import pytest

from factory_checks import check_factory

import cvseq
from cvseq import instance_segmenter
from cvseq.metrics import instances as instance_metrics
from cvseq.models.instance_segmenter import (
    InstanceCenterLoss,
    group_instances,
    instance_targets,
)

BAD_ARGUMENTS = {
    "image_size": (30, 32),  # not a multiple of small_cnn's stride 8
    "backbone": "no_such_backbone",
    "max_instances": 0,
    "train_backbone": "no",
}


def _images(batch=2, size=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (batch, size, size, 3)).astype("uint8")


def _two_squares(size=16):
    """One image: two touching 5x5 squares of class 2, ids 1 and 2."""
    semantic = np.zeros((1, size, size), "int32")
    instances = np.zeros((1, size, size), "int32")
    semantic[0, 3:8, 2:12] = 2
    instances[0, 3:8, 2:7] = 1
    instances[0, 3:8, 7:12] = 2
    return semantic, instances


def test_instance_segmenter_factory():
    semantic, instances = _two_squares()
    targets = {"semantic": np.repeat(semantic, 2, 0), "instances": np.repeat(instances, 2, 0)}
    model = check_factory(
        instance_segmenter,
        args=(4,),
        kwargs=dict(image_size=16, max_instances=4),
        inputs=_images(),
        targets=targets,
        output_shape={"semantic": (2, 16, 16, 4), "instances": (2, 16, 16, 3)},
        bad_arguments=BAD_ARGUMENTS,
        round_trip=lambda m: m.predict_instances(_images(), center_threshold=0.0),
    )
    assert isinstance(model, cvseq.models.InstanceSegmenter)
    found = model.predict_instances(_images(), center_threshold=0.0, min_area=0)
    assert found["instance_ids"].shape == (2, 16, 16)
    assert found["labels"].shape == found["scores"].shape == (2, 4)
    # Ids point at real instances; labels are object classes, never 0.
    for ids, labels in zip(found["instance_ids"], found["labels"]):
        for k in np.unique(ids[ids > 0]):
            assert labels[k - 1] >= 1
    with pytest.raises(ValueError, match="center_threshold"):
        model.predict_instances(_images(), center_threshold=1.5)


def test_targets_centre_and_offsets():
    _, instances = _two_squares()
    heat, offsets = (keras.ops.convert_to_numpy(t) for t in instance_targets(instances, 4))
    # Peaks (value 1) at the centres of mass (5, 4) and (5, 9).
    assert heat[0, 5, 4] == pytest.approx(1.0) and heat[0, 5, 9] == pytest.approx(1.0)
    assert heat[0, 15, 15] < 0.01
    # The top-left pixel of instance 1 points 2 down and 2 right.
    np.testing.assert_allclose(offsets[0, 3, 2], [2.0, 2.0])
    np.testing.assert_allclose(offsets[0, 3, 11], [2.0, -2.0])
    assert np.all(offsets[0, 12] == 0)  # outside instances
    loss = InstanceCenterLoss(4)
    perfect = np.concatenate([heat[..., None], offsets], -1)
    assert float(loss(instances, perfect)) < 1e-6
    assert float(loss(instances, 0 * perfect)) > 0.3
    assert InstanceCenterLoss.from_config(loss.get_config()).max_instances == 4


def test_grouping_separates_touching_instances_of_one_class():
    semantic, instances = _two_squares()
    heat, offsets = instance_targets(instances, 4)
    probabilities = np.eye(4, dtype="float32")[semantic]
    maps = np.concatenate([keras.ops.convert_to_numpy(heat)[..., None],
                           keras.ops.convert_to_numpy(offsets)], -1)
    found = {k: keras.ops.convert_to_numpy(v) for k, v in group_instances(
        probabilities, maps, max_instances=4).items()}
    assert sorted(found["labels"][0]) == [-1, -1, 2, 2]
    ids = found["instance_ids"][0]
    # Each true square is exactly one predicted instance.
    for k in (1, 2):
        assert len(np.unique(ids[instances[0] == k])) == 1
    assert len(np.unique(ids[instances[0] > 0])) == 2
    truth = {"semantic": semantic, "instances": instances}
    assert instance_metrics.mask_average_precision(truth, found)["map"] == pytest.approx(1.0)
    assert instance_metrics.panoptic_quality(truth, found)["pq"] == pytest.approx(1.0)
    # Connected components merge the two squares into one blob: its IoU
    # with each is 0.5, which COCO counts as a match (>=) for one of the
    # two (recall 1/2), and PQ does not (> 0.5).
    blobs = instance_metrics.connected_components(probabilities)
    assert instance_metrics.panoptic_quality(truth, blobs)["pq"] == 0.0
    assert instance_metrics.mask_average_precision(truth, blobs)["map_50"] < 0.51


def test_panoptic_quality_by_hand():
    semantic = np.zeros((1, 4, 8), "int32")
    instances = np.zeros((1, 4, 8), "int32")
    semantic[0, :, :4], instances[0, :, :4] = 1, 1  # 16 pixels of class 1
    semantic[0, :, 4:], instances[0, :, 4:] = 2, 2  # 16 pixels of class 2
    ids = np.zeros((1, 4, 8), "int32")
    ids[0, :, :3] = 1  # IoU 12/16 with instance 1
    ids[0, :, 3:] = 2  # IoU 16/20 with instance 2, but labelled class 3
    pred = {"instance_ids": ids, "labels": np.array([[1, 3]]),
            "scores": np.array([[0.9, 0.8]])}
    truth = {"semantic": semantic, "instances": instances}
    report = instance_metrics.panoptic_quality(truth, pred, num_classes=4)
    # Class 1: one match (SQ 0.75, RQ 1); class 2: a miss; class 3: a false find.
    assert report["per_class"][1]["pq"] == pytest.approx(0.75)
    assert report["per_class"][2]["pq"] == 0.0 and report["per_class"][3]["pq"] == 0.0
    assert report["pq"] == pytest.approx(0.25)
    with pytest.raises(ValueError, match="y_pred"):
        instance_metrics.panoptic_quality(truth, {"labels": []})


def test_digit_instances_data():
    from cvseq.datasets import digit_instances

    scenes = digit_instances.generate("test", image_size=32, num_scenes=60,
                                      max_digits=2, digit_size=(12, 18))
    # The touching same-class case is common in the test split.
    assert scenes["touching"].mean() > 0.25
    for semantic, ids, labels, touching in zip(
            scenes["semantic"], scenes["instances"], scenes["labels"], scenes["touching"]):
        count = (labels >= 0).sum()
        assert set(np.unique(ids)) == set(range(count + 1))
        for k in range(1, count + 1):
            assert set(np.unique(semantic[ids == k])) == {1 + labels[k - 1]}
        assert np.all((semantic > 0) == (ids > 0))
        if touching:
            # One connected blob of a class holds two instances.
            blobs = instance_metrics.connected_components(
                np.eye(11, dtype="float32")[semantic][None], min_area=0)["instance_ids"][0]
            assert any(len(np.unique(ids[blobs == b])) > 1 for b in np.unique(blobs[blobs > 0]))
    ds, info = cvseq.datasets.load("digit_instances", "validation", image_size=32,
                                   num_scenes=4, batch_size=4, with_info=True)
    images, targets = next(iter(ds))
    assert images.shape == (4, 32, 32, 3) and set(targets) == {"semantic", "instances"}
    assert info.task == "instance_segmenter" and info.num_classes == 11


@pytest.mark.graph
def test_saved_model_round_trip(tmp_path):
    import tensorflow as tf

    model = instance_segmenter(3, image_size=16, max_instances=4)
    path = cvseq.export.export(model, str(tmp_path / "saved"), format="saved_model")
    loaded = tf.saved_model.load(path)  # kept: its variables die with it
    served = loaded.serve(tf.constant(_images(), tf.float32))
    expected = model.predict(_images(), verbose=0)
    for key in ("semantic", "instances"):
        np.testing.assert_allclose(served[key].numpy(), expected[key], atol=1e-5)
    # The served maps group into the same instances as the model's own.
    grouped = {k: keras.ops.convert_to_numpy(v) for k, v in group_instances(
        served["semantic"].numpy(), served["instances"].numpy(),
        max_instances=4, center_threshold=0.0).items()}
    mine = model.predict_instances(_images(), center_threshold=0.0)
    np.testing.assert_array_equal(grouped["instance_ids"], mine["instance_ids"])


def test_cli_trains_and_predicts_instances(tmp_path, capsys):
    import cv2

    from cvseq import cli

    out = str(tmp_path / "run")
    assert cli.main(["train", "instance_segmenter", "--epochs", "1", "--batch-size", "8",
                     "--image-size", "16", "--data", "num_scenes=16", "--out", out]) == 0, \
        capsys.readouterr().err
    image = str(tmp_path / "image.png")
    cv2.imwrite(image, _images(1, 40)[0])
    capsys.readouterr()
    assert cli.main(["predict", os.path.join(out, "model.keras"), image,
                     "--threshold", "0"]) == 0, capsys.readouterr().err
    line = capsys.readouterr().out.strip()
    assert line.startswith(image + ": ") and len(line) > len(image) + 2
