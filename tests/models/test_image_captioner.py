import keras
import numpy as np
import pytest

from factory_checks import check_factory

import cvseq
from cvseq import image_captioner
from cvseq.datasets import captions
from cvseq.models.image_captioner import ImageCaptioner

VOCABULARY = captions.VOCABULARY
BAD_ARGUMENTS = {
    "vocabulary": 40,
    "image_size": (8, "a"),
    "backbone": "no_such_backbone",
    "sequence_length": 1,
    "recurrent": "rnn",
    "units": 0,
    "attention": "yes",
    "dropout": 2.0,
}


def _data(n=4, size=24, sequence_length=8):
    images, texts = captions.generate_captions(
        "train", num_images=n, image_size=size, max_digits=1
    )
    inputs, targets = captions.caption_inputs(
        images, texts, vocabulary=VOCABULARY, sequence_length=sequence_length
    )
    return inputs, targets


def _caption(model):
    images = _data()[0]["images"]
    return [model.caption(images), model.caption(images[:2], beam_width=3),
            model.caption(images[0])]


@pytest.mark.parametrize("recurrent, attention",
                         [("lstm", True), ("gru", True), ("lstm", False)])
def test_image_captioner_factory(recurrent, attention):
    inputs, targets = _data()
    model = check_factory(
        image_captioner,
        kwargs=dict(vocabulary=VOCABULARY, image_size=24, sequence_length=8,
                    units=8, recurrent=recurrent, attention=attention),
        inputs=inputs,
        targets=targets,
        output_shape=(4, 8, len(VOCABULARY) + 4),  # + padding, [UNK], [START], [END]
        bad_arguments=BAD_ARGUMENTS,
        round_trip=_caption,
    )
    assert isinstance(model, ImageCaptioner)
    out = model.caption(inputs["images"][:2])
    assert len(out) == 2 and all(isinstance(c, str) for c in out)
    assert isinstance(model.caption(inputs["images"][0]), str)
    assert all(len(c.split()) <= 7 for c in out)  # sequence_length - 1 words
    if recurrent == "lstm" and attention:
        # A grey batch (n, h, w) is not one image: its error names the fix.
        with pytest.raises(ValueError, match=r"Received shape \(2, 24, 24\).*grayscale "
                           r"without a channel axis"):
            model.caption(inputs["images"][:2, ..., 0])


@pytest.mark.parametrize("recurrent, attention",
                         [("lstm", True), ("gru", True), ("lstm", False)])
def test_the_decoding_step_is_the_teacher_forced_graph(recurrent, attention):
    """`caption` decodes one word at a time with the model's own layers
    (`_step`); fed the same words it gives the same next-word
    probabilities as the whole model, attention included."""
    inputs, _ = _data()
    model = image_captioner(vocabulary=VOCABULARY, image_size=24, sequence_length=8,
                            units=8, recurrent=recurrent, attention=attention)
    assert ("attention" in [layer.name for layer in model.layers]) == attention
    whole = model.predict(inputs, verbose=0)
    tokens = inputs["decoder_input"]
    states, step = model._initial_states(inputs["images"]), model._step()
    for t in range(tokens.shape[1]):
        logits, states = step(keras.ops.convert_to_tensor(tokens[:, t]), states)
        real = tokens[:, t] != 0  # past the caption the whole model is masked
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(keras.ops.softmax(logits))[real],
            whole[:, t][real], atol=1e-5)


def _fit_and_caption(backbone, size):
    inputs, targets = _data(size=size)
    model = image_captioner(vocabulary=VOCABULARY, image_size=size,
                            backbone=backbone, sequence_length=8, units=8)
    model.fit(inputs, targets, epochs=1, verbose=0)
    assert len(model.caption(inputs["images"])) == 4
    return model


def test_a_keras_model_as_backbone():
    own = keras.Sequential([
        keras.Input((None, None, 3)),
        keras.layers.Rescaling(1 / 255),
        keras.layers.Conv2D(4, 3, strides=4, activation="relu"),
    ], name="my_cnn")
    model = _fit_and_caption(own, 24)
    assert cvseq.backbones.get_backbone(model).name == "backbone"


@pytest.mark.slow
def test_a_keras_application_as_backbone():
    inputs, _ = _data(size=32)
    model = image_captioner(vocabulary=VOCABULARY, image_size=32,
                            backbone="mobilenet_v3_small", sequence_length=8, units=8)
    assert cvseq.backbones.get_backbone(model).count_params() > 900_000
    assert len(model.caption(inputs["images"])) == 4


def test_caption_inputs_shift_the_caption():
    images = np.zeros((1, 24, 24, 3), "uint8")
    inputs, targets = captions.caption_inputs(
        images, ["one digit 7 at top left"], vocabulary=VOCABULARY, sequence_length=9
    )
    model = image_captioner(vocabulary=VOCABULARY, image_size=24, sequence_length=9,
                            units=4, compile=False)
    words = ["", "[UNK]", *model.caption_vocabulary["tokens"]]
    read = [words[i] for i in inputs["decoder_input"][0]]
    predicted = [words[i] for i in targets[0]]
    assert read == ["[START]", "one", "digit", "7", "at", "top", "left", "", ""]
    assert predicted == ["one", "digit", "7", "at", "top", "left", "[END]", "", ""]


def test_dataset_matches_the_helper():
    ds = cvseq.datasets.load("digit_captions", "test", num_images=3, batch_size=3,
                             image_size=32)
    x, y = next(iter(ds))
    images, texts = captions.generate_captions("test", num_images=3, image_size=32)
    inputs, targets = captions.caption_inputs(
        images, texts, vocabulary=VOCABULARY, sequence_length=captions.SEQUENCE_LENGTH
    )
    np.testing.assert_array_equal(x["images"], images)
    np.testing.assert_array_equal(x["decoder_input"], inputs["decoder_input"])
    np.testing.assert_array_equal(y, targets)


def test_captions_describe_the_image():
    assert captions.describe({1: 7}) == "one digit 7 at top right"
    assert captions.describe({3: 0, 0: 4}) == "two digits 4 at top left and 0 at bottom right"
    images, texts = captions.generate_captions("test", num_images=50, image_size=48)
    for image, caption in zip(images, texts):
        count = ("one", "two", "three").index(caption.split()[0]) + 1
        lit = [image[r:r + 24, c:c + 24].any() for r in (0, 24) for c in (0, 24)]
        assert sum(lit) == count
        for cell, name in zip(lit, captions.CELLS):
            assert cell == (name in caption)


def test_test_digits_never_in_training():
    train, _ = cvseq.datasets.digits.digit_images("train")
    test, _ = cvseq.datasets.digits.digit_images("test")
    seen = {image.tobytes() for image in train}
    assert not any(image.tobytes() in seen for image in test)
