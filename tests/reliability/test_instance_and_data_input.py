"""Bad input to the instance segmenter, its metrics, the data sets and
`tf.data` pipelines: an error that names it, never silently wrong targets,
figures or defaults (found by a bad-input battery, 2026-12-02: each of these
trained, scored or loaded without a word, or failed deep inside NumPy,
Keras or TensorFlow before)."""

import numpy as np
import pytest

import cvseq
from cvseq.datasets import digit_instances, load
from cvseq.metrics import instances as instance_metrics


@pytest.fixture(scope="module")
def scenes():
    data = digit_instances.generate("test", num_scenes=4, image_size=16,
                                    max_digits=2, digit_size=(8, 10))
    return data["images"], {"semantic": data["semantic"], "instances": data["instances"]}


@pytest.fixture(scope="module")
def segmenter():
    return cvseq.instance_segmenter(11, image_size=16, max_instances=4)


def _fit(model, x, y):
    model.fit(x, y, epochs=1, verbose=0)


@pytest.mark.parametrize("targets, error, says", [
    # Keras orders dict outputs by name: a tuple trained instances on classes.
    (lambda y: (y["semantic"], y["instances"]), TypeError, "does not say which is which"),
    (lambda y: {"semantic": y["semantic"] - 5, "instances": y["instances"]}, ValueError,
     r"class ids in \[0, 11\).*from -5"),
    (lambda y: {"semantic": y["semantic"], "instances": -y["instances"]}, ValueError,
     "instance ids >= 0"),
    (lambda y: {"semantic": y["semantic"], "instances": y["instances"][:, :8]}, ValueError,
     r"shape \(batch, 16, 16\).*\(4, 8, 16\)"),
    (lambda y: {"semantic": np.eye(11)[y["semantic"]], "instances": y["instances"]},
     ValueError, r"not one-hot.*argmax"),
    (lambda y: {"semantic": y["semantic"], "instance": y["instances"]}, ValueError,
     r"keys 'semantic' and 'instances'.*\['instance', 'semantic'\]"),
    (lambda y: {"semantic": y["semantic"], "instances": y["instances"][:3]}, ValueError,
     "one map per image each. Received 4 and 3"),
    (lambda y: {"semantic": y["semantic"] + 0.5, "instances": y["instances"]}, ValueError,
     "received fractions"),
])
def test_instance_targets_are_checked_before_training(segmenter, scenes, targets, error,
                                                       says):
    images, truth = scenes
    with pytest.raises(error, match=says):
        _fit(segmenter, images, targets(truth))


def test_instance_dataset_targets_are_checked(segmenter):
    import tensorflow as tf

    images = load("digit_instances", "test", image_size=16, num_scenes=2)
    big = load("digit_instances", "test", image_size=32, num_scenes=2)
    data = tf.data.Dataset.zip(images.map(lambda x, y: x), big.map(lambda x, y: y))
    with pytest.raises(ValueError, match=r"targets\['(semantic|instances)'\] must have shape "
                                         r"\(batch, 16, 16\).*image_size=\(16, 16\)"):
        _fit(segmenter, data, None)
    channel = images.map(lambda x, y: (x, {k: v[..., None] for k, v in y.items()}))
    with pytest.raises(ValueError, match=r"tf.squeeze\(y, -1\)"):
        _fit(segmenter, channel, None)
    pairs = load("digit_instances", "test", image_size=16, num_scenes=2).map(
        lambda x, y: (x, (y["semantic"], y["instances"])))
    with pytest.raises(ValueError, match="targets must be a dict"):
        _fit(segmenter, pairs, None)


def test_dataset_shapes_are_checked_against_the_model():
    # Keras said "Dimensions must be equal ... frame_binary_crossentropy", or
    # once traced for 4 frames took 6-frame clips and returned numbers.
    predictor = cvseq.video_predictor(frames_in=2, frames_out=2, image_size=16, filters=4)
    with pytest.raises(ValueError, match=r"targets: `y` must have shape \(batch, 2, 16, 16, 1\)"):
        predictor.evaluate(load("moving_digit_frames", "test", frames_in=2, frames_out=3,
                                image_size=16, num_clips=2), verbose=0)
    with pytest.raises(ValueError, match="one channel"):
        predictor.evaluate(load("moving_digit_frames", "test", frames_in=2, frames_out=2,
                                image_size=16, num_clips=2, channels=3), verbose=0)
    tagger = cvseq.video_tagger(4, frames=4, image_size=16, units=8)
    with pytest.raises(ValueError, match=r"\(batch, 4, 16, 16, 3\).*\(None, 6, 16, 16, 3\)"):
        tagger.evaluate(load("moving_digits", "test", frames=6, image_size=16,
                             num_clips=2), verbose=0)


def _perfect(truth):
    blobs = instance_metrics.connected_components(np.eye(11)[truth["semantic"]],
                                                   max_instances=4)
    return blobs


@pytest.mark.parametrize("change, says", [
    (lambda p: {**p, "scores": p["scores"][:, :1]}, r"both be \(n, k\)"),  # zip() cut it
    (lambda p: {**p, "instance_ids": p["instance_ids"][:, :8]}, "one shape"),  # scored 0.0
    (lambda p: {**p, "scores": np.full_like(p["scores"], np.nan)}, "NaN"),  # scored 1.0
    (lambda p: {**p, "labels": p["labels"] + 20}, "num_classes=11"),  # scored 0
])
def test_instance_metrics_refuse_what_they_cannot_score(scenes, change, says):
    _, truth = scenes
    predicted = change(_perfect(truth))
    for metric in (instance_metrics.mask_average_precision,
                   instance_metrics.panoptic_quality):
        with pytest.raises(ValueError, match=says):
            metric(truth, predicted, num_classes=11)


def test_instance_metrics_name_one_image_without_its_batch_axis(scenes):
    _, truth = scenes  # NumPy's "'numpy.int64' object is not iterable" before
    one = ({k: v[0] for k, v in truth.items()}, {k: v[0] for k, v in _perfect(truth).items()})
    with pytest.raises(ValueError, match=r"one image\? Add the batch axis"):
        instance_metrics.panoptic_quality(*one)


def test_instance_metrics_still_score_float_maps_and_a_batch_in_memory(scenes, segmenter):
    images, truth = scenes
    found = _perfect(truth)
    as_float = {key: value.astype(float) for key, value in truth.items()}
    assert instance_metrics.panoptic_quality(as_float, found)["pq"] == pytest.approx(
        instance_metrics.panoptic_quality(truth, found)["pq"])
    report = instance_metrics.evaluate_instance_segmenter(segmenter, (images, truth))
    assert 0 <= report["pq"]["pq"] <= 1
    with pytest.raises(ValueError, match=r"\(images, \{"):
        instance_metrics.evaluate_instance_segmenter(segmenter, [images])


@pytest.mark.parametrize("call, error, says", [
    # 0 was read as "the default", 300 clips.
    (lambda: load("sample_videos", "test", frames=4, image_size=16, num_clips=0),
     ValueError, "`num_clips` must be at least 1"),
    # An empty test split, and a TensorFlow shuffle error for training.
    (lambda: load("vessel_trajectories", "test", history=100000, horizon=2),
     ValueError, "No track of the 'test' split is 100002 minutes long"),
    # Named 'video_folder', whose `load` reads labelled folders instead.
    (lambda: load("video_frames", "test"), TypeError, "Data set 'video_frames' needs `root`"),
    (lambda: load("moving_digit_frames", "val"), ValueError,
     "Data set 'moving_digit_frames' has splits"),
    # NumPy's "Cannot take a larger sample than population".
    (lambda: load("moving_digit_frames", "test", max_digits=1000, image_size=16,
                  num_clips=2), ValueError, r"more than the \d+ handwritten digits"),
    (lambda: load("digit_instances", "test", max_digits=1000, num_scenes=2), ValueError,
     "`max_digits` .1000. is more than"),
    (lambda: load("digit_tracks", "test", num_digits=1000, num_clips=2), ValueError,
     "`num_digits` .1000. is more than"),
    (lambda: load("digit_detection", "test", digit_size=("8", "9"), image_size=32,
                  num_scenes=2), ValueError, "`digit_size` must be"),
    (lambda: load(["moving_digits"]), TypeError, "`name` must be a str"),
    # Keras: "Cannot convert '(2, 16, 16, 3.0)' to a shape".
    (lambda: cvseq.video_predictor(frames_in=2, frames_out=2, image_size=16, channels=3.0),
     ValueError, "`channels` must be 1 .grey. or 3"),
])
def test_data_sets_and_factories_name_bad_options(call, error, says):
    with pytest.raises(error, match=says):
        call()


def test_numpy_ints_are_ints_for_the_video_predictor():
    # Keras refused kernel_size=np.int64(3) as "not a tuple of 2 integers".
    model = cvseq.video_predictor(frames_in=2, frames_out=2, image_size=16, filters=4,
                                  kernel_size=np.int64(3), channels=np.int64(3))
    assert model.output_shape == (None, 2, 16, 16, 3)


def test_predict_frames_checks_what_predict_checks():
    predictor = cvseq.video_predictor(frames_in=2, frames_out=2, image_size=16, filters=4)
    with pytest.raises(ValueError, match="no examples"):  # ConvLSTMCell's error before
        predictor.predict_frames(np.zeros((0, 2, 16, 16, 1)), 2)
    with pytest.raises(ValueError, match="NaN"):  # all-NaN frames came back
        predictor.predict_frames(np.full((1, 2, 16, 16, 1), np.nan), 2)
    with pytest.raises(TypeError, match="not file names"):
        predictor.predict_frames("video.mp4", 2)
    with pytest.warns(UserWarning, match="float pixels"):  # predict() warned, this did not
        predictor.predict_frames(np.full((1, 2, 16, 16, 1), 0.5), 2)


@pytest.fixture(scope="module")
def two_stream():
    return cvseq.video_tagger(4, frames=4, image_size=16, units=8, streams=("rgb", "flow"))


def test_two_stream_models_take_what_one_stream_models_take(two_stream):
    clips = np.random.default_rng(0).integers(0, 256, (2, 4, 16, 16, 3)).astype("uint8")
    # A list of clips was "expects 2 named input(s)... received 2 input tensors".
    assert two_stream.predict(list(clips), verbose=0).shape == (2, 4)
    batches = load("moving_digits", "test", frames=4, image_size=16, num_clips=2,
                   format="numpy")
    two_stream.fit(batches, epochs=1, verbose=0)  # failed the same way
    with pytest.raises(ValueError, match=r"without its batch axis: pass x\[None\]"):
        two_stream.predict(clips[0], verbose=0)
    with pytest.raises(ValueError, match="clips of different shapes"):
        two_stream.predict([clips[0], clips[1][:3]], verbose=0)
    with pytest.raises(ValueError, match="'clips' 2, 'flow' 1"):  # an AttributeError before
        two_stream.predict({"clips": clips, "flow": np.zeros((1, 3, 16, 16, 2), "float32")},
                           verbose=0)


def test_flow_helpers_name_bad_input():
    flow = cvseq.flow
    frame = np.zeros((32, 32, 3), "uint8")
    with pytest.raises(ValueError, match=r"\(height, width, 2\) for a frame of shape \(32, 32, 3\)"):
        flow.warp_back(frame, np.zeros((16, 16, 2), "float32"))  # (16, 16, 3) silently
    assert flow.warp_back(frame, np.zeros((32, 32, 2))).shape == (32, 32, 3)  # float64 flow
    clips = np.zeros((1, 3, 16, 16, 3), "uint8")
    assert flow.batch_flow(clips, cache=True).shape == (1, 2, 16, 16, 2)  # AttributeError
    with pytest.raises(ValueError, match="clips of one shape"):
        flow.batch_flow([clips[0], clips[0][:2]])
    with pytest.raises(TypeError, match="takes a tf.data.Dataset"):
        flow.add_flow(load("moving_digits", "test", frames=4, image_size=16, num_clips=2,
                           format="numpy"))
    with pytest.raises(ValueError, match="at least 2x2 pixels"):
        flow.optical_flow(np.zeros((3, 0, 0, 3), "uint8"))


def test_step_normalization_adapts_on_pairs_and_numpy_batches_and_refuses_nan():
    layer = cvseq.trajectory_predictor(history=3, horizon=2).get_layer("step_normalization")
    past = np.cumsum(np.ones((4, 3, 2)), axis=1)
    layer.adapt((past, np.ones((4, 2, 2))))  # NumPy's "inhomogeneous shape" before
    assert float(layer.scale) == pytest.approx(np.sqrt(2), rel=1e-5)
    layer.adapt(load("digit_trajectories", "test", history=3, horizon=2, format="numpy"))
    with pytest.raises(ValueError, match="NaN"):  # the scale became 1.0
        layer.adapt(np.full((2, 3, 2), np.nan))


def test_tracker_evaluation_names_ids_that_do_not_fit_the_boxes():
    from cvseq import tracking

    boxes = np.array([[0, 0, 10, 10], [20, 20, 30, 30.]])
    with pytest.raises(ValueError, match="Clip 0, frame 0: .*3 ids and 2 boxes"):  # motmetrics
        tracking.evaluate_tracker(tracking.Tracker(), [[(boxes, None)] * 2],
                                  [np.stack([boxes, boxes])], [np.array([0, 1, 2])])
    with pytest.raises(TypeError, match="must be a cvseq.tracking.Tracker"):
        tracking.track_clip("kalman", [(boxes, None)])


def test_losses_of_the_users_own_take_their_own_targets():
    # A review found KL divergence on soft labels (mixup), a one-item list of
    # a one-hot loss and binary cross-entropy refused as "looks one-hot".
    import keras
    import tensorflow as tf

    x = np.random.default_rng(0).integers(0, 256, (4, 16, 16, 3)).astype("float32")
    soft = np.full((4, 3), 1 / 3, "float32")
    for loss in (keras.losses.KLDivergence(), [keras.losses.CategoricalCrossentropy()],
                 "binary_crossentropy"):
        model = cvseq.image_classifier(3, image_size=16)
        model.compile(optimizer="sgd", loss=loss, metrics=[])
        model.fit(tf.data.Dataset.from_tensor_slices((x, soft)).batch(2), verbose=0)
        model.fit(x, soft, verbose=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="looks one-hot"):  # class ids still checked
        model.fit(tf.data.Dataset.from_tensor_slices((x, soft)).batch(2), verbose=0)


def test_two_stream_inputs_given_whole_still_pass(two_stream):
    import keras
    import tensorflow as tf

    clips = np.random.default_rng(1).integers(0, 256, (2, 4, 16, 16, 3)).astype("uint8")
    flow = cvseq.flow.batch_flow(clips)
    assert two_stream.predict([clips, flow], verbose=0).shape == (2, 4)  # input order

    class Whole(keras.utils.PyDataset):
        def __len__(self):
            return 1

        def __getitem__(self, index):
            return {"clips": clips, "flow": flow}, np.array([0, 1])

    two_stream.fit(Whole(), epochs=1, verbose=0)
    # Clips of any length (frames=None): a rank-4 element of unknown frames.
    data = tf.data.Dataset.from_generator(
        lambda: ((clip, 0) for clip in clips),
        output_signature=(tf.TensorSpec((None, 16, 16, 3), tf.uint8),
                          tf.TensorSpec((), tf.int32)))
    assert cvseq.flow.add_flow(data).element_spec[0]["flow"].shape.as_list() == [None, 16, 16, 2]
    with pytest.raises(ValueError, match=r"^validation_data: `x` \('clips'\)"):
        two_stream.fit(clips, np.array([0, 1]), validation_data=(clips[0], np.array([0])),
                       verbose=0)
