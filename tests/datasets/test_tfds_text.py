"""The TFDS text and music adapters, offline on `tfds.testing.mock_data`."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

import cvseq
from cvseq import music
from cvseq.datasets import tfds_text


def test_imdb_reviews_feed_a_text_classifier():
    with tfds.testing.mock_data(num_examples=6):
        ds, info = cvseq.datasets.load("imdb_reviews", "test", batch_size=3,
                                       with_info=True, max_tokens=50)
        texts, labels = next(iter(ds))
    assert texts.dtype == tf.string and texts.shape == (3,)
    assert labels.dtype == tf.int32 and set(labels.numpy()) <= {0, 1}
    assert info.class_names == ["neg", "pos"]
    model = cvseq.text_classifier(2, vocabulary=info.vocabulary, units=4)
    model.fit(ds, epochs=1, verbose=0)


def test_tiny_shakespeare_windows_feed_a_language_model():
    with tfds.testing.mock_data(num_examples=1):
        ds, info = cvseq.datasets.load("tiny_shakespeare", "train", batch_size=4,
                                       with_info=True, sequence_length=8)
        windows, targets = next(iter(ds))
    assert windows.dtype == tf.string and targets.shape[1:] == (8,)
    model = cvseq.language_model(vocabulary=info.vocabulary, sequence_length=8,
                                 units=4)
    model.fit(ds.take(1), epochs=1, verbose=0)


def test_ted_pairs_feed_a_translator():
    with tfds.testing.mock_data(num_examples=5):
        ds, info = cvseq.datasets.load("ted_hrlr_translate/pt_to_en", "validation",
                                       batch_size=5, with_info=True,
                                       sequence_length=12, max_tokens=100)
        inputs, targets = next(iter(ds))
    assert inputs["source"].dtype == tf.string
    assert inputs["decoder_input"].shape == (5, 12) and targets.shape == (5, 12)
    model = cvseq.translator(source_vocabulary=info.vocabulary["source"],
                             target_vocabulary=info.vocabulary["target"],
                             sequence_length=12, units=4)
    model.fit(ds, epochs=1, verbose=0)


def _groove_examples(builder, *args, **kwargs):
    """Two real MIDI files (one bar of melody) and one corrupt one."""
    good = music.midi_bytes(["60:1", "62:0.5", "64:0.5", "rest:1", "67:1"])
    files = [good, b"not a midi file", good]

    def examples():
        for i, midi in enumerate(files):
            yield {"id": f"drummer1/{i}", "drummer": 0, "type": 0, "bpm": 100,
                   "time_signature": 0,
                   "style": {"primary": 0, "secondary": ""}, "midi": midi}

    return tf.data.Dataset.from_generator(
        examples,
        output_types=builder.info.features.dtype,
        output_shapes=builder.info.features.shape,
    )


def test_groove_midi_becomes_note_tokens_and_corrupt_files_are_counted():
    with tfds.testing.mock_data(as_dataset_fn=_groove_examples):
        with pytest.warns(UserWarning, match="unreadable MIDI"):
            ds, info = cvseq.datasets.load("groove", "train", batch_size=8,
                                           with_info=True, sequence_length=8,
                                           shuffle=False)
    assert len(info.skipped) == 1 and info.skipped[0][0] == "drummer1/1"
    inputs, targets = next(iter(ds))
    first = inputs.numpy().astype(str)[0].tolist()
    assert first == ["[START]", "60:1", "62:0.5", "64:0.5", "rest:1", "67:1", "", ""]
    assert inputs.shape == (2, 8) and targets.shape == (2, 8)
    model = cvseq.sequence_generator(vocabulary=info.vocabulary, sequence_length=8,
                                     units=4)
    model.fit(ds, epochs=1, verbose=0)
    assert np.all(targets.numpy()[0, :6] > 1)  # every note is in the vocabulary
