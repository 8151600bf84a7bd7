"""Optical flow as a second stream of the video models.

The two-stream idea of Simonyan & Zisserman 2014 ("Two-Stream Convolutional
Networks for Action Recognition in Videos") with the recurrent fusion of Ng
et al. 2015 ("Beyond Short Snippets"): one network reads the frames, a
second reads the optical flow between them (`cvseq.flow`, OpenCV, outside
the graph), and their clip summaries are fused before the head.

`video_tagger(..., streams=("rgb", "flow"))` and `streams=("flow",)` build
on the pieces here; their models are `FlowTask`s, which compute the flow
themselves when `fit`, `evaluate` or `predict` get clips alone.
"""

import keras
import numpy as np
from keras import ops

from cvseq import flow as flow_lib
from cvseq._validation import check_bool, check_fraction, check_image_size, check_int
from cvseq.layers import BatchNormalization, FrameMask, TimeDistributed
from cvseq.models.task import Task, fit_keywords

# Filters of the flow network's stride-2 convolutions on each flow field.
_FLOW_FILTERS = (16, 32)
# How the flow stream joins the frames: "late", its own recurrent layer and
# the two clip summaries concatenated (the kept default, see the README), or
# "frame", its per-field features concatenated to each frame's descriptor
# before the frames' recurrent layer. Changed only to measure both.
_FUSION = "late"
FUSIONS = ("late", "frame")


@keras.saving.register_keras_serializable(package="cvseq")
class FlowMask(keras.layers.Layer):
    """The mask of the flow fields from the clips' frame mask: field `t`
    (frame `t` to `t + 1`) is real when frame `t + 1` is.

    Input bool `(batch, frames)`; output bool `(batch, frames - 1)`.
    """

    def call(self, mask):
        return mask[:, 1:]

    def compute_output_spec(self, mask):
        frames = mask.shape[1]
        return keras.KerasTensor(
            (mask.shape[0], None if frames is None else frames - 1), dtype="bool")


@keras.saving.register_keras_serializable(package="cvseq")
class PadFirstStep(keras.layers.Layer):
    """Zeros before the first step: `(batch, steps, d)` -> `(batch, steps + 1,
    d)`, so per-field flow features line up with the frames (none for the
    first frame)."""

    def call(self, x):
        return ops.concatenate([ops.zeros_like(x[:, :1]), x], axis=1)

    def compute_output_spec(self, x):
        steps = x.shape[1]
        return keras.KerasTensor(
            (x.shape[0], None if steps is None else steps + 1, *x.shape[2:]),
            dtype=x.dtype)


def strided_network(input_shape, filters, *, prefix, input_name, rescale=None):
    """One frame-sized input -> pooled features `(filters[-1],)`.

    Stride-2 convolutions (one per entry of `filters`) with batch norm and
    ReLU, then global average pooling; `rescale` multiplies the input first.
    Layers are named `{prefix}{i}_conv`, `_bn`, `_relu`, `{prefix}_pooling`
    (and `{prefix}_rescaling`); the model `{prefix}_network`.
    """
    x = inputs = keras.Input(input_shape, name=input_name)
    if rescale is not None:
        x = keras.layers.Rescaling(rescale, name=f"{prefix}_rescaling")(x)
    for i, channels in enumerate(filters, start=1):
        x = keras.layers.Conv2D(channels, 3, strides=2, padding="same",
                                use_bias=False, name=f"{prefix}{i}_conv")(x)
        x = BatchNormalization(momentum=0.9, name=f"{prefix}{i}_bn")(x)
        x = keras.layers.ReLU(name=f"{prefix}{i}_relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name=f"{prefix}_pooling")(x)
    return keras.Model(inputs, x, name=f"{prefix}_network")


def _flow_network(image_size):
    """One flow field `(h, w, 2)` -> features `(_FLOW_FILTERS[-1],)`: two
    stride-2 convolutions with batch norm, then global average pooling."""
    return strided_network((*image_size, 2), _FLOW_FILTERS, prefix="flow",
                           input_name="flow_field")


def flow_input(frames, image_size):
    """The `"flow"` input: `(batch, frames - 1, h, w, 2)` float32."""
    return keras.Input((None if frames is None else frames - 1, *image_size, 2),
                       name="flow")


def flow_stream(frame_descriptor, mask, *, frames, image_size, recurrent, units,
                bidirectional, dropout):
    """Adds the flow stream beside the frames' descriptors.

    Args:
        frame_descriptor: `(batch, frames, d)` per-frame features of the RGB
            stream, or None (flow only).
        mask: bool `(batch, frames)` frame mask of the clips.

    Returns:
        `(flow, frame_descriptor, summary)`: the new `"flow"` input; the
        descriptor, with the flow features concatenated per frame under
        `"frame"` fusion; and the flow stream's clip summary `(batch,
        units)` under `"late"` fusion (None under `"frame"`).
    """
    from cvseq.models._common import recurrent_layer

    fields = flow_input(frames, image_size)
    x = TimeDistributed(_flow_network(image_size), name="flow_features")(fields)
    if _FUSION == "frame" and frame_descriptor is not None:
        x = PadFirstStep(name="flow_alignment")(x)
        descriptor = keras.layers.Concatenate(name="frame_and_flow_descriptor")(
            [frame_descriptor, x])
        return fields, descriptor, None
    x = keras.layers.Dense(units, activation="relu", name="flow_embedding")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="flow_dropout")(x)
    rnn = recurrent_layer(recurrent, units, name=f"flow_{recurrent}")
    if bidirectional:
        rnn = keras.layers.Bidirectional(rnn, name=f"flow_bidirectional_{recurrent}")
    summary = rnn(x, mask=FlowMask(name="flow_mask")(mask))
    return fields, frame_descriptor, summary


def fuse(summaries):
    """Late fusion: the streams' clip summaries, concatenated."""
    return keras.layers.Concatenate(name="stream_fusion")(summaries)


def flow_only_tagger(num_classes, *, frames, image_size, recurrent, units,
                     bidirectional, multi_label, dropout, compile, name):
    """`video_tagger(streams=("flow",))`: the flow stream alone. The clips
    input only gives the frame mask (padding at the end of a clip)."""
    clips = keras.Input((frames, *image_size, 3), name="clips")
    mask = FrameMask(name="frame_mask")(clips)
    fields, _, summary = flow_stream(None, mask, frames=frames, image_size=image_size,
                                     recurrent=recurrent, units=units,
                                     bidirectional=bidirectional, dropout=dropout)
    return clip_classifier(summary, clips, fields, num_classes,
                           multi_label=multi_label, dropout=dropout,
                           compile=compile, name=name or "video_tagger")


def clip_classifier(features, clips, fields, num_classes, *, multi_label, dropout,
                    compile, name):
    """The classification head on a clip summary, and the task around it.

    Args:
        features: `(batch, d)` clip summary.
        clips: the `"clips"` input.
        fields: the `"flow"` input, or None (no flow stream).

    Returns:
        A `cvseq.Task` from `clips` (or a `FlowTask` from `{"clips", "flow"}`
        when `fields` is given) with the classification compile defaults.
    """
    from cvseq.models._common import classification_head, classifier_task

    outputs = classification_head(features, num_classes, multi_label=multi_label,
                                  dropout=dropout)
    if fields is None:
        return classifier_task(clips, outputs, num_classes, multi_label=multi_label,
                               compile=compile, name=name)
    return classifier_task({"clips": clips, "flow": fields}, outputs, num_classes,
                           multi_label=multi_label, compile=compile, name=name,
                           task_class=FlowTask)


def check_clip_classifier_arguments(num_classes, *, multi_label, frames, image_size,
                                    dropout, streams, compile):
    """Checks the arguments every clip classifier takes (`video_tagger`,
    `video_classifier_3d`); returns `(num_classes, frames, image_size,
    dropout, streams)` normalized (`image_size` a pair, `streams` a tuple)."""
    from cvseq.models._common import check_classes

    num_classes = check_classes(num_classes, multi_label)
    frames = check_int("frames", frames, allow_none=True)
    image_size = check_image_size(image_size)
    dropout = check_fraction("dropout", dropout)
    check_bool("compile", compile)
    streams = flow_lib.check_streams(streams)
    if "flow" in streams:
        check_frames(frames)
    return num_classes, frames, image_size, dropout, streams


def check_frames(frames):
    if frames is not None and frames < 2:
        raise ValueError(
            "A flow stream needs clips of at least 2 frames (flow lies "
            f"between frames). Received: frames={frames}. Use frames >= 2 "
            "or streams=('rgb',)."
        )


@keras.saving.register_keras_serializable(package="cvseq")
class FlowTask(Task):
    """A `cvseq.Task` whose inputs are `{"clips", "flow"}`.

    `fit`, `evaluate` and `predict` take clips alone too (arrays or
    `tf.data` data sets of clips or `(clips, targets)`): the flow is then
    computed with `cvseq.flow` (DIS; each distinct clip once per process,
    see `cvseq.flow.add_flow`). Calling the model directly (`model(x)`)
    needs both inputs.
    """

    def _with_flow(self, x, method="predict", prefix=""):
        if x is None:
            return x
        if isinstance(x, dict):
            if "flow" in x or "clips" not in x:
                return x
            clips = self._clips(x["clips"], method, prefix)
            return {**x, "clips": clips, "flow": flow_lib.batch_flow(
                clips, cache=flow_lib.default_cache)}
        if hasattr(x, "element_spec"):  # a tf.data.Dataset
            spec = x.element_spec
            first = spec[0] if isinstance(spec, tuple) else spec
            return x if isinstance(first, dict) else flow_lib.add_flow(x)
        if isinstance(x, keras.utils.PyDataset):  # cvseq's format="numpy" batches
            return _FlowBatches(x)
        if isinstance(x, (list, tuple)) and len(x) == 2 and np.ndim(x[1]) == 5 and (
                np.shape(x[1])[-1] == 2):
            return x  # [clips, flow] in the order of the model's inputs
        if isinstance(x, (list, tuple)) or hasattr(x, "shape"):
            clips = self._clips(x, method, prefix)
            return {"clips": clips, "flow": flow_lib.batch_flow(
                clips, cache=flow_lib.default_cache)}
        return x

    def _clips(self, clips, method, prefix):
        """Clips checked as the one-stream models check them (rank, size,
        NaN, ragged lists), before any flow is computed."""
        if isinstance(clips, (list, tuple)):
            try:
                clips = np.asarray(clips)
            except ValueError as err:  # NumPy: "inhomogeneous shape"
                raise ValueError(
                    f"{prefix}`x` holds clips of different shapes (frames or sizes): pad or "
                    "resize them to one shape, then stack them "
                    "(np.stack(clips)).") from err
        inputs = self._named_inputs()
        return self._check_input(clips, "clips", inputs["clips"], method, prefix)

    def fit(self, x=None, y=None, *args, **kwargs):
        kwargs = fit_keywords(args, kwargs)
        validation_data = kwargs.pop("validation_data", None)
        if isinstance(validation_data, (tuple, list)) and validation_data:
            validation_data = (self._with_flow(validation_data[0], "fit",
                                               "validation_data: "),
                               *validation_data[1:])
        else:
            validation_data = self._with_flow(validation_data, "fit", "validation_data: ")
        return super().fit(self._with_flow(x, "fit"), y,
                           validation_data=validation_data, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        return super().evaluate(self._with_flow(x, "evaluate"), y, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        return super().predict(self._with_flow(x, "predict"), *args, **kwargs)


class _FlowBatches(keras.utils.PyDataset):
    """`format="numpy"` batches of clips (or `(clips, targets)`) with their
    flow added, for a `FlowTask`."""

    def __init__(self, batches):
        super().__init__(workers=batches.workers,
                         use_multiprocessing=batches.use_multiprocessing,
                         max_queue_size=batches.max_queue_size)
        self.batches = batches

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        batch = self.batches[index]
        clips, rest = ((batch[0], tuple(batch[1:])) if isinstance(batch, (tuple, list))
                       else (batch, ()))
        if isinstance(clips, dict):  # inputs given whole ({"clips", "flow"})
            return batch
        inputs = {"clips": clips, "flow": flow_lib.batch_flow(
            clips, cache=flow_lib.default_cache)}
        return (inputs, *rest) if rest else inputs

    def on_epoch_end(self):
        self.batches.on_epoch_end()
