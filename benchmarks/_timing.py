"""Shared measurement for the benchmarks: training throughput of several
models on the same data, interleaved, best of several rounds.

Why interleaved and best-of: on a shared or quota-limited machine the rate
of one `fit` call swings by up to 2x between calls (measured on the 2-core
CI machine: the same tagger ran at 256, 387 and 415 clips/s in three calls
in a row). Timing model A for a minute and then model B for a minute turns
that drift into a false ratio. Alternating A, B, A, B, ... and keeping each
model's fastest round (as `timeit` keeps the minimum) compares both under
the same conditions; the median is reported too.
"""

import math
import statistics
import time


def repeat_batches(inputs, targets, batch_size):
    """An endless, prefetched dataset of (inputs, targets) batches."""
    import tensorflow as tf  # the rest of this module runs on any backend

    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(batch_size)
    return dataset.repeat().prefetch(tf.data.AUTOTUNE)


def cached_batches(dataset, batch_size, num_batches):
    """The first `num_batches` full batches of a batched dataset, cached and
    repeated: every step sees `batch_size` real examples and the input
    pipeline does no work while the models are timed."""
    import tensorflow as tf

    dataset = dataset.unbatch().batch(batch_size, drop_remainder=True)
    return dataset.take(num_batches).cache().repeat().prefetch(tf.data.AUTOTUNE)


def compare_training(models, dataset, batch_size, steps=10, rounds=5, warmup_steps=3,
                     min_round_seconds=1.0):
    """Trains each model in `models` (name -> compiled model) on `dataset`
    in alternation; returns, per name, examples/s of the best round and the
    median round, plus `ratio`: each best rate over the first model's.

    `dataset` must repeat (see `repeat_batches`) and yield `batch_size`
    examples per step; each round is one `fit` of at least `steps` steps,
    more for a fast model so that a round lasts `min_round_seconds` (a round
    of a few milliseconds would time the scheduler, not the model).
    """
    if not models:
        raise ValueError("compare_training needs at least one model.")
    round_steps = {}
    for name, model in models.items():  # trace the train step, fill the pipeline
        model.fit(dataset, steps_per_epoch=warmup_steps, epochs=1, verbose=0)
        start = time.perf_counter()
        model.fit(dataset, steps_per_epoch=warmup_steps, epochs=1, verbose=0)
        per_step = (time.perf_counter() - start) / warmup_steps
        round_steps[name] = max(steps, math.ceil(min_round_seconds / max(per_step, 1e-6)))
    rates = {name: [] for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            n = round_steps[name]
            start = time.perf_counter()
            model.fit(dataset, steps_per_epoch=n, epochs=1, verbose=0)
            rates[name].append(n * batch_size / (time.perf_counter() - start))
    first = max(next(iter(rates.values())))
    return {
        name: {"best": round(max(r), 2), "median": round(statistics.median(r), 2),
               "ratio": round(max(r) / first, 3), "steps_per_round": round_steps[name]}
        for name, r in rates.items()
    }


def kit_against_plain(kit, plain, dataset, batch_size, unit, **kwargs):
    """The summary's row for one factory: cvseq model against its plain
    Keras equivalent (same architecture, same parameter count, same data)."""
    if kit.count_params() != plain.count_params():
        raise AssertionError(
            f"The plain Keras baseline is not the same architecture: "
            f"{plain.count_params()} parameters against cvseq's {kit.count_params()}."
        )
    measured = compare_training({"cvseq": kit, "plain_keras": plain}, dataset,
                                batch_size, **kwargs)
    return {
        "unit": unit,
        "cvseq": measured["cvseq"]["best"],
        "plain_keras": measured["plain_keras"]["best"],
        "ratio_cvseq_over_plain_keras": round(
            measured["cvseq"]["best"] / measured["plain_keras"]["best"], 3),
        "median_cvseq": measured["cvseq"]["median"],
        "median_plain_keras": measured["plain_keras"]["median"],
        "parameters": kit.count_params(),
    }
