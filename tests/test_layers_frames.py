"""cvseq.layers.FrameMask: only trailing all-black frames are padding."""

import keras
import numpy as np

import cvseq
from cvseq.layers import FrameMask


def _clips(rng, batch=4, frames=6):
    return rng.uniform(0.1, 1.0, (batch, frames, 4, 4, 3)).astype("float32")


def test_black_frames_inside_a_clip_are_real():
    clips = _clips(np.random.default_rng(0))
    clips[0, 2] = 0  # a black frame in the middle (a cut, a fade)
    clips[1, 0] = 0  # a black first frame (real trailers start with one)
    clips[2, 4:] = 0  # padded at the end: the only padding
    clips[3] = 0  # an all-black clip: one frame long, never empty
    clips[2, 1] = 0  # and a black frame before the padding
    mask = FrameMask()(clips).numpy()
    np.testing.assert_array_equal(mask, [
        [True] * 6,
        [True] * 6,
        [True, True, True, True, False, False],
        [True, False, False, False, False, False],
    ])


def test_mask_is_right_padded_and_never_empty():
    # What the cuDNN LSTM/GRU kernels need on GPU: True then False, with at
    # least one True, whatever frames are black.
    rng = np.random.default_rng(1)
    clips = _clips(rng, batch=64, frames=8)
    clips[rng.uniform(size=(64, 8)) < 0.4] = 0
    mask = FrameMask()(clips).numpy()
    assert mask[:, 0].all()
    assert (np.diff(mask.astype(int), axis=1) <= 0).all()
    lengths = mask.sum(axis=1)
    lit = clips.any(axis=(2, 3, 4))
    last_lit = np.array([np.flatnonzero(row).max() + 1 if row.any() else 1 for row in lit])
    np.testing.assert_array_equal(lengths, last_lit)


def _masked_lstm():
    clips = keras.Input((5, 4, 4, 3))
    mask = FrameMask(name="frame_mask")(clips)
    # A bias, as in any backbone: a black frame has non-zero features.
    features = keras.layers.Reshape((5, 48))(clips)
    features = keras.layers.Dense(8, bias_initializer="ones", name="features")(features)
    outputs = keras.layers.LSTM(6, seed=0, name="lstm")(features, mask=mask)
    return keras.Model(clips, outputs)


def test_lstm_sees_a_black_first_frame():
    model = _masked_lstm()
    clips = _clips(np.random.default_rng(2), batch=1, frames=5)
    black_first = np.concatenate([np.zeros_like(clips[:, :1]), clips[:, :4]], axis=1)
    padded = np.concatenate([clips[:, :4], np.zeros_like(clips[:, :1])], axis=1)
    # Marking the black first frame as padding would make both clips one
    # (the LSTM would skip it and read the same four frames).
    assert np.abs(model(black_first) - model(padded)).max() > 1e-3
    # Trailing black frames are skipped: the same as the four frames alone.
    four = model.get_layer("features")(clips[:, :4].reshape(1, 4, 48))
    np.testing.assert_allclose(model(padded), model.get_layer("lstm")(four), atol=1e-6)


def test_config_unchanged_and_saved_models_load(tmp_path):
    # The layer takes no arguments, as before: models saved by earlier
    # versions load (their config holds only the base Layer keys).
    assert set(FrameMask().get_config()) == set(keras.layers.Layer().get_config())
    FrameMask.from_config({"name": "frame_mask", "trainable": True, "dtype": "float32"})
    model = _masked_lstm()
    path = str(tmp_path / "masked.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.get_layer("frame_mask"), cvseq.layers.FrameMask)
    clips = _clips(np.random.default_rng(3), batch=2, frames=5)
    clips[0, 0] = 0
    np.testing.assert_allclose(model(clips), loaded(clips), atol=1e-6)
