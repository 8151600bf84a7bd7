"""Dense optical flow between consecutive frames, with OpenCV.

`optical_flow(clip)` gives, for a clip of `frames` frames, the
`(frames - 1, height, width, 2)` float32 field of `(dx, dy)` pixel
displacements from each frame to the next: frame `t` at pixel `p` is seen
in frame `t + 1` at `p + flow[t, p]`. `flow_to_color` draws a field for
reports (hue = direction, brightness = magnitude); `add_flow` adds it to
any `tf.data` clip data set; `photometric_error` scores a field by warping
the next frame back onto the first.

The default method is DIS (Kroeger et al. 2016, `cv2.DISOpticalFlow`,
preset "medium"), picked on speed and quality measured on real video files
and the moving digits against Farnebaeck (`cv2.calcOpticalFlowFarneback`):
see the README section "Optical flow" and `benchmarks/flow.py`.

Flow is computed outside the Keras graph (OpenCV cannot run inside it, and
a flow network of our own would be a second, worse copy of it). Models that
read flow (`video_tagger(..., streams=("rgb", "flow"))`) compute it
themselves in `fit`, `evaluate` and `predict` when given clips alone, so
`cvseq predict` on a video file needs no extra step.
"""

import collections
import hashlib
import threading
import warnings

import cv2
import numpy as np

METHODS = ("dis", "dis_fast", "farneback")
DEFAULT_METHOD = "dis"
STREAMS = ("rgb", "flow")
_DIS_PRESETS = {
    "dis": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
    "dis_fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
}
# OpenCV's documented Farnebaeck example parameters (pyramid scale 0.5, 3
# levels, 15-pixel window, 3 iterations, polynomial of 5 pixels, sigma 1.2).
_FARNEBACK = dict(pyr_scale=0.5, levels=3, winsize=15, iterations=3, poly_n=5,
                  poly_sigma=1.2, flags=0)
# DIS needs frames a little larger than its 8-pixel patches; smaller ones
# are upsampled for the flow and the field scaled back.
_MIN_SIDE = 16

_local = threading.local()


def check_method(method):
    if method not in METHODS:
        raise ValueError(
            f"`method` must be one of {', '.join(map(repr, METHODS))}. "
            f"Received: method={method!r}."
        )
    return method


def check_streams(streams):
    """`streams` as a tuple of distinct names from `STREAMS`, in that order.

    Accepts a tuple or list, or one string (`"flow"`, or `"rgb,flow"` as the
    command line gives it).
    """
    given = streams
    if isinstance(streams, str):
        streams = [s.strip() for s in streams.split(",") if s.strip()]
    if not isinstance(streams, (tuple, list)) or not streams:
        raise TypeError(
            "`streams` must be a non-empty tuple of stream names from "
            f"{STREAMS}, e.g. ('rgb', 'flow'). Received: streams={given!r}."
        )
    unknown = [s for s in streams if s not in STREAMS]
    if unknown or len(set(streams)) != len(streams):
        raise ValueError(
            f"`streams` must name each of {', '.join(map(repr, STREAMS))} at "
            f"most once. Received: streams={given!r}."
        )
    return tuple(s for s in STREAMS if s in streams)


def _grey(frames):
    """uint8 `(n, h, w)` from `(n, h, w)`, `(n, h, w, 1)` or `(n, h, w, 3)`
    pixels in [0, 255] (RGB)."""
    try:
        frames = np.asarray(frames)
    except ValueError:  # a list of frames of different sizes
        shapes = sorted({np.shape(f) for f in frames}) if isinstance(frames, (list, tuple)) else []
        raise ValueError(
            f"`clip` must be frames of one size. Received frames of shapes "
            f"{shapes[:4]}: resize them first.") from None
    if frames.ndim == 3 and frames.shape[-1] in (3, 4) and min(frames.shape[:2]) > 4:
        raise ValueError(
            f"`clip` of shape {frames.shape} looks like one image (height, width, "
            "channels); optical flow needs a clip of at least 2 frames, (frames, "
            "height, width, 3).")
    if frames.dtype.kind not in "biuf":
        raise TypeError(f"`clip` must be pixels (numbers). Received dtype {frames.dtype}.")
    if frames.dtype != np.uint8:
        if not np.all(np.isfinite(frames)):
            raise ValueError("`clip` holds NaN or infinite pixels.")
        if frames.size and frames.dtype.kind == "f" and 0 < frames.max() <= 1.0:
            warnings.warn(
                "`clip` holds float pixels within [0, 1]; optical flow reads pixels "
                "in [0, 255] (multiply by 255), so little motion is found.",
                stacklevel=3)
        frames = np.clip(np.rint(frames), 0, 255).astype(np.uint8)
    if frames.ndim >= 1 and len(frames) == 0:
        return frames.reshape(frames.shape[:3]) if frames.ndim >= 3 else frames
    if frames.ndim in (3, 4) and min(frames.shape[1:3]) < 2:
        raise ValueError(
            "`clip`'s frames must be at least 2x2 pixels. Received frames of "
            f"{frames.shape[1]}x{frames.shape[2]}.")
    if frames.ndim == 4 and frames.shape[-1] == 3:
        # cvtColor on the stacked frames: one call, not one per frame.
        n, h, w, _ = frames.shape
        return cv2.cvtColor(frames.reshape(n * h, w, 3), cv2.COLOR_RGB2GRAY).reshape(n, h, w)
    if frames.ndim == 4 and frames.shape[-1] == 1:
        return frames[..., 0]
    if frames.ndim == 3:
        return frames
    raise ValueError(
        "`clip` must be frames of shape (frames, height, width), (frames, "
        "height, width, 1) or (frames, height, width, 3). Received shape "
        f"{frames.shape}."
    )


def _dis(method):
    cache = getattr(_local, "dis", None)
    if cache is None:
        cache = _local.dis = {}
    if method not in cache:
        cache[method] = cv2.DISOpticalFlow_create(_DIS_PRESETS[method])
    return cache[method]


def _pair_flow(first, second, method):
    if method == "farneback":
        return cv2.calcOpticalFlowFarneback(first, second, None, **_FARNEBACK)
    return _dis(method).calc(first, second, None)


def optical_flow(clip, *, method=DEFAULT_METHOD):
    """Dense optical flow between each pair of consecutive frames.

    Args:
        clip: array `(frames, height, width, channels)` (channels 1 or 3,
            RGB) or `(frames, height, width)`, pixels in [0, 255], uint8 or
            float (rounded and clipped), at least 2 frames.
        method: str. `"dis"` (DIS, preset medium), `"dis_fast"` (DIS,
            preset fast) or `"farneback"`. Defaults to `"dis"`.

    Returns:
        float32 array `(frames - 1, height, width, 2)`: `(dx, dy)` in pixels
        from frame `t` to frame `t + 1`.

    Example:

    >>> clip = cvseq.datasets.sample_videos.decoded_videos()[0][:8]
    >>> optical_flow(clip).shape
    (7, 96, 171, 2)
    """
    check_method(method)
    grey = _grey(clip)
    if len(grey) < 2:
        raise ValueError(
            f"`clip` needs at least 2 frames for optical flow. Received {len(grey)}."
        )
    n, h, w = grey.shape
    scale = max(1.0, _MIN_SIDE / min(h, w))
    if scale > 1:
        size = (int(round(w * scale)), int(round(h * scale)))
        grey = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_LINEAR)
                         for f in grey])
    flow = np.empty((n - 1, *grey.shape[1:], 2), np.float32)
    for t in range(n - 1):
        flow[t] = _pair_flow(grey[t], grey[t + 1], method)
    if scale > 1:
        flow = np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA)
                         for f in flow]) / scale
    return flow.astype(np.float32, copy=False)


def batch_flow(clips, *, method=DEFAULT_METHOD, cache=None):
    """`optical_flow` of each clip of a batch `(batch, frames, h, w, c)`:
    float32 `(batch, frames - 1, h, w, 2)`. `cache` (a `FlowCache`) skips
    clips already seen (True: the process's cache)."""
    if cache is True:
        cache = default_cache
    elif cache is False:
        cache = None
    elif cache is not None and not isinstance(cache, FlowCache):
        raise TypeError(
            "`cache` must be None, True, False or a cvseq.flow.FlowCache. "
            f"Received: cache={cache!r}.")
    try:
        clips = np.asarray(clips)
    except ValueError:  # NumPy: "inhomogeneous shape"
        raise ValueError(
            "`clips` must be clips of one shape (frames and size): pad or resize "
            "them, then stack them (np.stack(clips)).") from None
    if clips.ndim != 5:
        raise ValueError(
            "`clips` must be a batch of shape (batch, frames, height, width, "
            f"channels). Received shape {clips.shape}."
        )
    if not len(clips):
        return np.zeros((0, clips.shape[1] - 1, *clips.shape[2:4], 2), np.float32)
    if cache is None:
        return np.stack([optical_flow(c, method=method) for c in clips])
    return np.stack([cache.flow(c, method) for c in clips])


class FlowCache:
    """Flow fields by clip content: a clip met again (the next epoch of a
    fixed data set) costs a hash, not a flow computation.

    Least recently used fields are dropped past `max_bytes`, so a stream of
    ever-new clips (random crops every epoch) uses bounded memory.
    Thread-safe (a parallel `tf.data` map calls it from several threads).
    """

    def __init__(self, max_bytes=1 << 30):
        self.max_bytes = int(max_bytes)
        self._fields = collections.OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def flow(self, clip, method=DEFAULT_METHOD):
        clip = np.ascontiguousarray(clip)
        key = (method, clip.shape, clip.dtype.str,
               hashlib.blake2b(clip.tobytes(), digest_size=16).digest())
        with self._lock:
            field = self._fields.get(key)
            if field is not None:
                self._fields.move_to_end(key)
                self.hits += 1
                return field
        field = optical_flow(clip, method=method)
        with self._lock:
            self.misses += 1
            if key not in self._fields:
                self._fields[key] = field
                self._bytes += field.nbytes
            while self._bytes > self.max_bytes and self._fields:
                _, old = self._fields.popitem(last=False)
                self._bytes -= old.nbytes
        return field

    def clear(self):
        with self._lock:
            self._fields.clear()
            self._bytes = 0


# One cache per process, shared by `add_flow` and the models that compute
# their own flow, so evaluating after training reuses the fields.
default_cache = FlowCache()


def add_flow(dataset, *, method=DEFAULT_METHOD, cache=True):
    """Adds the optical flow of each clip to a `tf.data` clip data set.

    Works on any cvseq clip data set, batched or not: elements `(clips,
    targets)` (or `clips` alone) become `({"clips": clips, "flow": flow},
    targets)`, the inputs of a model with `streams` including `"flow"`.
    Flow is computed in a parallel map (OpenCV releases the GIL); with
    `cache=True` each distinct clip's flow is computed once per process and
    kept (up to 1 GiB, least recently used dropped first), so a fixed data
    set pays for its flow in the first epoch only.

    Args:
        dataset: `tf.data.Dataset` of clips `([batch,] frames, h, w, c)` or
            `(clips, targets[, weights])` tuples.
        method: str. See `optical_flow`. Defaults to `"dis"`.
        cache: bool or `FlowCache`. Defaults to True (the process's cache).

    Returns:
        A `tf.data.Dataset` of `({"clips", "flow"}, targets...)`, flow
        float32 `([batch,] frames - 1, h, w, 2)`.

    Example:

    >>> ds = cvseq.datasets.load("sample_videos", "test", frames=8)
    >>> ds = cvseq.flow.add_flow(ds)
    """
    import tensorflow as tf

    check_method(method)
    if cache is True:
        cache = default_cache
    elif cache is False or cache is None:
        cache = None
    elif not isinstance(cache, FlowCache):
        raise TypeError(
            "`cache` must be True, False or a cvseq.flow.FlowCache. "
            f"Received: cache={cache!r}."
        )
    if not isinstance(dataset, tf.data.Dataset):
        raise TypeError(
            "`add_flow` takes a tf.data.Dataset of clips. Received "
            f"{type(dataset).__name__}: for format=\"numpy\" batches, give them to "
            "a model with a flow stream as they are (its fit, evaluate and predict "
            "compute the flow), or compute it with cvseq.flow.batch_flow(clips).")
    spec = dataset.element_spec
    clip_spec = spec[0] if isinstance(spec, tuple) else spec
    if not isinstance(clip_spec, tf.TensorSpec) or clip_spec.shape.rank not in (4, 5):
        raise ValueError(
            "`add_flow` needs a data set of clips `([batch,] frames, height, "
            "width, channels)` or `(clips, targets)` pairs. Received elements "
            f"{spec}."
        )
    batched = clip_spec.shape.rank == 5
    shape = clip_spec.shape.as_list()
    frames_axis = 1 if batched else 0
    flow_shape = list(shape[:-1]) + [2]
    if shape[frames_axis] is not None:
        flow_shape[frames_axis] = shape[frames_axis] - 1

    def compute(clips):
        if batched:
            return batch_flow(clips, method=method, cache=cache)
        return cache.flow(clips, method) if cache else optical_flow(clips, method=method)

    def with_flow(clips):
        flow = tf.numpy_function(compute, [clips], tf.float32, stateful=False)
        flow.set_shape(flow_shape)
        return {"clips": clips, "flow": flow}

    if isinstance(spec, tuple):
        return dataset.map(lambda clips, *rest: (with_flow(clips), *rest),
                           num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.map(with_flow, num_parallel_calls=tf.data.AUTOTUNE)


def flow_to_color(flow, *, max_magnitude=None):
    """Draws flow fields: hue = direction, brightness = magnitude.

    Args:
        flow: float array `(..., height, width, 2)` of `(dx, dy)`.
        max_magnitude: float or None. The magnitude drawn at full
            brightness; None uses the largest in `flow` (so fields drawn
            together share one scale). Defaults to None.

    Returns:
        uint8 RGB array `(..., height, width, 3)`. Still pixels are black;
        rightward motion is red, downward yellow-green, leftward cyan,
        upward blue-violet (OpenCV's hue circle, image y pointing down).
    """
    flow = np.asarray(flow, np.float32)
    if flow.ndim < 3 or flow.shape[-1] != 2:
        raise ValueError(
            "`flow` must have shape (..., height, width, 2). Received shape "
            f"{flow.shape}."
        )
    if flow.size == 0:
        return np.zeros((*flow.shape[:-1], 3), np.uint8)
    magnitude, angle = cv2.cartToPolar(flow[..., 0].reshape(-1), flow[..., 1].reshape(-1),
                                       angleInDegrees=True)
    magnitude = magnitude.reshape(flow.shape[:-1])
    angle = angle.reshape(flow.shape[:-1])
    top = float(magnitude.max()) if max_magnitude is None else float(max_magnitude)
    hsv = np.empty((*flow.shape[:-1], 3), np.uint8)
    hsv[..., 0] = (angle / 2).astype(np.uint8)  # OpenCV hue is 0-179
    hsv[..., 1] = 255
    hsv[..., 2] = np.clip(magnitude / max(top, 1e-6) * 255, 0, 255).astype(np.uint8)
    flat = hsv.reshape(-1, flow.shape[-2], 3)
    return cv2.cvtColor(flat, cv2.COLOR_HSV2RGB).reshape(hsv.shape)


def warp_back(frame, flow):
    """Frame `t + 1` sampled at `p + flow[p]`: with a good flow, frame `t`.

    Args:
        frame: array `(height, width[, channels])`, the next frame.
        flow: float array `(height, width, 2)` from frame `t` to it.

    Returns:
        float32 array of `frame`'s shape.
    """
    frame, flow = np.asarray(frame, np.float32), np.asarray(flow, np.float32)
    if flow.ndim != 3 or flow.shape[-1] != 2 or flow.shape[:2] != frame.shape[:2]:
        raise ValueError(
            f"`flow` must be (height, width, 2) for a frame of shape {frame.shape}. "
            f"Received shape {flow.shape}.")
    h, w = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32),
                                 np.arange(h, dtype=np.float32))
    return cv2.remap(frame, grid_x + flow[..., 0],
                     grid_y + flow[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def photometric_error(clip, flow):
    """Mean absolute grey-level error of frame `t + 1` warped back onto
    frame `t` by `flow` (lower is better; zero flow gives the plain frame
    difference).

    Args:
        clip: frames as for `optical_flow`.
        flow: `(frames - 1, height, width, 2)`.

    Returns:
        float, in grey levels (0-255).
    """
    grey = _grey(clip).astype(np.float32)
    flow = np.asarray(flow, np.float32)
    expected = (len(grey) - 1, *grey.shape[1:3], 2)
    if flow.shape != expected:
        raise ValueError(
            f"`flow` must have shape {expected}: one field per pair of consecutive "
            f"frames of `clip` {grey.shape[:3]}. Received shape {flow.shape}.")
    if len(flow) == 0:
        raise ValueError("`clip` needs at least 2 frames to score a flow.")
    errors = [np.abs(warp_back(grey[t + 1], flow[t]) - grey[t]).mean()
              for t in range(len(flow))]
    return float(np.mean(errors))
