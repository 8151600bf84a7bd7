"""Vocabularies and text <-> token helpers for the text models.

A *vocabulary* argument (`vocabulary=`, `source_vocabulary=`,
`target_vocabulary=`) takes one of:

- a list of tokens (words): the model lowercases, strips punctuation and
  splits on whitespace, like `keras.layers.TextVectorization`'s defaults;
- an adapted `keras.layers.TextVectorization`, e.g. from `build_vocabulary`:
  the model tokenizes the way that layer does (words or characters, its
  standardization) with its vocabulary;
- an int: the vocabulary size of a model fed token ids (0 is padding).

Token ids follow `TextVectorization`: 0 is padding, 1 the out-of-vocabulary
token `"[UNK]"`, then the vocabulary. Generating models append `"[START]"`
and `"[END]"`, which tokenization never produces.
"""

import numbers
import re
from collections import Counter

import keras
import numpy as np

from cvseq._tf import tensorflow as _tensorflow

from cvseq._validation import check_choice, check_int

LEVELS = ("word", "character")
PAD, OOV, START, END = "", "[UNK]", "[START]", "[END]"
SPLIT_PUNCTUATION = "lower_and_split_punctuation"
_STANDARDIZE = (
    None, SPLIT_PUNCTUATION, "lower_and_strip_punctuation", "lower", "strip_punctuation"
)
# Punctuation that becomes a token of its own. Apostrophes and hyphens stay
# inside words ("one's", "e-mail"); everything else is split off, so
# "he/she" -> "he / she" and "sth." -> "sth ." and nothing is lost.
_PUNCTUATION = r"""([!"#$%&()*+,./:;<=>?@\[\\\]^_`{|}~¡¿«»„“”])"""
# How `detokenize` glues split punctuation back: no space before closing
# marks, none after opening marks, none around "/" and inside numbers.
_GLUE = (
    (re.compile(r" ([.,!?;:%)\]}»])"), r"\1"),
    (re.compile(r"([(\[{«¿¡„]) "), r"\1"),
    (re.compile(r" ?/ ?"), "/"),
    (re.compile(r"(\d)([.,]) (\d)"), r"\1\2\3"),
    (re.compile(r"\. ([’'])"), r".\1"),  # "sb. ’s" -> "sb.’s"
)


@keras.saving.register_keras_serializable(package="cvseq")
def lower_and_split_punctuation(texts):
    """Lowercases and puts spaces around punctuation (a `tf.string` tensor).

    The word-level standardization of `build_vocabulary`: unlike Keras'
    `"lower_and_strip_punctuation"` it keeps every character, so a model
    that writes text can write "he/she" or "sth." (`detokenize` joins the
    tokens back).
    """
    tf = _tensorflow("cvseq.text (the text models' string layers)")
    texts = tf.strings.lower(texts, encoding="utf-8")  # "Über" too, not ASCII only
    return tf.strings.regex_replace(texts, _PUNCTUATION, r" \1 ")


def text_list(name, texts, *, allow_empty=False, decode_bytes=True):
    """`texts` as a list of str: a lone str (whose characters would be read
    as texts) is a `TypeError`; bytes items (what `tfds.as_numpy` yields)
    are decoded as UTF-8 (with `decode_bytes`); items that are no text are
    named."""
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"`{name}` must be a list of str, one per example. Received "
                        f"one str: {texts[:40]!r}; pass [{texts[:40]!r}].")
    out = []
    for text in texts:
        if isinstance(text, bytes) and decode_bytes:
            text = text.decode("utf-8")
        elif isinstance(text, np.str_):
            text = str(text)
        if not isinstance(text, str):
            raise TypeError(f"`{name}` must be a list of str. Received an item "
                            f"{text!r} of type {type(text).__name__}.")
        out.append(text)
    if not out and not allow_empty:
        raise ValueError(f"`{name}` is empty: give at least one text.")
    return out


def split_words(text):
    """The word tokens of one str, as `lower_and_split_punctuation` splits it."""
    return re.sub(_PUNCTUATION, r" \1 ", text.lower()).split()


def detokenize(tokens):
    """Joins word tokens split by `lower_and_split_punctuation` into a str.

    >>> detokenize(["to", "be", "down", "to", "sb", ".", "/", "sth", "."])
    'to be down to sb./sth.'
    """
    if isinstance(tokens, (str, bytes)):
        raise TypeError(
            "`tokens` must be a list of tokens, not one str (its characters would be "
            f"joined): pass text.split(). Received: {tokens[:40]!r}.")
    joined = " ".join(tokens)
    for pattern, replacement in _GLUE:
        joined = pattern.sub(replacement, joined)
    return joined


def build_vocabulary(texts, *, level="word", max_tokens=20000, standardize="auto"):
    """Builds a vocabulary from texts, at word or character level.

    Args:
        texts: iterable of str, or a `tf.data.Dataset` of strings.
        level: `"word"` or `"character"`. Defaults to `"word"`.
        max_tokens: int or None. Keep the most frequent tokens, at most this
            many (padding and `"[UNK]"` included); None keeps all. Defaults
            to 20000.
        standardize: `"auto"`, None, `"lower_and_split_punctuation"`,
            `"lower_and_strip_punctuation"`, `"lower"` or
            `"strip_punctuation"`. `"auto"` is `"lower_and_split_punctuation"`
            for words (lowercase; each punctuation mark but apostrophes and
            hyphens inside words is a token, so "he/she" and "sth." survive
            a round trip, see `detokenize`) and keeps characters as they are
            (case, punctuation and spaces are tokens). Defaults to `"auto"`.

    Returns:
        An adapted `keras.layers.TextVectorization` (int output): pass it as
        a model's `vocabulary`; `.get_vocabulary()` lists its tokens.

    Example:

    >>> vocabulary = build_vocabulary(["To be, or not to be"], max_tokens=10)
    >>> vocabulary.get_vocabulary()
    ['', '[UNK]', 'to', 'be', 'or', 'not']
    >>> build_vocabulary(["abba"], level="character").get_vocabulary()
    ['', '[UNK]', 'b', 'a']
    """
    check_choice("level", level, LEVELS)
    max_tokens = check_int("max_tokens", max_tokens, minimum=3, allow_none=True)
    if standardize == "auto":
        standardize = SPLIT_PUNCTUATION if level == "word" else None
    check_choice("standardize", standardize, ("auto",) + _STANDARDIZE)
    if standardize == SPLIT_PUNCTUATION:
        standardize = lower_and_split_punctuation
    if isinstance(texts, str):
        raise TypeError(
            "`texts` must be a list (or data set) of strings, not one string. "
            f"Received: texts={texts[:40]!r}."
        )
    tf = _tensorflow("cvseq.text (the text models' string layers)")
    if not isinstance(texts, tf.data.Dataset):
        texts = text_list("texts", texts)
    layer = keras.layers.TextVectorization(
        max_tokens=max_tokens,
        standardize=standardize,
        split="whitespace" if level == "word" else "character",
    )
    layer.adapt(texts)
    return layer


def check_vocabulary(name, vocabulary):
    """Validates a vocabulary argument; returns it (lists as lists of str)."""
    # Keras' TextVectorization needs TensorFlow on every backend.
    _tensorflow("cvseq.text (the text models' string layers)")
    if isinstance(vocabulary, keras.layers.TextVectorization):
        config = vocabulary.get_config()
        if config["output_mode"] != "int" or config["ngrams"]:
            raise ValueError(
                f"`{name}` must be a TextVectorization with output_mode='int' "
                f"and no ngrams. Received: output_mode={config['output_mode']!r}, "
                f"ngrams={config['ngrams']!r}."
            )
        if vocabulary.vocabulary_size() <= 2:
            raise ValueError(
                f"`{name}` is a TextVectorization with an empty vocabulary. "
                "Call `.adapt(texts)` first, or use "
                "`cvseq.text.build_vocabulary(texts)`."
            )
        return vocabulary
    if isinstance(vocabulary, numbers.Integral) and not isinstance(vocabulary, bool):
        return check_int(name, vocabulary, minimum=3)
    if isinstance(vocabulary, (list, tuple)) and vocabulary and all(
        isinstance(t, str) for t in vocabulary
    ):
        tokens = [t for t in vocabulary if t not in (PAD, OOV)]
        if len(set(tokens)) != len(tokens):
            duplicates = sorted({t for t in tokens if tokens.count(t) > 1})[:5]
            shown = repr(vocabulary)
            shown = shown if len(shown) <= 80 else shown[:77] + "..."
            raise ValueError(
                f"`{name}` has repeated tokens {duplicates}; each token must "
                f"appear once. Received: {name}={shown}."
            )
        return list(tokens)
    shown = repr(vocabulary)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    raise TypeError(
        f"`{name}` must be a list of token strings, an adapted "
        "`keras.layers.TextVectorization` (see `cvseq.text.build_vocabulary`) "
        f"or an int vocabulary size for token-id inputs. Received: {name}={shown}."
    )


def tokens_of(vocabulary):
    """The tokens of a vocabulary without padding and `"[UNK]"`."""
    if isinstance(vocabulary, keras.layers.TextVectorization):
        return [str(t) for t in vocabulary.get_vocabulary(include_special_tokens=False)]
    return list(vocabulary)


def make_vectorizer(vocabulary, *, sequence_length=None, extra_tokens=(), name=None):
    """A model's own `TextVectorization` for a (checked) vocabulary.

    Args:
        vocabulary: a list of tokens or an adapted `TextVectorization`.
        sequence_length: int or None. Pad or cut to this many tokens; None
            pads to the longest text of the batch.
        extra_tokens: tokens appended to the vocabulary (e.g. `START`,
            `END`) that tokenization never produces.
        name: layer name.
    """
    if isinstance(extra_tokens, (str, bytes)):
        raise TypeError(
            "`extra_tokens` must be a list of tokens, not one str: pass "
            f"[{extra_tokens!r}].")
    if isinstance(vocabulary, keras.layers.TextVectorization):
        config = vocabulary.get_config()
        standardize, split = config["standardize"], config["split"]
    elif isinstance(vocabulary, (numbers.Number, str, bytes)) or vocabulary is None:
        raise TypeError(
            "`vocabulary` must be a list of tokens or an adapted TextVectorization "
            f"to tokenize text. Received: vocabulary={vocabulary!r}.")
    else:
        standardize, split = "lower_and_strip_punctuation", "whitespace"
    tokens = tokens_of(vocabulary)
    if not isinstance(vocabulary, keras.layers.TextVectorization):
        capitalised = [t for t in tokens if isinstance(t, str) and t != t.lower()
                       and not (t.startswith("[") and t.endswith("]"))]  # [START]
        if capitalised:
            import warnings

            warnings.warn(
                f"The vocabulary holds tokens with capitals ({capitalised[:3]}); the "
                "text is lowercased before it is looked up, so they never match. "
                "Lowercase them, or build the vocabulary with build_vocabulary.",
                stacklevel=2)
    tokens += [t for t in extra_tokens if t not in tokens]
    return keras.layers.TextVectorization(
        standardize=standardize,
        split=split,
        vocabulary=tokens,
        output_sequence_length=sequence_length,
        name=name,
    )


def vocabulary_size(vocabulary, extra_tokens=()):
    """Token ids a model needs for this vocabulary (padding and OOV included)."""
    if isinstance(vocabulary, numbers.Integral):
        return int(vocabulary)
    tokens = tokens_of(vocabulary)
    return 2 + len(tokens) + len([t for t in extra_tokens if t not in tokens])


def separator(vectorizer):
    """`""` between characters, `" "` between words."""
    return "" if vectorizer.get_config()["split"] == "character" else " "


def splits_punctuation(standardize):
    """Whether a `TextVectorization` `standardize` (or its saved form) splits punctuation."""
    if isinstance(standardize, dict):  # serialized in a saved model's config
        standardize = str(standardize.get("config")).split(">")[-1]
    return standardize in (lower_and_split_punctuation, SPLIT_PUNCTUATION)


def standardize_name(standardize):
    """A `TextVectorization` `standardize` as JSON: None or a str name."""
    return SPLIT_PUNCTUATION if splits_punctuation(standardize) else standardize


def standardize_argument(name):
    """What `TextVectorization(standardize=...)` takes for a `standardize_name`."""
    return lower_and_split_punctuation if splits_punctuation(name) else name


def join_tokens(vectorizer, tokens):
    """Tokens back into text, as `vectorizer` split it (see `detokenize`)."""
    if splits_punctuation(vectorizer.get_config()["standardize"]):
        return detokenize(tokens)
    return separator(vectorizer).join(tokens)


def encode(vectorizer, texts):
    """Token ids of each text: a list of int lists, without padding."""
    tf = _tensorflow("cvseq.text (the text models' string layers)")
    ids = vectorizer(tf.constant(text_list("texts", texts)))
    ids = np.asarray(ids)
    return [[int(t) for t in row if t != 0] for row in ids]


def decode_ids(vectorizer, rows):
    """Joins token ids back into strings (padding dropped)."""
    vocabulary = [str(t) for t in vectorizer.get_vocabulary()]
    rows = [np.asarray(row) for row in rows]
    for row in rows:
        if row.size and (row.dtype.kind not in "iu" or row.min() < 0
                         or row.max() >= len(vocabulary)):
            raise ValueError(
                f"`rows` must hold integer token ids from 0 to {len(vocabulary) - 1}. "
                f"Received {row.tolist()[:8]}.")
    return [join_tokens(vectorizer, [vocabulary[int(t)] for t in row if int(t) != 0])
            for row in rows]


def pad(rows, length, value=0):
    """Int32 matrix `(len(rows), length)`: each row cut or padded with
    `value` at its end (`keras.utils.pad_sequences`, post)."""
    length = check_int("length", length, minimum=0)
    return keras.utils.pad_sequences(
        [list(row) for row in rows], maxlen=length, dtype="int32",
        padding="post", truncating="post", value=value,
    ).reshape(len(rows), length)


def teacher_forcing_ids(texts, *, vocabulary, sequence_length):
    """A decoder's teacher-forcing ids for `texts`: it reads each text
    shifted right behind `"[START]"` and learns to predict each next token,
    then `"[END]"`.

    Args:
        texts: list of str.
        vocabulary: the decoder's vocabulary (list of tokens or adapted
            `TextVectorization`); `"[START]"` and `"[END]"` are added.
        sequence_length: int. Texts keep at most `sequence_length - 1`
            tokens.

    Returns:
        `(decoder_input, target_ids)`, int32 `(len(texts), sequence_length)`.
    """
    vectorizer = make_vectorizer(vocabulary, extra_tokens=(START, END))
    start, end = token_id(vectorizer, START), token_id(vectorizer, END)
    rows = [ids[: sequence_length - 1] for ids in encode(vectorizer, texts)]
    return (pad([[start] + r for r in rows], sequence_length),
            pad([r + [end] for r in rows], sequence_length))


def teacher_forcing_inputs(sources, targets, *, target_vocabulary, sequence_length):
    """Turns (source, target) string pairs into a translator's training data.

    The decoder reads the target shifted right behind `"[START]"` and learns
    to predict each next token, then `"[END]"`:

        decoder_input:  [START] el gato negro  0 ...
        targets:        el      gato negro [END] 0 ...

    Args:
        sources: list of str. Source sentences (the model tokenizes them).
        targets: list of str. Their translations.
        target_vocabulary: the translator's `target_vocabulary` (list of
            tokens or adapted `TextVectorization`).
        sequence_length: int or (source, target) pair of ints. The
            translator's `sequence_length`; targets keep at most
            `target_length - 1` tokens.

    Returns:
        `(inputs, target_ids)`: `inputs` is `{"source": str array (n,),
        "decoder_input": int32 (n, target_length)}`, `target_ids` int32
        `(n, target_length)`. `model.fit(inputs, target_ids)` trains.

    Example:

    >>> vocabulary = build_vocabulary(["el gato negro"])
    >>> inputs, y = teacher_forcing_inputs(["the black cat"], ["el gato negro"],
    ...                                    target_vocabulary=vocabulary,
    ...                                    sequence_length=6)
    >>> inputs["decoder_input"], y   # [START]=5, el=4, gato=3, negro=2, [END]=6
    (array([[5, 4, 3, 2, 0, 0]], dtype=int32), array([[4, 3, 2, 6, 0, 0]], dtype=int32))
    """
    sources, targets = text_list("sources", sources), text_list("targets", targets)
    if len(sources) != len(targets):
        raise ValueError(
            "`sources` and `targets` must be aligned. Received "
            f"{len(sources)} sources and {len(targets)} targets."
        )
    target_vocabulary = check_vocabulary("target_vocabulary", target_vocabulary)
    if isinstance(target_vocabulary, int):
        raise TypeError(
            "`target_vocabulary` must be a list of tokens or a TextVectorization "
            f"to tokenize strings. Received: target_vocabulary={target_vocabulary!r}."
        )
    _, target_length = split_lengths(sequence_length)
    decoder_input, target_ids = teacher_forcing_ids(
        targets, vocabulary=target_vocabulary, sequence_length=target_length)
    inputs = {"source": np.array(sources, dtype=object), "decoder_input": decoder_input}
    return inputs, target_ids


def split_lengths(sequence_length):
    """`sequence_length` (int or pair) as `(source_length, target_length)`."""
    if isinstance(sequence_length, (tuple, list)) and len(sequence_length) == 2:
        pair = sequence_length
    else:
        pair = (sequence_length, sequence_length)
    try:
        return tuple(check_int("sequence_length", n, minimum=2) for n in pair)
    except (TypeError, ValueError):
        raise ValueError(
            "`sequence_length` must be an int >= 2 or a (source, target) pair "
            f"of ints >= 2. Received: sequence_length={sequence_length!r}."
        ) from None


def token_id(vectorizer, token):
    """The id of `token` in a vectorizer's vocabulary."""
    return [str(t) for t in vectorizer.get_vocabulary()].index(token)


def language_model_windows(texts, *, vocabulary, sequence_length, stride=None):
    """Cuts texts into (window, next tokens) pairs for a language model.

    Each window holds `sequence_length` tokens as text; its target is the
    same window shifted by one token, so the model learns the next token at
    every position. Windows never cross from one text to the next.

    Args:
        texts: list of str (e.g. the lines or paragraphs of a book).
        vocabulary: the language model's `vocabulary`.
        sequence_length: int. Tokens per window.
        stride: int or None. Tokens between window starts; None uses
            `sequence_length` (no overlap).

    Returns:
        `(windows, target_ids)`: str array `(n,)` and int32
        `(n, sequence_length)` (0-padded at the end of a short text).
    """
    vocabulary = check_vocabulary("vocabulary", vocabulary)
    if isinstance(vocabulary, int):
        raise TypeError(
            "`vocabulary` must be a list of tokens or a TextVectorization to "
            f"tokenize text. Received: vocabulary={vocabulary!r}."
        )
    sequence_length = check_int("sequence_length", sequence_length, minimum=2)
    stride = sequence_length if stride is None else check_int("stride", stride)
    vectorizer = make_vectorizer(vocabulary)
    words = [str(t) for t in vectorizer.get_vocabulary()]
    # Out-of-vocabulary tokens are written as a character that tokenizes back
    # to the OOV id under every standardization: "[UNK]" would not (it loses
    # its brackets, or splits), nor "\x00" (the UTF-8 lowercasing of
    # `lower_and_split_punctuation` ends the text there). A private-use
    # code point is no letter, no punctuation and no space.
    words[1] = "\ue000"
    sep = separator(vectorizer)
    windows, targets = [], []
    for ids in encode(vectorizer, texts):
        for begin in range(0, max(len(ids) - 1, 0), stride):
            chunk = ids[begin: begin + sequence_length + 1]
            if len(chunk) < 2:
                break
            windows.append(sep.join(words[t] for t in chunk[:-1]))
            targets.append(chunk[1:])
    return np.array(windows, dtype=object), pad(targets, sequence_length)


def token_sequence_inputs(sequences, *, vocabulary, sequence_length):
    """Turns token sequences into a `sequence_generator`'s training data.

    Each sequence becomes `[START] tokens... [END]`, cut into windows of
    `sequence_length` inputs whose targets are the next tokens; the first
    window of a sequence starts with `"[START]"`, so the model learns to
    begin a sequence from the start token alone.

        inputs:   [START] 67:1  72:1  74:0.5  ...
        targets:  67:1    72:1  74:0.5 ...    [END]

    Args:
        sequences: list of lists of str tokens.
        vocabulary: list of str. The model's `vocabulary`.
        sequence_length: int. Tokens per window.

    Returns:
        `(inputs, target_ids)`: a `tf.string` tensor `(n, sequence_length)`,
        `""`-padded (Keras takes string matrices as tensors, not NumPy
        arrays), and int32 `(n, sequence_length)` ids as the model numbers
        them (see `token_ids`).
    """
    sequence_length = check_int("sequence_length", sequence_length, minimum=2)
    if isinstance(sequences, (str, bytes)):
        raise TypeError("`sequences` must be a list of token lists, not one str: pass "
                        f"[{sequences[:30]!r}.split()].")
    inputs, targets = [], []
    for sequence in sequences:
        if isinstance(sequence, (str, bytes)):
            raise TypeError(
                "Each of `sequences` must be a list of tokens, not a str (its "
                f"characters would be the tokens): pass s.split(). Received "
                f"{sequence[:40]!r}.")
        full = [START] + [str(t) for t in sequence] + [END]
        for begin in range(0, len(full) - 1, sequence_length):
            window = full[begin: begin + sequence_length + 1]
            padding = [PAD] * (sequence_length + 1 - len(window))
            inputs.append(window[:-1] + padding)
            targets.append(window[1:] + padding)
    tf = _tensorflow("cvseq.text (the text models' string layers)")
    inputs = tf.constant(inputs, tf.string, shape=(len(inputs), sequence_length))
    return inputs, token_ids(targets, vocabulary)


def token_ids(tokens, vocabulary):
    """Ids of string tokens as a `sequence_generator` numbers them.

    `""` is 0, unknown tokens 1 (`"[UNK]"`), then `vocabulary` in order,
    then `"[START]"` and `"[END]"`.
    """
    table = {PAD: 0, OOV: 1}
    for token in list(vocabulary) + [START, END]:
        if token not in table:
            table[token] = len(table)
    tokens = np.asarray(tokens, dtype=object)
    return np.vectorize(lambda t: table.get(t, 1), otypes=["int32"])(tokens).reshape(
        tokens.shape
    )


def dice_lexicon(sources, targets):
    """The target word that co-occurs most with each source word (Dice).

    The word-by-word baseline of translation: over aligned (source,
    target) pairs, each source word `s` is mapped to the target word `t`
    with the highest Dice coefficient `2 c(s, t) / (c(s) + c(t))`, where
    `c` counts the pairs a word (or both words) occurs in. Words are
    lowercased and split on whitespace, punctuation attached ("sb./sth."
    is one word), which makes a stronger baseline on dictionary phrases
    than splitting punctuation off.

    Returns:
        dict str -> str. Pass it to `translate_word_by_word`.
    """
    sources = text_list("sources", sources, allow_empty=True)
    targets = text_list("targets", targets, allow_empty=True)
    if len(sources) != len(targets) or not sources:
        raise ValueError(
            "`sources` and `targets` must be aligned, non-empty lists of str. "
            f"Received {len(sources)} sources and {len(targets)} targets."
        )
    source_counts, target_counts, pair_counts = Counter(), Counter(), Counter()
    for source, target in zip(sources, targets):
        source_words, target_words = set(source.lower().split()), set(target.lower().split())
        source_counts.update(source_words)
        target_counts.update(target_words)
        pair_counts.update((s, t) for s in source_words for t in target_words)
    best = {}
    for (s, t), count in sorted(pair_counts.items()):
        dice = 2 * count / (source_counts[s] + target_counts[t])
        if dice > best.get(s, (0.0, None))[0]:
            best[s] = (dice, t)
    return {s: t for s, (_, t) in best.items()}


def translate_word_by_word(texts, lexicon):
    """Each word replaced by its `lexicon` entry (unknown words copied): list of str."""
    return [" ".join(lexicon.get(w, w) for w in t.lower().split())
            for t in text_list("texts", texts, allow_empty=True)]
