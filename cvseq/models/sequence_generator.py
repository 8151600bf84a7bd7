"""One-to-many: from a start token (and an optional primer), a whole sequence."""

import numbers

import keras

from cvseq import text
from cvseq._validation import check_int
from cvseq.models._common import next_token_model
from cvseq.models.generative import NextTokenModel, warn_deprecated


@keras.saving.register_keras_serializable(package="cvseq")
class SequenceGenerator(NextTokenModel):
    """A `sequence_generator`: a functional model with `.generate()`.

    Build it with `cvseq.sequence_generator(...)`; it saves to `.keras` and
    loads back with `keras.saving.load_model`, `.generate()` included.
    `tokenizer` is its `StringLookup` of token strings (None for token-id
    inputs).
    """

    default_sampler = "top_k"  # greedy decoding tends to loop on a few tokens
    _deprecated_keywords = {"random_seed": "seed"}

    def generate(self, inputs=None, *args, length=None, seed=None, **kwargs):
        """Writes a sequence from the start token, or continues opening tokens.

        `inputs` (see `GenerativeModel.generate` for the other arguments):
        None starts from `"[START]"` alone; a list of tokens (e.g. the first
        notes of a melody), or one str of space-separated tokens
        (`"60:1 62:1"`), is played in after it; a list of such lists gives
        one sequence each. Token-id models need at least one id per input.
        `max_length` counts the opening tokens and the generated ones
        (fewer when the model ends the sequence with `"[END]"`); None
        generates `sequence_length` tokens after the opening. The default
        sampler is `"top_k"` (greedy decoding loops on a few tokens).

        Returns:
            The opening followed by the generated tokens, as a list (of
            token strings, or ints for token-id models); a list of lists
            for a batch.

        Example:

        >>> model.generate(max_length=8, seed=0)  # up to 8 tokens, e.g.
        ['72:1', '72:1', '71:0.5', '69:1', '71:1', '72:1', '74:1', '76:1']
        """
        # The previous release called the opening tokens `seed` and the
        # random seed `random_seed`; a `seed` that is not an int is an opening.
        if (seed is not None and not isinstance(seed, numbers.Number)
                and inputs is None):
            warn_deprecated(
                "`seed=` for the opening tokens is deprecated: pass them as "
                "`inputs` (the first argument); `seed=` is now the random seed.")
            inputs, seed = seed, None
        if length is not None or args:
            if len(args) > 1 or (args and length is not None):
                raise TypeError(
                    "SequenceGenerator.generate() takes `inputs` as its only "
                    "positional argument; pass `max_length=` by keyword."
                )
            if kwargs.get("max_length") is not None:
                raise TypeError(
                    "SequenceGenerator.generate() got both the deprecated length "
                    "(tokens after the opening) and `max_length=`; pass "
                    "`max_length=` alone (tokens in the result, opening included).")
            length = check_int("length", args[0] if args else length)
            warn_deprecated(
                "`length` (tokens after the opening) is deprecated: use "
                "`max_length=` (tokens in the result, opening included).")
            inputs = self._plain_inputs(inputs)
            openings, _ = self._openings(inputs)
            kwargs["max_length"] = max(len(s) for s in openings) + length
        return super().generate(inputs, seed=seed, **kwargs)

    def _openings(self, inputs):
        """`(list of token lists, batch)` from `inputs` (see `generate`)."""
        if inputs is None:
            return [[]], False
        if isinstance(inputs, str):
            return [inputs.split()], False
        inputs = list(inputs)
        batch = bool(inputs) and not isinstance(inputs[0], (str, int)) and (
            isinstance(inputs[0], (list, tuple, str)) or hasattr(inputs[0], "__len__"))
        if not batch:
            return [inputs], False
        return [s.split() if isinstance(s, str) else list(s) for s in inputs], True

    def _generate(self, inputs, *, max_length, **sampler_options):
        seeds, batch = self._openings(inputs)
        tokens = None if self.tokenizer is None else [
            str(t) for t in self.tokenizer.get_vocabulary()]
        if tokens is None:
            prompts = self._token_ids(seeds, inputs)
            if not all(prompts):
                raise ValueError(
                    "A model fed token ids needs at least one id per input "
                    f"(there is no start token). Received: inputs={inputs!r}."
                )
            stop, suppress, opening = None, [0], 0
        else:
            index = {t: i for i, t in enumerate(tokens)}
            start, end = index[text.START], index[text.END]
            special = sorted({str(t) for s in seeds for t in s
                              if t in (text.PAD, text.OOV, text.START, text.END)})
            if special:
                raise ValueError(
                    f"An opening holds tokens that are not notes: {special} (padding, "
                    "[UNK], [START] or [END]). The model adds [START] itself and "
                    "stops at [END]; give the opening's notes alone.")
            unknown = sorted({str(t) for s in seeds for t in s if t not in index})
            if unknown:
                raise ValueError(
                    f"`inputs` has tokens that are not in the vocabulary: "
                    f"{unknown[:5]}. A str is split at spaces into tokens "
                    "(\"60:1 62:1\"); pass a list of tokens otherwise."
                )
            prompts = [[start] + [index[t] for t in s] for s in seeds]
            stop, suppress, opening = [end], [0, 1, start], 1
        longest = max(len(p) for p in prompts) - opening
        if max_length is None:
            max_length = longest + self.sequence_length
        elif max_length <= longest:
            raise ValueError(
                f"`max_length` ({max_length}) must be greater than the longest "
                f"opening ({longest} tokens): it counts the opening too."
            )
        ids, _ = self._decode(
            prompts,
            max_length + opening,
            stop_token_ids=stop,
            suppress_token_ids=suppress,
            **sampler_options,
        )
        out = []
        for row, prompt in zip(ids, prompts):
            row = [int(t) for t in row]
            if tokens is None:
                out.append([t for t in row if t])
                continue
            generated = row[len(prompt):]
            if stop and stop[0] in generated:
                generated = generated[: generated.index(stop[0])]
            out.append([tokens[t] for t in prompt[1:] + generated if t])
        return out if batch else out[0]

    @property
    def tokens(self):
        """All token strings by id (padding, `"[UNK]"`, ..., `"[START]"`,
        `"[END]"`), or None for a model fed token ids."""
        if self.tokenizer is None:
            return None
        return [str(t) for t in self.tokenizer.get_vocabulary()]


def _tokens_input(vocabulary, sequence_length):
    """Token strings `"tokens"` (`""` pads), looked up with `[START]`, `[END]`."""
    inputs = keras.Input((sequence_length,), dtype="string", name="tokens")
    specials = [t for t in (text.START, text.END) if t not in vocabulary]
    token_ids = keras.layers.StringLookup(
        vocabulary=list(vocabulary) + specials,
        mask_token=text.PAD,
        oov_token=text.OOV,
        name="tokenizer",
    )(inputs)
    return inputs, token_ids, text.vocabulary_size(vocabulary, specials)



def sequence_generator(
    *,
    vocabulary,
    sequence_length,
    recurrent="lstm",
    units=256,
    num_layers=1,
    dropout=0.1,
    compile=True,
    name=None,
):
    """Generates token sequences (e.g. melodies) one token at a time.

    One-to-many: training sequences start with `"[START]"` and end with
    `"[END]"`, so from the start token alone the model writes a whole
    sequence. Tokens are strings (e.g. a note as `"pitch:duration"`, see
    `cvseq.music`); a `StringLookup` inside the model maps them to ids, an
    embedding feeds `num_layers` LSTM (or GRU) layers, and a softmax gives
    the next token at each position. `cvseq.text.token_sequence_inputs`
    builds the inputs and targets; `model.generate()` decodes with the
    shared samplers of `cvseq.generation`.

    Args:
        vocabulary: list of str, or int. The tokens (`"[START]"` and
            `"[END]"` are added), or the vocabulary size of a model fed int
            ids (0 = padding; no start or end token is added).
        sequence_length: int. Tokens per training window.
        recurrent: `"lstm"` or `"gru"`. Defaults to `"lstm"`.
        units: int. Embedding size and recurrent units. Defaults to 256.
        num_layers: int. Stacked recurrent layers. Defaults to 1.
        dropout: float in [0, 1). Dropout before each recurrent layer and
            the output layer. Defaults to 0.1.
        compile: bool. Compile with Adam(1e-3, clipnorm=1), sparse
            categorical cross-entropy (the negative log-likelihood per
            token), accuracy and perplexity, padding masked out. Defaults
            to True.
        name: str or None. Model name. Defaults to `"sequence_generator"`.

    Returns:
        A `SequenceGenerator` (a `cvseq.models.GenerativeModel`) from
        token strings `(batch, sequence_length)` (`""` pads; int ids for an
        int `vocabulary`) to next-token probabilities `(batch,
        sequence_length, vocabulary_size)`.

    Example:

    >>> ds, info = cvseq.datasets.load("bach_chorales", "train", with_info=True)
    >>> model = sequence_generator(vocabulary=info.class_names, sequence_length=64)
    >>> model.fit(ds, epochs=10)
    >>> notes = model.generate(max_length=48, seed=0)
    >>> cvseq.music.write_midi(notes, "chorale.mid")
    """
    # Arguments.
    if isinstance(vocabulary, keras.layers.TextVectorization):
        raise TypeError(
            "`vocabulary` must be a list of token strings or an int for "
            "token-id inputs; a TextVectorization splits text, but a "
            f"sequence_generator reads tokens. Received: vocabulary={vocabulary!r}."
        )
    # The other arguments are checked by `next_token_model`.
    return next_token_model(
        SequenceGenerator,
        vocabulary=vocabulary,
        sequence_length=sequence_length,
        recurrent=recurrent,
        units=units,
        num_layers=num_layers,
        dropout=dropout,
        compile=compile,
        name=name or "sequence_generator",
        tokens_input=_tokens_input,
    )


# ---------------------------------------------------------------------------
# The task as `cvseq` commands, the examples and the tests see it.
# ---------------------------------------------------------------------------

from cvseq import tasks as _tasks  # noqa: E402


def _generate_sequence(model, inputs, run):
    """Each input is a primer of space-separated tokens ("-": start token
    only; ids for a token-id model); tokens the model does not know are a
    `UserInputError`."""
    vocabulary = None if model.tokenizer is None else {
        str(t) for t in model.tokenizer.get_vocabulary()}
    lines = []
    for primer in inputs:
        tokens = [] if primer.strip() in ("", "-") else primer.split()
        if vocabulary is None:  # no start token: at least one id
            tokens = _tasks.read_token_ids(primer, model)
        else:
            special = {"", "[UNK]", "[START]", "[END]"}
            unknown = sorted({t for t in tokens if t not in vocabulary - special})
            if unknown:
                known = sorted(vocabulary - special)[:3]
                raise _tasks.UserInputError(
                    f"Primer {primer!r} has tokens the model does not know or "
                    f"adds itself: {unknown[:5]}. Give notes of its vocabulary, "
                    "space-separated "
                    f"(e.g. {' '.join(known)!r}), or '-' to start from nothing.")
        seed = [tokens] if tokens else None
        generated = model.generate(seed, seed=0)
        generated = generated[0] if generated and isinstance(
            generated[0], (list, tuple)) else generated
        lines.append(" ".join(str(t) for t in generated))
    return lines


_tasks.register_task(_tasks.TaskSpec(
    name="sequence_generator",
    description="RNN music generation (primer -> note sequence)",
    factory=sequence_generator,
    dataset="bach_chorales",
    shape=_tasks.token_sequence_shape,
    predict=_generate_sequence,
    metric="perplexity",
    small_data={"sequence_length": 16},
    example="music_generation.py",
))
