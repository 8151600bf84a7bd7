"""Bad input at the model boundary (`cvseq.Task` fit/evaluate/predict, and
`generate`): one clear error that says what was received and what the model
expects, before Keras traces anything (issue 11 points 9, 11 and 12)."""

import numpy as np
import pytest
import tensorflow as tf

import cvseq
from cvseq import text


@pytest.fixture(scope="module")
def tagger():
    return cvseq.video_tagger(3, frames=2, image_size=16, units=4)


@pytest.fixture(scope="module")
def classifier():
    reviews = ["a gripping film", "dull and long", "great fun"]
    return cvseq.text_classifier(2, vocabulary=text.build_vocabulary(reviews), units=4)


@pytest.fixture(scope="module")
def generator():
    return cvseq.sequence_generator(vocabulary=["60:1", "62:1"], sequence_length=3,
                                    units=4)


def test_a_grayscale_batch_given_to_a_video_model(tagger):
    with pytest.raises(ValueError, match=r"\(batch, 2, 16, 16, 3\).*Received shape "
                       r"\(1, 2, 16, 16, 1\).*grayscale"):
        tagger.predict(np.zeros((1, 2, 16, 16, 1), "uint8"), verbose=0)


def test_an_rgba_image_is_told_to_drop_its_alpha(tagger):
    # It was taken for grayscale without a channel axis (np.repeat made it worse).
    image = cvseq.image_classifier(2, image_size=16)
    with pytest.raises(ValueError, match=r"RGBA .*x\[None, \.\.\., :3\]"):
        image.predict(np.zeros((16, 16, 4), "uint8"), verbose=0)
    with pytest.raises(ValueError, match=r"RGBA .*x\[\.\.\., :3\]\."):
        tagger.predict(np.zeros((1, 2, 16, 16, 4), "uint8"), verbose=0)


def test_a_batch_of_images_given_to_a_video_model(tagger):
    with pytest.raises(ValueError, match=r"Received shape \(4, 16, 16, 3\).*clips"):
        tagger.predict(np.zeros((4, 16, 16, 3), "uint8"), verbose=0)


def test_one_clip_without_its_batch_axis(tagger):
    with pytest.raises(ValueError, match=r"without its batch axis: pass x\[None\]"):
        tagger.predict(np.zeros((2, 16, 16, 3), "uint8"), verbose=0)


def test_nan_pixels_are_refused_before_training(tagger):
    clips = np.zeros((2, 2, 16, 16, 3), "float32")
    clips[1, 0, 3, 3, 0] = np.nan
    weights = [w.copy() for w in tagger.get_weights()]
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        tagger.fit(clips, np.array([0, 1]), epochs=1, verbose=0)
    for before, after in zip(weights, tagger.get_weights()):
        np.testing.assert_array_equal(before, after)  # nothing trained


def test_float_labels_are_not_classes(tagger):
    clips = np.zeros((2, 2, 16, 16, 3), "uint8")
    with pytest.raises(ValueError, match="integer class ids.*0.5"):
        tagger.fit(clips, np.array([0.5, 1.7]), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"class ids in \[0, 3\).*from 0 to 7"):
        tagger.evaluate(clips, np.array([0, 7]), verbose=0)
    with pytest.raises(ValueError, match="validation_data: `y`"):
        tagger.fit(clips, np.array([0, 1]), validation_data=(clips, np.array([0, 9])),
                   epochs=1, verbose=0)


def test_one_hot_labels_and_targets_of_another_shape_are_named(tagger):
    clips = np.zeros((2, 2, 16, 16, 3), "uint8")
    one_hot = np.eye(3, dtype="float32")[[0, 2]]
    with pytest.raises(ValueError, match=r"looks one-hot \(shape \(2, 3\) for 3 classes\)"
                       r".*y.argmax\(axis=-1\).*multi_label=True"):
        tagger.fit(clips, one_hot, epochs=1, verbose=0)
    segmenter = cvseq.image_segmenter(3, image_size=32, compile=False)
    segmenter.compile()
    images = np.zeros((2, 32, 32, 3), "uint8")
    with pytest.raises(ValueError, match=r"looks one-hot.*\(batch, 32, 32\): pass "
                       r"y.argmax\(axis=-1\)\.$"):
        segmenter.evaluate(images, np.zeros((2, 32, 32, 3)), verbose=0)
    with pytest.raises(ValueError, match=r"must have shape \(batch, 32, 32\) for this "
                       r"model \(class ids\). Received shape \(2, 16, 16\)"):
        segmenter.evaluate(images, np.zeros((2, 16, 16), "int32"), verbose=0)
    paths = cvseq.trajectory_predictor(history=4, horizon=3, units=4)
    with pytest.raises(ValueError, match=r"must have shape \(batch, 3, 2\) for this "
                       r"model. Received shape \(2, 2, 2\)"):
        paths.fit(np.zeros((2, 4, 2), "float32"), np.zeros((2, 2, 2), "float32"),
                  epochs=1, verbose=0)


def test_colour_frames_given_to_a_grey_model_say_how_to_fix_it():
    predictor = cvseq.video_predictor(frames_in=2, frames_out=2, image_size=8, filters=(4,),
                                      kernel_size=3)
    with pytest.raises(ValueError, match=r"Received shape \(1, 2, 8, 8, 3\).*one channel "
                       r"\(grey\).*channels=3"):
        predictor.predict(np.zeros((1, 2, 8, 8, 3), "uint8"), verbose=0)


@pytest.mark.graph  # asserts no warning at all; TF warns of eager tf.functions
def test_pixels_already_rescaled_are_warned_about(tagger):
    """[0, 1] floats would reach the model as near-black frames."""
    clips = np.random.default_rng(0).integers(0, 256, (2, 2, 16, 16, 3)).astype("float32")
    with pytest.warns(UserWarning, match=r"float pixels from 0 to 1; cvseq models "
                      r"take pixels in \[0, 255\].*to `predict`") as record:
        tagger.predict(clips / 255, verbose=0)
    assert record[0].filename == __file__  # the user's line
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # [0, 255], and all-zero (padding) clips: no word
        tagger.predict(clips, verbose=0)
        tagger.predict(np.zeros_like(clips), verbose=0)


def test_string_labels_say_how_to_map_them(tagger):
    clips = np.zeros((2, 2, 16, 16, 3), "uint8")
    with pytest.raises(TypeError, match=r"must be numbers. Received dtype <U5. Map the "
                       r"labels to class indices first"):
        tagger.fit(clips, np.array(["left", "right"]), epochs=1, verbose=0)


def test_integer_valued_float_labels_still_train(tagger):
    clips = np.zeros((2, 2, 16, 16, 3), "uint8")
    tagger.fit(clips, np.array([0.0, 2.0]), epochs=1, verbose=0)


@pytest.mark.parametrize("kind", ["list", "str_", "object", "tensor", "dataset"])
def test_texts_as_users_pass_them(classifier, kind):
    texts = ["a gripping film", "dull and long"]
    labels = np.array([1, 0])
    x = {"list": texts,
         "str_": np.array(texts),
         "object": np.array(texts, dtype=object),
         "tensor": tf.constant(texts)}.get(kind)
    if kind == "dataset":
        data = tf.data.Dataset.from_tensor_slices((texts, labels)).batch(2)
        classifier.fit(data, epochs=1, verbose=0)
        assert classifier.predict(data, verbose=0).shape == (2, 2)
        return
    classifier.fit(x, labels, epochs=1, verbose=0)
    classifier.evaluate(x, labels, verbose=0)
    assert classifier.predict(x, verbose=0).shape == (2, 2)


def test_clips_of_different_lengths_in_a_list_are_named_ragged(tagger):
    # NumPy >= 1.24 refuses the ragged list itself; cvseq's message says more.
    clips = [np.zeros((2, 16, 16, 3), "uint8"), np.zeros((1, 16, 16, 3), "uint8")]
    with pytest.raises(TypeError, match=r"ragged or non-numeric.*pad it"):
        tagger.fit(clips, np.array([0, 1]), verbose=0)


@pytest.mark.parametrize("method", ["fit", "evaluate"])
def test_inputs_without_targets(tagger, method):
    clips = np.zeros((2, 2, 16, 16, 3), "uint8")
    with pytest.raises(ValueError, match=rf"`{method}` needs targets: pass `y`"):
        getattr(tagger, method)(clips, verbose=0)
    inputs_only = tf.data.Dataset.from_tensor_slices(clips).batch(2)
    with pytest.raises(ValueError, match=r"needs \(inputs, targets\) pairs.*inputs "
                       r"alone \(shape \(None, 2, 16, 16, 3\)\)"):
        getattr(tagger, method)(inputs_only, verbose=0)
    assert tagger.predict(inputs_only, verbose=0).shape == (2, 3)


def test_a_dataset_of_single_examples_says_batch_it(tagger, classifier):
    clips = np.zeros((2, 2, 16, 16, 3), "uint8")
    unbatched = tf.data.Dataset.from_tensor_slices((clips, [0, 1]))
    for method in ("fit", "evaluate"):
        with pytest.raises(ValueError, match=r"single examples \('clips': shape "
                           r"\(2, 16, 16, 3\)\).*dataset.batch\(32\)"):
            getattr(tagger, method)(unbatched, verbose=0)
    # Batched, but images given to a video model: the shape message, not "batch it".
    images = tf.data.Dataset.from_tensor_slices(
        (np.zeros((2, 16, 16, 3), "uint8"), [0, 1])).batch(2)
    with pytest.raises(ValueError, match=r"The dataset's elements: `x` \('clips'\) "
                       r"must have shape \(batch, 2, 16, 16, 3\).*batch of images"):
        tagger.fit(images, verbose=0)
    texts = tf.data.Dataset.from_tensor_slices(["a gripping film", "dull"])
    with pytest.raises(ValueError, match=r"single examples \('text': shape \(\)\)"):
        classifier.predict(texts, verbose=0)
    assert classifier.predict(texts.batch(2), verbose=0).shape == (2, 2)


def test_file_names_given_to_a_pixel_model_say_how_to_read_them(tagger):
    for names in ("clip.mp4", ["a.mp4", "b.mp4", "c.mp4"]):
        with pytest.raises(TypeError, match=r"Received text \('(clip|a).mp4'.*"
                           r"cvseq.tasks.read_video_inputs\(paths, model\)"):
            tagger.predict(names, verbose=0)
    images = cvseq.image_classifier(3, image_size=16)
    with pytest.raises(TypeError, match=r"'b.png' and 1 more.*read_image_inputs"):
        images.predict(np.array(["a.png", "b.png", "c.png"]), verbose=0)
    # A (1,)-shaped batch is not taken for a grayscale image.
    with pytest.raises(ValueError, match=r"Received shape \(1,\) \(rank 1\)\.$"):
        images.predict(np.zeros((1,), "float32"), verbose=0)


def test_compiled_without_an_optimizer_evaluates_but_says_why_it_cannot_fit():
    images = cvseq.image_classifier(3, image_size=16)
    x, y = np.zeros((2, 16, 16, 3), "uint8"), np.array([0, 1])
    images.compile(optimizer=None)
    images.evaluate(x, y, verbose=0)
    with pytest.raises(ValueError, match=r"optimizer=None.*model.compile\(\)"):
        images.fit(x, y, verbose=0)


def test_predict_on_nothing_is_a_clear_error(classifier):
    with pytest.raises(ValueError, match="holds no examples"):
        classifier.predict([], verbose=0)


def test_one_str_is_not_a_batch(classifier):
    with pytest.raises(ValueError, match=r"wrap it in a list.*\['great movie'\]"):
        classifier.predict("great movie", verbose=0)


def test_numbers_given_to_a_text_model(classifier):
    with pytest.raises(TypeError, match="must hold str.*int"):
        classifier.predict([1, 2], verbose=0)


@pytest.mark.parametrize("max_length", [0, -3])
def test_zero_or_negative_max_length_is_an_error(generator, max_length):
    with pytest.raises(ValueError, match=f"`max_length` must be at least 1. "
                       f"Received: max_length={max_length}"):
        generator.generate(max_length=max_length)


def test_a_string_seed_is_space_separated_tokens(generator):
    with pytest.deprecated_call():
        tokens = generator.generate(seed="60:1", max_length=3, sampler="greedy")
    assert tokens[0] == "60:1" and len(tokens) <= 3
    assert generator.generate("60:1 62:1", max_length=3, seed=0)[:2] == ["60:1", "62:1"]
    with pytest.raises(ValueError, match=r"not in the vocabulary: \['61:1'\]"):
        generator.generate("60:1 61:1", max_length=4)


def test_a_photo_given_to_a_video_model_comes_upright(tagger, tmp_path):
    # OpenCV's video reader ignores EXIF orientation: a phone photo came
    # sideways to the video model and upright to the image models.
    from PIL import Image

    from cvseq import tasks

    pixels = np.zeros((40, 60, 3), np.uint8)
    pixels[:10] = (255, 0, 0)  # red along the top as stored
    photo = Image.fromarray(pixels)
    exif = photo.getexif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise: red on the right
    path = str(tmp_path / "phone.jpg")
    photo.save(path, exif=exif.tobytes())
    with pytest.warns(UserWarning, match="sees no motion"):
        clip = tasks.read_video_inputs([path], tagger)[0]
    image = tasks.read_image_inputs([path], cvseq.image_classifier(2, image_size=16))[0]
    assert all(np.array_equal(frame, image) for frame in clip)
    red = clip[0, ..., 0].astype(float)
    assert red[:, -3:].mean() > 200 and red[:, :3].mean() < 50


# What Keras users do with any model (a battery of Keras' own API on the
# tasks, 2026-12-02); each of these failed or lost something before.

def test_validation_data_by_position_as_keras_takes_it():
    import keras

    model = cvseq.image_classifier(2, image_size=16)
    x, y = np.zeros((4, 16, 16, 3), "uint8"), np.array([0, 1, 0, 1])
    # "got multiple values for argument 'validation_data'".
    history = model.fit(x, y, 2, 1, 0, None, 0.0, (x, y))
    assert set(history.history) >= {"loss", "val_loss"}
    # Two-stream models bind them the same way.
    two_stream = cvseq.video_tagger(2, frames=4, image_size=16, streams=("rgb", "flow"),
                                    units=4)
    clips = np.zeros((2, 4, 16, 16, 3), "uint8")
    history = two_stream.fit(clips, y[:2], 2, 1, 0, None, 0.0, (clips, y[:2]))
    assert "val_loss" in history.history
    # A schedule cannot be set by ReduceLROnPlateau: Keras fails when the
    # callback first fires, epochs later; said at the start, with the fix (a
    # callback that never fires does no harm, so the fit goes on).
    segmenter = cvseq.image_segmenter(2, image_size=16)
    with pytest.warns(UserWarning, match=r"ReduceLROnPlateau sets the learning rate.*"
                      r"WarmUpInverseSqrt.*Adam\(1e-3\)"):
        segmenter.fit(x, np.zeros((4, 16, 16), "int32"), verbose=0,
                      callbacks=[keras.callbacks.ReduceLROnPlateau(monitor="loss",
                                                                   patience=10)])
    history = model.fit(x, y, verbose=0, epochs=1,  # a float rate takes it
                        callbacks=[keras.callbacks.ReduceLROnPlateau(monitor="loss")])
    assert "learning_rate" in history.history


def test_a_frozen_trajectory_predictor_keeps_its_step_unit():
    model = cvseq.trajectory_predictor(history=4, horizon=2, units=4)
    past = np.cumsum(np.ones((4, 4, 2), "float32"), axis=1)
    model.fit(past, past[:, :2] + 4.0, verbose=0)
    layer = model.get_layer("step_normalization")
    before = [np.asarray(w).copy() for w in layer.weights]
    model.trainable = False
    model.compile(optimizer="sgd")
    model.fit(past * 3, past[:, :2] * 3, verbose=0)  # moved as BatchNormalization does not
    for a, b in zip(before, layer.weights):
        np.testing.assert_array_equal(a, np.asarray(b))
