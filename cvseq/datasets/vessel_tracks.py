"""Real ship tracks in New York Harbor (AIS), in metres: past -> future positions.

The AIS position reports of 140 vessels (ferries, tugs, cargo ships, ...)
in and around New York Harbor during the first week of December 2020, as
the `tracktable-data` package ships them
(`tracktable_data/python_example_data/NYHarbor_2020_12_first_week.traj`,
BSD-2-Clause; the reports come from the US Coast Guard's public AIS
records via MarineCadastre.gov). Install the data with
`pip install --no-deps tracktable-data`; the file is read by path, without
importing tracktable.

Each track is cut where two reports are more than `MAX_GAP_S` apart, and
each piece is resampled to one position a minute by linear interpolation
between the reports (they come every 60-200 s). Positions are metres east
and north of a fixed point in the harbour (`ORIGIN`, an equirectangular
projection: exact to a few parts in 10,000 over the 50 km the data spans)
or, with `units="degrees"`, longitude and latitude as recorded. Windows of
`history + horizon` minutes start every `stride` minutes.

The split is by vessel (MMSI, through `_split.split_of`): a test vessel's
tracks are never seen in training, whatever the seed.
"""

import datetime
import functools
import importlib.util
import os

import numpy as np

from cvseq._validation import check_choice, check_int
from cvseq.datasets import _split
from cvseq.datasets.registry import (
    DatasetInfo,
    DatasetUnavailableError,
    register_dataset,
)

_FILE = os.path.join("python_example_data", "NYHarbor_2020_12_first_week.traj")
# (longitude, latitude) in degrees of the point that is (0, 0) in metres.
ORIGIN = (-74.0, 40.68)
EARTH_RADIUS_M = 6_371_000.0
STEP_S = 60.0
MAX_GAP_S = 300.0
UNITS = ("metres", "degrees")


def tracktable_file(relative_path=_FILE):
    """Path of a data file inside the installed `tracktable_data` package."""
    spec = importlib.util.find_spec("tracktable_data")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetUnavailableError(
            "The tracktable-data files are not installed (needed: "
            f"{relative_path}). Install them with "
            "`pip install --no-deps tracktable-data`."
        )
    path = os.path.join(list(spec.submodule_search_locations)[0], relative_path)
    if not os.path.exists(path):
        raise DatasetUnavailableError(f"tracktable-data has no data file {path}.")
    return path


def read_traj(path):
    """Reads a tracktable `.traj` text file of 2-D terrestrial trajectories.

    Returns:
        A list of `(object_id, seconds, lon_lat)`: str, float64 `(n,)` POSIX
        times, float64 `(n, 2)` longitude and latitude in degrees.
    """
    tracks = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            fields = line.strip().split(",")
            if not fields or fields[0] != "*T*":
                continue
            count = int(fields[3])
            # After "*P*": the domain and four header fields, then
            # (object id, time, longitude, latitude) per point.
            points = fields[fields.index("*P*") + 6:]
            if len(points) != 4 * count:
                raise ValueError(
                    f"{path}, line {number}: expected {count} points of 4 "
                    f"fields, found {len(points)} fields."
                )
            points = np.array(points, dtype=object).reshape(count, 4)
            seconds = np.array([
                datetime.datetime.fromisoformat(t).replace(
                    tzinfo=datetime.timezone.utc).timestamp()
                for t in points[:, 1]
            ])
            tracks.append((str(points[0, 0]), seconds, points[:, 2:].astype(np.float64)))
    return tracks


def to_metres(lon_lat):
    """(x east, y north) metres from `ORIGIN`, float64 `(..., 2)`."""
    lon_lat = np.asarray(lon_lat, np.float64)
    x = np.radians(lon_lat[..., 0] - ORIGIN[0]) * EARTH_RADIUS_M * np.cos(np.radians(ORIGIN[1]))
    y = np.radians(lon_lat[..., 1] - ORIGIN[1]) * EARTH_RADIUS_M
    return np.stack([x, y], axis=-1)


@functools.lru_cache(maxsize=1)
def _resampled_tracks():
    """Per vessel, its pieces resampled to one (lon, lat) a minute."""
    pieces = []
    for vessel, seconds, lon_lat in read_traj(tracktable_file()):
        order = np.argsort(seconds, kind="stable")
        seconds, lon_lat = seconds[order], lon_lat[order]
        keep = np.concatenate([[True], np.diff(seconds) > 0])  # repeated times
        seconds, lon_lat = seconds[keep], lon_lat[keep]
        cuts = np.flatnonzero(np.diff(seconds) > MAX_GAP_S) + 1
        for index in np.split(np.arange(len(seconds)), cuts):
            if len(index) < 2:
                continue
            grid = np.arange(seconds[index[0]], seconds[index[-1]] + 1e-6, STEP_S)
            resampled = np.stack(
                [np.interp(grid, seconds[index], lon_lat[index, i]) for i in (0, 1)], axis=-1
            )
            pieces.append((vessel, resampled))
    return pieces


def generate_windows(split, *, history=10, horizon=5, stride=5, units="metres"):
    """Past and future positions of the split's vessels as numpy arrays.

    Args:
        split: `"train"`, `"validation"` or `"test"`.
        history: int >= 2. Past positions (minutes). Defaults to 10.
        horizon: int. Future positions (minutes). Defaults to 5.
        stride: int. Minutes between the starts of two windows of one
            track. Defaults to 5.
        units: `"metres"` (east, north of `ORIGIN`) or `"degrees"`
            (longitude, latitude). Defaults to `"metres"`.

    Returns:
        `(past, future, vessels)`: float32 `(n, history, 2)`, float32
        `(n, horizon, 2)` and the vessel (MMSI) of each window, a str array.
    """
    _split.check_split("vessel_trajectories", split)
    history = check_int("history", history, minimum=2)
    horizon = check_int("horizon", horizon)
    stride = check_int("stride", stride)
    check_choice("units", units, UNITS)
    length = history + horizon
    windows, vessels = [], []
    for vessel, positions in _resampled_tracks():
        if _split.split_of(vessel) != split or len(positions) < length:
            continue
        for start in range(0, len(positions) - length + 1, stride):
            windows.append(positions[start:start + length])
            vessels.append(vessel)
    if not windows:
        longest = max(len(p) for v, p in _resampled_tracks() if _split.split_of(v) == split)
        raise ValueError(
            f"No track of the {split!r} split is {length} minutes long (history + "
            f"horizon = {history} + {horizon}); its longest has {longest} positions. "
            "Ask for shorter windows.")
    windows = np.stack(windows)
    if units == "metres":
        windows = to_metres(windows)
    windows = windows.astype(np.float32)
    return windows[:, :history], windows[:, history:], np.array(vessels)


@register_dataset(
    "vessel_trajectories",
    task="trajectory_predictor",
    source="embedded",
    options_from=generate_windows,
    description="Real AIS ship tracks in New York Harbor (tracktable-data), "
    "one position a minute in metres: past positions in, future out; split "
    "by vessel.",
)
def _build_vessel_trajectories(split, *, seed=0, shuffle=None, **options):
    past, future, _ = generate_windows(split, **options)
    info = DatasetInfo(
        description="Real ship tracks (AIS), positions in "
        f"{options.get('units', 'metres')}, one a minute.",
    )
    # Windows come vessel by vessel: `load` shuffles arrays all at once (not
    # through a buffer), so every batch (and the scale a model learns from
    # the first batches) mixes vessels.
    return (past, future), info
