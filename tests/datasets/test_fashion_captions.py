import os

import numpy as np
import pytest

import cvseq
from cvseq.datasets import captions, fashion_images

pytestmark = pytest.mark.skipif(
    not os.path.isdir(fashion_images.DEFAULT_DIR) and not os.environ.get("CI"),
    reason="Fashion-MNIST files absent: apt-get install dataset-fashion-mnist "
    "(.ci/run installs it, so CI never skips)",
)


def test_captions_name_each_product_and_its_cell():
    assert captions.describe_products({1: 7}) == "a sneaker at top right"
    assert (captions.describe_products({3: 8, 0: 9})
            == "an ankle boot at top left and a bag at bottom right")
    images, texts = captions.generate_fashion_captions("test", num_images=40,
                                                       image_size=48)
    assert images.shape == (40, 48, 48, 3) and images.dtype == np.uint8
    for image, caption in zip(images, texts):
        lit = [image[r:r + 24, c:c + 24].any() for r in (0, 24) for c in (0, 24)]
        assert 1 <= sum(lit) <= 3
        for cell, name in zip(lit, captions.CELLS):
            assert cell == (f"at {name}" in caption)
        assert set(caption.split()) <= set(captions.FASHION_VOCABULARY)
        assert len(caption.split()) < captions.FASHION_SEQUENCE_LENGTH


def test_same_seed_same_data_and_seeds_differ():
    a = captions.generate_fashion_captions("train", num_images=6, image_size=32)
    b = captions.generate_fashion_captions("train", num_images=6, image_size=32)
    c = captions.generate_fashion_captions("train", num_images=6, image_size=32, seed=1)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1] and a[1] != c[1]


def test_test_images_show_only_official_test_photos():
    """Every product in a test image is an official test photo, never a
    training one: the grid uses the photos unchanged at 28 px (cells of 40
    px hold 28-px products), so they can be looked up byte for byte."""
    images, _ = captions.generate_fashion_captions("test", num_images=30, image_size=80)
    test_keys = {p.tobytes() for p in fashion_images.fashion_images("test")[0]}
    train_keys = {p.tobytes() for p in fashion_images.fashion_images("train")[0]}
    found = 0
    for image in images[..., 0]:
        for r0 in (0, 40):
            for c0 in (0, 40):
                cell = image[r0:r0 + 40, c0:c0 + 40]
                if not cell.any():
                    continue
                rows, cols = np.nonzero(cell)
                # the product's 28x28 box: try the offsets its bright pixels allow
                for r in range(max(0, rows.max() - 27), rows.min() + 1):
                    for c in range(max(0, cols.max() - 27), cols.min() + 1):
                        key = cell[r:r + 28, c:c + 28].tobytes()
                        if key in test_keys:
                            found += 1
                            assert key not in train_keys
                            break
                    else:
                        continue
                    break
    assert found >= 40  # about two products per image, 30 images


def test_load_fits_the_captioner():
    ds, info = cvseq.datasets.load("fashion_captions", "validation", num_images=4,
                                   image_size=32, batch_size=4, with_info=True)
    x, y = next(iter(ds))
    assert x["images"].shape == (4, 32, 32, 3)
    assert x["decoder_input"].shape == y.shape == (4, captions.FASHION_SEQUENCE_LENGTH)
    assert info.vocabulary == captions.FASHION_VOCABULARY and info.num_examples == 4
    assert cvseq.datasets.list_datasets()["fashion_captions"] == "image_captioner"
    model = cvseq.image_captioner(vocabulary=info.vocabulary, image_size=32, units=8)
    assert model.predict(x, verbose=0).shape[:2] == y.shape


def test_bad_options():
    with pytest.raises(ValueError, match="max_items"):
        captions.generate_fashion_captions("test", num_images=2, max_items=4)
    with pytest.raises(ValueError, match="split"):
        captions.generate_fashion_captions("dev")
    with pytest.raises(TypeError, match="unknown option"):
        cvseq.datasets.load("fashion_captions", "test", max_digits=2)
