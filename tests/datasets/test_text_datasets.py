"""The embedded text and music data sets: real, split without leakage, fit-ready."""

import numpy as np
import pytest
import tensorflow as tf

import cvseq
from cvseq import music, text
from cvseq.datasets import _split, chorales, phrase_pairs, prose, reviews


def test_rotten_tomatoes_splits_by_movie_and_loads_strings():
    texts, labels, movies = reviews._all_reviews()
    assert len(texts) > 12000 and len(set(texts)) == len(texts)
    by_split = {s: set(reviews.reviews(s)[0]) for s in ("train", "validation", "test")}
    assert sum(map(len, by_split.values())) == len(texts)
    assert not by_split["train"] & by_split["test"]
    movie_splits = {}
    for movie in movies:
        movie_splits.setdefault(movie, _split.split_of(movie))
    assert len(set(movie_splits.values())) == 3  # every split has movies
    ds, info = cvseq.datasets.load("rotten_tomatoes", "test", batch_size=4,
                                   with_info=True)
    batch_texts, batch_labels = next(iter(ds))
    assert batch_texts.dtype == tf.string and batch_labels.dtype == tf.int32
    assert info.class_names == ["rotten", "fresh"]
    assert info.num_examples == len(by_split["test"])
    assert set(reviews.reviews("train")[1]) == {0, 1}


def test_hamlet_split_is_contiguous_and_windows_shift_by_one_token():
    train, test = prose.hamlet("train"), prose.hamlet("test")
    assert "To be, or not to be" in train
    assert train.splitlines()[-1] != test.splitlines()[0]
    ds, info = cvseq.datasets.load("hamlet", "test", batch_size=2, with_info=True,
                                   sequence_length=6, shuffle=False)
    windows, targets = next(iter(ds))
    vectorizer = text.make_vectorizer(info.vocabulary)
    ids = text.encode(vectorizer, [w.decode() for w in windows.numpy()])
    for window_ids, target_ids in zip(ids, targets.numpy()):
        assert window_ids[1:] == target_ids[:5].tolist()  # shifted by one
    # Characters: the whole test text, out-of-vocabulary symbols included.
    chars = text.build_vocabulary(["abc"], level="character")
    windows, targets = text.language_model_windows(
        ["ab\u00e9c"], vocabulary=chars, sequence_length=3)
    index = chars.get_vocabulary().index
    assert targets.tolist() == [[index("b"), 1, index("c")]]  # é is [UNK]
    assert text.encode(text.make_vectorizer(chars), windows)[0][2] == 1


def test_cldr_pairs_are_real_and_split_by_entity():
    sources, targets = phrase_pairs.phrase_pairs("train", max_characters=None)
    pairs = dict(zip(sources, targets))
    assert pairs.get("Germany") == "Alemania" or "Germany" not in pairs
    splits = {s: set(phrase_pairs.phrase_pairs(s)[0])
              for s in ("train", "validation", "test")}
    assert not splits["train"] & splits["test"]
    assert not splits["train"] & splits["validation"]
    # All names of one time zone share a split.
    zone_names = ("Central European Time", "Central European Standard Time",
                  "Central European Summer Time")
    homes = {s for s, names in splits.items() for n in zone_names if n in names}
    assert len(homes) == 1
    ds, info = cvseq.datasets.load("cldr_names", "validation", batch_size=8,
                                   with_info=True)
    inputs, targets = next(iter(ds))
    assert inputs["decoder_input"].shape == (8, 33) and targets.shape == (8, 33)
    assert info.vocabulary["target"].get_config()["split"] == "character"


def test_bach_chorales_split_by_tune_and_tokens_are_notes():
    splits = {s: chorales.melodies(s) for s in ("train", "validation", "test")}
    assert sum(map(len, splits.values())) > 400
    tunes = {s: {chorales._tune(m[:12]) for m in ms} for s, ms in splits.items()}
    assert not tunes["train"] & tunes["test"]
    for token in splits["test"][0]:
        music.parse_token(token)
    vocabulary = chorales.vocabulary()
    assert vocabulary[0] == "72:1"  # C5 quarter: most frequent in C major
    ds, info = cvseq.datasets.load("bach_chorales", "test", batch_size=4,
                                   with_info=True, sequence_length=16, shuffle=False)
    inputs, targets = next(iter(ds))
    assert inputs.numpy()[0, 0] == b"[START]"
    assert inputs.shape == (4, 16) and targets.dtype == np.int32
    assert info.vocabulary == vocabulary


def test_every_text_data_set_is_listed_with_its_task():
    listed = cvseq.datasets.list_datasets()
    assert listed["rotten_tomatoes"] == listed["imdb_reviews"] == "text_classifier"
    assert listed["hamlet"] == listed["tiny_shakespeare"] == "language_model"
    assert listed["cldr_names"] == listed["ted_hrlr_translate/pt_to_en"] == "translator"
    assert listed["bach_chorales"] == listed["groove"] == "sequence_generator"


def test_cldr_locales_are_checked_and_take_either_separator():
    with pytest.raises(ValueError, match=r"`target` must be a locale code .*target='xx'"):
        phrase_pairs.phrase_pairs("train", target="xx")
    with pytest.raises(TypeError, match=r"Received: source=3"):
        phrase_pairs.phrase_pairs("train", source=3)
    # "pt-BR" (as browsers write it) reads as babel's "pt_BR".
    assert phrase_pairs.phrase_pairs("test", target="pt-BR") == \
        phrase_pairs.phrase_pairs("test", target="pt_BR")
