"""Many-to-many, unequal lengths: an RNN encoder-decoder with attention."""

import keras
import numpy as np

from cvseq import generation, text
from cvseq._validation import check_bool, check_choice, check_fraction, check_int
from cvseq.models._common import (
    RECURRENT,
    next_token_compile_defaults,
    recurrent_layer,
)
from cvseq.models._text_decoder import TextDecoderModel, decoder_vocabulary
from cvseq.models.generative import warn_deprecated
from cvseq.models.task import _untracked, warn_user


LEARNING_RATE = 3e-3
# The fixnorm radius of Nguyen and Chiang (2018): logits in [-5, 5] plus a bias.
FIXNORM_RADIUS = 5.0


@keras.saving.register_keras_serializable(package="cvseq")
class LexicalLogits(keras.layers.Layer):
    """The lexical model of Nguyen and Chiang (2018): target logits from source words.

    Called on `(scores, embeddings)`: attention weights `(batch, heads,
    target_length, source_length)` (averaged over heads) and the source
    word embeddings `(batch, source_length, d)`. The attention-weighted
    embedding `f = tanh(sum_s a_s e_s)` goes through a residual layer,
    `f + tanh(W f)`, to logits over the target vocabulary `(batch,
    target_length, vocabulary_size)`, added to the decoder's logits. It is
    a direct path from the attended source word to its translation, which
    a few thousand pairs learn long before the path through the encoder.
    """

    def __init__(self, vocabulary_size, **kwargs):
        super().__init__(**kwargs)
        # The attention weights are already zero on source padding; the
        # decoder's mask reaches the output through the other logits.
        self.supports_masking = True
        self.vocabulary_size = vocabulary_size

    def build(self, scores_shape, embeddings_shape):
        width = embeddings_shape[-1]
        self.hidden = keras.layers.Dense(width, activation="tanh", name="hidden")
        self.hidden.build((None, None, width))
        self.output_layer = keras.layers.Dense(self.vocabulary_size, use_bias=False,
                                               name="output")
        self.output_layer.build((None, None, width))

    def call(self, scores, embeddings):
        weights = keras.ops.mean(scores, axis=1)
        f = keras.ops.tanh(keras.ops.einsum("bts,bsd->btd", weights, embeddings))
        return self.output_layer(f + self.hidden(f))

    def compute_mask(self, *args, **kwargs):
        return None

    def compute_output_shape(self, scores_shape, embeddings_shape):
        return (*scores_shape[:1], scores_shape[2], self.vocabulary_size)

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size}


@keras.saving.register_keras_serializable(package="cvseq")
class NormalizedLogits(keras.layers.Layer):
    """Fixnorm logits (Nguyen and Chiang 2018): `radius * cos(h, w_v) + b_v`.

    The hidden state `(batch, ..., d)` and each output word vector `w_v`
    (the kernel's columns) are scaled to unit length, and their dot
    product is multiplied by a fixed `radius`: the logits `(batch, ...,
    vocabulary_size)` then lie in `[-radius, radius]` plus a bias, so
    frequent words cannot win by growing their vectors' norms, which is
    what lets rare words be predicted after a few epochs.
    """

    def __init__(self, vocabulary_size, radius=5.0, **kwargs):
        super().__init__(**kwargs)
        # Position by position, like the Dense it replaces: the mask passes.
        self.supports_masking = True
        self.vocabulary_size = vocabulary_size
        self.radius = radius

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel", shape=(input_shape[-1], self.vocabulary_size),
            initializer="glorot_uniform")
        self.bias = self.add_weight(
            name="bias", shape=(self.vocabulary_size,), initializer="zeros")

    def call(self, inputs):
        inputs = keras.ops.cast(inputs, self.compute_dtype)
        h = inputs / keras.ops.sqrt(
            keras.ops.sum(keras.ops.square(inputs), axis=-1, keepdims=True) + 1e-6)
        w = self.kernel / keras.ops.sqrt(
            keras.ops.sum(keras.ops.square(self.kernel), axis=0, keepdims=True) + 1e-6)
        return self.radius * keras.ops.matmul(h, w) + self.bias

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.vocabulary_size)

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size,
                "radius": self.radius}


@keras.saving.register_keras_serializable(package="cvseq")
class Translator(TextDecoderModel):
    """A `translator`: a functional encoder-decoder with `.translate()`.

    Build it with `cvseq.translator(...)`; it saves to `.keras` and loads
    back with `keras.saving.load_model`, `.translate()` included.
    """

    # The target tokenizer is not on the training path (targets come
    # tokenized), so its vocabulary is kept in the config under this key.
    vocabulary_key = "target_vocabulary"

    def target_tokenizer(self):
        """Deprecated: use the `tokenizer` property (the same
        `TextVectorization`, target vocabulary with `[START]`, `[END]`)."""
        warn_deprecated(
            "`Translator.target_tokenizer()` is deprecated and will be removed in "
            "the next release: use the `tokenizer` property instead.")
        return self.tokenizer

    @property
    def target_length(self):
        """Decoder positions: `"[START]"` plus up to `target_length - 1` tokens."""
        return self._decoder_length()

    def _encoder(self):
        """Source strings -> (source ids, encoder outputs, decoder states)."""
        names = {layer.name for layer in self.layers}
        bridges = []
        while f"bridge_{len(bridges) + 1}" in names:
            bridges.append(self.get_layer(f"bridge_{len(bridges) + 1}"))
        encoder_outputs = self.get_layer("encoder").output
        states = (
            [b.output for b in bridges] if bridges else list(encoder_outputs[1:])
        )
        # What the decoder attends over: the encoder outputs, with the source
        # embeddings beside them in models that have a "memory" layer.
        memory = (self.get_layer("memory").output if "memory" in names
                  else encoder_outputs[0])
        return keras.Model(
            self.get_layer("source").output,
            [self.get_layer("source_tokenizer").output, memory, *states],
        )

    def _step(self):
        embedding = self.get_layer("target_embedding")
        cell = self.get_layer("decoder").cell
        names = [layer.name for layer in self.layers]
        attention = projection = None
        if "attention" in names:
            attention = self.get_layer("attention")
            projection = self.get_layer("attention_projection")
        logits = self.get_layer("logits")
        lexical = self.get_layer("lexical") if "lexical" in names else None
        embedding_width = self.get_layer("source_embedding").output_dim
        n = generation.state_count(cell)

        def step(tokens, states):
            decoder_states, (memory, memory_mask) = states[:n], states[n:]
            x = keras.ops.copy(embedding(tokens))  # drop the padding mask
            x, decoder_states = generation.run_cells([cell], x, decoder_states)
            lexical_logits = None
            if attention is not None:
                context, scores = attention(
                    x[:, None, :],
                    memory,
                    value_mask=keras.ops.cast(memory_mask, "bool"),
                    return_attention_scores=True,
                )
                x = projection(keras.ops.concatenate([x, context[:, 0]], axis=-1))
                if lexical is not None:
                    # The source embeddings are the last features of the memory.
                    lexical_logits = lexical(scores, memory[..., -embedding_width:])[:, 0]
            out = logits(x)
            if lexical_logits is not None:
                out = out + lexical_logits
            return out, [*decoder_states, memory, memory_mask]

        return step

    @property
    def default_sampler(self):
        """`"beam"` (4 beams): measured on real phrases, +1 BLEU over greedy.

        Models saved before the lexical model (no `"lexical"` layer) decode
        greedily, as they did.
        """
        return "beam" if any(layer.name == "lexical" for layer in self.layers) else "greedy"

    _deprecated_keywords = {"texts": "inputs"}
    _extra_positions = 2  # "[START]" and room for "[END]"

    def translate(self, inputs=None, *args, **kwargs):
        """Translates a str or a list of str: `generate` under its task's name
        (the same arguments; the previous `texts=` still works, with a
        `DeprecationWarning`).

        Example:

        >>> model.translate(["Germany", "Spain"])  # two str, beam search
        >>> model.translate("Germany", sampler="greedy")
        """
        return self.generate(inputs, *args, **kwargs)

    def _batch(self, inputs):
        single = isinstance(inputs, str)
        texts = [inputs] if single else list(inputs if inputs is not None else [])
        if not texts or not all(isinstance(t, str) for t in texts):
            raise TypeError(
                f"`inputs` must be a str or a non-empty list of str. Received: {inputs!r}."
            )
        _check_sources(self, texts)  # once for the call, not per decoding chunk
        return texts, single

    def _initial_states(self, texts):
        source_ids, memory, *states = self._encoder()(np.array(texts, dtype=object))
        memory_mask = keras.ops.cast(keras.ops.not_equal(source_ids, 0), "float32")
        return [*states, memory, memory_mask]



def _check_sources(model, texts):
    """A `ValueError` for a source text with no token (empty or blank: the
    model would translate nothing into something), a warning when one holds
    more tokens than the model reads (its `sequence_length`): the rest would
    be cut without a word."""
    tokenizer = model.get_layer("source_tokenizer")
    limit = tokenizer.get_config()["output_sequence_length"]
    counter = getattr(model, "_source_counter", None)
    if counter is None:  # the tokenizer without its length; made once
        counter = text.make_vectorizer(tokenizer)
        _untracked(model, "_source_counter", counter)
    counts = [len(ids) for ids in text.encode(counter, texts)]
    empty = [i for i, (t, n) in enumerate(zip(texts, counts)) if n == 0 or not t.strip()]
    if empty:
        # A mistake in what the user gave: `cvseq predict` says it in one line.
        from cvseq.errors import UserInputError

        raise UserInputError(
            f"Every source text needs at least one token the model reads. Received: "
            f"source text {empty[0] + 1} of {len(texts)} is {texts[empty[0]]!r}.")
    long = [(t, n) for t, n in zip(texts, counts) if n > limit] if limit else []
    if long:
        unit = ("characters" if tokenizer.get_config()["split"] == "character"
                else "tokens")
        warn_user(
            f"{len(long)} of {len(texts)} source texts hold more than the {limit} "
            f"{unit} the translator reads, and their rest is not translated (e.g. "
            f"{long[0][0][:60]!r}: {long[0][1]} {unit}). Split long texts into "
            "shorter ones, or train with a longer sequence_length.")


def _character_level(vocabulary):
    """Whether a vocabulary (an adapted `TextVectorization`) splits characters."""
    return (isinstance(vocabulary, keras.layers.TextVectorization)
            and vocabulary.get_config()["split"] == "character")


def translator(
    *,
    source_vocabulary,
    target_vocabulary,
    sequence_length=32,
    recurrent="gru",
    units=128,
    bidirectional=True,
    attention=True,
    dropout=0.1,
    lexical=True,
    fixnorm="auto",
    compile=True,
    name=None,
):
    """Translates texts with a recurrent encoder-decoder and attention.

    The encoder, a (bidirectional) GRU or LSTM, reads the tokenized source
    string; its final states start the decoder. The decoder reads the
    target so far (teacher forcing: during training it reads the true
    previous tokens, `"[START]"` first) and at each step attends over the
    encoder outputs and, beside them, the source embeddings (one-head
    dot-product attention on learned projections; the embeddings give a
    short path from a source word to its translation) before predicting
    the next token, `"[END]"` last; the attended source embeddings also
    add their own logits (the lexical model of Nguyen and Chiang 2018),
    which is what lets a few thousand pairs teach word translations, and
    the decoder's logits are cosines scaled to [-5, 5] ("fixnorm", from
    the same paper), which lets rare target words be predicted early.
    Padding is left out of the loss and the metrics. `.translate()` uses
    beam search (4 beams) by default.
    `cvseq.text.teacher_forcing_inputs` turns (source, target) string pairs
    into the model's inputs and targets; `model.translate(texts)` decodes
    with the shared greedy, beam or sampling decoders of `cvseq.generation`.

    Args:
        source_vocabulary: list of str or adapted `TextVectorization`.
            Source tokens (see `cvseq.text.build_vocabulary`; character
            level works too).
        target_vocabulary: list of str or adapted `TextVectorization`.
            Target tokens; `"[START]"` and `"[END]"` are added.
        sequence_length: int or (source, target) pair of ints. Source
            tokens read, and decoder positions (`"[START]"` plus up to
            `target - 1` tokens). Defaults to 32.
        recurrent: `"lstm"` or `"gru"`. Defaults to `"gru"`.
        units: int. Embedding size and recurrent units of the decoder (and
            of each encoder direction). Defaults to 128.
        bidirectional: bool. Bidirectional encoder. Defaults to True.
        attention: bool. Attend over the encoder outputs at each decoder
            step; False decodes from the encoder's final states only.
            Defaults to True.
        dropout: float in [0, 1). Dropout on embeddings and before the
            output layer. Defaults to 0.1.
        lexical: bool. With attention, add the lexical model's logits
            (`LexicalLogits`: the attention-weighted source embeddings
            mapped to the target vocabulary, Nguyen and Chiang 2018) to
            the decoder's: a direct path from a source word to its
            translation. Defaults to True.
        fixnorm: `"auto"` or bool. Decoder logits from unit-length hidden
            states and output word vectors, times 5 (`NormalizedLogits`,
            "fixnorm" of Nguyen and Chiang 2018): frequent words cannot win
            by the norm of their vectors. Measured on real dictionary
            phrases (words), the model beats a word-by-word lexicon after 3
            epochs instead of 8; on character-level CLDR names it learns
            more slowly (BLEU 20.7 against 27.0 after 8 epochs), where no
            token is rare. `"auto"`: on when the target vocabulary is
            tokenized by words, off for characters. False: a plain `Dense`.
            Defaults to `"auto"`.
        compile: bool. Compile with Adam(3e-3, clipnorm=1), sparse
            categorical cross-entropy, token accuracy and perplexity
            (padding masked out). Defaults to True.
        name: str or None. Model name. Defaults to `"translator"`.

    Returns:
        A `Translator` (a `keras.Model` with `.translate()`) from
        `{"source": strings (batch,), "decoder_input": int32 (batch,
        target_length)}` to next-token probabilities `(batch, target_length,
        target_vocabulary_size)`.

    Example:

    >>> src = cvseq.text.build_vocabulary(english, level="character")
    >>> tgt = cvseq.text.build_vocabulary(spanish, level="character")
    >>> model = translator(source_vocabulary=src, target_vocabulary=tgt,
    ...                    sequence_length=48)
    >>> x, y = cvseq.text.teacher_forcing_inputs(
    ...     english, spanish, target_vocabulary=tgt, sequence_length=48)
    >>> model.fit(x, y, epochs=20)
    >>> model.translate(["Germany"])
    """
    # Arguments.
    source_vocabulary = text.check_vocabulary("source_vocabulary", source_vocabulary)
    target_vocabulary = text.check_vocabulary("target_vocabulary", target_vocabulary)
    for argument, value in (("source_vocabulary", source_vocabulary),
                            ("target_vocabulary", target_vocabulary)):
        if isinstance(value, int):
            raise TypeError(
                f"`{argument}` must be a list of tokens or an adapted "
                "TextVectorization: the translator reads and writes text. "
                f"Received: {argument}={value!r}."
            )
    source_length, target_length = text.split_lengths(sequence_length)
    check_choice("recurrent", recurrent, RECURRENT)
    units = check_int("units", units)
    check_bool("bidirectional", bidirectional)
    check_bool("attention", attention)
    check_bool("lexical", lexical)
    if isinstance(fixnorm, str) and fixnorm == "auto":
        fixnorm = not _character_level(target_vocabulary)
    elif not isinstance(fixnorm, bool):
        raise TypeError(
            "`fixnorm` must be \"auto\", True or False. "
            f"Received: fixnorm={fixnorm!r}.")
    dropout = check_fraction("dropout", dropout)
    check_bool("compile", compile)
    specials = (text.START, text.END)

    # Encoder.
    source = keras.Input((), dtype="string", name="source")
    source_ids = text.make_vectorizer(
        source_vocabulary, sequence_length=source_length, name="source_tokenizer"
    )(source)
    x = keras.layers.Embedding(
        text.vocabulary_size(source_vocabulary), units, mask_zero=True,
        name="source_embedding",
    )(source_ids)
    source_embeddings = x
    if dropout:
        x = keras.layers.Dropout(dropout, name="source_dropout")(x)
    encoder = recurrent_layer(recurrent, units, return_sequences=True,
                              return_state=True)
    if bidirectional:
        encoder = keras.layers.Bidirectional(encoder, name="encoder")
    else:
        encoder.name = "encoder"
    memory, *encoder_states = encoder(x)
    if attention:
        # The decoder attends over each source word's embedding beside its
        # encoder output: a short path from a source word to the word that
        # translates it (the "lexical model" of Nguyen and Chiang 2018), which
        # a few thousand training pairs learn much sooner than the path
        # through the encoder alone.
        memory = keras.layers.Concatenate(name="memory")([memory, x])
    if bidirectional:
        # Forward and backward states, joined and projected to the decoder's.
        half = len(encoder_states) // 2
        states = [
            keras.layers.Dense(units, activation="tanh", name=f"bridge_{i + 1}")(
                keras.layers.Concatenate(name=f"bridge_input_{i + 1}")(
                    [encoder_states[i], encoder_states[half + i]]
                )
            )
            for i in range(half)
        ]
    else:
        states = encoder_states

    # Decoder, teacher-forced.
    decoder_input = keras.Input((target_length,), dtype="int32", name="decoder_input")
    target_tokenizer = text.make_vectorizer(target_vocabulary, extra_tokens=specials)
    y = keras.layers.Embedding(
        text.vocabulary_size(target_vocabulary, specials), units, mask_zero=True,
        name="target_embedding",
    )(decoder_input)
    if dropout:
        y = keras.layers.Dropout(dropout, name="target_dropout")(y)
    y = recurrent_layer(recurrent, units, return_sequences=True, name="decoder")(
        y, initial_state=states
    )
    target_size = text.vocabulary_size(target_vocabulary, specials)
    scores = None
    if attention:
        context, scores = keras.layers.MultiHeadAttention(
            num_heads=1, key_dim=units, name="attention"
        )(y, memory, return_attention_scores=True)
        y = keras.layers.Dense(units, activation="tanh", name="attention_projection")(
            keras.layers.Concatenate(name="attention_concat")([y, context])
        )
    if dropout:
        y = keras.layers.Dropout(dropout, name="head_dropout")(y)
    if fixnorm:
        logits = NormalizedLogits(target_size, radius=FIXNORM_RADIUS, dtype="float32",
                                  name="logits")(y)
    else:
        logits = keras.layers.Dense(target_size, dtype="float32", name="logits")(y)
    if attention and lexical:
        logits = keras.layers.Add(name="lexical_add")([
            logits,
            LexicalLogits(target_size, dtype="float32", name="lexical")(
                scores, source_embeddings),
        ])
    outputs = keras.layers.Activation("softmax", dtype="float32", name="predictions")(
        logits)

    # Model.
    model = Translator(
        {"source": source, "decoder_input": decoder_input},
        outputs,
        name=name or "translator",
        # 3e-3, not 1e-3: measured on real dictionary phrases, the lexical
        # path learns the word translations in a third of the epochs.
        compile_defaults=next_token_compile_defaults(learning_rate=LEARNING_RATE),
    )
    model.target_vocabulary = decoder_vocabulary(target_tokenizer)
    if compile:
        model.compile()
    return model


# ---------------------------------------------------------------------------
# The task as `cvseq` commands, the examples and the tests see it.
# ---------------------------------------------------------------------------

from cvseq import tasks as _tasks  # noqa: E402


_tasks.register_task(_tasks.TaskSpec(
    name="translator",
    description="RNN encoder-decoder with attention (text -> text)",
    factory=translator,
    dataset="cldr_names",
    shape=lambda info, data_options: {
        "source_vocabulary": info.vocabulary["source"],
        "target_vocabulary": info.vocabulary["target"],
        "sequence_length": _tasks.sequence_length(info)},
    predict=_tasks.generate_texts(beam_width=4),
    small_data={"max_characters": 12},
    example="translation.py",
))
