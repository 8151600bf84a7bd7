import keras
import numpy as np
import pytest

from factory_checks import check_factory

from cvseq import text, text_classifier

TEXTS = ["a gripping, beautiful film", "dull and far too long", "a joy", "not good"]
BAD_ARGUMENTS = {
    "vocabulary": {"a": 1},
    "sequence_length": 0,
    "recurrent": "rnn",
    "units": 0,
    "bidirectional": "yes",
    "dropout": 1.0,
}


def _strings(items):
    return np.array(items, dtype=object)


@pytest.mark.parametrize("recurrent", ["lstm", "gru"])
def test_raw_strings_with_a_built_vocabulary(recurrent):
    vocabulary = text.build_vocabulary(TEXTS, max_tokens=50)
    check_factory(
        text_classifier,
        args=(2,),
        kwargs=dict(vocabulary=vocabulary, units=8, recurrent=recurrent),
        inputs=_strings(TEXTS),
        targets=np.array([1, 0, 1, 0]),
        output_shape=(4, 2),
        bad_arguments=BAD_ARGUMENTS,
    )


def test_token_list_vocabulary_and_fixed_length():
    model = check_factory(
        text_classifier,
        args=(3,),
        kwargs=dict(vocabulary=["film", "dull", "joy", "good"], sequence_length=6,
                    units=4, bidirectional=False),
        inputs=_strings(TEXTS),
        targets=np.array([0, 1, 2, 1]),
        output_shape=(4, 3),
    )
    tokenizer = model.get_layer("tokenizer")
    assert tokenizer.get_vocabulary()[:4] == ["", "[UNK]", "film", "dull"]


def test_int_vocabulary_takes_token_ids():
    ids = np.array([[3, 4, 5, 0], [6, 2, 0, 0]], "int32")
    check_factory(
        text_classifier,
        args=(2,),
        kwargs=dict(vocabulary=10, units=4),
        inputs=ids,
        targets=np.array([0, 1]),
        output_shape=(2, 2),
    )


def test_padding_is_masked():
    model = text_classifier(2, vocabulary=20, units=4, dropout=0.0)
    short = np.array([[3, 4, 5]], "int32")
    padded = np.array([[3, 4, 5, 0, 0, 0]], "int32")
    np.testing.assert_allclose(
        model.predict(short, verbose=0), model.predict(padded, verbose=0), atol=1e-5
    )


@pytest.mark.graph  # as users' predict and fit run: traced
@pytest.mark.parametrize("bidirectional", [True, False])
def test_a_text_without_a_token_reads_as_one_unknown_word_alone_or_in_a_batch(
        bidirectional):
    # Padded to the batch's longest text: a batch of "" or punctuation only
    # would be zero steps long (an error inside the LSTM before), and a row
    # of padding alone is what cuDNN refuses on GPU.
    model = text_classifier(2, vocabulary=["good", "bad", "film"], units=4,
                            bidirectional=bidirectional, dropout=0.0)
    alone = model.predict(_strings([""]), verbose=0)
    np.testing.assert_allclose(model.predict(_strings(["?!"]), verbose=0), alone)
    np.testing.assert_allclose(model.predict(_strings(["zzz"]), verbose=0), alone,
                               atol=1e-6)  # an unknown word
    beside = model.predict(_strings(["", "a good film"]), verbose=0)
    np.testing.assert_allclose(beside[:1], alone, atol=1e-6)
    model.fit(_strings(["", "..."]), np.array([0, 1]), batch_size=2, verbose=0)


def test_unadapted_text_vectorization_is_refused():
    with pytest.raises(ValueError, match="adapt"):
        text_classifier(2, vocabulary=keras.layers.TextVectorization())


def test_needs_two_classes():
    with pytest.raises(ValueError, match="num_classes"):
        text_classifier(1, vocabulary=["a", "b"])


@pytest.mark.slow
def test_learns_the_sentiment_of_real_review_snippets():
    """>= 70% held-out accuracy on Rotten Tomatoes snippets (movies unseen)."""
    import cvseq
    from cvseq.datasets import reviews
    from cvseq.metrics import classification_scores

    keras.utils.set_random_seed(0)
    train, info = cvseq.datasets.load("rotten_tomatoes", "train", batch_size=64,
                                      with_info=True, max_tokens=10000)
    model = text_classifier(2, vocabulary=info.vocabulary, sequence_length=40,
                            recurrent="gru", units=32, dropout=0.4)
    model.fit(train, epochs=2, verbose=0)

    texts, labels = reviews.reviews("test")
    scores = classification_scores(labels, model.predict(_strings(texts), verbose=0))
    majority = max(labels.mean(), 1 - labels.mean())
    print(f"sentiment: accuracy {scores['accuracy']:.3f}, macro F1 "
          f"{scores['f1']:.3f}, majority baseline {majority:.3f}")
    assert scores["accuracy"] >= 0.70
    assert scores["accuracy"] >= majority + 0.08
    assert scores["f1"] >= 0.65
