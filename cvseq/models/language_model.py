"""Many-to-many: an LSTM/GRU language model that predicts the next token."""

import keras
import numpy as np

from cvseq import generation, text
from cvseq._validation import check_int
from cvseq.models._common import next_token_model


class GenerativeModel(keras.Model):
    """A functional next-token model that can step its cells one at a time."""

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
            self._step(),
            buffer,
            initial_states=generation.zero_states(cells, len(prompts)),
            prompt_mask=mask,
            stop_token_ids=stop_token_ids,
            suppress_token_ids=suppress_token_ids,
            **sampler_options,
        )
        return tokens, mask


@keras.saving.register_keras_serializable(package="cvseq")
class LanguageModel(GenerativeModel):
    """A `language_model`: a functional model with `.generate()`.

    Build it with `cvseq.language_model(...)`; it saves to `.keras` and
    loads back with `keras.saving.load_model`, `.generate()` included.
    """

    @property
    def tokenizer(self):
        """The model's `TextVectorization`, or None for token-id inputs."""
        names = [layer.name for layer in self.layers]
        return self.get_layer("tokenizer") if "tokenizer" in names else None

    @property
    def sequence_length(self):
        """Tokens per training window."""
        if self.tokenizer is not None:
            return self.tokenizer.get_config()["output_sequence_length"]
        return self.inputs[0].shape[1]

    def generate(
        self,
        prompt,
        max_length=None,
        *,
        sampler="greedy",
        temperature=1.0,
        top_k=10,
        top_p=0.9,
        beam_width=4,
        seed=None,
    ):
        """Continues a prompt token by token.

        Args:
            prompt: str or list of str (token-id models: a list of int ids,
                or a list of such lists). Each prompt needs at least one
                token.
            max_length: int or None. Tokens in the result, prompt included.
                Defaults to None: the model's `sequence_length`.
            sampler: `"greedy"`, `"top_k"`, `"top_p"`, `"random"`, `"beam"`
                or a `keras_hub.samplers.Sampler`. Defaults to `"greedy"`.
            temperature: float > 0. Softmax temperature. Defaults to 1.0.
            top_k: int. Tokens kept by `"top_k"`. Defaults to 10.
            top_p: float. Probability mass kept by `"top_p"`. Defaults to 0.9.
            beam_width: int. Beams kept by `"beam"`. Defaults to 4.
            seed: int or None. Seeds the random samplers: the same seed gives
                the same text. Defaults to None.

        Returns:
            The prompt and its continuation, as it tokenizes (e.g. lowercased
            words without punctuation): a str for one prompt, a list for a
            list of prompts. Token-id models return int lists.

        Example:

        >>> model.generate("to be or not", max_length=12, sampler="top_k",
        ...                seed=1)   # a str of 12 words, the same for seed=1
        """
        tokenizer = self.tokenizer
        single = isinstance(prompt, str) or (
            tokenizer is None and len(prompt) and np.ndim(prompt[0]) == 0
        )
        prompts = [prompt] if single else list(prompt)
        if not prompts:
            raise ValueError("`prompt` is empty: give a prompt to continue.")
        if tokenizer is not None:
            if not all(isinstance(p, str) for p in prompts):
                raise TypeError(
                    "`prompt` must be a str or a list of str for a model that "
                    f"reads text. Received: prompt={prompt!r}."
                )
            vectorizer = text.make_vectorizer(tokenizer)
            ids = text.encode(vectorizer, prompts)
        else:
            ids = [[int(t) for t in p] for p in prompts]
        empty = [p for p, i in zip(prompts, ids) if not i]
        if empty:
            raise ValueError(
                "Every prompt needs at least one token of the vocabulary. "
                f"Received empty prompt(s): {empty!r}."
            )
        max_length = check_int(
            "max_length", max_length or self.sequence_length, minimum=2
        )
        tokens, _ = self._decode(
            ids,
            max_length,
            suppress_token_ids=[0, 1],  # padding and "[UNK]"
            sampler=sampler,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            beam_width=beam_width,
            seed=seed,
        )
        if tokenizer is None:
            out = [[int(t) for t in row if t] for row in tokens]
        else:
            out = text.decode_ids(vectorizer, tokens)
        return out[0] if single else out


def language_model(
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
    """Predicts the next token at every position of a text, and generates.

    Raw text windows go in: a `TextVectorization` inside the model
    tokenizes them (words or characters, as `vocabulary` says); an
    embedding feeds `num_layers` LSTM (or GRU) layers; a softmax gives the
    next-token distribution at each position. Position `t` predicts token
    `t + 1`, so the targets are the window shifted by one token
    (`cvseq.text.language_model_windows` makes them). `model.generate()`
    continues a prompt with the shared decoders of `cvseq.generation`.

    Args:
        vocabulary: list of str, adapted `keras.layers.TextVectorization`, or
            int. Tokens (see `cvseq.text.build_vocabulary`, word or
            character level); an int is the vocabulary size of a model fed
            token ids.
        sequence_length: int. Tokens per training window.
        recurrent: `"lstm"` or `"gru"`. Defaults to `"lstm"`.
        units: int. Embedding size and recurrent units. Defaults to 256.
        num_layers: int. Stacked recurrent layers. Defaults to 1.
        dropout: float in [0, 1). Dropout before each recurrent layer and
            the output layer. Defaults to 0.1.
        compile: bool. Compile with Adam(1e-3, clipnorm=1), sparse
            categorical cross-entropy, accuracy and perplexity (padding
            masked out). Defaults to True.
        name: str or None. Model name. Defaults to `"language_model"`.

    Returns:
        A `LanguageModel` (a `keras.Model` with `.generate()`) from strings
        `(batch,)` (or int token ids `(batch, sequence_length)`) to next-token
        probabilities `(batch, sequence_length, vocabulary_size)`.

    Example:

    >>> vocabulary = cvseq.text.build_vocabulary(lines, max_tokens=4000)
    >>> model = language_model(vocabulary=vocabulary, sequence_length=24)
    >>> windows, targets = cvseq.text.language_model_windows(
    ...     lines, vocabulary=vocabulary, sequence_length=24)
    >>> model.fit(windows, targets, epochs=5)
    >>> model.generate("to be or not", max_length=16, sampler="top_k", seed=0)
    """
    return next_token_model(
        LanguageModel,
        vocabulary=vocabulary,
        sequence_length=sequence_length,
        recurrent=recurrent,
        units=units,
        num_layers=num_layers,
        dropout=dropout,
        compile=compile,
        name=name or "language_model",
    )
