import keras
import numpy as np
import pytest

from cvseq import text


def test_build_vocabulary_words_and_characters():
    words = text.build_vocabulary(["To be, or not to be", "to sleep"], max_tokens=5)
    assert words.get_vocabulary() == ["", "[UNK]", "to", "be", "sleep"] or (
        words.get_vocabulary()[:4] == ["", "[UNK]", "to", "be"]
    )
    assert len(words.get_vocabulary()) == 5
    chars = text.build_vocabulary(["abba", "Ab"], level="character")
    assert set(chars.get_vocabulary()[2:]) == {"a", "b", "A"}  # case kept


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(level="sentence"), "level"),
        (dict(max_tokens=1), "max_tokens"),
        (dict(standardize="upper"), "standardize"),
    ],
)
def test_build_vocabulary_bad_arguments(kwargs, error):
    with pytest.raises((ValueError, TypeError), match=error):
        text.build_vocabulary(["a b"], **kwargs)


def test_a_single_string_is_refused():
    with pytest.raises(TypeError, match="not one string"):
        text.build_vocabulary("to be or not to be")


def test_model_vectorizer_tokenizes_like_the_vocabulary():
    chars = text.build_vocabulary(["Spain"], level="character")
    vectorizer = text.make_vectorizer(chars, extra_tokens=(text.START, text.END))
    ids = text.encode(vectorizer, ["Spain"])
    assert text.decode_ids(vectorizer, ids) == ["Spain"]
    assert text.token_id(vectorizer, text.END) == len(vectorizer.get_vocabulary()) - 1
    words = text.make_vectorizer(["to", "be"])
    assert text.decode_ids(words, text.encode(words, ["To be, or"])) == ["to be [UNK]"]


def test_check_vocabulary():
    assert text.check_vocabulary("vocabulary", ["", "[UNK]", "a"]) == ["a"]
    assert text.check_vocabulary("vocabulary", 7) == 7
    with pytest.raises(ValueError, match="repeated"):
        text.check_vocabulary("vocabulary", ["a", "a"])
    with pytest.raises(ValueError, match="adapt"):
        text.check_vocabulary("vocabulary", keras.layers.TextVectorization())
    with pytest.raises(TypeError, match="list of token strings"):
        text.check_vocabulary("vocabulary", "abc")


def test_pad_cuts_and_fills():
    np.testing.assert_array_equal(text.pad([[1, 2, 3], [4]], 2), [[1, 2], [4, 0]])


def test_word_standardization_keeps_punctuation_for_a_round_trip():
    """Words lose nothing: "he/she" and "sth." come back as written (lowercased)."""
    phrases = ["He/she knows sth.", "to be down to sb./sth.", "sb.’s way, 3.5 km (roughly)!"]
    vocabulary = text.build_vocabulary(phrases)
    tokens = vocabulary.get_vocabulary()
    assert {"he", "she", "sth", "/", "."} <= set(tokens)
    vectorizer = text.make_vectorizer(vocabulary, extra_tokens=(text.START, text.END))
    decoded = text.decode_ids(vectorizer, text.encode(vectorizer, phrases))
    assert decoded == [p.lower() for p in phrases]
    # Umlauts lowercase too, and intra-word apostrophes and hyphens stay.
    words = text.build_vocabulary(["Über die E-Mail, don't"]).get_vocabulary()
    assert {"über", "e-mail", "don't", ","} <= set(words)
    # Keras' stripping is still there when asked for.
    stripped = text.build_vocabulary(phrases[:1], standardize="lower_and_strip_punctuation")
    assert "heshe" in stripped.get_vocabulary()


def test_dice_lexicon_translates_word_by_word():
    sources = ["der Hund", "die Katze", "der Hund bellt", "die Katze schläft"]
    targets = ["the dog", "the cat", "the dog barks", "the cat sleeps"]
    lexicon = text.dice_lexicon(sources, targets)
    assert lexicon["hund"] == "dog" and lexicon["katze"] == "cat"
    assert text.translate_word_by_word(["Hund Katze fliegt"], lexicon) == [
        "dog cat fliegt"  # unknown words are copied
    ]
    with pytest.raises(ValueError, match="aligned"):
        text.dice_lexicon(["a"], [])
