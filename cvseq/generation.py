"""Decoding shared by every generating model: greedy, sampling, beam search.

The generating models (`language_model`, `translator`, `sequence_generator`,
`image_captioner`) share one user-facing contract,
`model.generate(inputs, *, max_length, sampler, temperature, seed, ...)`
(`cvseq.models.GenerativeModel`), and all decode through `decode`, which runs a keras-hub
sampler (`keras_hub.samplers.GreedySampler`, `TopKSampler`, `TopPSampler`,
`RandomSampler`, `BeamSampler`) over a fixed-length token buffer.

A model describes one decoding step as a function

    step(tokens, states) -> (logits, new_states)

where `tokens` is int `(batch,)` (the previous token of each sequence),
`states` a list of `(batch, ...)` tensors (RNN states, and anything else
that must follow the beams, such as encoder outputs to attend over), and
`logits` float `(batch, vocabulary_size)`. `recurrent_step` builds that
function from a model's embedding, recurrent cells and output projection.

Example:

```python
lstm = keras.layers.LSTM(32, return_sequences=True)
...  # a trained model with `embedding`, `lstm` and `logits` layers
step = recurrent_step(embedding, [lstm.cell], logits_layer)
prompt = np.zeros((1, 20), "int32")
prompt[0, 0] = start_id
tokens = decode(step, prompt, initial_states=zero_states([lstm.cell], 1),
                sampler="top_k", top_k=5, seed=0, stop_token_ids=[end_id])
generated_ids(tokens, stop_token_ids=[end_id])   # [[...token ids...]]
```
"""


import keras
import numpy as np
from keras import ops

from cvseq._validation import check_choice, check_int, check_number

SAMPLERS = ("greedy", "top_k", "top_p", "random", "beam")


# The options each sampler reads. Every one takes `seed` as well: a
# deterministic sampler needs none and gives the same output with it.
_OPTIONS_READ = {
    "greedy": (),  # the most likely token, whatever the temperature
    "top_k": ("temperature", "top_k"),
    "top_p": ("temperature", "top_p"),
    "random": ("temperature",),
    "beam": ("temperature", "beam_width"),
}
_DEFAULTS = dict(temperature=1.0, top_k=10, top_p=0.9, beam_width=4)


def get_sampler(
    sampler="greedy",
    *,
    temperature=None,
    top_k=None,
    top_p=None,
    beam_width=None,
    seed=None,
    vocabulary_size=None,
):
    """Returns a keras-hub sampler by name, with validated options.

    Args:
        sampler: str or `keras_hub.samplers.Sampler`. One of `SAMPLERS`:
            `"greedy"` (most likely token), `"top_k"` (sample among the `top_k`
            most likely), `"top_p"` (sample among the smallest set of tokens
            whose probability reaches `top_p`), `"random"` (sample from the
            whole distribution) or `"beam"` (beam search keeping `beam_width`
            sequences). A sampler instance is returned as is (it carries
            its own settings: the options below are refused with it).
            Defaults to `"greedy"`.
        temperature: float > 0 or None. Divides the logits before the
            softmax: below 1 sharpens the distribution, above 1 flattens it.
            Not for `"greedy"`, whose most likely token it does not change.
            None: 1.0.
        top_k: int >= 1 or None. Tokens kept; `"top_k"` only. None: 10.
        top_p: float in (0, 1] or None. Probability mass kept; `"top_p"`
            only. None: 0.9.
        beam_width: int >= 1 or None. Beams kept; `"beam"` only. None: 4.
        seed: int or None. Seeds the random samplers; the same seed gives the
            same tokens (any sampler takes it). Defaults to None (a new
            random seed per sampler).
        vocabulary_size: int or None. The tokens to choose from, when
            known: a `TopKSampler` instance keeping more is refused (it
            failed inside TensorFlow).

    An option the chosen sampler does not read is a `ValueError`, not
    ignored.

    Returns:
        A `keras_hub.samplers.Sampler`.

    Example:

    >>> get_sampler("top_k", top_k=5, temperature=0.8, seed=1)
    <keras_hub.src.samplers.top_k_sampler.TopKSampler object at ...>
    """
    import keras_hub

    given = {key: value for key, value in dict(
        temperature=temperature, top_k=top_k, top_p=top_p,
        beam_width=beam_width).items() if value is not None}
    if isinstance(sampler, keras_hub.samplers.Sampler):
        if seed is not None:
            given["seed"] = seed
        if given:
            raise ValueError(
                f"A sampler instance ({type(sampler).__name__}) carries its own "
                f"settings, so {_listed(given)} would be ignored. Set them when "
                "you make it (e.g. keras_hub.samplers.TopKSampler(k=5, "
                "temperature=0.7, seed=0)), or pass the sampler by name "
                "(sampler=\"top_k\").")
        if isinstance(sampler, keras_hub.samplers.ContrastiveSampler):
            raise ValueError(
                "ContrastiveSampler needs the model's hidden states at each step, "
                "which cvseq's decoding does not pass. Use one of "
                f"{', '.join(map(repr, SAMPLERS))} or another keras_hub sampler.")
        if isinstance(sampler, keras_hub.samplers.BeamSampler):
            _check_beam_width(sampler.num_beams)
        if (isinstance(sampler, keras_hub.samplers.TopKSampler) and vocabulary_size
                and sampler.k > vocabulary_size):
            raise ValueError(
                f"TopKSampler(k={sampler.k}) keeps more tokens than the model has "
                f"({vocabulary_size}). Use k <= {vocabulary_size}.")
        return sampler
    check_choice("sampler", sampler, SAMPLERS)
    unread = {key: value for key, value in given.items()
              if key not in _OPTIONS_READ[sampler]}
    if unread:
        readers = sorted({name for name, read in _OPTIONS_READ.items()
                          for key in unread if key in read})
        raise ValueError(
            f"sampler={sampler!r} does not use {_listed(unread)}"
            + (" (it takes the most likely token, which temperature does not "
               "change)" if sampler == "greedy" and "temperature" in unread else "")
            + f". Leave it out, or choose a sampler that reads it: "
            f"{', '.join(repr(r) for r in readers)}.")
    options = {**_DEFAULTS, **given}
    temperature = check_number("temperature", options["temperature"])
    top_k = check_int("top_k", options["top_k"])
    top_p = check_number("top_p", options["top_p"], maximum=1)
    beam_width = _check_beam_width(options["beam_width"])
    seed = check_int("seed", seed, minimum=0, allow_none=True)

    samplers = keras_hub.samplers
    if sampler == "greedy":
        return samplers.GreedySampler(temperature=temperature)
    if sampler == "top_k":
        return samplers.TopKSampler(k=top_k, seed=seed, temperature=temperature)
    if sampler == "top_p":
        return samplers.TopPSampler(p=float(top_p), seed=seed, temperature=temperature)
    if sampler == "random":
        return samplers.RandomSampler(seed=seed, temperature=temperature)
    return samplers.BeamSampler(num_beams=beam_width, temperature=temperature)


# The most beams `"beam"` keeps: each step ranks beams x vocabulary
# candidates (10**6 beams took a minute on a 9-token model).
MAX_BEAM_WIDTH = 1_000


def _check_beam_width(value):
    beam_width = check_int("beam_width", value)
    if beam_width > MAX_BEAM_WIDTH:
        raise ValueError(
            f"`beam_width` must be at most {MAX_BEAM_WIDTH:,}: each step ranks every "
            f"beam's every next token (10**6 beams took a minute on a 9-token "
            f"model). Received: beam_width={beam_width:,}.")
    return beam_width


def _listed(options):
    return ", ".join(f"{key}={value!r}" for key, value in options.items())


def decode(
    step,
    prompt,
    *,
    initial_states,
    prompt_mask=None,
    sampler="greedy",
    stop_token_ids=None,
    suppress_token_ids=None,
    **sampler_options,
):
    """Fills a token buffer one step at a time with a keras-hub sampler.

    The prompt tokens are fed through `step` first (they are kept as given),
    then each following position gets the token the sampler picks from the
    logits of the previous step. Decoding stops when every sequence has
    produced one of `stop_token_ids`, or when the buffer is full.

    Args:
        step: callable `(tokens (batch,), states list) -> (logits (batch,
            vocabulary_size), new states list)`. See `recurrent_step`.
        prompt: int array `(batch, max_length)`. Its first positions hold
            the start (and prompt) tokens; the rest is filled in. At least
            one token per sequence.
        initial_states: list of `(batch, ...)` tensors given to the first
            step (zeros, an encoder's final states, encoder outputs).
        prompt_mask: bool array `(batch, max_length)`, True on prompt
            positions (a prefix of each row). Defaults to None: only the
            first position (a start token) is the prompt.
        sampler: str or `keras_hub.samplers.Sampler`. See `get_sampler`.
            Defaults to `"greedy"`.
        stop_token_ids: list of int or None. Tokens that end a sequence.
            Defaults to None.
        suppress_token_ids: list of int or None. Tokens never generated,
            such as padding or the start token. Defaults to None.
        **sampler_options: `temperature`, `top_k`, `top_p`, `beam_width`,
            `seed`; see `get_sampler`.

    Returns:
        int32 array `(batch, max_length)`: the prompt followed by the
        generated tokens. Positions after a sequence's stop token hold
        whatever was sampled there; `generated_ids` trims them.

    Example:

    >>> prompt = np.array([[start_id, 0, 0, 0, 0, 0]])
    >>> decode(step, prompt, initial_states=zero_states(cells, 1)).shape
    (1, 6)
    """
    # None: the sampler's default.
    sampler_options = {k: v for k, v in sampler_options.items() if v is not None}
    get_sampler(sampler, **sampler_options)  # validates before any work
    prompt = np.asarray(prompt)
    if prompt.ndim != 2 or prompt.shape[1] < 1 or prompt.dtype.kind not in "iu":
        raise ValueError(
            "`prompt` must be an int array (batch, max_length). "
            f"Received: shape {prompt.shape} of dtype {prompt.dtype}."
        )
    if prompt_mask is None:
        prompt_mask = np.zeros(prompt.shape, bool)
        prompt_mask[:, 0] = True
    prompt_mask = np.asarray(prompt_mask, bool)
    if prompt_mask.shape != prompt.shape:
        raise ValueError(
            "`prompt_mask` must have the shape of `prompt`. Received: "
            f"prompt_mask of shape {prompt_mask.shape}, prompt {prompt.shape}."
        )
    lengths = prompt_mask.sum(axis=1)
    if lengths.min() < 1:
        raise ValueError(
            "Every sequence needs at least one prompt token (a start token). "
            f"Received prompt lengths {lengths.tolist()}."
        )
    suppress = [
        check_int("suppress_token_ids", t, minimum=0)
        for t in (suppress_token_ids or ())
    ]

    def logits_of(tokens, states):
        logits, states = step(tokens, list(states))
        logits = ops.cast(logits, "float32")
        if suppress:
            bias = np.zeros((logits.shape[-1],), "float32")
            bias[[t for t in suppress if t < len(bias)]] = -1e9
            logits = logits + bias
        return logits, tuple(states)

    # Run the prompt shared by the whole batch before the sampler: for beam
    # search, positions forced inside the loop would fill the beams with
    # copies of one sequence.
    start = int(lengths.min())
    tokens = ops.convert_to_tensor(prompt, "int32")
    states = tuple(initial_states)
    for index in range(start - 1):
        logits, states = logits_of(tokens[:, index], states)
    if start >= prompt.shape[1]:
        return prompt.astype("int32")
    if sampler == "top_k":
        # `top_k` beyond the vocabulary keeps every token (one extra step
        # learns the vocabulary size when the prompt gave none).
        if start == 1:
            logits, _ = logits_of(tokens[:, 0], states)
        top_k = min(sampler_options.get("top_k", _DEFAULTS["top_k"]),
                    int(logits.shape[-1]))
        sampler_options = {**sampler_options, "top_k": top_k}
    sampler = get_sampler(sampler, **sampler_options)

    def next(buffer, cache, index):
        previous = ops.take(buffer, index - 1, axis=1)
        logits, cache = logits_of(previous, cache)
        return logits, None, cache

    output = sampler(
        next,
        tokens,
        cache=states,
        index=start,
        mask=ops.convert_to_tensor(prompt_mask),
        stop_token_ids=list(stop_token_ids) if stop_token_ids else None,
    )
    return np.asarray(ops.convert_to_numpy(output)).astype("int32")


def traced(step):
    """`step` as one compiled call per decoding step where the backend allows.

    On TensorFlow the step becomes a `tf.function` (shapes relaxed after the
    first retrace, so other batch sizes and beam widths reuse it): the
    model's layers run as one graph call instead of op by op. It reads the
    model's variables when it runs, so later training is seen. Other
    backends get `step` unchanged (a `jax.jit` would freeze the weights it
    was traced with).
    """
    if keras.backend.backend() != "tensorflow":
        return step
    import tensorflow as tf

    return tf.function(step, reduce_retracing=True)


def generated_ids(tokens, *, prompt_mask=None, stop_token_ids=None, pad_id=0):
    """The generated part of each decoded row, up to its first stop token.

    Args:
        tokens: int array `(batch, max_length)` from `decode`.
        prompt_mask: bool array or None. The prompt positions to drop; None
            drops the first position (the start token). Defaults to None.
        stop_token_ids: list of int or None. A sequence ends before the
            first of these. Defaults to None.
        pad_id: int. Padding dropped from the output. Defaults to 0.

    Returns:
        A list (one per row) of lists of int token ids.
    """
    tokens = np.asarray(tokens)
    if prompt_mask is None:
        prompt_mask = np.zeros(tokens.shape, bool)
        prompt_mask[:, 0] = True
    stops = set(stop_token_ids or ())
    rows = []
    for row, mask in zip(tokens, np.asarray(prompt_mask, bool)):
        ids = []
        for token in row[~mask]:
            if int(token) in stops:
                break
            if int(token) != pad_id:
                ids.append(int(token))
        rows.append(ids)
    return rows


def state_count(cell):
    """Number of state tensors of a recurrent cell (LSTM: 2, GRU: 1)."""
    return len(keras.tree.flatten(cell.state_size))


def zero_states(cells, batch_size):
    """Zero initial states for a stack of recurrent cells, as one flat list."""
    states = []
    for cell in cells:
        for size in keras.tree.flatten(cell.state_size):
            states.append(ops.zeros((batch_size, size), "float32"))
    return states


def run_cells(cells, x, states):
    """One step through a stack of cells: `(output, new flat states)`."""
    new_states, offset = [], 0
    for cell in cells:
        n = state_count(cell)
        x, cell_states = cell(x, states[offset:offset + n], training=False)
        new_states.extend(keras.tree.flatten(cell_states))
        offset += n
    return x, new_states


def recurrent_step(embedding, cells, logits_layer):
    """Builds a `step` function from a model's layers.

    Args:
        embedding: layer `tokens (batch,) -> (batch, features)`.
        cells: list of recurrent cells (`keras.layers.LSTM(...).cell`, ...),
            applied in order.
        logits_layer: layer `(batch, units) -> (batch, vocabulary_size)`
            logits (no softmax).

    Returns:
        `step(tokens, states) -> (logits, new_states)`, where `states` is
        the flat list of every cell's states (see `zero_states`).
    """

    def step(tokens, states):
        # A copy drops the padding mask of `Embedding(mask_zero=True)`: one
        # token per step has nothing to mask, and cells do not take masks.
        x = ops.copy(embedding(tokens))
        x, states = run_cells(cells, x, states)
        return logits_layer(x), states

    return step
