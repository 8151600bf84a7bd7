"""Pieces shared by the factories: validation, heads, layers and compile defaults."""

import keras

from cvseq import text
from cvseq._validation import (
    check_bool,
    check_choice,
    check_fraction,
    check_int,
    check_num_classes,
)


def check_classes(num_classes, multi_label):
    """Single-label tasks need two classes; multi-label tasks one tag or more."""
    check_bool("multi_label", multi_label)
    return check_num_classes(num_classes, minimum=1 if multi_label else 2)


def classification_head(x, num_classes, *, multi_label, dropout, name="predictions"):
    """Dropout then a dense layer with softmax (or sigmoid for multi-label)."""
    if dropout:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    activation = "sigmoid" if multi_label else "softmax"
    # The head stays float32 under mixed precision for a stable loss.
    return keras.layers.Dense(
        num_classes, activation=activation, dtype="float32", name=name
    )(x)


def compile_classifier(model, num_classes, *, multi_label, learning_rate=1e-3):
    """Compiles with the defaults of a (multi-label) classification task.

    Single-label: Adam, sparse categorical cross-entropy on integer labels,
    accuracy. Multi-label: Adam, binary cross-entropy on multi-hot float
    targets `(batch, num_classes)`, AUC and precision, recall and F1 at 0.5.
    """
    optimizer = keras.optimizers.Adam(learning_rate)
    # XLA is off: it cannot use the cuDNN RNN kernels on GPU, and on CPU it
    # made the tagger's step 1.8x slower (measured, see README). On JAX
    # "off" means op by op without any jit (the tagger's step 100x slower on
    # CPU, README "Backends"), so it stays on there.
    if multi_label:
        model.compile(
            jit_compile=keras.backend.backend() == "jax",
            optimizer=optimizer,
            loss=keras.losses.BinaryCrossentropy(),
            metrics=[
                keras.metrics.AUC(multi_label=True, num_labels=num_classes, name="auc"),
                keras.metrics.Precision(thresholds=0.5, name="precision"),
                keras.metrics.Recall(thresholds=0.5, name="recall"),
                keras.metrics.F1Score(average="micro", threshold=0.5, name="f1"),
            ],
        )
    else:
        model.compile(
            jit_compile=keras.backend.backend() == "jax",
            optimizer=optimizer,
            loss=keras.losses.SparseCategoricalCrossentropy(),
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        )
    return model


RECURRENT = ("lstm", "gru")


def recurrent_layer(recurrent, units, *, name=None, **kwargs):
    """An LSTM or GRU layer (`recurrent` is `"lstm"` or `"gru"`)."""
    layer = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[recurrent]
    return layer(units, name=name or recurrent, **kwargs)


def next_token_head(x, vocabulary_size, *, dropout):
    """Dropout, then `"logits"` and a softmax over the vocabulary (`"predictions"`).

    Logits and softmax stay float32 under mixed precision.
    """
    if dropout:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    x = keras.layers.Dense(vocabulary_size, dtype="float32", name="logits")(x)
    return keras.layers.Activation("softmax", dtype="float32", name="predictions")(x)


def compile_next_token_model(model, *, learning_rate=1e-3, clipnorm=1.0):
    """Compiles a model that predicts a token distribution at every step.

    Adam with gradient clipping (RNNs), sparse categorical cross-entropy,
    accuracy and perplexity. Padding (id 0 in the inputs) is masked out of
    the loss and of both metrics through the Keras mask that the model's
    `Embedding(mask_zero=True)` sets on its outputs.
    """
    import keras_hub

    model.compile(
        jit_compile=keras.backend.backend() == "jax",
        optimizer=keras.optimizers.Adam(learning_rate, clipnorm=clipnorm),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[
            keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
            keras_hub.metrics.Perplexity(mask_token_id=0, name="perplexity"),
        ],
    )
    return model


def token_inputs(vocabulary, sequence_length, tokens_input=None):
    """A model's input, the token ids it gives, and the vocabulary size.

    An int `vocabulary` (a size) takes int32 ids `"token_ids"` `(batch,
    sequence_length)`. Otherwise `tokens_input(vocabulary, sequence_length)`
    builds the input and returns this same triple; by default a raw string
    input `"text"` `(batch,)`, tokenized by a `TextVectorization` named
    `"tokenizer"`.
    """
    if isinstance(vocabulary, int):
        inputs = keras.Input((sequence_length,), dtype="int32", name="token_ids")
        return inputs, inputs, vocabulary
    if tokens_input is not None:
        return tokens_input(vocabulary, sequence_length)
    inputs = keras.Input((), dtype="string", name="text")
    token_ids = text.make_vectorizer(
        vocabulary, sequence_length=sequence_length, name="tokenizer"
    )(inputs)
    return inputs, token_ids, text.vocabulary_size(vocabulary)


def next_token_model(
    model_class,
    *,
    vocabulary,
    sequence_length,
    recurrent,
    units,
    num_layers,
    dropout,
    compile,
    name,
    tokens_input=None,
):
    """Builds the `language_model` and `sequence_generator` architecture.

    Validates the arguments the two factories share (see either for their
    meaning), then: token inputs (see `token_inputs`), an embedding,
    `num_layers` recurrent layers, and a softmax over the vocabulary at
    every position. The layer names (`"embedding"`, `"recurrent_1"`, ...,
    `"logits"`) are what `GenerativeModel` steps through when generating.

    Returns:
        A `model_class` instance, compiled by `compile_next_token_model`
        when `compile` is True.
    """
    # Arguments.
    vocabulary = text.check_vocabulary("vocabulary", vocabulary)
    sequence_length = check_int("sequence_length", sequence_length, minimum=2)
    check_choice("recurrent", recurrent, RECURRENT)
    units = check_int("units", units)
    num_layers = check_int("num_layers", num_layers)
    dropout = check_fraction("dropout", dropout)
    check_bool("compile", compile)

    # Layers.
    inputs, token_ids, vocabulary_size = token_inputs(
        vocabulary, sequence_length, tokens_input
    )
    x = keras.layers.Embedding(
        vocabulary_size, units, mask_zero=True, name="embedding"
    )(token_ids)
    for i in range(num_layers):
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{i + 1}")(x)
        x = recurrent_layer(recurrent, units, return_sequences=True,
                            name=f"recurrent_{i + 1}")(x)
    outputs = next_token_head(x, vocabulary_size, dropout=dropout)

    # Model.
    model = model_class(inputs, outputs, name=name)
    if compile:
        compile_next_token_model(model)
    return model
