"""The real nuclei data sets: tiles of stardist's annotated fluorescence image."""

import importlib.util
import os

import numpy as np
import pytest

import cvseq
from cvseq.datasets import nuclei

if importlib.util.find_spec("stardist") is None and not os.environ.get("CI"):
    # CI (.ci/run sets CI=1) installs it (tools/install_data.sh), so there a
    # missing package fails.
    pytest.skip("stardist's data files are not installed "
                "(pip install --no-deps stardist)", allow_module_level=True)


@pytest.fixture(scope="module")
def train():
    return nuclei.generate("train", image_size=32, num_tiles=40, seed=0)


def test_shapes_and_layouts():
    for name, task in (("nuclei_segmentation", "image_segmenter"),
                       ("nuclei_instances", "instance_segmenter"),
                       ("nuclei_detection", "object_detector")):
        assert cvseq.datasets.list_datasets(task)[name] == task
    data, info = cvseq.datasets.load("nuclei_detection", "train", image_size=32,
                                     num_tiles=10, max_instances=8, batch_size=5,
                                     format="numpy", with_info=True)
    images, targets = data[0]
    assert images.shape == (5, 32, 32, 3) and images.dtype == np.uint8
    assert targets["boxes"].shape == (5, 8, 4) and targets["labels"].shape == (5, 8)
    assert info.class_names == ["nucleus"] and info.num_examples == 10
    data = cvseq.datasets.load("nuclei_instances", "test", format="numpy", batch_size=64)
    images, targets = data[0]
    # The fixed test grid: 3 x 8 tiles of 64 pixels.
    assert images.shape == (24, 64, 64, 3)
    assert set(targets) == {"semantic", "instances"}
    masks = cvseq.datasets.load("nuclei_segmentation", "test", format="numpy",
                                batch_size=64)[0][1]
    assert masks.shape == (24, 64, 64) and set(np.unique(masks)) == {0, 1}


def test_targets_agree_and_boxes_are_tight(train):
    # Grey in three equal channels, as recorded (0-235).
    images = train["images"]
    assert np.array_equal(images[..., 0], images[..., 2]) and images.max() <= 235
    np.testing.assert_array_equal(train["semantic"], train["instances"] > 0)
    for ids, boxes, labels in zip(train["instances"], train["boxes"], train["labels"]):
        count = int(ids.max())
        assert set(np.unique(ids)) == set(range(count + 1))
        areas = [(ids == k).sum() for k in range(1, count + 1)]
        assert areas == sorted(areas, reverse=True)  # largest first
        assert np.all(labels[:count] == 0) and np.all(labels[count:] == -1)
        assert np.all(boxes[count:] == -1)
        for k, box in enumerate(boxes[:count].astype(int)):
            x1, y1, x2, y2 = box
            inside = ids[y1:y2, x1:x2] == k + 1
            assert inside.sum() == areas[k]
            assert inside[0].any() and inside[-1].any()
            assert inside[:, 0].any() and inside[:, -1].any()
    # Random crops, some flipped: nuclei in most tiles, not all alike.
    assert (train["instances"].reshape(40, -1).max(1) > 0).mean() > 0.8
    assert len({im.tobytes() for im in images}) == 40


def test_splits_share_no_nucleus_and_test_is_a_fixed_grid():
    image, instances = nuclei.image_and_instances()
    train_ids = set(np.unique(instances[:, :nuclei.COLUMNS["train"][1]])) - {0}
    test_ids = set(np.unique(instances[:, nuclei.COLUMNS["test"][0]:])) - {0}
    assert len(train_ids) > 50 and len(test_ids) > 30
    assert not train_ids & test_ids
    # Training crops stay inside the training columns.
    corners = nuclei._corners("train", (64, 64), 500, np.random.default_rng(0))
    assert all(0 <= left and left + 64 <= 272 for _, left, _, _ in corners)
    test = nuclei.generate("test", image_size=64)
    np.testing.assert_array_equal(test["images"][0, ..., 0], image[:64, 320:384])
    np.testing.assert_array_equal(test["images"][-1, ..., 0], image[448:, 448:])
    # The test grid does not depend on the seed.
    np.testing.assert_array_equal(
        test["images"], nuclei.generate("test", image_size=64, seed=5)["images"])


def test_seeded():
    a = nuclei.generate("train", image_size=32, num_tiles=8, seed=1)
    b = nuclei.generate("train", image_size=32, num_tiles=8, seed=1)
    c = nuclei.generate("train", image_size=32, num_tiles=8, seed=2)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["images"], c["images"])


def test_options_are_checked():
    with pytest.raises(ValueError, match="splits train, test.*validation"):
        nuclei.generate("validation")
    with pytest.raises(ValueError, match="at most 192.*image_size"):
        nuclei.generate("train", image_size=256)
    with pytest.raises(ValueError, match="fixed grid.*num_tiles"):
        nuclei.generate("test", num_tiles=10)
    with pytest.raises(ValueError, match="num_tiles"):
        nuclei.generate("train", num_tiles=0)
    with pytest.raises(TypeError, match="max_instances"):
        nuclei.generate("train", max_instances=2.5)
    with pytest.raises(TypeError, match="unknown option.*touching"):
        cvseq.datasets.load("nuclei_instances", touching=0.5)
    # No validation split: load_splits gives None for it.
    train, validation, test, _ = cvseq.datasets.load_splits(
        "nuclei_segmentation", (("train", {"num_tiles": 4}), "validation", "test"),
        image_size=32)
    assert validation is None and train is not None and test is not None


def test_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setattr(nuclei.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(cvseq.datasets.DatasetUnavailableError,
                       match="pip install --no-deps stardist"):
        nuclei.stardist_file(nuclei.IMAGE_FILE)
