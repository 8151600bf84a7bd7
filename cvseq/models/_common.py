"""Pieces shared by the factories: validation, heads, layers and compile defaults."""

import keras

from cvseq import text
from cvseq.layers import AtLeastOneToken
from cvseq.models.task import Task
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


def classifier_compile_defaults(num_classes, *, multi_label, learning_rate=1e-3):
    """The compile defaults of a (multi-label) classification task.

    Single-label: Adam, sparse categorical cross-entropy on integer labels,
    accuracy. Multi-label: Adam, binary cross-entropy on multi-hot float
    targets `(batch, num_classes)`, AUC and precision, recall and F1 at 0.5.
    """
    # XLA is off: it cannot use the cuDNN RNN kernels on GPU, and on CPU it
    # made the tagger's step 1.8x slower (measured, see README). On JAX
    # "off" means op by op without any jit (the tagger's step 100x slower on
    # CPU, README "Backends"), so it stays on there.
    if multi_label:
        return dict(
            jit_compile=False,
            optimizer=keras.optimizers.Adam(learning_rate),
            loss=keras.losses.BinaryCrossentropy(),
            metrics=[
                keras.metrics.AUC(multi_label=True, num_labels=num_classes, name="auc"),
                keras.metrics.Precision(thresholds=0.5, name="precision"),
                keras.metrics.Recall(thresholds=0.5, name="recall"),
                keras.metrics.F1Score(average="micro", threshold=0.5, name="f1"),
            ],
        )
    return dict(
        jit_compile=False,
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )


def classifier_task(inputs, outputs, num_classes, *, multi_label, compile, name,
                    learning_rate=1e-3, task_class=Task):
    """A `Task` (or `task_class`) with the classification defaults, compiled
    if `compile`."""
    model = task_class(
        inputs,
        outputs,
        name=name,
        compile_defaults=classifier_compile_defaults(
            num_classes, multi_label=multi_label, learning_rate=learning_rate
        ),
        targets="multi_hot" if multi_label else "class_ids",
    )
    if compile:
        model.compile()
    return model


RECURRENT_LAYERS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}
RECURRENT = tuple(RECURRENT_LAYERS)


def recurrent_layer(recurrent, units, *, name=None, **kwargs):
    """An LSTM or GRU layer (`recurrent` is `"lstm"` or `"gru"`)."""
    return RECURRENT_LAYERS[recurrent](units, name=name or recurrent, **kwargs)


# Channels kept per position of a feature map before flattening.
SPATIAL_CHANNELS = 16


def spatial_features(x, *, per_frame=False):
    """Where things are: a few channels per position of a backbone's feature
    map, flattened.

    Args:
        x: `(batch, h, w, c)` feature maps, or `(batch, frames, h, w, c)`
            with `per_frame=True`; h, w and c static.

    Returns:
        `(batch, h * w * SPATIAL_CHANNELS)` (or `(batch, frames, ...)`).
    """
    rank = 5 if per_frame else 4
    if len(x.shape) != rank or None in x.shape[rank - 3:]:
        raise ValueError(
            "The backbone must give a feature map of static size"
            f"{' per frame' if per_frame else ''}. Received "
            f"{'per-frame ' if per_frame else ''}features of shape "
            f"{tuple(x.shape[2:] if per_frame else x.shape[1:])}."
        )
    x = keras.layers.Dense(SPATIAL_CHANNELS, activation="relu",
                           name="spatial_projection")(x)
    if not per_frame:
        return keras.layers.Flatten(name="flatten_features")(x)
    h, w, c = x.shape[2:]
    return keras.layers.Reshape((-1, h * w * c), name="flatten_frames")(x)


def next_token_head(x, vocabulary_size, *, dropout):
    """Dropout, then `"logits"` and a softmax over the vocabulary (`"predictions"`).

    Logits and softmax stay float32 under mixed precision.
    """
    if dropout:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    x = keras.layers.Dense(vocabulary_size, dtype="float32", name="logits")(x)
    return keras.layers.Activation("softmax", dtype="float32", name="predictions")(x)


@keras.saving.register_keras_serializable(package="cvseq")
class TokenAccuracy(keras.metrics.Mean):
    """Next-token accuracy over the real tokens: targets equal to 0 (padding) are skipped."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = keras.ops.cast(y_true, "int32")
        predicted = keras.ops.cast(keras.ops.argmax(y_pred, axis=-1), "int32")
        correct = keras.ops.cast(keras.ops.equal(y_true, predicted), self.dtype)
        weight = keras.ops.cast(keras.ops.not_equal(y_true, 0), self.dtype)
        if sample_weight is not None:
            weight = weight * keras.ops.cast(sample_weight, self.dtype)
        return super().update_state(correct, sample_weight=weight)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


def next_token_compile_defaults(*, learning_rate=1e-3, clipnorm=1.0):
    """The compile defaults of a model that predicts a token at every step.

    Adam with gradient clipping (RNNs), sparse categorical cross-entropy,
    accuracy and perplexity. Padding (target id 0) is left out of the loss
    and of both metrics by the target ids themselves (`ignore_class=0`,
    `TokenAccuracy`, `mask_token_id=0`): the Keras mask of the outputs does
    not reach a compiled loss, and a loss that counts padding teaches
    mostly padding (a 5-token phrase in 32 positions).
    """
    import keras_hub

    return dict(
        jit_compile=False,
        optimizer=keras.optimizers.Adam(learning_rate, clipnorm=clipnorm),
        loss=keras.losses.SparseCategoricalCrossentropy(ignore_class=0),
        metrics=[
            TokenAccuracy(name="accuracy"),
            keras_hub.metrics.Perplexity(mask_token_id=0, name="perplexity"),
        ],
    )


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
    if sequence_length is None:  # padded to the batch's longest text: maybe 0
        token_ids = AtLeastOneToken(name="at_least_one_token")(token_ids)
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
        A `model_class` instance (a `GenerativeModel`), compiled with
        `next_token_compile_defaults` when `compile` is True.
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
        model.compile()
    return model
