"""`GenerativeModel`: the one generation contract of the four generating tasks.

`language_model`, `sequence_generator`, `translator` and `image_captioner`
all decode with

    model.generate(inputs, *, max_length=None, sampler=None, temperature=None,
                   seed=None, top_k=None, top_p=None, beam_width=None)

(`translate` and `caption` are aliases) and all expose `model.tokenizer` as
a property. What `inputs` holds is the task's: a prompt (language model),
opening tokens (sequence generator), source texts (translator), images
(captioner); one input gives one output, a batch a list. `max_length`
always counts the tokens of the returned output.
"""

import numbers

import numpy as np

from cvseq import generation, text
from cvseq._validation import check_int
from cvseq.models.task import Task, _untracked, warn_user

# The most tokens `generate` writes in one call.
MAX_LENGTH = 100_000


def warn_deprecated(message):
    """A `DeprecationWarning` attributed to the first caller outside cvseq."""
    warn_user(message, DeprecationWarning)


def _decoded(value, name):
    """`value` with bytes decoded as UTF-8 (lists and tuples, nested)."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(
                f"{name} holds bytes that are not UTF-8 text ({error}). Received: "
                f"{value[:40]!r}. Decode them with their encoding first, e.g. "
                "b.decode('latin-1').") from None
    if isinstance(value, (list, tuple)) and any(
            isinstance(v, (bytes, list, tuple)) for v in value):
        return [_decoded(v, name) for v in value]
    return value


class GenerativeModel(Task):
    """A `Task` that writes token sequences with `generate`.

    Subclasses implement `_generate(inputs, *, max_length, **sampler_options)`
    and `tokenizer`, and may set `default_sampler` and
    `_deprecated_keywords` (`{old name: new name}` accepted for one release
    with a `DeprecationWarning`).
    """

    default_sampler = "greedy"
    _deprecated_keywords = {}
    _fallback_targets = "class_ids"

    def _fallback_compile_defaults(self):
        # Models saved before the defaults were kept in the config.
        from cvseq.models._common import next_token_compile_defaults

        return next_token_compile_defaults()

    @property
    def tokenizer(self):
        """The tokenizer of the text the model writes (see subclasses)."""
        raise NotImplementedError

    def generate(
        self,
        inputs=None,
        *args,
        max_length=None,
        sampler=None,
        temperature=None,
        seed=None,
        top_k=None,
        top_p=None,
        beam_width=None,
        **deprecated,
    ):
        """Writes a sequence for each input, token by token.

        Args:
            inputs: what the task continues or reads: a prompt (str, or a
                list of str; token-id models: int ids), opening tokens (a
                list of str tokens or a space-separated str), source texts
                or images. One input gives one output; a batch (a list) a
                list of outputs.
            max_length: int >= 1 or None. Most tokens in each returned
                output (a prompt or opening counts). None: the task's
                default (the longest prompt or opening plus the model's
                `sequence_length` for the language model and the sequence
                generator; the target length it was trained on for the
                translator and the captioner).
            sampler: `"greedy"`, `"top_k"`, `"top_p"`, `"random"`, `"beam"`,
                a `keras_hub.samplers.Sampler`, or None: `"beam"` when
                `beam_width` is given, else the task's default (`"greedy"`;
                `"top_k"` for the sequence generator, where greedy loops;
                `"beam"` for the translator).
            temperature: float > 0 or None. Softmax temperature (not for
                `"greedy"`). None: 1.0.
            seed: int >= 0 or None. Seeds the random samplers: the same seed
                gives the same output (any sampler takes it). Defaults to
                None.
            top_k: int or None. Tokens kept by `"top_k"`. None: 10.
            top_p: float in (0, 1] or None. Mass kept by `"top_p"`. None: 0.9.
            beam_width: int or None. Beams kept by `"beam"`, at most
                `generation.MAX_BEAM_WIDTH`. None: 4.

            An option the sampler does not read (`top_k` with `"greedy"`,
            any option with a sampler instance) is a `ValueError`, not
            ignored.

        Returns:
            One output (a str; a list of tokens for the sequence generator)
            or a list of them for a batch of inputs.
        """
        inputs, max_length, seed = self._old_arguments(
            inputs, args, max_length, seed, deprecated
        )
        inputs = self._plain_inputs(inputs)
        if isinstance(inputs, numbers.Number) and not isinstance(inputs, bool):
            raise TypeError(
                f"`inputs` of {type(self).__name__}.generate() is what the task reads "
                "(a prompt, opening tokens, source texts or images; a list for a "
                f"batch). Received the number {inputs!r}; the length is `max_length=`.")
        if max_length is not None:
            max_length = check_int("max_length", max_length)
            if max_length > MAX_LENGTH:
                raise ValueError(
                    f"`max_length` must be at most {MAX_LENGTH:,} tokens: decoding "
                    "runs one step a token and holds them all in memory (10**9 "
                    f"crashed the process). Received: max_length={max_length:,}. "
                    "Generate in pieces, each continuing the last.")
        if beam_width is not None:
            beam_width = check_int("beam_width", beam_width)
        defaulted = sampler is None
        if defaulted:  # a beam_width asks for beam search (1: one beam)
            sampler = "beam" if beam_width is not None else self.default_sampler
        if seed is not None:
            seed = check_int("seed", seed, minimum=0)
        options = dict(temperature=temperature, top_k=top_k, top_p=top_p,
                       beam_width=beam_width, seed=seed)
        options = {key: value for key, value in options.items() if value is not None}
        # Validates the sampler and its options before any decoding.
        try:
            generation.get_sampler(sampler, vocabulary_size=self._vocabulary_size(),
                                   **options)
        except ValueError as err:
            if not defaulted:
                raise
            raise ValueError(f"{err} (No sampler was given: {sampler!r} is "
                             f"{type(self).__name__}'s default.)") from None
        return self._generate(inputs, max_length=max_length, sampler=sampler, **options)

    def _vocabulary_size(self):
        """Tokens the model chooses from at each step (its logits' size)."""
        outputs = self.outputs or []
        return int(outputs[0].shape[-1]) if len(outputs) == 1 else None

    def _plain_inputs(self, inputs):
        """`inputs` as Python or NumPy values: a tensor as an array, a
        0-d array as its value, bytes (TensorFlow's strings) decoded."""
        name = f"`inputs` of {type(self).__name__}.generate()"
        if isinstance(inputs, (bool, np.bool_)):
            raise TypeError(
                f"{name} is what the task reads (a prompt, opening tokens, source "
                f"texts or images). Received: inputs={inputs!r}.")
        if isinstance(inputs, (dict, set)):
            raise TypeError(
                f"{name} must be a str, a list or an array; a {type(inputs).__name__} "
                f"has no order of its own. Received: inputs={inputs!r}.")
        if not isinstance(inputs, (np.ndarray, list, tuple, str, bytes)) and hasattr(
                inputs, "__array__"):
            inputs = np.asarray(inputs)  # a tf.Tensor, a JAX or torch array
        if isinstance(inputs, np.ndarray) and (inputs.ndim == 0 or inputs.dtype.kind in "SUO"):
            inputs = inputs.tolist()  # strings; a 0-d array as its value
        return _decoded(inputs, name)

    def _old_arguments(self, inputs, args, max_length, seed, deprecated):
        """Maps the keyword names of the previous release, with a warning."""
        for old, value in deprecated.items():
            new = self._deprecated_keywords.get(old)
            if new is None:
                raise TypeError(
                    f"{type(self).__name__}.generate() got an unexpected keyword "
                    f"argument {old!r}. Its arguments: inputs, max_length, "
                    "sampler, temperature, seed, top_k, top_p, beam_width."
                )
            given = {"inputs": inputs, "seed": seed, "max_length": max_length}[new]
            if given is not None:
                raise TypeError(
                    f"{type(self).__name__}.generate() got both `{old}=` and "
                    f"`{new}=`; `{old}=` is the deprecated name of `{new}=`: pass "
                    f"`{new}=` alone.")
            warn_deprecated(
                f"`{old}=` is deprecated and will be removed in the next release: "
                f"use `{new}=` instead.")
            if new == "inputs":
                inputs = value
            elif new == "seed":
                seed = value
            elif new == "max_length":
                max_length = value
        if args:
            if len(args) > 1 or max_length is not None:
                raise TypeError(
                    f"{type(self).__name__}.generate() takes `inputs` as its only "
                    "positional argument; pass `max_length=` by keyword."
                )
            warn_deprecated(
                "Passing the length by position is deprecated: use `max_length=`.")
            max_length = args[0]
        return inputs, max_length, seed

    def _generate(self, inputs, *, max_length, **sampler_options):
        raise NotImplementedError

    def _step(self):
        """`step(tokens, states) -> (logits, states)`: one decoding step
        (`cvseq.generation`)."""
        raise NotImplementedError

    def _decoding_step(self):
        """`_step()` traced once per model (`generation.traced`) and kept,
        in a plain dict: a `tf.function` attribute would be saved with the
        model by `tf.saved_model.save` (as Keras clears `train_function`)."""
        kept = self.__dict__.get("_decoding_steps")
        if kept is None:
            kept = {}
            _untracked(self, "_decoding_steps", kept)
        if "traced" not in kept:
            kept["traced"] = generation.traced(self._step())
        return kept["traced"]


class NextTokenModel(GenerativeModel):
    """A functional next-token model that can step its cells one at a time.

    The layer names `"embedding"`, `"recurrent_1"`, ..., `"logits"` (see
    `cvseq.models._common.next_token_model`) are what it steps through.
    """

    @property
    def tokenizer(self):
        """The model's `"tokenizer"` layer (a `TextVectorization` that splits
        text for a language model, a `StringLookup` of token strings for a
        sequence generator), or None for a model fed token ids."""
        names = {layer.name for layer in self.layers}
        return self.get_layer("tokenizer") if "tokenizer" in names else None

    @property
    def sequence_length(self):
        """Tokens per training window."""
        tokenizer = self.tokenizer
        if tokenizer is not None and "output_sequence_length" in tokenizer.get_config():
            return tokenizer.get_config()["output_sequence_length"]  # text in
        return self.inputs[0].shape[1]

    def _token_ids(self, prompts, inputs):
        """Each prompt of a model fed token ids as a list of int ids in
        `[1, vocabulary size)` (0 pads), or a clear error."""
        size = self._vocabulary_size()
        for prompt in prompts:
            if isinstance(prompt, str):
                raise TypeError(
                    "A model fed token ids takes lists of int ids as `inputs` "
                    f"(e.g. [3, 5, 2]). Received the str {prompt!r}.")
            for token in prompt:
                if isinstance(token, (bool, np.bool_)) or not isinstance(
                        token, numbers.Integral):
                    raise TypeError(
                        "A model fed token ids takes int ids as `inputs`. Received "
                        f"{token!r} ({type(token).__name__}) in inputs={inputs!r}.")
                if not 0 < token or (size is not None and token >= size):
                    raise ValueError(
                        f"Token ids must lie in [1, {size}) (0 is padding; the model "
                        f"has {size} tokens). Received the id {int(token)} in "
                        f"inputs={inputs!r}.")
        return [[int(t) for t in prompt] for prompt in prompts]

    def _cells(self):
        layers = []
        i = 1
        while any(layer.name == f"recurrent_{i}" for layer in self.layers):
            layers.append(self.get_layer(f"recurrent_{i}").cell)
            i += 1
        return layers

    def _step(self):
        return generation.recurrent_step(
            self.get_layer("embedding"), self._cells(), self.get_layer("logits")
        )

    def _decode(self, prompts, max_length, *, stop_token_ids=None,
                suppress_token_ids=None, **sampler_options):
        """Prompt id lists in, `(tokens, prompt_mask)` buffers out."""
        longest = max(len(p) for p in prompts)
        if longest >= max_length:
            raise ValueError(
                f"`max_length` ({max_length}) must be greater than the longest "
                f"prompt ({longest} tokens): it counts the prompt too."
            )
        buffer = text.pad(prompts, max_length)
        mask = np.zeros(buffer.shape, bool)
        for i, p in enumerate(prompts):
            mask[i, : len(p)] = True
        cells = self._cells()
        tokens = generation.decode(
            self._decoding_step(),
            buffer,
            initial_states=generation.zero_states(cells, len(prompts)),
            prompt_mask=mask,
            stop_token_ids=stop_token_ids,
            suppress_token_ids=suppress_token_ids,
            **sampler_options,
        )
        return tokens, mask
