"""Leakage-free splits of embedded text and music data by group."""

import hashlib

from cvseq.datasets.digits import SPLITS, check_split

_FRACTIONS = (0.7, 0.15, 0.15)


def split_of(group):
    """`"train"`, `"validation"` or `"test"` for a group key, fixed forever.

    A stable hash of the key (not Python's salted `hash`) places it, so a
    group (a movie, a melody, a place name) lands in one split on every
    machine and run, whatever the user's seed.
    """
    digest = hashlib.sha256(str(group).encode("utf-8")).digest()
    position = int.from_bytes(digest[:8], "big") / 2.0**64
    if position < _FRACTIONS[0]:
        return "train"
    if position < _FRACTIONS[0] + _FRACTIONS[1]:
        return "validation"
    return "test"


def select(items, groups, split, *, name):
    """The items whose group falls in `split`."""
    check_split(name, split)
    return [item for item, group in zip(items, groups) if split_of(group) == split]


__all__ = ["SPLITS", "select", "split_of"]
