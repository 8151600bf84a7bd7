"""3D-CNN action classification: convolutions over space and time at once."""

import keras

from cvseq._validation import check_choice, check_int_tuple
from cvseq.layers import ImagePreprocessing
from cvseq.models import two_stream
from cvseq.models.video_tagger import FrameDifferences

BLOCKS = ("r2plus1d", "c3d")


def video_classifier_3d(
    num_classes,
    *,
    frames=16,
    image_size=(112, 112),
    block="r2plus1d",
    filters=(16, 32, 64, 128),
    multi_label=False,
    dropout=0.2,
    streams=("rgb",),
    compile=True,
    name=None,
):
    """Classifies video clips with 3D convolutions (R(2+1)D or C3D blocks).

    The network reads each frame's pixels in [0, 1] and its difference
    from the frame before (zeros for the first frame) in [-1, 1], six
    channels: on real footage the differences carry the motion (see
    docs/video_classifier_3d_real.md). Each stage is a convolution block,
    batch normalization and ReLU, then pooling. The first stage pools space
    only (`(1, 2, 2)`), as in C3D, so fine motion between neighbouring
    frames survives into the next stage; later stages pool space and time
    (`(2, 2, 2)`). Global average pooling over time and space feeds the
    head. With `block="r2plus1d"` every 3x3x3
    convolution is factorized into a 1x3x3 spatial and a 3x1x1 temporal
    convolution with a ReLU between them (Tran et al., 2018): fewer weights
    and one more non-linearity per block. `block="c3d"` uses full 3x3x3
    kernels (Tran et al., 2015).

    Takes the same clips and labels as `video_tagger`, so the two can be
    compared on the same data set.

    Args:
        num_classes: int. Number of classes (single-label) or tags
            (multi-label).
        frames: int or None. Frames per clip; None accepts clips of any
            length. Defaults to 16.
        image_size: int or (height, width). Frame size. Defaults to
            `(112, 112)`.
        block: `"r2plus1d"` or `"c3d"`. Defaults to `"r2plus1d"`.
        filters: tuple of ints. Output channels of each stage (one stage
            per entry). Defaults to `(16, 32, 64, 128)`.
        multi_label: bool. Independent tags (sigmoid, binary cross-entropy)
            instead of one class per clip (softmax). Defaults to False.
        dropout: float in [0, 1). Dropout before the head. Defaults to 0.2.
        streams: tuple of `"rgb"` and `"flow"`. With `"flow"`, the same 3D
            network (its own weights, layers named `flow_stage*`) reads the
            optical flow between frames (`cvseq.flow`), and the pooled
            features of the streams are concatenated before the head (late
            fusion). The inputs are then `{"clips", "flow"}` (flow `(batch,
            frames - 1, h, w, 2)`); `fit`, `evaluate` and `predict` compute
            the flow when given clips alone. Defaults to `("rgb",)`.
        compile: bool. Compile with the task's defaults: Adam(1e-3) and
            sparse categorical cross-entropy with accuracy, or binary
            cross-entropy with AUC, precision, recall and F1 at 0.5 for
            multi-label. Defaults to True.
        name: str or None. Model name. Defaults to `"video_classifier_3d"`.

    Returns:
        A `cvseq.Task` from raw pixels `(batch, frames, height, width, 3)`
        in [0, 255] to class probabilities `(batch, num_classes)`.

    Example (real footage: is a clip played at normal or triple speed?):

    >>> clips = dict(frames=8, image_size=32)
    >>> train = cvseq.datasets.load("sample_videos", "train", **clips)
    >>> test = cvseq.datasets.load("sample_videos", "test", **clips)
    >>> model = video_classifier_3d(2, frames=8, image_size=32)
    >>> model.fit(train, epochs=8)
    >>> model.evaluate(test, return_dict=True)["accuracy"]  # 0.78-0.90
    """
    # Arguments.
    num_classes, frames, image_size, dropout, streams = (
        two_stream.check_clip_classifier_arguments(
            num_classes, multi_label=multi_label, frames=frames,
            image_size=image_size, dropout=dropout, streams=streams,
            compile=compile))
    check_choice("block", block, BLOCKS)
    filters = check_int_tuple("filters", filters, what=", one per stage")
    spatial_stride = 2 ** len(filters)
    if min(image_size) < spatial_stride:
        raise ValueError(
            f"`image_size` must be at least {spatial_stride} pixels a side for "
            f"{len(filters)} stages (each halves it). Received: "
            f"image_size={image_size}. Use larger frames or fewer `filters`."
        )

    # Layers.
    clips = keras.Input((frames, *image_size, 3), name="clips")
    features = []
    if "rgb" in streams:
        x = ImagePreprocessing("unit", name="preprocessing")(clips)
        # Frame differences as three more input channels: real footage
        # moves well under a pixel per frame at small sizes, and the first
        # temporal convolution, behind a spatial one, batch norm and ReLU,
        # did not learn that change from the frames alone (held out on
        # real video files 0.55 against 0.90 / 0.78 with the differences;
        # docs/video_classifier_3d_real.md).
        differences = FrameDifferences(name="frame_differences")(clips)
        differences = keras.layers.Rescaling(1 / 255, name="differences_scale")(
            differences)
        x = keras.layers.Concatenate(name="frames_and_differences")([x, differences])
        features.append(_network(x, filters, block, prefix="", pooling="pool"))
    if "flow" in streams:
        fields = two_stream.flow_input(frames, image_size)
        features.append(_network(fields, filters, block, prefix="flow_",
                                 pooling="flow_pool"))
    x = features[0] if len(features) == 1 else two_stream.fuse(features)
    return two_stream.clip_classifier(
        x, clips, fields if "flow" in streams else None, num_classes,
        multi_label=multi_label, dropout=dropout, compile=compile,
        name=name or "video_classifier_3d")


def _network(x, filters, block, *, prefix, pooling):
    """The 3D stages on `(batch, frames, h, w, c)` -> pooled `(batch, filters[-1])`."""
    for stage, channels in enumerate(filters, start=1):
        x = _conv_block(x, channels, block=block, prefix=f"{prefix}stage{stage}")
        pool = (1, 2, 2) if stage == 1 else (2, 2, 2)
        # "same": a clip shorter than the pooled length still goes through.
        x = keras.layers.MaxPooling3D(pool, padding="same",
                                      name=f"{prefix}stage{stage}_pool")(x)
    return keras.layers.GlobalAveragePooling3D(name=pooling)(x)


def _conv_bn_relu(x, channels, kernel, name):
    x = keras.layers.Conv3D(
        channels, kernel, padding="same", use_bias=False, name=f"{name}_conv"
    )(x)
    # momentum=0.9 as in the small_cnn backbone: statistics settle within
    # the first epoch of a small data set.
    x = keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def _conv_block(x, channels, *, block, prefix):
    if block == "c3d":
        return _conv_bn_relu(x, channels, (3, 3, 3), prefix)
    x = _conv_bn_relu(x, channels, (1, 3, 3), f"{prefix}_spatial")
    return _conv_bn_relu(x, channels, (3, 1, 1), f"{prefix}_temporal")


# ---------------------------------------------------------------------------
# The task as `cvseq` commands, the examples and the tests see it.
# ---------------------------------------------------------------------------

from cvseq import tasks as _tasks  # noqa: E402

_tasks.register_task(_tasks.clip_classifier_task(
    name="video_classifier_3d",
    description="3D-CNN action classification (clips -> class; "
                "--set streams=rgb,flow adds an optical-flow stream)",
    factory=video_classifier_3d,
    example="action_recognition_3d.py",
))
