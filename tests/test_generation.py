import keras
import keras_hub
import numpy as np
import pytest

from factory_checks import check_bad_arguments

from cvseq import generation
from cvseq.generation import decode, generated_ids, get_sampler

PAD, START, A, B, END = 0, 1, 2, 3, 4


def table_step(table):
    """A step whose logits depend on the previous token only: log(table[t])."""
    log_table = np.log(np.asarray(table, "float32") + 1e-9)

    def step(tokens, states):
        (count,) = states
        logits = keras.ops.take(log_table, tokens, axis=0)
        return logits, [count + 1.0]

    return step


def counting_step(vocabulary_size=10):
    """Greedy continuation of token t is t + 1 (mod vocabulary_size)."""
    table = np.full((vocabulary_size, vocabulary_size), 0.01)
    for t in range(vocabulary_size):
        table[t, (t + 1) % vocabulary_size] = 1.0
    return table_step(table / table.sum(1, keepdims=True))


def zeros(batch):
    return [keras.ops.zeros((batch, 1))]


def test_get_sampler_names_and_instances():
    assert isinstance(get_sampler(), keras_hub.samplers.GreedySampler)
    assert isinstance(get_sampler("top_k", top_k=3), keras_hub.samplers.TopKSampler)
    assert isinstance(get_sampler("top_p"), keras_hub.samplers.TopPSampler)
    assert isinstance(get_sampler("random"), keras_hub.samplers.RandomSampler)
    beam = get_sampler("beam", beam_width=3)
    assert isinstance(beam, keras_hub.samplers.BeamSampler) and beam.num_beams == 3
    assert get_sampler(beam) is beam


def test_get_sampler_bad_arguments():
    check_bad_arguments(
        generation.get_sampler,
        (),
        {},
        {
            "sampler": "nucleus",
            "temperature": 0,
            "top_k": 0,
            "top_p": 1.5,
            "beam_width": 0,
            "seed": -1,
        },
    )


def test_greedy_keeps_prompt_and_continues_it():
    prompt = np.zeros((2, 6), "int32")
    prompt[0, :2] = [3, 4]
    prompt[1, :3] = [7, 8, 9]
    mask = prompt > 0
    tokens = decode(counting_step(), prompt, initial_states=zeros(2), prompt_mask=mask)
    np.testing.assert_array_equal(tokens[0], [3, 4, 5, 6, 7, 8])
    np.testing.assert_array_equal(tokens[1], [7, 8, 9, 0, 1, 2])
    assert generated_ids(tokens, prompt_mask=mask) == [[5, 6, 7, 8], [1, 2]]


def test_states_are_threaded_through_steps():
    seen = []

    def step(tokens, states):
        seen.append(float(np.asarray(states[0])[0, 0]))
        return counting_step()(tokens, states)

    decode(step, np.full((1, 5), 1, "int32"), initial_states=zeros(1))
    assert seen == [0.0, 1.0, 2.0, 3.0]


def test_stop_tokens_end_decoding():
    calls = []
    inner = counting_step()

    def step(tokens, states):
        calls.append(1)
        return inner(tokens, states)

    prompt = np.zeros((1, 9), "int32")
    prompt[0, 0] = 2
    tokens = decode(step, prompt, initial_states=zeros(1), stop_token_ids=[5])
    assert generated_ids(tokens, stop_token_ids=[5]) == [[3, 4]]
    assert len(calls) == 3  # stopped after producing 5, not at the buffer end


def test_suppressed_tokens_are_never_generated():
    prompt = np.zeros((1, 4), "int32")
    prompt[0, 0] = 2
    tokens = decode(counting_step(), prompt, initial_states=zeros(1),
                    suppress_token_ids=[3])
    assert 3 not in tokens[0, 1:]


def test_beam_search_finds_the_likelier_sequence_greedy_misses():
    # START -> A (0.6) or B (0.4); after A every token is <= 0.35; after B,
    # END is certain. Best sequence: B END (0.4) over A x (0.6 * 0.35 = 0.21).
    table = np.full((5, 5), 1e-6)
    table[START, A], table[START, B] = 0.6, 0.4
    table[A, A], table[A, B], table[A, END] = 0.35, 0.33, 0.32
    table[B, END] = 1.0
    table[END, END] = 1.0
    step = table_step(table)
    prompt = np.array([[START, 0, 0]], "int32")
    greedy = decode(step, prompt, initial_states=zeros(1))
    beam = decode(step, prompt, initial_states=zeros(1), sampler="beam",
                  beam_width=2)
    np.testing.assert_array_equal(greedy[0], [START, A, A])
    np.testing.assert_array_equal(beam[0], [START, B, END])


@pytest.mark.parametrize("sampler", ["top_k", "top_p", "random"])
def test_sampling_is_deterministic_given_a_seed(sampler):
    uniform = table_step(np.full((20, 20), 0.05))
    prompt = np.zeros((2, 30), "int32")
    prompt[:, 0] = 1

    # Each sampler gets the options it reads (others are refused).
    options = {"top_k": dict(top_k=20), "top_p": dict(top_p=1.0), "random": {}}[sampler]

    def run(seed):
        return decode(uniform, prompt, initial_states=zeros(2), sampler=sampler,
                      seed=seed, **options)

    np.testing.assert_array_equal(run(7), run(7))
    assert not np.array_equal(run(7), run(8))


def test_top_k_of_one_is_greedy():
    prompt = np.full((2, 6), 2, "int32")
    prompt[:, 1:] = 0
    greedy = decode(counting_step(), prompt, initial_states=zeros(2))
    top1 = decode(counting_step(), prompt, initial_states=zeros(2),
                  sampler="top_k", top_k=1, seed=3)
    np.testing.assert_array_equal(greedy, top1)


def test_bad_prompts_raise():
    with pytest.raises(ValueError, match="prompt"):
        decode(counting_step(), np.zeros((4,), "int32"), initial_states=zeros(1))
    with pytest.raises(ValueError, match="at least one prompt token"):
        decode(counting_step(), np.zeros((1, 4), "int32"), initial_states=zeros(1),
               prompt_mask=np.zeros((1, 4), bool))


@pytest.mark.parametrize("recurrent", [keras.layers.LSTM, keras.layers.GRU])
def test_recurrent_step_matches_the_full_layers(recurrent):
    """Stepping the cells gives the same greedy tokens as the whole model."""
    vocabulary_size, length = 12, 7
    keras.utils.set_random_seed(0)
    embedding = keras.layers.Embedding(vocabulary_size, 8)
    first = recurrent(16, return_sequences=True)
    second = recurrent(16, return_sequences=True)
    logits = keras.layers.Dense(vocabulary_size)
    tokens_in = keras.Input((None,), dtype="int32")
    model = keras.Model(tokens_in, logits(second(first(embedding(tokens_in)))))

    step = generation.recurrent_step(embedding, [first.cell, second.cell], logits)
    prompt = np.zeros((3, length), "int32")
    prompt[:, 0] = [1, 5, 9]
    states = generation.zero_states([first.cell, second.cell], 3)
    assert len(states) == 2 * generation.state_count(first.cell)
    tokens = decode(step, prompt, initial_states=states)

    # Teacher-forced on its own output, the full model predicts the same tokens.
    full = model.predict(tokens[:, :-1], verbose=0).argmax(-1)
    np.testing.assert_array_equal(full, tokens[:, 1:])


def test_top_k_larger_than_the_vocabulary_keeps_every_token():
    prompt = np.zeros((1, 8), "int32")
    prompt[0, 0] = 1
    tokens = decode(counting_step(), prompt, initial_states=zeros(1),
                    sampler="top_k", top_k=50, seed=0)
    assert tokens.shape == (1, 8) and tokens.max() < 10


# The one generation contract of the four generating tasks ------------------


def _generating_models():
    import cvseq
    from cvseq import text
    from cvseq.datasets import captions

    lines = ["to be or not to be", "that is the question"]
    images, _ = captions.generate_captions("train", num_images=2, image_size=24,
                                           max_digits=1)
    return {
        "language_model": (
            cvseq.language_model(vocabulary=text.build_vocabulary(lines),
                                 sequence_length=6, units=8),
            ["to be", "that is"]),
        "sequence_generator": (
            cvseq.sequence_generator(vocabulary=["60:1", "62:1", "64:1"],
                                     sequence_length=6, units=8),
            [["60:1"], "62:1 64:1"]),
        "translator": (
            cvseq.translator(
                source_vocabulary=text.build_vocabulary(["Spain"], level="character"),
                target_vocabulary=text.build_vocabulary(["España"], level="character"),
                sequence_length=(8, 8), units=8),
            ["Spain", "Germany"]),
        "image_captioner": (
            cvseq.image_captioner(vocabulary=captions.VOCABULARY, image_size=24,
                                  sequence_length=6, units=8),
            images),
    }


@pytest.fixture(scope="module")
def generating_models():
    return _generating_models()


@pytest.mark.graph  # as users decode: each step a traced call
@pytest.mark.parametrize(
    "name", ["language_model", "sequence_generator", "translator", "image_captioner"])
def test_the_generation_contract(generating_models, name, tmp_path):
    import warnings

    from cvseq.models import GenerativeModel

    model, inputs = generating_models[name]
    assert isinstance(model, GenerativeModel)
    assert model.tokenizer is not None  # a property on every task
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # no old names used
        # The same keywords everywhere; seeded sampling is repeatable.
        sampled = [model.generate(inputs, max_length=5, sampler="top_k",
                                  temperature=0.8, seed=s) for s in (3, 3)]
        assert sampled[0] == sampled[1]
        assert len(sampled[0]) == len(inputs)
        beam = model.generate(inputs, max_length=5, sampler="beam", beam_width=2)
        greedy = model.generate(inputs, max_length=5)
        # One input gives one output, equal to a batch of that one input
        # (equal batch sizes: an untrained model's near-ties can flip with
        # the batch size's float rounding).
        one = model.generate(inputs[0], max_length=5, sampler="greedy")
        one_as_batch = model.generate([inputs[0]], max_length=5, sampler="greedy")
    for output in (*sampled, beam, greedy):
        for item in output:
            # Words, characters (a character-level translator) or tokens.
            tokens = (item.split() if " " in item else list(item)) \
                if isinstance(item, str) else item
            assert len(tokens) <= 5
    assert [one] == one_as_batch
    # The aliases are the same call.
    alias = {"translator": "translate", "image_captioner": "caption"}.get(name)
    if alias:
        assert getattr(model, alias)(inputs, max_length=5, sampler="beam",
                                     beam_width=2) == beam
    # After a .keras round trip: the same outputs, seeded and beam.
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.generate(inputs, max_length=5, sampler="top_k", temperature=0.8,
                           seed=3) == sampled[0]
    assert loaded.generate(inputs, max_length=5, sampler="beam", beam_width=2) == beam
    # Zero and negative lengths are errors, not the default length.
    for bad in (0, -1):
        with pytest.raises(ValueError, match="`max_length` must be at least 1"):
            model.generate(inputs, max_length=bad)
    # A beam_width alone asks for beam search, one beam too.
    assert model.generate(inputs, max_length=5, beam_width=1) == model.generate(
        inputs, max_length=5, sampler="beam", beam_width=1)
    # An option the sampler does not read is refused, not ignored.
    with pytest.raises(ValueError, match="sampler='greedy' does not use top_k=3"):
        model.generate(inputs, max_length=5, sampler="greedy", top_k=3)
    with pytest.raises(ValueError, match="sampler='top_k' does not use beam_width=3"):
        model.generate(inputs, max_length=5, sampler="top_k", beam_width=3)
    with pytest.raises(ValueError, match=r"does not use top_p=0.5.*No sampler was "
                       r"given: '\w+' is \w+'s default"):
        model.generate(inputs, max_length=5, top_p=0.5)


@pytest.mark.parametrize("name, old, new", [
    ("language_model", {"prompt": "to be"}, "inputs"),
    ("sequence_generator", {"random_seed": 0}, "seed"),
    ("sequence_generator", {"length": 2}, "max_length"),
    ("translator", {"texts": ["Spain"]}, "inputs"),
    ("image_captioner", {"images": None}, "inputs"),
])
def test_old_keyword_names_warn_and_name_the_new_one(generating_models, name, old,
                                                     new):
    model, inputs = generating_models[name]
    kwargs = {"images": inputs[:1]} if "images" in old else dict(old)
    if "random_seed" in old:
        kwargs["max_length"] = 3
    with pytest.warns(DeprecationWarning, match=f"`{new}=") as record:
        model.generate(**kwargs)
    # Attributed to the caller (here), where Python shows it by default in a
    # user's script (`__main__`), not to a frame above it.
    assert {w.filename for w in record if w.category is DeprecationWarning} == {__file__}


@pytest.mark.parametrize("name, both", [
    ("language_model", {"prompt": "to be", "inputs": "or not"}),
    ("sequence_generator", {"random_seed": 0, "seed": 1}),
    ("translator", {"texts": ["Spain"], "inputs": ["France"]}),
])
def test_an_old_keyword_with_its_new_name_is_refused(generating_models, name, both):
    # Neither value silently wins over the other.
    model, _ = generating_models[name]
    old, new = both
    with pytest.raises(TypeError, match=f"both `{old}=` and `{new}=`.*pass `{new}=` alone"):
        model.generate(**both, max_length=3)


@pytest.mark.parametrize("name", ["language_model", "sequence_generator", "translator",
                                  "image_captioner"])
def test_a_number_for_inputs_says_the_length_is_max_length(generating_models, name):
    model, _ = generating_models[name]
    with pytest.raises(TypeError, match="Received the number 5; the length is `max_length=`"):
        model.generate(5)


@pytest.mark.parametrize("name", ["language_model", "sequence_generator", "translator"])
def test_tensors_arrays_and_bytes_read_as_their_values(generating_models, name):
    # A tf.constant, a 0-d array and TensorFlow's bytes failed with Python's
    # iteration errors ("Cannot iterate over a scalar tensor") or were read
    # byte by byte as ints.
    import tensorflow as tf

    model, inputs = generating_models[name]
    one = inputs[1]
    expected = model.generate(one, max_length=4, sampler="greedy")
    for given in (tf.constant(one), np.array(one), one.encode()):
        assert model.generate(given, max_length=4, sampler="greedy") == expected
    # A list of str: a batch of texts, or one opening's tokens (sequence generator).
    batch = [one, one] if name != "sequence_generator" else one.split()
    assert model.generate(tf.constant(batch), max_length=4, sampler="greedy") == \
        model.generate(batch, max_length=4, sampler="greedy")
    for bad, says in ((True, "Received: inputs=True"),
                      ({one: 1}, "a dict has no order of its own")):
        with pytest.raises(TypeError, match=says):
            model.generate(bad, max_length=4)
    with pytest.raises(ValueError, match="bytes that are not UTF-8.*decode"):
        model.generate(b"caf\xe9", max_length=4)


def test_token_ids_are_checked_against_the_vocabulary():
    import cvseq

    for model in (cvseq.language_model(vocabulary=6, sequence_length=4, units=4),
                  cvseq.sequence_generator(vocabulary=6, sequence_length=4, units=4)):
        assert len(model.generate([3, 5], max_length=4, sampler="greedy")) == 4
        for bad, error, says in (
                ([3, 6], ValueError, r"must lie in \[1, 6\).*the id 6"),  # a TF gather error
                ([3, 0], ValueError, r"the id 0"),  # padding, silently taken
                ([3, -1], ValueError, r"the id -1"),
                ([3.7, 5.2], TypeError, r"3.7 \(float\)"),  # silently cut to 3, 5
                ([True, False], TypeError, "True"),
                ("3 5", TypeError, r"takes (lists of )?int ids.*'3")):
            with pytest.raises(error, match=says):
                model.generate(bad, max_length=4)


def test_samplers_that_cannot_work_here_are_refused_by_name(generating_models):
    import keras_hub

    model, inputs = generating_models["language_model"]
    size = model.output_shape[-1]
    # More beams than tokens still rank beams x tokens after the first step.
    assert len(model.generate(inputs, max_length=4, beam_width=size + 5)) == 2
    for too_many in (dict(beam_width=10**6),  # took a minute
                     dict(sampler=keras_hub.samplers.BeamSampler(num_beams=10**6))):
        with pytest.raises(ValueError, match=r"beam_width` must be at most 1,000.*"
                           r"beam_width=1,000,000"):
            model.generate(inputs, max_length=4, **too_many)
    with pytest.raises(ValueError, match="does not use beam_width"):  # named first
        model.generate(inputs, max_length=4, sampler="top_k", beam_width=10**6)
    with pytest.raises(ValueError, match=rf"TopKSampler\(k=1000\) keeps more tokens "
                       rf"than the model has \({size}\)"):
        model.generate(inputs, max_length=4, sampler=keras_hub.samplers.TopKSampler(k=1000))
    with pytest.raises(ValueError, match="ContrastiveSampler needs the model's hidden"):
        model.generate(inputs, max_length=4,
                       sampler=keras_hub.samplers.ContrastiveSampler())


def test_defaults_fit_a_prompt_longer_than_the_window(generating_models):
    # The language model's default max_length was its sequence_length: a
    # 7-token prompt was refused naming a max_length nobody passed.
    model, _ = generating_models["language_model"]
    prompt = "to be or not to be that"
    assert model.generate(prompt, sampler="greedy").startswith(prompt)
    assert len(model.generate("to be", sampler="greedy").split()) <= 2 + 6


def test_a_blank_source_text_is_refused(generating_models):
    from cvseq.errors import UserInputError

    model, _ = generating_models["translator"]
    for blank in ("", "   ", ["Spain", ""]):
        # A ValueError, and one line in `cvseq predict` (a UserInputError).
        with pytest.raises(UserInputError, match="needs at least one token"):
            model.translate(blank)


def test_a_float_seed_is_a_seed_error_not_an_opening(generating_models):
    model, _ = generating_models["sequence_generator"]
    with pytest.raises(TypeError, match="`seed`"):
        model.generate(seed=1.5)


def test_a_prompt_of_unknown_words_only_is_warned_about(generating_models):
    import warnings

    model, _ = generating_models["language_model"]
    with pytest.warns(UserWarning, match="Prompt 'zebra quartz' holds no word of the "
                      r"model's vocabulary: it is read as \[UNK\] only") as record:
        model.generate("zebra quartz", max_length=4)
    assert record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.generate("to zebra", max_length=4)  # one known word: no warning


def test_sequence_generator_length_and_max_length_together_are_refused(generating_models):
    model, _ = generating_models["sequence_generator"]
    with pytest.raises(TypeError, match="both the deprecated length.*`max_length=` alone"):
        model.generate(["60:1"], length=3, max_length=8)


def test_a_numpy_integer_seed_is_a_random_seed(generating_models):
    model, _ = generating_models["sequence_generator"]
    assert model.generate(max_length=4, seed=np.int64(3)) == \
        model.generate(max_length=4, seed=3)


def test_an_opening_passed_as_seed_warns_and_still_opens(generating_models):
    # The previous release called a sequence generator's opening `seed`.
    model, _ = generating_models["sequence_generator"]
    with pytest.warns(DeprecationWarning, match="`seed=` for the opening") as record:
        old = model.generate(seed=["60:1"], max_length=3, sampler="greedy")
    assert old == model.generate(["60:1"], max_length=3, sampler="greedy")
    assert old[0] == "60:1"
    assert record[0].filename == __file__


@pytest.mark.parametrize("task, alias, old_keyword", [
    ("translator", "translate", "texts"),
    ("image_captioner", "caption", "images"),
])
def test_alias_is_generate_under_its_name(generating_models, task, alias, old_keyword):
    model, inputs = generating_models[task]
    expected = model.generate(inputs, max_length=4)
    assert getattr(model, alias)(inputs=inputs, max_length=4) == expected
    with pytest.warns(DeprecationWarning, match="by position"):  # as generate takes it
        assert getattr(model, alias)(inputs, 4) == expected
    with pytest.warns(DeprecationWarning, match="`inputs=`") as record:
        assert getattr(model, alias)(**{old_keyword: inputs}, max_length=4) == expected
    assert record[0].filename == __file__


def test_target_tokenizer_warns_and_is_the_tokenizer(generating_models):
    model, _ = generating_models["translator"]
    with pytest.warns(DeprecationWarning, match="`tokenizer` property"):
        old = model.target_tokenizer()
    assert old.get_vocabulary() == model.tokenizer.get_vocabulary()


def test_an_unknown_keyword_lists_the_contract(generating_models):
    model, inputs = generating_models["language_model"]
    with pytest.raises(TypeError, match="unexpected keyword argument 'length'.*"
                       "max_length"):
        model.generate(inputs, length=3)


@pytest.mark.graph
def test_the_traced_step_reads_the_weights_as_they_are_now(tmp_path):
    """The decoding step is traced once per model and kept: weights changed
    after a first `generate` (training, `load_weights`) must be the ones it
    reads next time."""
    import cvseq
    from cvseq import text

    model = cvseq.language_model(
        vocabulary=text.build_vocabulary(["to be or not to be that is the question"]),
        sequence_length=6, units=8)
    model.generate("to be", max_length=5)
    logits = model.get_layer("logits")
    kernel, bias = logits.get_weights()
    word = list(model.tokenizer.get_vocabulary()).index("question")
    bias[:] = -10.0
    bias[word] = 10.0
    logits.set_weights([np.zeros_like(kernel), bias])
    assert model.generate("to be", max_length=5) == "to be question question question"
    # The kept step is not part of what a SavedModel holds.
    import tensorflow as tf

    path = str(tmp_path / "saved_model")
    tf.saved_model.save(model, path)
    assert not any("decoding" in name or "traced" in name
                   for name in dir(tf.saved_model.load(path)))


@pytest.mark.parametrize("sampler, options, unread", [
    ("greedy", dict(top_k=3), "top_k=3"),
    ("greedy", dict(temperature=0.5), "temperature=0.5"),
    ("top_k", dict(beam_width=3), "beam_width=3"),
    ("top_p", dict(top_k=20), "top_k=20"),
    ("random", dict(top_p=0.5), "top_p=0.5"),
    ("beam", dict(top_k=5), "top_k=5"),
])
def test_an_option_the_sampler_does_not_read_is_refused_not_ignored(
        sampler, options, unread):
    prompt = np.zeros((1, 4), "int32")
    prompt[:, 0] = 1
    with pytest.raises(ValueError, match=rf"sampler='{sampler}' does not use {unread}"):
        decode(counting_step(), prompt, initial_states=zeros(1), sampler=sampler,
               **options)
    # A seed goes with any sampler: a deterministic one needs none.
    decode(counting_step(), prompt, initial_states=zeros(1), sampler=sampler, seed=3)


def test_a_sampler_instance_takes_no_options():
    instance = keras_hub.samplers.TopKSampler(k=2, seed=1)
    assert get_sampler(instance) is instance
    for options in (dict(temperature=0.1), dict(seed=3), dict(top_k=5)):
        with pytest.raises(ValueError, match="carries its own settings"):
            get_sampler(instance, **options)
