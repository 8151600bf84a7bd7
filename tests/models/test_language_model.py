import numpy as np
import pytest

from factory_checks import check_factory

from cvseq import language_model, text
from cvseq.models.language_model import LanguageModel

LINES = [
    "to be or not to be that is the question",
    "whether tis nobler in the mind to suffer",
    "the slings and arrows of outrageous fortune",
]
BAD_ARGUMENTS = {
    "vocabulary": 2,
    "sequence_length": 1,
    "recurrent": "transformer",
    "units": 0,
    "num_layers": 0,
    "dropout": -0.1,
}


def _generate(model):
    return [
        model.generate("to be", max_length=14),
        model.generate(["the slings", "to"], max_length=14, sampler="top_k", seed=3),
        model.generate("whether", max_length=14, sampler="beam", beam_width=3),
    ]


@pytest.mark.parametrize("level", ["word", "character"])
def test_language_model_factory(level):
    vocabulary = text.build_vocabulary(LINES, level=level)
    windows, targets = text.language_model_windows(
        LINES, vocabulary=vocabulary, sequence_length=6
    )
    size = vocabulary.vocabulary_size()
    model = check_factory(
        language_model,
        kwargs=dict(vocabulary=vocabulary, sequence_length=6, units=8),
        inputs=windows,
        targets=targets,
        output_shape=(len(windows), 6, size),
        bad_arguments=BAD_ARGUMENTS,
        round_trip=_generate,
    )
    assert isinstance(model, LanguageModel)
    names = [m.name for m in model.metrics[-1].metrics]
    assert {"accuracy", "perplexity"} <= set(names)


def test_generate_returns_text_that_starts_with_the_prompt():
    vocabulary = text.build_vocabulary(LINES)
    model = language_model(vocabulary=vocabulary, sequence_length=6, units=8,
                           num_layers=2, recurrent="gru")
    # Punctuation is a token of its own (" , "); these lines have none.
    out = model.generate("To be or", max_length=9)
    assert isinstance(out, str) and out.startswith("to be or ")
    assert len(out.split()) == 9
    batch = model.generate(["to be", "the slings and"], max_length=5)
    assert [len(s.split()) for s in batch] == [5, 5]
    assert "[UNK]" not in " ".join(batch)


def test_generation_is_deterministic_given_a_seed():
    vocabulary = text.build_vocabulary(LINES, level="character")
    model = language_model(vocabulary=vocabulary, sequence_length=8, units=8)
    first = model.generate("to", max_length=40, sampler="random", seed=5)
    assert model.generate("to", max_length=40, sampler="random", seed=5) == first
    assert model.generate("to", max_length=40, sampler="random", seed=6) != first


def test_token_id_model_generates_ids():
    model = language_model(vocabulary=12, sequence_length=5, units=4)
    assert model.predict(np.array([[2, 3, 4, 0, 0]]), verbose=0).shape == (1, 5, 12)
    out = model.generate([2, 3], max_length=6)
    assert out[:2] == [2, 3] and len(out) == 6 and all(0 < t < 12 for t in out)


def test_bad_generate_arguments():
    model = language_model(vocabulary=["to", "be"], sequence_length=4, units=4)
    with pytest.raises(ValueError, match="at least one token"):
        model.generate("!!!")  # no word left once punctuation is stripped
    with pytest.raises(ValueError, match="max_length"):
        model.generate("to be to be", max_length=3)
    with pytest.raises(ValueError, match="sampler"):
        model.generate("to", sampler="nucleus")
    # 10**9 crashed the process (segmentation fault) instead of an error.
    with pytest.raises(ValueError, match="at most 100,000 tokens"):
        model.generate("to", max_length=10 ** 9)


def test_cli_continues_a_prompt_as_long_as_the_window(tmp_path, capsys):
    # `cvseq predict` ended in a traceback ("max_length (4) must be greater
    # than the longest prompt") for a prompt of the window's length.
    from cvseq import cli

    model = language_model(vocabulary=["to", "be", "or", "not"], sequence_length=4,
                           units=4)
    path = str(tmp_path / "lm.keras")
    model.save(path)
    assert cli.main(["predict", path, "to be or not to be"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("to be or not to be") and len(line.split()) > 6


def test_padding_is_masked_from_loss_and_metrics():
    vocabulary = text.build_vocabulary(LINES)
    model = language_model(vocabulary=vocabulary, sequence_length=6, units=8)
    short = language_model(vocabulary=vocabulary, sequence_length=3, units=8)
    short.set_weights(model.get_weights())
    x = np.array(["to be or"], dtype=object)
    y = text.pad([[3, 4, 5]], 6)
    long_scores = model.evaluate(x, y, verbose=0, return_dict=True)
    short_scores = short.evaluate(x, y[:, :3], verbose=0, return_dict=True)
    for name in ("loss", "accuracy", "perplexity"):
        assert long_scores[name] == pytest.approx(short_scores[name], rel=1e-5)


@pytest.mark.slow
def test_learns_hamlet_far_below_the_unigram_perplexity():
    """Held-out perplexity of next-character prediction on the last 10% of
    Hamlet, against the unigram (character frequency) model of the same
    training text, on the same held-out tokens."""
    import keras
    import tensorflow as tf

    import cvseq
    from cvseq.metrics import next_token_scores, unigram_baseline

    keras.utils.set_random_seed(0)
    options = dict(level="character", sequence_length=64, max_tokens=100)
    train, info = cvseq.datasets.load("hamlet", "train", batch_size=32,
                                      with_info=True, **options)
    test = cvseq.datasets.load("hamlet", "test", batch_size=128, **options)
    model = language_model(vocabulary=info.vocabulary, sequence_length=64,
                           units=256, dropout=0.2)
    model.fit(train, epochs=2, verbose=0)

    windows = tf.concat([x for x, _ in test], axis=0)
    targets = np.concatenate([y.numpy() for _, y in test])
    train_targets = np.concatenate([y.numpy() for _, y in train])
    scores = next_token_scores(model.predict(windows, verbose=0), targets)
    unigram = unigram_baseline(train_targets, targets,
                               vocabulary_size=info.vocabulary.vocabulary_size())
    ratio = scores["perplexity"] / unigram["perplexity"]
    print(f"hamlet characters: perplexity {scores['perplexity']:.2f} vs unigram "
          f"{unigram['perplexity']:.2f} (ratio {ratio:.2f}) on {scores['tokens']} tokens")
    assert ratio < 0.5

    # Sampling is deterministic given a seed.
    text_a = model.generate("to be", max_length=60, sampler="top_k", seed=7)
    assert model.generate("to be", max_length=60, sampler="top_k", seed=7) == text_a
    assert len(text_a) == 60 and text_a.startswith("to be")
