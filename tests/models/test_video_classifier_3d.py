import keras
import numpy as np
import pytest

from factory_checks import check_factory

import cvseq
from cvseq import video_classifier_3d

BAD_ARGUMENTS = {
    "frames": 0,
    "image_size": (8, "a"),
    "block": "c2d",
    "filters": (8, -1),
    "dropout": 1.5,
    "multi_label": "yes",
}


def _clips(batch=2, frames=4, size=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (batch, frames, size, size, 3)).astype("uint8")


@pytest.mark.parametrize("block", ["r2plus1d", "c3d"])
def test_single_label(block):
    check_factory(
        video_classifier_3d,
        args=(3,),
        kwargs=dict(frames=4, image_size=(16, 16), block=block, filters=(4, 8)),
        inputs=_clips(),
        targets=np.array([0, 2]),
        output_shape=(2, 3),
        bad_arguments=BAD_ARGUMENTS,
    )


def test_multi_label():
    model = check_factory(
        video_classifier_3d,
        args=(5,),
        kwargs=dict(frames=4, image_size=16, filters=(4,), multi_label=True),
        inputs=_clips(),
        targets=np.array([[1, 0, 1, 0, 0], [0, 0, 0, 1, 1]], "float32"),
        output_shape=(2, 5),
    )
    assert model.get_layer("predictions").activation.__name__ == "sigmoid"


def test_r2plus1d_factorizes_space_and_time():
    model = video_classifier_3d(2, frames=4, image_size=16, filters=(4, 8))
    kernels = [l.kernel_size for l in model.layers if isinstance(l, keras.layers.Conv3D)]
    assert kernels == [(1, 3, 3), (3, 1, 1)] * 2
    c3d = video_classifier_3d(2, frames=4, image_size=16, filters=(4, 8), block="c3d")
    kernels = [l.kernel_size for l in c3d.layers if isinstance(l, keras.layers.Conv3D)]
    assert kernels == [(3, 3, 3)] * 2


def test_first_stage_reads_frames_and_their_differences():
    # Real footage's motion is read from the differences
    # (docs/video_classifier_3d_real.md): six input channels, and a clip
    # whose frames do not change gives zero differences.
    model = video_classifier_3d(2, frames=4, image_size=16, filters=(4,))
    first = next(l for l in model.layers if isinstance(l, keras.layers.Conv3D))
    assert first.kernel.shape[-2] == 6
    combined = keras.Model(model.inputs, model.get_layer("frames_and_differences").output)
    static = np.repeat(_clips(1, 1), 4, axis=1)
    channels = combined.predict(static, verbose=0)
    np.testing.assert_allclose(channels[..., 3:], 0)
    np.testing.assert_allclose(channels[..., :3], static / 255, atol=1e-6)
    moving = combined.predict(_clips(1, 4), verbose=0)
    np.testing.assert_allclose(moving[:, 1:, ..., 3:],
                               np.diff(_clips(1, 4).astype("float32"), axis=1) / 255,
                               atol=1e-6)


def test_any_clip_length():
    model = video_classifier_3d(2, frames=None, image_size=16, filters=(4, 8))
    for frames in (1, 3, 8):
        assert model.predict(_clips(1, frames), verbose=0).shape == (1, 2)


def test_too_many_stages_for_the_image_size():
    with pytest.raises(ValueError, match="image_size"):
        video_classifier_3d(2, frames=4, image_size=16, filters=(4, 4, 4, 4, 4))


@pytest.mark.slow
def test_learns_the_motion_label():
    """8 classes (direction x speed) of held-out clips, test digits unseen."""
    keras.utils.set_random_seed(0)
    options = dict(frames=8, image_size=32, label="motion")
    train = cvseq.datasets.load("moving_digits", "train", num_clips=1000, **options)
    test = cvseq.datasets.load("moving_digits", "test", **options)
    model = video_classifier_3d(8, frames=8, image_size=32, filters=(16, 32, 64))
    # 3 epochs: 1.000 / 0.997 held out with seeds 0 / 1 with the frame
    # differences (0.993 / 1.000 from the frames alone; 4 epochs: 0.990 /
    # 0.997, 2 epochs: 0.977 / 0.957, both from the frames alone).
    model.fit(train, epochs=3, verbose=0)
    _, accuracy = model.evaluate(test, verbose=0)
    assert accuracy >= 0.9, accuracy
