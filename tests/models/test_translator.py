import numpy as np
import pytest

from factory_checks import check_factory

from cvseq import text, translator
from cvseq.models.translator import Translator

SOURCES = ["Germany", "Spain", "France", "Italy"]
TARGETS = ["Alemania", "España", "Francia", "Italia"]
BAD_ARGUMENTS = {
    "source_vocabulary": 40,
    "target_vocabulary": [1, 2],
    "sequence_length": (8, 1),
    "recurrent": "rnn",
    "units": 0,
    "bidirectional": 1,
    "attention": "dot",
    "dropout": 2.0,
}


def _vocabularies():
    return (
        text.build_vocabulary(SOURCES, level="character"),
        text.build_vocabulary(TARGETS, level="character"),
    )


def _translate(model):
    return [model.translate(SOURCES), model.translate(SOURCES[:2], beam_width=3)]


@pytest.mark.parametrize(
    "recurrent, attention, bidirectional",
    [("gru", True, True), ("lstm", True, False), ("lstm", False, True)],
)
def test_translator_factory(recurrent, attention, bidirectional):
    source, target = _vocabularies()
    inputs, targets = text.teacher_forcing_inputs(
        SOURCES, TARGETS, target_vocabulary=target, sequence_length=(10, 12)
    )
    model = check_factory(
        translator,
        kwargs=dict(source_vocabulary=source, target_vocabulary=target,
                    sequence_length=(10, 12), units=8, recurrent=recurrent,
                    attention=attention, bidirectional=bidirectional),
        inputs=inputs,
        targets=targets,
        output_shape=(4, 12, target.vocabulary_size() + 2),
        bad_arguments=BAD_ARGUMENTS,
        round_trip=_translate,
    )
    assert isinstance(model, Translator)
    assert ("attention" in [layer.name for layer in model.layers]) == attention


def test_teacher_forcing_inputs_shift_the_target():
    _, target = _vocabularies()
    inputs, targets = text.teacher_forcing_inputs(
        ["Spain"], ["España"], target_vocabulary=target, sequence_length=9
    )
    vocabulary = target.get_vocabulary() + ["[START]", "[END]"]
    words = lambda row: [vocabulary[i] for i in row if i]  # noqa: E731
    assert words(inputs["decoder_input"][0]) == ["[START]", *"España"]
    assert words(targets[0]) == [*"España", "[END]"]
    # Too long a target is cut, keeping room for [START] / [END].
    inputs, targets = text.teacher_forcing_inputs(
        ["Spain"], ["España"], target_vocabulary=target, sequence_length=4
    )
    assert words(targets[0]) == ["E", "s", "p", "[END]"]


def test_step_decoding_matches_the_teacher_forced_model():
    """Greedy `.translate()` tokens, fed back as decoder inputs, are the argmax."""
    source, target = _vocabularies()
    model = translator(source_vocabulary=source, target_vocabulary=target,
                       sequence_length=12, units=8, dropout=0.0)
    inputs, targets = text.teacher_forcing_inputs(
        SOURCES, TARGETS, target_vocabulary=target, sequence_length=12
    )
    model.fit(inputs, targets, epochs=3, verbose=0)
    outputs = model.translate(SOURCES, max_length=10)
    forced, _ = text.teacher_forcing_inputs(
        SOURCES, outputs, target_vocabulary=target, sequence_length=12
    )
    predicted = model.predict({"source": inputs["source"], **{
        "decoder_input": forced["decoder_input"]}}, verbose=0).argmax(-1)
    vocabulary = target.get_vocabulary() + ["[START]", "[END]"]
    for row, output in zip(predicted, outputs):
        assert "".join(vocabulary[i] for i in row[: len(output)]) == output


def test_translate_takes_one_string_and_validates():
    source, target = _vocabularies()
    model = translator(source_vocabulary=source, target_vocabulary=target,
                       sequence_length=8, units=4)
    assert isinstance(model.translate("Spain"), str)
    with pytest.raises(ValueError, match="beam_width"):
        model.translate("Spain", beam_width=0)
    with pytest.raises(TypeError, match="texts"):
        model.translate([1, 2])


def test_int_vocabulary_is_refused():
    with pytest.raises(TypeError, match="source_vocabulary"):
        translator(source_vocabulary=30, target_vocabulary=["a"])
