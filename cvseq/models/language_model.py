"""Many-to-many: an LSTM/GRU language model that predicts the next token."""

import keras
import numpy as np

from cvseq import text
from cvseq.models._common import next_token_model
from cvseq.models.generative import GenerativeModel, NextTokenModel  # noqa: F401
from cvseq.models.task import warn_user


@keras.saving.register_keras_serializable(package="cvseq")
class LanguageModel(NextTokenModel):
    """A `language_model`: a functional model with `.generate()`.

    Build it with `cvseq.language_model(...)`; it saves to `.keras` and
    loads back with `keras.saving.load_model`, `.generate()` included.
    `tokenizer` is its `TextVectorization` (None for token-id inputs).
    """

    _deprecated_keywords = {"prompt": "inputs"}

    def _generate(self, prompt, *, max_length, **sampler_options):
        """`generate` (see `GenerativeModel.generate`) for prompts.

        `inputs` is a str or a list of str (token-id models: a list of int
        ids, or a list of such lists), each with at least one token;
        `max_length` counts the prompt and defaults to the longest prompt's
        tokens plus the model's `sequence_length`. Returns the prompt and its continuation as it
        tokenizes (e.g. lowercased words without punctuation): a str for
        one prompt, a list for a list of prompts; token-id models return
        int lists.

        Example:

        >>> model.generate("to be or not", max_length=12, sampler="top_k",
        ...                seed=1)   # a str of 12 words, the same for seed=1
        """
        if prompt is None:
            raise ValueError("`inputs` is missing: give a prompt to continue.")
        tokenizer = self.tokenizer
        single = isinstance(prompt, str) or (
            tokenizer is None and len(prompt) and np.ndim(prompt[0]) == 0
            and not isinstance(prompt[0], str)
        )
        prompts = [prompt] if single else list(prompt)
        if not prompts:
            raise ValueError("`inputs` is empty: give a prompt to continue.")
        if tokenizer is not None:
            if not all(isinstance(p, str) for p in prompts):
                raise TypeError(
                    "`inputs` must be a str or a list of str for a model that "
                    f"reads text. Received: inputs={prompt!r}."
                )
            vectorizer = text.make_vectorizer(tokenizer)
            ids = text.encode(vectorizer, prompts)
        else:
            ids = self._token_ids(prompts, prompt)
        empty = [p for p, i in zip(prompts, ids) if not i]
        if empty:
            raise ValueError(
                "Every prompt needs at least one token of the vocabulary. "
                f"Received empty prompt(s): {empty!r}."
            )
        if tokenizer is not None:
            unknown = [p for p, i in zip(prompts, ids) if all(t == 1 for t in i)]  # "[UNK]"
            if unknown:
                warn_user(
                    f"Prompt {unknown[0]!r} holds no word of the model's vocabulary: it "
                    "is read as [UNK] only, so the continuation does not follow it. "
                    "Use words of the training text.")
        if max_length is None:  # as the sequence generator and `cvseq predict`
            max_length = max(len(i) for i in ids) + self.sequence_length
        tokens, _ = self._decode(
            ids,
            max_length,
            suppress_token_ids=[0, 1],  # padding and "[UNK]"
            **sampler_options,
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
        A `LanguageModel` (a `cvseq.models.GenerativeModel`) from strings
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


# ---------------------------------------------------------------------------
# The task as `cvseq` commands, the examples and the tests see it.
# ---------------------------------------------------------------------------

from cvseq import tasks as _tasks  # noqa: E402


def _continue(model, inputs, run):
    """Each input is a prompt the model continues (seed 0): words, or for a
    token-id model space-separated ids; a prompt with no token the model
    reads (blank, punctuation only, not ids) is a `UserInputError`."""
    prompts = _tasks.read_prompts(inputs, model)
    if model.tokenizer is None:
        prompts = [_tasks.read_token_ids(p, model) for p in prompts]
        ids = prompts
    else:
        ids = text.encode(text.make_vectorizer(model.tokenizer), prompts)
        empty = [p for p, i in zip(prompts, ids) if not i]
        if empty:
            raise _tasks.UserInputError(
                f"Prompt {empty[0]!r} holds no word the model reads (punctuation is "
                "dropped). Give it words, e.g. 'to be or not'.")
    # A window's worth of new tokens after the longest prompt (a prompt as
    # long as the window used to be refused with a traceback).
    longest = max(len(i) for i in ids)
    return [str(t) for t in model.generate(
        prompts, seed=0, max_length=longest + model.sequence_length)]


_tasks.register_task(_tasks.TaskSpec(
    name="language_model",
    description="RNN next-word prediction (prompt -> continuation)",
    factory=language_model,
    dataset="hamlet",
    shape=_tasks.token_sequence_shape,
    predict=_continue,
    metric="perplexity",
    small_data={"sequence_length": 8, "max_tokens": 300},
    example="next_word.py",
))
