"""Short real parallel phrases: CLDR names in two languages (from babel).

The Unicode CLDR, shipped in the `babel` package, names languages,
territories, scripts, currencies and time zones in hundreds of locales,
written by native translators: "Germany" / "Alemania", "Central European
Standard Time" / "hora estándar de Europa central". Pairs are made from two
locales (English to Spanish by default: 1,565 pairs, 1,500 of them with
phrases of at most 32 characters) for character-level translation. Each
source phrase appears once, and the split is by *entity* (a language, a territory, a time zone with all its "Time",
"Standard Time" and "Summer Time" names), so no test phrase has a near-copy
in training.
"""

import functools

from cvseq import text
from cvseq._tf import LazyTensorFlow
from cvseq._validation import check_int
from cvseq.datasets import _split
from cvseq.datasets.registry import (
    DatasetInfo,
    DatasetUnavailableError,
    register_dataset,
)

tf = LazyTensorFlow("cvseq.datasets the phrase-pair data sets (tf.data)")

_CATEGORIES = ("languages", "territories", "scripts", "currencies")


def _locale(Locale, name, code):
    """babel's `Locale` for `code`, or a ValueError naming the argument."""
    from babel import UnknownLocaleError

    if not isinstance(code, str):
        raise TypeError(f"`{name}` must be a locale code such as 'en' or 'pt_BR'. "
                        f"Received: {name}={code!r}.")
    try:
        return Locale.parse(code.replace("-", "_"))  # "pt-BR" as "pt_BR"
    except (UnknownLocaleError, ValueError) as err:
        said = str(err).strip().splitlines()[0] if str(err).strip() else "empty"
        raise ValueError(
            f"`{name}` must be a locale code that CLDR (babel) knows, such as 'en', "
            f"'es' or 'pt_BR'. Received: {name}={code!r} ({said})."
        ) from err


@functools.lru_cache(maxsize=8)
def _all_pairs(source, target):
    try:
        from babel import Locale
    except ImportError as err:
        raise DatasetUnavailableError(
            "The CLDR phrase pairs need the `babel` package: pip install babel."
        ) from err
    src, tgt = _locale(Locale, "source", source), _locale(Locale, "target", target)
    entries = {}  # source phrase -> (target phrase, entity)
    for category in _CATEGORIES:
        names, translations = getattr(src, category), getattr(tgt, category)
        for code in sorted(names):
            if code in translations and names[code] and translations[code]:
                entries.setdefault(names[code], (translations[code], f"{category}:{code}"))
    for zone in sorted(src.meta_zones):
        forms, translated = src.meta_zones[zone], tgt.meta_zones.get(zone, {})
        for kind in sorted(forms):  # long, short
            for form in sorted(forms[kind]):  # generic, standard, daylight
                if form in translated.get(kind, {}):
                    entries.setdefault(
                        forms[kind][form], (translated[kind][form], f"zone:{zone}")
                    )
    # A phrase that names several entities keeps the first, so it has one
    # translation and lands in one split.
    sources = sorted(entries)
    return (
        sources,
        [entries[s][0] for s in sources],
        [entries[s][1] for s in sources],
    )


def phrase_pairs(split, *, source="en", target="es", max_characters=32):
    """`(sources, targets)` of one split: two aligned lists of str.

    Args:
        split: `"train"`, `"validation"` or `"test"`.
        source: str. Source locale. Defaults to `"en"`.
        target: str. Target locale. Defaults to `"es"`.
        max_characters: int or None. Keep the pairs whose phrases both have
            at most this many characters (95% of them at 32); None keeps all.
            Defaults to 32.
    """
    sources, targets, groups = _all_pairs(source, target)
    index = _split.select(range(len(sources)), groups, split, name="cldr_names")
    if max_characters is not None:
        max_characters = check_int("max_characters", max_characters)
        index = [i for i in index
                 if max(len(sources[i]), len(targets[i])) <= max_characters]
    return [sources[i] for i in index], [targets[i] for i in index]


def translation_examples(sources, targets, vocabulary, sequence_length):
    """`(inputs, target_ids)` examples that a `translator` fits, unbatched.

    `inputs` holds the raw `"source"` strings and the teacher-forced
    `"target"` ids; `target_ids` the ids to predict. Shared by the phrase
    data sets (CLDR names, dictionary phrases).
    """
    inputs, target_ids = text.teacher_forcing_inputs(
        sources, targets, target_vocabulary=vocabulary["target"],
        sequence_length=sequence_length,
    )
    inputs["source"] = tf.constant(sources)
    return tf.data.Dataset.from_tensor_slices((inputs, target_ids))


@register_dataset(
    "cldr_names",
    task="translator",
    source="embedded",
    description="CLDR names (languages, territories, scripts, currencies, "
    "time zones) in two locales via babel; character-level pairs, split by entity.",
)
def _cldr_names(split, *, seed=0, shuffle=False, source="en", target="es",
                max_characters=32, sequence_length=None):
    pairs = dict(source=source, target=target, max_characters=max_characters)
    # Room for every character of a kept phrase, and "[START]" / "[END]".
    longest = (pairs["max_characters"] or 64) + 1
    sequence_length = text.split_lengths(
        longest if sequence_length is None else sequence_length)
    train_sources, train_targets = phrase_pairs("train", **pairs)
    vocabulary = {
        "source": text.build_vocabulary(train_sources, level="character", max_tokens=None),
        "target": text.build_vocabulary(train_targets, level="character", max_tokens=None),
    }
    sources, targets = phrase_pairs(split, **pairs)
    dataset = translation_examples(sources, targets, vocabulary, sequence_length)
    info = DatasetInfo(
        num_examples=len(sources),
        description=f"CLDR names, {pairs['source']} -> {pairs['target']}, characters.",
        vocabulary=vocabulary,
    )
    return dataset, info


__all__ = ["phrase_pairs", "translation_examples"]
