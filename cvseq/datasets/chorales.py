"""Bach chorale melodies as note tokens (music21's corpus).

The soprano line of each of the ~430 Bach chorales in music21's corpus,
transposed to C major / A minor (by its key signature) and written as
`"pitch:duration"` tokens (see `cvseq.music`). Many chorale tunes appear
several times, harmonized in different cantatas: the split is by *tune*
(the first twelve pitches), so a test melody never has a copy in training.

Parsing the MusicXML files takes a minute or two the first time; the tokens
are then cached in `$CVSEQ_CACHE` (default `~/.cache/cvseq`).
"""

import collections
import functools
import json
import os

from cvseq import text
from cvseq._tf import LazyTensorFlow
from cvseq._validation import check_int
from cvseq.datasets import _split
from cvseq.datasets.registry import (
    DatasetInfo,
    DatasetUnavailableError,
    register_dataset,
)

tf = LazyTensorFlow("cvseq.datasets 'bach_chorales' (tf.data)")


def cache_dir():
    """Where cvseq caches derived data: `$CVSEQ_CACHE` or `~/.cache/cvseq`."""
    path = os.environ.get("CVSEQ_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "cvseq"
    )
    os.makedirs(path, exist_ok=True)
    return path


def _extract():
    from music21 import corpus, key

    from cvseq.music import stream_tokens

    melodies = {}
    for path in sorted(corpus.getComposer("bach"), key=str):
        score = corpus.parse(path)
        if not score.parts:
            continue
        soprano = score.parts[0]
        signatures = soprano.flatten().getElementsByClass(key.KeySignature)
        sharps = signatures[0].sharps if signatures else 0
        # Semitones that move the key signature to none: C major / A minor.
        shift = (-7 * sharps) % 12
        shift = shift - 12 if shift > 6 else shift
        tokens = stream_tokens(soprano, transpose=shift)
        if tokens:
            melodies[os.path.basename(str(path))] = tokens
    return melodies


@functools.lru_cache(maxsize=1)
def all_melodies():
    """`{file name: tokens}` of every chorale melody (cached on disk)."""
    try:
        import music21
    except ImportError as err:
        raise DatasetUnavailableError(
            "The Bach chorales need music21: pip install music21."
        ) from err
    path = os.path.join(cache_dir(), f"bach_chorales-music21-{music21.__version__}.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    melodies = _extract()
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(melodies, f)
    os.replace(tmp, path)
    return melodies


def _tune(tokens):
    return " ".join(t.split(":")[0] for t in tokens if not t.startswith("rest"))[:60]


def melodies(split):
    """The melodies (lists of tokens) of one split."""
    chorales = all_melodies()
    names = sorted(chorales)
    tunes = [_tune(chorales[n][:12]) for n in names]
    return [chorales[n] for n in _split.select(names, tunes, split, name="bach_chorales")]


def vocabulary(min_count=1):
    """Note tokens of the training melodies, most frequent first."""
    counts = collections.Counter(t for m in melodies("train") for t in m)
    return [t for t, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            if c >= min_count]


@register_dataset(
    "bach_chorales",
    task="sequence_generator",
    source="embedded",
    description="Soprano lines of ~430 Bach chorales (music21 corpus) as "
    "pitch:duration tokens in C major / A minor; split by tune.",
)
def _bach_chorales(split, *, seed=0, shuffle=False, sequence_length=64):
    sequence_length = check_int("sequence_length", sequence_length, minimum=2)
    tokens = vocabulary()
    inputs, target_ids = text.token_sequence_inputs(
        melodies(split), vocabulary=tokens, sequence_length=sequence_length
    )
    dataset = tf.data.Dataset.from_tensor_slices((inputs, target_ids))
    info = DatasetInfo(
        class_names=list(tokens),
        num_examples=int(inputs.shape[0]),
        description="Bach chorale soprano lines, pitch:duration tokens.",
        vocabulary=list(tokens),
    )
    return dataset, info


__all__ = ["all_melodies", "cache_dir", "melodies", "vocabulary"]
