"""Benchmark of the sequence factories against plain Keras; prints JSON.

For each of `text_classifier`, `language_model`, `translator`,
`sequence_generator`, `image_captioner` and `trajectory_predictor`: the
training throughput (`fit`, teacher-forced where the model decodes) of the
cvseq model at its default architecture against the same architecture
written with stock `keras.layers` (`plain_*` below), in one process, on the
same batches of the factory's embedded data set, alternating the two models
(best of `--rounds`, see `_timing.py`). `ratio_cvseq_over_plain_keras` ~1
means cvseq adds nothing; > 1 means it is faster.

Each plain builder has the same parameter count, optimizer, loss and
metrics as its factory; tests/test_benchmarks_sequence.py copies the cvseq
weights into it and checks that both predict the same outputs.

    python benchmarks/sequence_factories.py                      # all six
    python benchmarks/sequence_factories.py --only translator --rounds 3
"""

import argparse
import json
import os
import platform
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import keras_hub  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

import cvseq  # noqa: E402
from cvseq import text  # noqa: E402

from _timing import cached_batches, kit_against_plain  # noqa: E402

FACTORIES = ("text_classifier", "language_model", "translator",
             "sequence_generator", "image_captioner", "trajectory_predictor")
BATCH_SIZE = {"text_classifier": 64}  # the others: 32
RNN = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}
WORDS = dict(standardize="lower_and_strip_punctuation", split="whitespace")


# Plain Keras builders: the factories' architectures with stock layers.


class MaskedAccuracy(keras.metrics.Mean):
    """Next-token accuracy over the targets that are not padding (id 0)."""

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        hit = ops.cast(ops.equal(y_true, ops.cast(ops.argmax(y_pred, axis=-1), "int32")),
                       self.dtype)
        return super().update_state(
            hit, sample_weight=ops.cast(ops.not_equal(y_true, 0), self.dtype))


def _compile_next_token(model, learning_rate=1e-3):
    """What cvseq's generating models compile with, spelled out: padding
    (target id 0) left out of the loss and both metrics."""
    model.compile(
        keras.optimizers.Adam(learning_rate, clipnorm=1.0),
        keras.losses.SparseCategoricalCrossentropy(ignore_class=0),
        metrics=[MaskedAccuracy(name="accuracy"),
                 keras_hub.metrics.Perplexity(mask_token_id=0, name="perplexity")],
        jit_compile=False,
    )
    return model


def _next_token_head(x, vocabulary_size, *, units, recurrent, num_layers, dropout):
    x = keras.layers.Embedding(vocabulary_size, units, mask_zero=True)(x)
    for _ in range(num_layers):
        x = keras.layers.Dropout(dropout)(x)
        x = RNN[recurrent](units, return_sequences=True)(x)
    x = keras.layers.Dropout(dropout)(x)
    return keras.layers.Dense(vocabulary_size, activation="softmax")(x)


def plain_text_classifier(num_classes, tokens, *, sequence_length=None, units=64,
                          recurrent="lstm", dropout=0.3, **tokenizer):
    """`cvseq.text_classifier` (bidirectional): strings -> class probabilities.

    `tokens`: the vocabulary without padding and "[UNK]"; `tokenizer`:
    `standardize` and `split` of the `TextVectorization` (words by default).
    """
    inputs = keras.Input((), dtype="string")
    vectorizer = keras.layers.TextVectorization(
        vocabulary=tokens, output_sequence_length=sequence_length,
        **{**WORDS, **tokenizer})
    x = keras.layers.Embedding(len(tokens) + 2, units, mask_zero=True)(vectorizer(inputs))
    x = keras.layers.Dropout(dropout)(x)
    x = keras.layers.Bidirectional(RNN[recurrent](units))(x)
    x = keras.layers.Dropout(dropout)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=False)
    return model


def plain_language_model(tokens, *, sequence_length, units=256, recurrent="lstm",
                         num_layers=1, dropout=0.1, **tokenizer):
    """`cvseq.language_model`: text windows -> next-token probabilities."""
    inputs = keras.Input((), dtype="string")
    vectorizer = keras.layers.TextVectorization(
        vocabulary=tokens, output_sequence_length=sequence_length,
        **{**WORDS, **tokenizer})
    outputs = _next_token_head(vectorizer(inputs), len(tokens) + 2, units=units,
                               recurrent=recurrent, num_layers=num_layers,
                               dropout=dropout)
    return _compile_next_token(keras.Model(inputs, outputs))


def plain_sequence_generator(tokens, *, sequence_length, units=256, recurrent="lstm",
                             num_layers=1, dropout=0.1):
    """`cvseq.sequence_generator`: string tokens -> next-token probabilities.

    `tokens`: the vocabulary; "[START]" and "[END]" are appended.
    """
    inputs = keras.Input((sequence_length,), dtype="string")
    tokens = list(tokens) + [t for t in (text.START, text.END) if t not in tokens]
    ids = keras.layers.StringLookup(vocabulary=tokens, mask_token="",
                                    oov_token="[UNK]")(inputs)
    outputs = _next_token_head(ids, len(tokens) + 2, units=units, recurrent=recurrent,
                               num_layers=num_layers, dropout=dropout)
    return _compile_next_token(keras.Model(inputs, outputs))


def plain_translator(source_tokens, target_vocabulary_size, *, sequence_length,
                     units=128, recurrent="gru", dropout=0.1, **tokenizer):
    """`cvseq.translator` (bidirectional encoder, attention, lexical logits), teacher-forced:
    `{"source": strings, "decoder_input": ids}` -> next-token probabilities.

    `sequence_length`: `(source, target)` lengths; `target_vocabulary_size`
    counts padding, "[UNK]", "[START]" and "[END]".
    """
    source_length, target_length = sequence_length
    source = keras.Input((), dtype="string", name="source")
    vectorizer = keras.layers.TextVectorization(
        vocabulary=source_tokens, output_sequence_length=source_length,
        **{**WORDS, **tokenizer})
    embeddings = keras.layers.Embedding(len(source_tokens) + 2, units, mask_zero=True)(
        vectorizer(source))
    x = keras.layers.Dropout(dropout)(embeddings)
    memory, *encoder_states = keras.layers.Bidirectional(
        RNN[recurrent](units, return_sequences=True, return_state=True))(x)
    # Attention reads each source word's embedding beside its encoder output.
    memory = keras.layers.Concatenate()([memory, x])
    half = len(encoder_states) // 2
    states = [
        keras.layers.Dense(units, activation="tanh")(
            keras.layers.Concatenate()([encoder_states[i], encoder_states[half + i]]))
        for i in range(half)
    ]
    decoder_input = keras.Input((target_length,), dtype="int32", name="decoder_input")
    y = keras.layers.Embedding(target_vocabulary_size, units, mask_zero=True)(decoder_input)
    y = keras.layers.Dropout(dropout)(y)
    y = RNN[recurrent](units, return_sequences=True)(y, initial_state=states)
    context, scores = keras.layers.MultiHeadAttention(num_heads=1, key_dim=units)(
        y, memory, return_attention_scores=True)
    y = keras.layers.Dense(units, activation="tanh")(
        keras.layers.Concatenate()([y, context]))
    y = keras.layers.Dropout(dropout)(y)
    # Lexical logits (Nguyen and Chiang 2018): the attended source embeddings.
    f = keras.layers.Lambda(lambda a: keras.ops.tanh(keras.ops.einsum(
        "bts,bsd->btd", keras.ops.mean(a[0], axis=1), a[1])),
        output_shape=(target_length, units))([scores, embeddings])
    # f + tanh(W f) -> logits, as one nested model so the weights line up
    # with the factory's single "lexical" layer.
    f_in = keras.Input((target_length, units))
    lexical_head = keras.Model(f_in, keras.layers.Dense(
        target_vocabulary_size, use_bias=False)(keras.layers.Add()(
            [f_in, keras.layers.Dense(units, activation="tanh")(f_in)])))
    logits = keras.layers.Dense(target_vocabulary_size)(y)
    lexical = lexical_head(f)
    outputs = keras.layers.Activation("softmax")(keras.layers.Add()([logits, lexical]))
    model = keras.Model({"source": source, "decoder_input": decoder_input}, outputs)
    return _compile_next_token(model, learning_rate=3e-3)  # the translator's Adam


def plain_image_captioner(vocabulary_size, *, image_size=(64, 64), sequence_length=20,
                          units=256, dropout=0.1):
    """`cvseq.image_captioner` (small CNN, LSTM, attention), teacher-forced:
    `{"images": pixels, "decoder_input": ids}` -> next-word probabilities.

    `vocabulary_size` counts padding, "[UNK]", "[START]" and "[END]".
    """
    images = keras.Input((*image_size, 3), name="images")
    x = keras.layers.Rescaling(1 / 255)(images)
    for stage, filters in enumerate((16, 32, 64, 128), start=1):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization(momentum=0.9)(x)
        x = keras.layers.ReLU()(x)
        if stage < 4:
            x = keras.layers.MaxPooling2D(2)(x)
    feature_map = x
    x = keras.layers.Dense(16, activation="relu")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dropout(dropout)(x)
    context = keras.layers.Dense(units, activation="relu")(x)
    states = [keras.layers.Dense(units, activation="tanh")(context) for _ in "hc"]
    decoder_input = keras.Input((sequence_length,), dtype="int32", name="decoder_input")
    y = keras.layers.Embedding(vocabulary_size, units, mask_zero=True)(decoder_input)
    y = keras.layers.Dropout(dropout)(y)
    y = keras.layers.Concatenate()(
        [y, keras.layers.RepeatVector(sequence_length)(context)])
    y = keras.layers.LSTM(units, return_sequences=True)(y, initial_state=states)
    height, width, channels = feature_map.shape[1:]
    memory = keras.layers.Dense(units)(
        keras.layers.Reshape((height * width, channels))(feature_map))
    memory = memory + keras_hub.layers.PositionEmbedding(height * width)(memory)
    attended = keras.layers.MultiHeadAttention(num_heads=1, key_dim=units)(y, memory)
    y = keras.layers.Dense(units, activation="tanh")(
        keras.layers.Concatenate()([y, attended]))
    y = keras.layers.Dropout(dropout)(y)
    outputs = keras.layers.Dense(vocabulary_size, activation="softmax")(y)
    model = keras.Model({"images": images, "decoder_input": decoder_input}, outputs)
    return _compile_next_token(model)


def _displacement(y_true, y_pred):
    return ops.sqrt(ops.sum(ops.square(ops.cast(y_true, y_pred.dtype) - y_pred), axis=-1))


class RunningStepScale(keras.layers.Layer):
    """The running mean squared step length of the training data, and its
    root (the unit the plain trajectory model works in)."""

    def build(self, _):
        self.variance = self.add_weight(shape=(), initializer="ones", trainable=False)
        self.count = self.add_weight(shape=(), initializer="zeros", trainable=False)

    def call(self, p, training=False):
        steps = p[:, 1:] - p[:, :-1]
        if training:
            count = self.count + ops.cast(ops.shape(steps)[0] * ops.shape(steps)[1],
                                          "float32")
            self.variance.assign(
                (self.variance * self.count + ops.sum(ops.square(steps))) / count)
            self.count.assign(count)
        return ops.sqrt(ops.where(self.variance > 0, self.variance, 1.0))


def plain_trajectory_predictor(*, history=12, horizon=8, features=2, units=64,
                               recurrent="lstm"):
    """`cvseq.trajectory_predictor` (dropout 0): past -> future positions."""
    past = keras.Input((history, features))
    scale = RunningStepScale()(past)
    # Steps (0 at the first) and offsets from the last position, in units
    # of the scale.
    x = keras.layers.Lambda(lambda t: ops.concatenate(
        [ops.concatenate([ops.zeros_like(t[0][:, :1]), t[0][:, 1:] - t[0][:, :-1]], axis=1),
         t[0] - t[0][:, -1:]], axis=-1) / t[1])([past, scale])
    x = keras.layers.Dense(units, activation="relu")(x)
    summary, *states = RNN[recurrent](units, return_state=True)(x)
    x = keras.layers.RepeatVector(horizon)(summary)
    x = RNN[recurrent](units, return_sequences=True)(x, initial_state=states)
    residual = keras.layers.Dense(features, kernel_initializer="zeros")(x)
    # Constant velocity from the last position, plus the summed residuals.
    future = keras.layers.Lambda(lambda t: (
        t[0][:, -1:]
        + ops.reshape(ops.arange(1, horizon + 1, dtype="float32"), (1, -1, 1))
        * (t[0][:, -1:] - t[0][:, -2:-1])
        + t[2] * ops.cumsum(t[1], axis=1)))([past, residual, scale])
    model = keras.Model(past, future)
    model.compile(
        keras.optimizers.Adam(5e-3, epsilon=1e-12), jit_compile=False,
        # Mean Euclidean distance (the floor keeps an exact prediction's
        # gradient finite).
        loss=lambda t, p: ops.mean(
            ops.sqrt(ops.maximum(ops.sum(ops.square(t - p), axis=-1), 1e-30)), axis=-1),
        metrics=[
            keras.metrics.MeanMetricWrapper(
                lambda t, p: ops.mean(_displacement(t, p), axis=-1), name="ade"),
            keras.metrics.MeanMetricWrapper(
                lambda t, p: _displacement(t[:, -1], p[:, -1]), name="fde"),
        ],
    )
    return model


# Data and models of each factory: (kit, plain, dataset, unit, data note).


def tokenizer_of(vectorizer):
    """A `TextVectorization`'s tokens (no padding, "[UNK]") and settings,
    as the plain builders take them."""
    config = vectorizer.get_config()
    return text.tokens_of(vectorizer), dict(standardize=config["standardize"],
                                            split=config["split"])


def _load(name, batch_size, num_batches, **options):
    dataset, info = cvseq.datasets.load(name, "train", batch_size=batch_size,
                                        shuffle=False, with_info=True, **options)
    return cached_batches(dataset, batch_size, num_batches), info


def setup_text_classifier(batch_size, num_batches):
    length = 40
    data, info = _load("rotten_tomatoes", batch_size, num_batches, max_tokens=8000)
    kit = cvseq.text_classifier(2, vocabulary=info.vocabulary, sequence_length=length)
    tokens, tokenizer = tokenizer_of(info.vocabulary)
    plain = plain_text_classifier(2, tokens, sequence_length=length, **tokenizer)
    return kit, plain, data, "texts/s", (
        f"rotten_tomatoes train, {len(tokens) + 2}-word vocabulary, {length} tokens")


def setup_language_model(batch_size, num_batches):
    length = 32
    data, info = _load("hamlet", batch_size, num_batches, sequence_length=length)
    kit = cvseq.language_model(vocabulary=info.vocabulary, sequence_length=length)
    tokens, tokenizer = tokenizer_of(info.vocabulary)
    plain = plain_language_model(tokens, sequence_length=length, **tokenizer)
    return kit, plain, data, "windows/s", (
        f"hamlet train, word windows of {length}, {len(tokens) + 2}-word vocabulary")


def setup_translator(batch_size, num_batches):
    data, info = _load("cldr_names", batch_size, num_batches)
    lengths = tuple(data.element_spec[0]["decoder_input"].shape[1:]) * 2
    source, target = info.vocabulary["source"], info.vocabulary["target"]
    kit = cvseq.translator(source_vocabulary=source, target_vocabulary=target,
                           sequence_length=lengths)
    tokens, tokenizer = tokenizer_of(source)
    plain = plain_translator(tokens, text.vocabulary_size(target, (text.START, text.END)),
                             sequence_length=lengths, **tokenizer)
    return kit, plain, data, "pairs/s", (
        f"cldr_names en->es train, characters, {lengths[0]} positions")


def _chorales_cached():
    try:
        import music21
    except ImportError:
        return False
    from cvseq.datasets import chorales

    return os.path.exists(os.path.join(
        chorales.cache_dir(), f"bach_chorales-music21-{music21.__version__}.json"))


# Note tokens of the bach_chorales training split (music21 10.5.1), for the
# synthetic stand-in when parsing the corpus (~1.5 min) is not wanted.
CHORALE_VOCABULARY_SIZE = 228


def setup_sequence_generator(batch_size, num_batches, *, length=64):
    if _chorales_cached():
        data, info = _load("bach_chorales", batch_size, num_batches,
                           sequence_length=length)
        vocabulary = info.vocabulary
        note = f"bach_chorales train, {length} tokens, {len(vocabulary) + 4} token ids"
    else:
        rng = np.random.default_rng(0)
        vocabulary = [f"note{i}" for i in range(CHORALE_VOCABULARY_SIZE)]
        n = batch_size * num_batches
        inputs = np.array(vocabulary, object)[rng.integers(len(vocabulary), size=(n, length))]
        targets = text.token_ids(inputs, vocabulary)
        data = tf.data.Dataset.from_tensor_slices((tf.constant(inputs.astype(str)), targets))
        data = cached_batches(data.batch(batch_size), batch_size, num_batches)
        note = (f"SYNTHETIC random tokens of the bach_chorales vocabulary size "
                f"({len(vocabulary) + 4} token ids; no chorale cache in "
                f"~/.cache/cvseq), {length} tokens")
    kit = cvseq.sequence_generator(vocabulary=vocabulary, sequence_length=length)
    plain = plain_sequence_generator(vocabulary, sequence_length=length)
    return kit, plain, data, "sequences/s", note


def setup_image_captioner(batch_size, num_batches, *, image_size=48, length=16):
    from cvseq.datasets import captions

    data, _ = _load("digit_captions", batch_size, num_batches,
                    num_images=batch_size * num_batches,
                    image_size=(image_size, image_size), sequence_length=length)
    size = (image_size, image_size)
    kit = cvseq.image_captioner(vocabulary=captions.VOCABULARY, image_size=size,
                                sequence_length=length)
    plain = plain_image_captioner(
        text.vocabulary_size(captions.VOCABULARY, (text.START, text.END)),
        image_size=size, sequence_length=length)
    return kit, plain, data, "images/s", (
        f"digit_captions train, {image_size}x{image_size} images, {length} positions")


def setup_trajectory_predictor(batch_size, num_batches):
    data, _ = _load("digit_trajectories", batch_size, num_batches,
                    num_trajectories=batch_size * num_batches)
    kit = cvseq.trajectory_predictor()
    plain = plain_trajectory_predictor()
    return kit, plain, data, "trajectories/s", (
        "digit_trajectories train, 12 past and 8 future positions")


SETUPS = {name: globals()[f"setup_{name}"] for name in FACTORIES}


def measure(name, *, batch_size, steps, rounds, num_batches):
    """One factory's row: `kit_against_plain` plus the data used."""
    keras.utils.set_random_seed(0)
    kit, plain, data, unit, note = SETUPS[name](batch_size, num_batches)
    row = kit_against_plain(kit, plain, data, batch_size, unit, steps=steps,
                            rounds=rounds)
    row["data"] = note
    row["synthetic_data"] = note.startswith("SYNTHETIC")
    row["batch_size"] = batch_size
    return row


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(FACTORIES),
                        help=f"comma-separated factories, of: {', '.join(FACTORIES)}")
    parser.add_argument("--steps", type=int, default=10, help="training steps per round")
    parser.add_argument("--rounds", type=int, default=5,
                        help="alternating timed rounds; the best one counts")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="examples per step; default 64 for the text "
                        "classifier, 32 for the others")
    parser.add_argument("--batches", type=int, default=16,
                        help="distinct batches of data, cycled")
    args = parser.parse_args(argv)
    args.only = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in args.only if n not in FACTORIES]
    if unknown:
        parser.error(f"unknown factory {', '.join(unknown)}; choose from "
                     f"{', '.join(FACTORIES)}")
    return args


def main(argv=None):
    args = parse_args(argv)
    result = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
                    "tensorflow": tf.__version__, "keras": keras.__version__},
        "settings": vars(args),
    }
    for name in args.only:
        try:
            result[name] = measure(
                name, batch_size=args.batch_size or BATCH_SIZE.get(name, 32),
                steps=args.steps, rounds=args.rounds, num_batches=args.batches)
        except Exception as err:  # one failing baseline must not end the others
            traceback.print_exc()
            result[name] = {"error": f"{type(err).__name__}: {err}"}
        keras.backend.clear_session()
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
