"""One-to-many: from a start token (and an optional primer), a whole sequence."""

import keras

from cvseq import text
from cvseq._validation import check_int
from cvseq.models._common import next_token_model
from cvseq.models.language_model import GenerativeModel


@keras.saving.register_keras_serializable(package="cvseq")
class SequenceGenerator(GenerativeModel):
    """A `sequence_generator`: a functional model with `.generate()`.

    Build it with `cvseq.sequence_generator(...)`; it saves to `.keras` and
    loads back with `keras.saving.load_model`, `.generate()` included.
    """

    @property
    def tokens(self):
        """All token strings by id (padding, `"[UNK]"`, ..., `"[START]"`,
        `"[END]"`), or None for a model fed token ids."""
        names = {layer.name for layer in self.layers}
        if "tokenizer" not in names:
            return None
        return [str(t) for t in self.get_layer("tokenizer").get_vocabulary()]

    def generate(
        self,
        seed=None,
        length=64,
        *,
        sampler="top_k",
        temperature=1.0,
        top_k=10,
        top_p=0.9,
        beam_width=4,
        random_seed=None,
    ):
        """Generates a sequence from the start token, or continues a primer.

        Args:
            seed: None, a list of tokens, or a list of such lists. The start
                of the sequence: None starts from `"[START]"` alone; tokens
                (e.g. the first notes of a melody) are played in after it.
                Token-id models need at least one id per seed. Defaults to
                None.
            length: int. Tokens to generate after the seed; fewer if the
                model ends the sequence (`"[END]"`). Defaults to 64.
            sampler: `"greedy"`, `"top_k"`, `"top_p"`, `"random"`, `"beam"`
                or a `keras_hub.samplers.Sampler`. Defaults to `"top_k"`
                (greedy decoding tends to loop on a few tokens).
            temperature: float > 0. Softmax temperature. Defaults to 1.0.
            top_k: int. Tokens kept by `"top_k"`. Defaults to 10.
            top_p: float. Probability mass kept by `"top_p"`. Defaults to 0.9.
            beam_width: int. Beams kept by `"beam"`. Defaults to 4.
            random_seed: int or None. Seeds the random samplers: the same
                value gives the same sequence. Defaults to None.

        Returns:
            The seed followed by the generated tokens, as a list (of token
            strings, or ints for token-id models); a list of lists when
            `seed` is a list of lists.

        Example:

        >>> model.generate(length=8, random_seed=0)  # up to 8 tokens, e.g.
        ['72:1', '72:1', '71:0.5', '69:1', '71:1', '72:1', '74:1', '76:1']
        """
        length = check_int("length", length)
        batch = seed is not None and len(seed) > 0 and isinstance(seed[0], (list, tuple))
        seeds = [list(s) for s in seed] if batch else [list(seed or [])]
        tokens = self.tokens
        if tokens is None:
            prompts = [[int(t) for t in s] for s in seeds]
            if not all(prompts):
                raise ValueError(
                    "A model fed token ids needs at least one id per `seed` "
                    f"(there is no start token). Received: seed={seed!r}."
                )
            stop, suppress = None, [0]
        else:
            index = {t: i for i, t in enumerate(tokens)}
            start, end = index[text.START], index[text.END]
            unknown = sorted({t for s in seeds for t in s if t not in index})
            if unknown:
                raise ValueError(
                    f"`seed` has tokens that are not in the vocabulary: "
                    f"{unknown[:5]}."
                )
            prompts = [[start] + [index[t] for t in s] for s in seeds]
            stop, suppress = [end], [0, 1, start]
        max_length = max(len(p) for p in prompts) + length
        ids, mask = self._decode(
            prompts,
            max_length,
            stop_token_ids=stop,
            suppress_token_ids=suppress,
            sampler=sampler,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            beam_width=beam_width,
            seed=random_seed,
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
        A `SequenceGenerator` (a `keras.Model` with `.generate()`) from
        token strings `(batch, sequence_length)` (`""` pads; int ids for an
        int `vocabulary`) to next-token probabilities `(batch,
        sequence_length, vocabulary_size)`.

    Example:

    >>> ds, info = cvseq.datasets.load("bach_chorales", "train", with_info=True)
    >>> model = sequence_generator(vocabulary=info.class_names, sequence_length=64)
    >>> model.fit(ds, epochs=10)
    >>> notes = model.generate(length=48, random_seed=0)
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
