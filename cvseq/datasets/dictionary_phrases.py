"""Real German -> English phrase pairs from the Ding dictionary (Debian `trans-de-en`).

Ding (Frank Richter, TU Chemnitz; GPL-2+) is a German-English dictionary
written by people: about 200,000 entries, many of them with phrases and
idioms ("den Mund halten" / "to hold your tongue", "an jdm./etw. liegen" /
"to be down to sb./sth."). Debian ships it as a plain text file,
`/usr/share/trans/de-en` (`apt-get install trans-de-en`), read here by path;
nothing is downloaded.

An entry reads `German | German... :: English | English...`: the parts
between `|` are aligned, the alternatives inside a part are separated by
`;`. Each German alternative of a part is paired with the part's first
English alternative, after dropping the annotations (`{f}`, `[med.]`,
`(...)`, `<...>`, `/ABBR/`). Kept are the pairs with `min_words` to
`max_words` words a side whose every word is among the `top_words` most
frequent words of its language in the whole dictionary, so the test
phrases are made of words seen in training (a compositional test, not one
of rare words). Each German phrase appears once (its first pair), and the
split is by dictionary *entry*, so the singular and plural of one headword
never sit on both sides of the split. Defaults give 8,397 pairs (5,835
train, 1,363 validation, 1,199 test).
"""

import collections
import functools
import os
import re

from cvseq import text
from cvseq._validation import check_int
from cvseq.datasets import _split
from cvseq.datasets.phrase_pairs import translation_examples
from cvseq.datasets.registry import (
    DatasetInfo,
    DatasetUnavailableError,
    register_dataset,
)

PATH = "/usr/share/trans/de-en"
_ANNOTATION = re.compile(r"\{[^}]*\}|\[[^\]]*\]|\([^)]*\)|<[^>]*>|/[A-Z][^/ ]*/")


def _clean(phrase):
    return " ".join(_ANNOTATION.sub(" ", phrase).split())


@functools.lru_cache(maxsize=1)
def _entries(path):
    """All (German, English, entry number) pairs of the dictionary file."""
    if not os.path.exists(path):
        raise DatasetUnavailableError(
            f"The Ding German-English dictionary is not at {path}. On Debian or "
            "Ubuntu: apt-get install trans-de-en (GPL-2+, about 6 MB)."
        )
    pairs = []
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file):
            if line.startswith("#") or " :: " not in line:
                continue
            german, english = line.rstrip("\n").split(" :: ", 1)
            for de, en in zip(german.split(" | "), english.split(" | ")):
                # Annotations first: some hold a ";" ("{prp; +Gen.}").
                en = _clean(_ANNOTATION.sub(" ", en).split(";")[0])
                for alternative in _ANNOTATION.sub(" ", de).split(";"):
                    alternative = _clean(alternative)
                    if alternative and en:
                        pairs.append((alternative, en, number))
    return pairs


@functools.lru_cache(maxsize=8)
def _all_pairs(path, min_words, max_words, top_words):
    pairs = _entries(path)
    # Frequent words per language, counted over the first alternative of
    # each part (as the dictionary's own vocabulary, not our selection).
    counts = (collections.Counter(), collections.Counter())
    seen = set()
    for de, en, number in pairs:
        if (number, en) not in seen:  # once per part, not per German synonym
            seen.add((number, en))
            counts[0].update(de.lower().split())
            counts[1].update(en.lower().split())
    frequent = [{w for w, _ in c.most_common(top_words)} for c in counts]
    kept = {}
    for de, en, number in pairs:
        words = (de.lower().split(), en.lower().split())
        if all(
            min_words <= len(w) <= max_words and set(w) <= f
            for w, f in zip(words, frequent)
        ):
            kept.setdefault(de, (en, number))
    sources = sorted(kept)
    return sources, [kept[s][0] for s in sources], [kept[s][1] for s in sources]


def dictionary_phrases(split, *, min_words=2, max_words=5, top_words=4000, path=PATH):
    """`(sources, targets)` of one split: German and English phrases (lists of str).

    Args:
        split: `"train"`, `"validation"` or `"test"`.
        min_words: int. Fewest words a side. Defaults to 2.
        max_words: int. Most words a side. Defaults to 5.
        top_words: int. Every word must be among this many most frequent
            words of its language in the dictionary. Defaults to 4000.
        path: str. The Ding file. Defaults to `/usr/share/trans/de-en`.

    Raises:
        DatasetUnavailableError: the file is missing (`apt-get install
            trans-de-en`).
    """
    min_words = check_int("min_words", min_words)
    max_words = check_int("max_words", max_words, minimum=min_words)
    top_words = check_int("top_words", top_words)
    sources, targets, groups = _all_pairs(path, min_words, max_words, top_words)
    index = _split.select(range(len(sources)), groups, split, name="ding_phrases")
    return [sources[i] for i in index], [targets[i] for i in index]


@register_dataset(
    "ding_phrases",
    task="translator",
    source="embedded",
    options_from=dictionary_phrases,
    description="German -> English phrases of 2-5 frequent words from the Ding "
    "dictionary (Debian trans-de-en); word level, split by dictionary entry.",
)
def _ding_phrases(split, *, seed=0, shuffle=False, sequence_length=None, **pairs):
    train_sources, train_targets = dictionary_phrases("train", **pairs)
    vocabulary = {
        "source": text.build_vocabulary(train_sources, max_tokens=None),
        "target": text.build_vocabulary(train_targets, max_tokens=None),
    }
    # Room for the longest phrase in tokens, and "[START]" / "[END]".
    longest = max(len(ids) for ids in text.encode(
        text.make_vectorizer(vocabulary["target"]), train_targets)) + 1
    sequence_length = text.split_lengths(
        longest if sequence_length is None else sequence_length)
    sources, targets = dictionary_phrases(split, **pairs)
    dataset = translation_examples(sources, targets, vocabulary, sequence_length)
    info = DatasetInfo(
        num_examples=len(sources),
        description="Ding dictionary phrases, German -> English, words.",
        vocabulary=vocabulary,
    )
    return dataset, info


__all__ = ["PATH", "dictionary_phrases"]
