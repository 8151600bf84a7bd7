"""CNN + RNN video tagging: a CNN on every frame, an LSTM/GRU over time."""

import keras
from keras import ops

from cvseq import backbones
from cvseq._validation import check_bool, check_choice, check_int
from cvseq.layers import FrameMask, TimeDistributed
from cvseq.models._common import RECURRENT, recurrent_layer, spatial_features
from cvseq.models import two_stream

# Filters of the motion stream's stride-2 convolutions on frame differences.
_MOTION_FILTERS = (16, 32)


@keras.saving.register_keras_serializable(package="cvseq")
class FrameDifferences(keras.layers.Layer):
    """Each frame minus the frame before it; zeros for the first frame.

    Input `(batch, frames, height, width, channels)` pixels; output the same
    shape, float32, in [-255, 255] for uint8 input.
    """

    def call(self, clips):
        clips = ops.cast(clips, "float32")
        previous = ops.concatenate([clips[:, :1], clips[:, :-1]], axis=1)
        return clips - previous

    def compute_output_spec(self, clips):
        return keras.KerasTensor(clips.shape, dtype="float32")


def _motion_network(image_size):
    """Frame difference `(h, w, 3)` -> motion features `(filters[-1],)`.

    Two stride-2 convolutions and global pooling: how much moved, and how
    (edges shifting by a pixel or by three), whatever the frame shows.
    """
    return two_stream.strided_network((*image_size, 3), _MOTION_FILTERS,
                                      prefix="motion", input_name="differences",
                                      rescale=1 / 255)


def video_tagger(
    num_classes,
    *,
    frames=16,
    image_size=(112, 112),
    backbone="frame_cnn",
    weights=None,
    recurrent="lstm",
    units=128,
    bidirectional=False,
    multi_label=False,
    dropout=0.2,
    train_backbone=True,
    streams=("rgb",),
    compile=True,
    name=None,
):
    """Tags video clips with a CNN on each frame and an LSTM (or GRU) over time.

    The backbone runs on every frame (`cvseq.layers.TimeDistributed`). Each
    frame is described by its globally pooled features (*what* is there),
    by its feature map projected to a few channels per position and
    flattened (*where*), and by a small motion network on its difference
    from the previous frame (*how it moved*): on real footage the backbone's
    coarse per-frame features alone do not show how far things moved between
    frames (see the README). The recurrent layer reads the per-frame
    features; all-zero frames at the end of a clip are padding and are
    masked out, so clips of different lengths can share a batch.

    Args:
        num_classes: int. Number of classes (single-label) or tags
            (multi-label).
        frames: int or None. Frames per clip; None accepts clips of any
            length. Defaults to 16.
        image_size: int or (height, width). Frame size. Defaults to
            `(112, 112)`.
        backbone: str or `keras.Model`. See `cvseq.backbones.build_backbone`.
            Defaults to `"frame_cnn"` (`"small_cnn"` at half width without
            batch normalization: batch norm trained worse on clips, and the
            backbone runs on every frame, so its width sets most of the
            tagger's cost).
        weights: None, `"imagenet"` or a weights file for the backbone.
            Defaults to None.
        recurrent: `"lstm"` or `"gru"`. Defaults to `"lstm"`.
        units: int. Recurrent units (and size of the per-frame features).
            Defaults to 128.
        bidirectional: bool. Read the clip in both directions. Defaults to
            False.
        multi_label: bool. Independent tags (sigmoid, binary cross-entropy)
            instead of one class per clip (softmax). Defaults to False.
        dropout: float in [0, 1). Dropout on the frame features and before
            the head. Defaults to 0.2.
        train_backbone: bool. False freezes the backbone (first stage of
            fine-tuning). Defaults to True.
        streams: tuple of `"rgb"` and `"flow"`. `("rgb", "flow")` adds a
            second stream on the optical flow between frames (`cvseq.flow`,
            OpenCV DIS): a small CNN per flow field and its own recurrent
            layer, whose clip summary is concatenated to the frames' before
            the head (late fusion); `("flow",)` uses the flow alone (no
            backbone then: a `backbone`, `weights` or `train_backbone`
            other than the default is refused). With a
            flow stream the model's inputs are `{"clips", "flow"}` (flow
            `(batch, frames - 1, h, w, 2)`), and `fit`, `evaluate` and
            `predict` compute the flow when given clips alone. Defaults to
            `("rgb",)`.
        compile: bool. Compile with the task's defaults: Adam(1e-3) and
            sparse categorical cross-entropy with accuracy, or binary
            cross-entropy with AUC, precision, recall and F1 at 0.5 for
            multi-label. Defaults to True.
        name: str or None. Model name. Defaults to `"video_tagger"`.

    Returns:
        A `cvseq.Task` from raw pixels `(batch, frames, height, width, 3)`
        in [0, 255] to class probabilities `(batch, num_classes)`.

    Example:

    >>> model = video_tagger(4, frames=8, image_size=(32, 32))
    >>> ds = cvseq.datasets.load("moving_digits", "train", frames=8, image_size=32)
    >>> model.fit(ds, epochs=1)
    >>> model.predict(np.zeros((1, 8, 32, 32, 3), "uint8")).shape
    (1, 4)
    """
    # Arguments.
    check_choice("recurrent", recurrent, RECURRENT)
    units = check_int("units", units)
    check_bool("bidirectional", bidirectional)
    num_classes, frames, image_size, dropout, streams = (
        two_stream.check_clip_classifier_arguments(
            num_classes, multi_label=multi_label, frames=frames,
            image_size=image_size, dropout=dropout, streams=streams,
            compile=compile))
    if "rgb" not in streams:
        # The backbone reads the frames; the flow stream has its own small
        # CNN. A backbone asked for here would be silently left out.
        given = {key: value for key, value, default in (
            ("backbone", backbone, "frame_cnn"), ("weights", weights, None),
            ("train_backbone", train_backbone, True)) if value != default}
        if given:
            raise ValueError(
                f"`streams={streams}` has no frame stream, so there is no backbone "
                f"for {', '.join(f'{k}={v!r}' for k, v in given.items())}. Add "
                "\"rgb\" to `streams` (streams=(\"rgb\", \"flow\")) to use them, "
                "or leave them out.")
        return two_stream.flow_only_tagger(
            num_classes, frames=frames, image_size=image_size, recurrent=recurrent,
            units=units, bidirectional=bidirectional, multi_label=multi_label,
            dropout=dropout, compile=compile, name=name)
    feature_extractor = backbones.build_backbone(
        backbone,
        image_size=image_size,
        weights=weights,
        train_backbone=train_backbone,
    )

    # Layers.
    clips = keras.Input((frames, *image_size, 3), name="clips")
    mask = FrameMask(name="frame_mask")(clips)
    x = TimeDistributed(feature_extractor, name="frame_features")(clips)
    # What is in the frame (pooled, position-free) and where (a few
    # channels per position, flattened).
    where = spatial_features(x, per_frame=True)
    what = TimeDistributed(
        keras.layers.GlobalAveragePooling2D(), name="frame_pooling"
    )(x)
    # How it moved: the frame differences, computed on the raw pixels (a
    # pretrained backbone's input stays the frames it was trained on).
    differences = FrameDifferences(name="frame_differences")(clips)
    moved = TimeDistributed(_motion_network(image_size), name="motion_features")(
        differences
    )
    x = keras.layers.Concatenate(name="frame_descriptor")([what, where, moved])
    if "flow" in streams:
        fields, x, flow_summary = two_stream.flow_stream(
            x, mask, frames=frames, image_size=image_size, recurrent=recurrent,
            units=units, bidirectional=bidirectional, dropout=dropout)
    x = keras.layers.Dense(units, activation="relu", name="frame_embedding")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="frame_dropout")(x)
    rnn = recurrent_layer(recurrent, units)
    if bidirectional:
        rnn = keras.layers.Bidirectional(rnn, name=f"bidirectional_{recurrent}")
    x = rnn(x, mask=mask)
    if "flow" in streams and flow_summary is not None:
        x = two_stream.fuse([x, flow_summary])
    return two_stream.clip_classifier(
        x, clips, fields if "flow" in streams else None, num_classes,
        multi_label=multi_label, dropout=dropout, compile=compile,
        name=name or "video_tagger")


# ---------------------------------------------------------------------------
# The task as `cvseq` commands, the examples and the tests see it.
# ---------------------------------------------------------------------------

from cvseq import tasks as _tasks  # noqa: E402

_tasks.register_task(_tasks.clip_classifier_task(
    name="video_tagger",
    description="CNN+LSTM video tagging (clips -> class or tags; "
                "--set streams=rgb,flow adds an optical-flow stream)",
    factory=video_tagger,
    example="video_tagging.py",
))
