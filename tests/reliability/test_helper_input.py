"""Bad input to the library's helpers (text, boxes, metrics, music): an
error that names it, never a silently wrong figure or value (found by a
bad-input battery, 2026-12-02: each of these returned a number, dropped or
changed a value, or failed deep inside NumPy, TensorFlow or music21)."""

import numpy as np
import pytest

from cvseq import boxes, metrics, music, text
from cvseq.metrics import trajectory


@pytest.fixture(scope="module")
def vocabulary():
    return text.build_vocabulary(["the cat sat"])


@pytest.mark.parametrize("call, error, says", [
    # A lone str was read as texts of one character each.
    (lambda v: text.encode(v, "the cat"), TypeError, r"one str: 'the cat'; pass \['the cat'\]"),
    (lambda v: text.language_model_windows("the cat sat", vocabulary=v, sequence_length=2),
     TypeError, "one str"),  # 0 windows, no error
    (lambda v: text.token_sequence_inputs(["60:1 62:1"], vocabulary=["60:1", "62:1"],
                                          sequence_length=3),
     TypeError, r"pass s.split\(\)"),  # every target [UNK]
    (lambda v: text.make_vectorizer(["a"], extra_tokens="[END]"), TypeError,
     r"pass \['\[END\]'\]"),  # added '[', 'E', 'N', 'D', ']'
    (lambda v: text.detokenize("hello ."), TypeError, "not one str"),
    (lambda v: text.dice_lexicon("ab", "cd"), TypeError, "one str"),
    (lambda v: text.translate_word_by_word("the cat", {}), TypeError, "one str"),
    (lambda v: text.encode(v, []), ValueError, "is empty"),  # TF UnimplementedError
    (lambda v: text.build_vocabulary([None]), TypeError, "item None"),  # the token 'none'
    (lambda v: text.make_vectorizer(10), TypeError, "list of tokens"),
    # -1 wrapped round to the last token; 99 was a bare IndexError.
    (lambda v: text.decode_ids(v, [[-1]]), ValueError, "token ids from 0 to 4"),
    (lambda v: text.decode_ids(v, [[99]]), ValueError, "token ids from 0 to 4"),
    (lambda v: text.pad([[1]], -1), ValueError, "`length` must be at least 0"),
])
def test_text_helpers_name_bad_input(vocabulary, call, error, says):
    with pytest.raises(error, match=says):
        call(vocabulary)


def test_bytes_texts_are_decoded():
    # tfds.as_numpy gives bytes: the tokens were "b'hello" and "world'".
    tokens = text.build_vocabulary([b"hello world"]).get_vocabulary()
    assert sorted(map(str, tokens[2:])) == ["hello", "world"]


@pytest.mark.parametrize("call, says", [
    # Logits scored as probabilities: perplexity 1.0, "perfect".
    (lambda: metrics.next_token_scores(np.full((2, 3), 5.0), [2, 1]), "summing to 1"),
    (lambda: metrics.unigram_baseline([5], [1], vocabulary_size=3), "ids from 0 to 2"),
    (lambda: metrics.unigram_baseline([], [1], vocabulary_size=3), "no token to count"),
    # One-hot truth and prediction: the class axis read as pixels (0.6 for 0.583).
    (lambda: metrics.segmentation_report(np.eye(2)[[[0, 0, 1, 1]]],
                                         np.eye(2)[[[0, 1, 1, 1]]], 2), "looks one-hot"),
    (lambda: metrics.mean_average_precision(
        {"boxes": np.zeros((0, 1, 4), "f"), "labels": np.zeros((0, 1))},
        {"boxes": np.zeros((0, 1, 4), "f"), "labels": np.zeros((0, 1)),
         "scores": np.zeros((0, 1))}), "no image"),  # all 0.0
    (lambda: metrics.mean_average_precision([{}], {}), "must be a dict"),  # AttributeError
    (lambda: boxes.pad(np.ones((2, 4)), [3], 3), "2 boxes and 1 labels"),  # box 2 unlabelled
    (lambda: trajectory.constant_velocity(np.zeros((1, 3, 2)), 0), "`horizon` must be"),
    (lambda: metrics.average_displacement_error(np.zeros((0, 2, 2)), np.zeros((0, 2, 2))),
     "at least one trajectory"),  # nan
    (lambda: metrics.final_displacement_error(np.zeros((2, 2)), np.zeros((2, 2))),
     r"\(batch, horizon, features\)"),  # IndexError
])
def test_metrics_refuse_what_they_cannot_score(call, says):
    with pytest.raises((ValueError, TypeError), match=says):
        call()


def test_scores_that_stay():
    assert metrics.next_token_scores(np.full((2, 3), 1 / 3), [2.0, 1.0],
                                     ignore_ids=0)["tokens"] == 2  # float ids, one int
    with pytest.raises(ValueError, match=r"ignored \(\[0\]\)"):  # sorted(0): TypeError
        metrics.next_token_scores(np.full((1, 2, 3), 1 / 3), [[0, 0]], ignore_ids=0)
    # A box that starts left of the image is a box, not padding (mAP 0.0 before).
    truth = {"boxes": np.array([[[-2, 10, 30, 40]]], "f"), "labels": np.array([[1]])}
    found = {**truth, "scores": np.array([[0.9]])}
    assert metrics.mean_average_precision(truth, found)["map_50"] == pytest.approx(1.0)


def test_frame_metrics_refuse_frames_of_another_count():
    from cvseq.models.video_predictor import frame_mse, ssim

    frames = np.zeros((1, 2, 16, 16, 1), "float32")
    for metric in (frame_mse, ssim):  # broadcast into a figure before
        with pytest.raises(ValueError, match="of one shape"):
            metric(frames, frames[:, :1])


def test_midi_keeps_what_it_is_given_or_says_why_not():
    # A note tied across a bar line read back as two attacks ('64:1.5', '64:0.5').
    tokens = music.midi_tokens(music.midi_bytes(["60:1", "62:0.5", "rest:1", "64:2"]))
    assert tokens[:4] == ["60:1", "62:0.5", "rest:1", "64:2"]
    with pytest.raises(ValueError, match="a length from"):  # 1e7 quarters: 13 GB and a hang
        music.midi_bytes(["60:1e7"])
    with pytest.raises(ValueError, match="a length from"):  # dropped from the file
        music.midi_bytes(["60:0.001"])
    with pytest.raises(ValueError, match="`bpm` must be at least 3.58"):  # saved as 4.54
        music.midi_bytes(["60:1"], bpm=2)
    with pytest.raises(ValueError, match="whole MIDI note number"):  # '60:1'
        music.note_token(60.7, 1)


def test_evaluate_segmenter_checks_masks_and_classes():
    import tensorflow as tf

    import cvseq

    model = cvseq.image_segmenter(3, image_size=32)
    images = np.zeros((2, 32, 32, 3), "float32")

    def data(masks):
        return tf.data.Dataset.from_tensor_slices((images, masks)).batch(2)

    good = np.zeros((2, 32, 32), "int32")
    assert 0 <= metrics.evaluate_segmenter(model, data(good))["mean_iou"] <= 1
    with pytest.raises(ValueError, match="class ids from 255 to 255"):  # 255 pixels dropped
        metrics.evaluate_segmenter(model, data(good + 255))
    with pytest.raises(ValueError, match="model's number of classes, 3"):  # class 2 dropped
        metrics.evaluate_segmenter(model, data(good), num_classes=2)
    with pytest.raises(ValueError, match="one-hot"):  # InvalidArgumentError
        metrics.evaluate_segmenter(model, data(np.eye(3)[good]))
    with pytest.raises(ValueError, match="no masks"):  # 0.0
        metrics.evaluate_segmenter(model, data(good).take(0))


def test_smaller_helpers_name_bad_input(tmp_path):
    import cvseq
    from cvseq import backbones, callbacks, distribute, layers, tasks
    from cvseq.metrics import TrackingEvaluator

    with pytest.raises(TypeError, match="True or False"):  # "no" was taken as True
        layers.BatchNormalization(synchronized="no")
    with pytest.raises(ValueError, match="distinct devices"):  # TF AssertionError
        distribute.strategy("mirrored", devices=["/cpu:0", "/cpu:0"])
    with pytest.raises(ValueError, match="distinct devices"):  # accepted
        distribute.strategy("mirrored", devices=[])
    assert TrackingEvaluator(np.float32(0.5)).iou_threshold == 0.5  # refused as "0.5"
    evaluator = TrackingEvaluator()
    box = np.array([[0, 0, 10, 10.]])
    with pytest.raises(ValueError, match="2 ids and 1 boxes"):  # motmetrics reshape
        evaluator.update([1, 2], box, [1], box)
    with pytest.raises(ValueError, match="distinct within a frame"):  # KeyError
        evaluator.update([1, 1], np.vstack([box, box]), [1], box)
    with pytest.raises(TypeError, match="must be a keras.Model"):  # AttributeError
        backbones.get_backbone("x")
    model = cvseq.image_classifier(2, image_size=16)
    with pytest.raises(TypeError, match=r"pass \['a.png'\]"):  # "Cannot read image 'a'"
        tasks.read_image_inputs("a.png", model)
    with pytest.raises(ValueError, match="is empty"):  # NumPy "need at least one array"
        tasks.read_image_inputs([], model)
    with pytest.raises(ValueError, match=r"clips \(batch, frames"):
        layers.FrameMask()(np.zeros((2, 4, 4, 3)))
    # A CSV of the user's own at the log's path was replaced by the epoch log.
    mine = tmp_path / "log.csv"
    mine.write_text("name,score\na,1\n")
    with pytest.raises(FileExistsError, match="no epoch log"):
        model.fit(np.zeros((2, 16, 16, 3)), np.array([0, 1]), verbose=0,
                  callbacks=[callbacks.EpochLog(str(mine))])
    assert mine.read_text() == "name,score\na,1\n"


def test_backbones_that_cannot_read_images_are_named(tmp_path):
    import keras

    import cvseq
    from cvseq import backbones

    damaged = tmp_path / "damaged.keras"
    damaged.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(ValueError, match="is not a .keras archive"):  # "File not found"
        backbones.build_backbone(str(damaged), image_size=16)
    grey = keras.Input((16, 16, 1))
    grey_cnn = keras.Model(grey, keras.layers.Conv2D(4, 3, strides=2)(grey))
    with pytest.raises(ValueError, match=r"\(None, 16, 16, 1\).*RGB images"):  # at predict
        cvseq.image_classifier(3, image_size=16, backbone=grey_cnn)
    text_model = cvseq.language_model(vocabulary=["a", "b"], sequence_length=4, units=4)
    with pytest.raises(ValueError, match="RGB images"):  # "pass the image_size it was built for"
        backbones.build_backbone(text_model, image_size=16)
    # A CNN that never downsamples has no pyramid (Keras said "`outputs`
    # argument cannot be empty").
    pixels = keras.Input((16, 16, 3))
    flat_cnn = keras.Model(pixels, keras.layers.Conv2D(4, 3, padding="same")(pixels))
    with pytest.raises(ValueError, match="never downsamples its 16-pixel-high input"):
        backbones.build_feature_pyramid(flat_cnn, image_size=16)


def test_capitalised_list_vocabularies_are_warned_about():
    with pytest.warns(UserWarning, match=r"capitals \(\['Cat'\]\)"):
        vectorizer = text.make_vectorizer(["Cat", "dog", "[START]"])
    assert text.encode(vectorizer, ["cat dog"]) == [[1, 3]]  # 'Cat' never matches
