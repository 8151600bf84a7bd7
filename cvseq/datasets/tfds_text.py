"""TFDS adapters for the text and music models.

- `imdb_reviews`: 50,000 IMDB movie reviews, positive/negative
  (`text_classifier`).
- `tiny_shakespeare`: 1 MB of Shakespeare's plays (`language_model`).
- `ted_hrlr_translate/pt_to_en`: 52,000 Portuguese-English sentence pairs
  from TED talks (`translator`).
- `groove`: 1,150 MIDI drum performances by professional drummers
  (`sequence_generator`), as `"pitch:duration"` tokens.

Vocabularies are built on the training split (pass `vocabulary=` from the
training `DatasetInfo` to skip that when loading other splits). Like every
TFDS adapter they need the network, or a copy prepared in `data_dir`.
"""

import warnings

import numpy as np

from cvseq import music, text
from cvseq._tf import LazyTensorFlow
from cvseq._validation import check_int
from cvseq.datasets.registry import DatasetInfo, register_dataset
from cvseq.datasets.tfds_adapters import _num_examples, load_tfds, train_vocabulary

tf = LazyTensorFlow("cvseq.datasets the TFDS data sets")

# Note lengths that groove tokens snap to, in quarter notes.
GROOVE_DURATIONS = (0.25, 1 / 3, 0.5, 2 / 3, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)


def _texts(dataset, key):
    return [t.decode("utf-8") for t in dataset.map(lambda ex: ex[key]).as_numpy_iterator()]


@register_dataset(
    "imdb_reviews",
    task="text_classifier",
    source="tfds",
    description="TFDS imdb_reviews: 50k IMDB movie reviews, negative/positive.",
)
def _imdb_reviews(split, *, seed=0, shuffle=False, data_dir=None, vocabulary=None,
                  max_tokens=20000):
    dataset, tfds_info = load_tfds(
        "imdb_reviews", split, data_dir=data_dir,
        offline_alternative="rotten_tomatoes", shuffle=shuffle, seed=seed,
    )
    vocabulary = train_vocabulary(
        "imdb_reviews", vocabulary, data_dir=data_dir,
        build=lambda train: text.build_vocabulary(
            train.map(lambda ex: ex["text"]), max_tokens=max_tokens))
    info = DatasetInfo(
        class_names=list(tfds_info.features["label"].names),
        num_examples=_num_examples(tfds_info, split),
        description="IMDB movie reviews (TFDS).",
        vocabulary=vocabulary,
        shuffled=False,
    )
    dataset = dataset.map(
        lambda ex: (ex["text"], tf.cast(ex["label"], tf.int32)),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return dataset, info


@register_dataset(
    "tiny_shakespeare",
    task="language_model",
    source="tfds",
    description="TFDS tiny_shakespeare: 1 MB of Shakespeare, character or word windows.",
)
def _tiny_shakespeare(split, *, seed=0, shuffle=False, data_dir=None, vocabulary=None,
                      level="character", max_tokens=10000, sequence_length=100,
                      stride=None):
    dataset, _ = load_tfds("tiny_shakespeare", split, data_dir=data_dir,
                           offline_alternative="hamlet")
    vocabulary = train_vocabulary(
        "tiny_shakespeare", vocabulary, data_dir=data_dir,
        build=lambda train: text.build_vocabulary(
            _texts(train, "text"), level=level, max_tokens=max_tokens))
    windows, targets = text.language_model_windows(
        _texts(dataset, "text"),
        vocabulary=vocabulary,
        sequence_length=check_int("sequence_length", sequence_length),
        stride=stride,
    )
    info = DatasetInfo(
        num_examples=len(windows),
        description="Tiny Shakespeare (TFDS), next-token windows.",
        vocabulary=vocabulary,
    )
    return tf.data.Dataset.from_tensor_slices((windows.astype(str), targets)), info


@register_dataset(
    "ted_hrlr_translate/pt_to_en",
    task="translator",
    source="tfds",
    description="TFDS ted_hrlr_translate/pt_to_en: 52k Portuguese-English TED "
    "sentence pairs, word level.",
)
def _ted_pt_to_en(split, *, seed=0, shuffle=False, data_dir=None, vocabulary=None,
                  max_tokens=16000, sequence_length=40):
    name = "ted_hrlr_translate/pt_to_en"
    dataset, _ = load_tfds(name, split, data_dir=data_dir,
                           offline_alternative="cldr_names")
    vocabulary = train_vocabulary(name, vocabulary, data_dir=data_dir, build=lambda train: {
        "source": text.build_vocabulary(_texts(train, "pt"), max_tokens=max_tokens),
        "target": text.build_vocabulary(_texts(train, "en"), max_tokens=max_tokens),
    })
    sources, targets = _texts(dataset, "pt"), _texts(dataset, "en")
    inputs, target_ids = text.teacher_forcing_inputs(
        sources, targets, target_vocabulary=vocabulary["target"],
        sequence_length=sequence_length,
    )
    inputs["source"] = np.array(sources).astype(str)
    info = DatasetInfo(
        num_examples=len(sources),
        description="TED talks, Portuguese to English (TFDS).",
        vocabulary=vocabulary,
    )
    return tf.data.Dataset.from_tensor_slices((inputs, target_ids)), info


def groove_vocabulary():
    """Every token a groove performance can give: 128 pitches and rests, each
    at the snapped `GROOVE_DURATIONS`."""
    names = [str(p) for p in range(128)] + ["rest"]
    return [f"{n}:{d:g}" for n in names for d in GROOVE_DURATIONS]


def _snap(token):
    pitch, length = music.parse_token(token)
    nearest = min(GROOVE_DURATIONS, key=lambda d: abs(d - length))
    return music.note_token(pitch, nearest)


@register_dataset(
    "groove",
    task="sequence_generator",
    source="tfds",
    description="TFDS groove (MIDI only): 1,150 drum performances as "
    "pitch:duration tokens.",
)
def _groove(split, *, seed=0, shuffle=False, data_dir=None, max_examples=None,
            max_notes=None, sequence_length=64):
    dataset, _ = load_tfds("groove/full-midionly", split, data_dir=data_dir,
                           offline_alternative="bach_chorales")
    if max_examples:
        dataset = dataset.take(check_int("max_examples", max_examples))
    info = DatasetInfo(
        class_names=groove_vocabulary(),
        description="Groove MIDI drum performances (TFDS).",
        vocabulary=groove_vocabulary(),
    )
    sequences = []
    for example in dataset.as_numpy_iterator():
        try:
            tokens = music.midi_tokens(example["midi"], max_notes=max_notes)
        except Exception as err:  # a corrupt file is skipped and counted
            info.skipped.append((example["id"].decode("utf-8"), repr(err)[:200]))
            warnings.warn(
                f"groove: skipped unreadable MIDI {example['id']!r} ({err!r:.100}).",
                stacklevel=2,
            )
            continue
        if tokens:
            sequences.append([_snap(t) for t in tokens])
    inputs, target_ids = text.token_sequence_inputs(
        sequences, vocabulary=info.vocabulary,
        sequence_length=check_int("sequence_length", sequence_length),
    )
    info.num_examples = int(inputs.shape[0])
    return tf.data.Dataset.from_tensor_slices((inputs, target_ids)), info


__all__ = ["GROOVE_DURATIONS", "groove_vocabulary"]
