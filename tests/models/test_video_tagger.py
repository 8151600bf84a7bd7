import numpy as np
import pytest

from factory_checks import check_factory

import cvseq
from cvseq import video_tagger

BAD_ARGUMENTS = {
    "frames": 0,
    "image_size": (8, "a"),
    "recurrent": "rnn",
    "units": -3,
    "dropout": 1.5,
    "backbone": "no_such_backbone",
    "weights": "missing/file.weights.h5",
    "multi_label": "yes",
}


def _clips(batch=2, frames=4, size=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (batch, frames, size, size, 3)).astype("uint8")


@pytest.mark.parametrize("recurrent", ["lstm", "gru"])
def test_single_label(recurrent):
    check_factory(
        video_tagger,
        args=(3,),
        kwargs=dict(frames=4, image_size=(16, 16), units=8, recurrent=recurrent),
        inputs=_clips(),
        targets=np.array([0, 2]),
        output_shape=(2, 3),
        bad_arguments=BAD_ARGUMENTS,
    )


def test_multi_label_bidirectional():
    model = check_factory(
        video_tagger,
        args=(5,),
        kwargs=dict(frames=4, image_size=16, units=8, bidirectional=True,
                    multi_label=True),
        inputs=_clips(),
        targets=np.array([[1, 0, 1, 0, 0], [0, 0, 0, 1, 1]], "float32"),
        output_shape=(2, 5),
    )
    assert model.get_layer("predictions").activation.__name__ == "sigmoid"
    names = [m.name for m in model.metrics[-1].metrics]
    assert {"auc", "precision", "recall", "f1"} <= set(names)


def test_any_clip_length_and_padding_is_masked():
    model = video_tagger(2, frames=None, image_size=16, units=8, dropout=0.0)
    clip = _clips(batch=1, frames=3)
    padded = np.concatenate([clip, np.zeros_like(clip)], axis=1)  # 3 real + 3 pad
    assert model.predict(padded, verbose=0).shape == (1, 2)
    np.testing.assert_allclose(
        model.predict(clip, verbose=0), model.predict(padded, verbose=0), atol=1e-5
    )
    # A frame of real content at the end does change the output.
    changed = padded.copy()
    changed[:, -1] = clip[:, 0]
    assert not np.allclose(
        model.predict(clip, verbose=0), model.predict(changed, verbose=0), atol=1e-5
    )


def test_frozen_backbone_has_no_trainable_weights():
    model = video_tagger(2, frames=2, image_size=16, train_backbone=False, units=4)
    backbone = cvseq.backbones.get_backbone(model)
    assert backbone.trainable_weights == []
    assert model.trainable_weights  # the head and LSTM still train


def test_single_label_needs_two_classes():
    with pytest.raises(ValueError, match="num_classes"):
        video_tagger(1, frames=2, image_size=16)
    video_tagger(1, frames=2, image_size=16, multi_label=True, units=4)


def test_frame_differences_feed_the_motion_network():
    from cvseq.models.video_tagger import FrameDifferences

    clips = _clips(batch=2, frames=3).astype("float32")
    out = np.asarray(FrameDifferences()(clips))
    np.testing.assert_array_equal(out[:, 0], 0)
    np.testing.assert_allclose(out[:, 1:], clips[:, 1:] - clips[:, :-1])
    model = video_tagger(2, frames=3, image_size=16, units=4)
    assert model.get_layer("motion_features").layer.name == "motion_network"
    assert model.get_layer("frame_differences").output.shape == (None, 3, 16, 16, 3)
