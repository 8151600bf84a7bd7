"""Many-to-one: an LSTM/GRU reads a text and classifies it (e.g. sentiment)."""

import keras

from cvseq import text
from cvseq._validation import check_bool, check_choice, check_fraction, check_int
from cvseq.models._common import (
    RECURRENT,
    check_classes,
    classification_head,
    classifier_task,
    recurrent_layer,
    token_inputs,
)


def text_classifier(
    num_classes,
    *,
    vocabulary,
    sequence_length=None,
    recurrent="lstm",
    units=64,
    bidirectional=True,
    dropout=0.3,
    compile=True,
    name=None,
):
    """Classifies texts with a (bidirectional) LSTM or GRU over word embeddings.

    Raw strings go in: a `TextVectorization` inside the model tokenizes them
    with `vocabulary`, an embedding (of `units` features) feeds the
    recurrent layer, and its final state feeds a softmax head. Padding is
    masked, so texts of any length share a batch.

    Args:
        num_classes: int >= 2. Number of classes.
        vocabulary: list of str, adapted `keras.layers.TextVectorization`, or
            int. Tokens (see `cvseq.text.build_vocabulary`); an int is the
            vocabulary size of a model fed int token ids (0 = padding).
        sequence_length: int or None. Tokens read per text (longer texts are
            cut); None reads whole texts. Defaults to None.
        recurrent: `"lstm"` or `"gru"`. Defaults to `"lstm"`.
        units: int. Embedding size and recurrent units (per direction).
            Defaults to 64.
        bidirectional: bool. Read the text in both directions. Defaults to
            True.
        dropout: float in [0, 1). Dropout on the embeddings and before the
            head. Defaults to 0.3.
        compile: bool. Compile with Adam(1e-3), sparse categorical
            cross-entropy and accuracy. Defaults to True.
        name: str or None. Model name. Defaults to `"text_classifier"`.

    Returns:
        A `cvseq.Task` from strings `(batch,)` (a list of str, a NumPy
        `str_` or object array, a `tf.string` tensor or a `tf.data`
        dataset) (or int token ids `(batch, length)` when `vocabulary` is
        an int) to class probabilities `(batch, num_classes)`.

    Example:

    >>> vocabulary = cvseq.text.build_vocabulary(train_texts, max_tokens=20000)
    >>> model = text_classifier(2, vocabulary=vocabulary)
    >>> model.fit(cvseq.datasets.load("rotten_tomatoes", "train"), epochs=3)
    >>> model.predict(["a gripping, beautiful film"]).shape
    (1, 2)
    """
    # Arguments.
    num_classes = check_classes(num_classes, multi_label=False)
    vocabulary = text.check_vocabulary("vocabulary", vocabulary)
    sequence_length = check_int("sequence_length", sequence_length, allow_none=True)
    check_choice("recurrent", recurrent, RECURRENT)
    units = check_int("units", units)
    check_bool("bidirectional", bidirectional)
    dropout = check_fraction("dropout", dropout)
    check_bool("compile", compile)

    # Layers.
    inputs, token_ids, vocabulary_size = token_inputs(vocabulary, sequence_length)
    x = keras.layers.Embedding(
        vocabulary_size, units, mask_zero=True, name="embedding"
    )(token_ids)
    if dropout:
        x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    rnn = recurrent_layer(recurrent, units)
    if bidirectional:
        rnn = keras.layers.Bidirectional(rnn, name=f"bidirectional_{recurrent}")
    x = rnn(x)
    outputs = classification_head(x, num_classes, multi_label=False, dropout=dropout)

    # Model.
    return classifier_task(inputs, outputs, num_classes, multi_label=False,
                           compile=compile, name=name or "text_classifier")


# ---------------------------------------------------------------------------
# The task as `cvseq` commands, the examples and the tests see it.
# ---------------------------------------------------------------------------

from cvseq import tasks as _tasks  # noqa: E402

_tasks.register_task(_tasks.TaskSpec(
    name="text_classifier",
    description="RNN sequence classification (text -> class)",
    factory=text_classifier,
    dataset="rotten_tomatoes",
    shape=lambda info, data_options: {"num_classes": info.num_classes,
                                      "vocabulary": info.vocabulary},
    predict=_tasks.classify(_tasks.read_texts),
    small_data={"max_tokens": 500},
    example="sentiment.py",
))
