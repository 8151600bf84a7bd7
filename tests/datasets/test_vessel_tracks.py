import numpy as np
import pytest

import cvseq
from cvseq.datasets import vessel_tracks


def test_windows_are_real_ship_motion_in_metres():
    past, future, vessels = vessel_tracks.generate_windows("test", history=6, horizon=3)
    assert past.shape[1:] == (6, 2) and future.shape == (len(past), 3, 2)
    assert past.dtype == np.float32 and len(vessels) == len(past) > 1000
    track = np.concatenate([past, future], axis=1).astype(np.float64)
    speeds = np.linalg.norm(np.diff(track, axis=1), axis=-1) / 60.0  # m/s
    # Ships: many moored (about 0 m/s), none faster than about 40 knots.
    assert np.median(speeds) < 5 and speeds.max() < 25
    assert np.mean(speeds > 1) > 0.3
    # Within the harbour area: tens of kilometres from the origin at most.
    assert np.abs(track).max() < 60_000


def test_degrees_and_metres_agree():
    metres, _, _ = vessel_tracks.generate_windows("validation", units="metres")
    degrees, _, _ = vessel_tracks.generate_windows("validation", units="degrees")
    assert -75 < degrees[..., 0].min() and degrees[..., 0].max() < -73
    assert 40 < degrees[..., 1].min() and degrees[..., 1].max() < 41.5
    # float32 degrees near 74 W resolve about 0.6 m.
    np.testing.assert_allclose(vessel_tracks.to_metres(degrees), metres, atol=1.0, rtol=0)


def test_split_by_vessel():
    seen = {split: set(vessel_tracks.generate_windows(split)[2])
            for split in ("train", "validation", "test")}
    assert not seen["train"] & seen["test"]
    assert not seen["train"] & seen["validation"]
    assert not seen["validation"] & seen["test"]
    assert len(seen["train"]) > 3 * len(seen["test"]) > 30


def test_load_and_options():
    ds, info = cvseq.datasets.load("vessel_trajectories", "train", batch_size=16,
                                   history=4, horizon=2, stride=20, with_info=True)
    past, future = next(iter(ds))
    assert past.shape == (16, 4, 2) and future.shape == (16, 2, 2)
    assert info.task == "trajectory_predictor" and info.num_examples > 1000
    assert "vessel_trajectories" in cvseq.datasets.list_datasets("trajectory_predictor")
    with pytest.raises(TypeError, match="frames"):
        cvseq.datasets.load("vessel_trajectories", frames=3)
    with pytest.raises(ValueError, match="units"):
        vessel_tracks.generate_windows("train", units="miles")
    with pytest.raises(ValueError, match="split"):
        vessel_tracks.generate_windows("holdout")
