"""video_tagger(streams=...): optical flow as a second stream (or alone)."""

import numpy as np
import pytest

from factory_checks import check_factory

from cvseq import flow, video_tagger

BAD_ARGUMENTS = {"streams": ("rgb", "depth"), "frames": 1}


def _clips(batch=2, frames=4, size=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (batch, frames, size, size, 3)).astype("uint8")


@pytest.mark.parametrize("streams", [("rgb", "flow"), ("flow",)])
def test_flow_streams(streams):
    model = check_factory(
        video_tagger,
        args=(3,),
        kwargs=dict(frames=4, image_size=(16, 16), units=8, streams=streams),
        inputs=_clips(),
        targets=np.array([0, 2]),
        output_shape=(2, 3),
        bad_arguments=BAD_ARGUMENTS,
    )
    assert [t.name for t in model.inputs] == ["clips", "flow"]
    assert tuple(model.inputs[1].shape) == (None, 3, 16, 16, 2)
    # Clips alone: the model computes the flow, as given explicitly.
    clips = _clips(seed=1)
    given = {"clips": clips, "flow": flow.batch_flow(clips)}
    np.testing.assert_allclose(model.predict(clips, verbose=0),
                               model.predict(given, verbose=0), atol=1e-6)


def test_two_stream_fits_a_clip_dataset_and_any_length():
    tf = pytest.importorskip("tensorflow")
    model = video_tagger(2, frames=None, image_size=16, units=8,
                         streams=("rgb", "flow"), dropout=0.0)
    clips = _clips(batch=4, frames=3)
    data = tf.data.Dataset.from_tensor_slices((clips, np.array([0, 1, 0, 1]))).batch(2)
    history = model.fit(data, validation_data=data, epochs=1, verbose=0)
    assert np.isfinite(history.history["val_loss"][0])
    assert model.predict(data.map(lambda c, y: c), verbose=0).shape == (4, 2)
    # Padding frames at the end are masked in both streams.
    padded = np.concatenate([clips[:1], np.zeros_like(clips[:1])], axis=1)
    np.testing.assert_allclose(model.predict(clips[:1], verbose=0),
                               model.predict(padded, verbose=0), atol=1e-5)


def test_rgb_stream_alone_is_the_default_model():
    model = video_tagger(2, frames=4, image_size=16, units=8, streams=["rgb"])
    assert [t.name for t in model.inputs] == ["clips"]
    assert type(model).__name__ == "Task"


@pytest.mark.parametrize("streams", [("rgb", "flow"), ("flow",)])
def test_video_classifier_3d_flow_streams(streams):
    from cvseq import video_classifier_3d

    model = check_factory(
        video_classifier_3d,
        args=(3,),
        kwargs=dict(frames=4, image_size=(16, 16), filters=(4, 8), streams=streams),
        inputs=_clips(),
        targets=np.array([0, 2]),
        output_shape=(2, 3),
        bad_arguments=BAD_ARGUMENTS,
    )
    assert [t.name for t in model.inputs] == ["clips", "flow"]
    names = [layer.name for layer in model.layers]
    assert ("preprocessing" in names) == ("rgb" in streams)
    assert any(l.name.startswith("flow_stage1") for l in model.layers)


@pytest.mark.parametrize("given", [dict(backbone="mobilenet_v3_small"),
                                   dict(weights="imagenet"),
                                   dict(train_backbone=False)])
def test_flow_alone_refuses_backbone_arguments_it_would_ignore(given):
    # The flow stream has its own CNN: a backbone asked for would be left out.
    key = next(iter(given))
    with pytest.raises(ValueError, match=rf"no frame stream.*{key}=.*\"rgb\""):
        video_tagger(2, frames=4, image_size=16, units=8, streams=("flow",), **given)
    # The defaults, said out loud, are no request.
    video_tagger(2, frames=4, image_size=16, units=8, streams=("flow",),
                 backbone="frame_cnn", weights=None, train_backbone=True)
