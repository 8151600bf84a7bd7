"""CNN feature extractors shared by every vision factory.

`build_backbone(backbone, image_size=..., weights=..., train_backbone=...)`
turns any of these into a `keras.Model` named `"backbone"` that takes raw
pixels in [0, 255] and returns a feature map `(batch, h, w, channels)` (or a
pooled vector with `pooling="avg"|"max"`):

- a registered name from `list_backbones()` (`"small_cnn"`,
  `"compact_cnn"`, Keras applications such as `"mobilenet_v3_small"`,
  `"efficientnet_b0"`, `"resnet50"`);
- a `keras.Model` (a cvseq task model contributes its `"backbone"` layer);
- a path to a saved `.keras` model (the same rule applies);
- a KerasHub preset: a local preset directory, or a preset name (which needs
  the network).

`weights=None | "imagenet" | path` loads pretrained weights into a registered
backbone. Rescaling of raw pixels happens inside the returned model.
"""

import dataclasses
import os
import zipfile

import keras

from cvseq._validation import check_bool, check_choice, check_image_size
from cvseq.errors import UserError
from cvseq.layers import BatchNormalization, ImagePreprocessing

BACKBONE_NAME = "backbone"


class WeightsUnavailableError(UserError, RuntimeError):
    """Pretrained weights could not be fetched (usually: no network)."""


@dataclasses.dataclass(frozen=True)
class BackboneSpec:
    """How to build one registered backbone.

    Attributes:
        name: registry name.
        build: callable `(input_shape, weights) -> keras.Model` taking
            preprocessed images and returning a feature map.
        preprocessing: the `ImagePreprocessing` mode its inputs need.
        imagenet: whether `weights="imagenet"` is available.
        min_size: the smallest image side it accepts.
        description: one line for `list_backbones(verbose=True)`.
        feature_layers: names of layers whose outputs form a feature pyramid,
            from fine to coarse (used by encoder-decoder models and
            detectors); empty to pick the deepest layer at each stride.
    """

    name: str
    build: object
    preprocessing: str
    imagenet: bool
    min_size: int
    description: str
    feature_layers: tuple = ()


_REGISTRY = {}


def register_backbone(name, *, preprocessing, imagenet, min_size, description,
                      feature_layers=()):
    """Decorator that adds a backbone builder to the registry."""

    def decorator(build):
        _REGISTRY[name] = BackboneSpec(
            name=name,
            build=build,
            preprocessing=preprocessing,
            imagenet=imagenet,
            min_size=min_size,
            description=description,
            feature_layers=tuple(feature_layers),
        )
        return build

    return decorator


def list_backbones(verbose=False):
    """Names of the registered backbones (with descriptions if `verbose`)."""
    if verbose:
        return {name: spec.description for name, spec in _REGISTRY.items()}
    return list(_REGISTRY)


def get_spec(name):
    """The `BackboneSpec` of a registered backbone."""
    if name not in _REGISTRY:
        raise ValueError(
            f"Unknown backbone {name!r}. Registered backbones: "
            f"{', '.join(_REGISTRY)}; or pass a keras.Model, a path to a "
            "saved .keras model, or a KerasHub preset."
        )
    return _REGISTRY[name]


# ---------------------------------------------------------------------------
# Registered backbones.
# ---------------------------------------------------------------------------


def _register_conv_stages(name, filters, *, batch_norm, description):
    """Registers `name` as a `_conv_stages` CNN of `filters` widths: trained
    from scratch (pixels in [0, 1]), at least 16 px a side."""
    def build(input_shape, weights):
        return _conv_stages(input_shape, weights, name=name, filters=filters,
                            batch_norm=batch_norm)

    register_backbone(
        name,
        preprocessing="unit",
        imagenet=False,
        min_size=16,
        description=description,
        feature_layers=("stage1_relu", "stage2_relu", "stage3_relu", "stage4"),
    )(build)


_register_conv_stages(
    "small_cnn", (16, 32, 64, 128), batch_norm=True,
    description="4-stage conv/batch-norm CNN, output stride 8 (0.1M "
    "parameters); trains from scratch on a CPU in minutes.",
)


def _conv_stages(input_shape, weights, *, name, filters, batch_norm):
    """Four Conv(3x3)-[BN]-ReLU stages, max-pooled after the first three.

    Output stride 8; layers named `stage{n}_conv`, `stage{n}_bn`,
    `stage{n}_relu`, and `stage{n}` for each stage's output, so the
    registered `feature_layers` are the same for every such backbone.
    Spatial dims are left open so a saved backbone loads into a model of
    any image size.
    """
    inputs = keras.Input((None, None, input_shape[-1]), name="images")
    x = inputs
    for stage, width in enumerate(filters, start=1):
        x = keras.layers.Conv2D(
            width, 3, padding="same", use_bias=not batch_norm, name=f"stage{stage}_conv"
        )(x)
        if batch_norm:
            # momentum=0.9: moving statistics settle within the first epoch
            # of a small data set (Keras' 0.99 leaves early validation far
            # off). Synchronized: under tf.distribute the statistics are
            # those of the global batch, so training on N replicas matches
            # one device (and one device pays nothing for it; see
            # cvseq.layers).
            x = BatchNormalization(momentum=0.9, name=f"stage{stage}_bn")(x)
        # The last stage keeps its resolution: output stride 8.
        if stage < len(filters):
            x = keras.layers.ReLU(name=f"stage{stage}_relu")(x)
            x = keras.layers.MaxPooling2D(2, name=f"stage{stage}")(x)
        else:
            x = keras.layers.ReLU(name=f"stage{stage}")(x)
    model = keras.Model(inputs, x, name=name)
    if weights is not None:
        model.load_weights(weights)
    return model


# compact_cnn: small_cnn's four stages at twice the width. Measured on real
# product photos (Fashion-MNIST, 32x32, 5 epochs; README "Image
# classification"): at 10,000 training images small_cnn 0.844, a plain Keras
# Conv-BN CNN (2 x Conv-BN-ReLU + pool per block, 32/64/128, 0.29M) 0.878,
# this 0.876 at half the plain CNN's time; at 20,000: 0.890, 0.892, 0.893 and
# 1.63x the plain CNN's speed. A VGG-style variant (32, 2x64, 2x128, output
# stride 4, 0.28M) reached only 0.847 at 10,000, as slowly as the plain CNN.
COMPACT_CNN_FILTERS = (32, 64, 128, 256)


# Why not small_cnn for images: on real photos its 0.1M parameters fell 3.4
# points short of a plain Keras Conv-BN CNN at 10,000 images (6 in the
# issue's run at 20,000, 0.1 in ours); more width, not VGG-style depth, is
# what helped (see above).
_register_conv_stages(
    "compact_cnn", COMPACT_CNN_FILTERS, batch_norm=True,
    description="4-stage conv/batch-norm CNN (32, 64, 128, 256 filters), "
    "output stride 8 (0.39M parameters); image_classifier's default, as "
    "accurate as a plain Keras Conv-BN CNN on real photos.",
)


def _keras_application(constructor, **extra):
    def build(input_shape, weights):
        return constructor(
            include_top=False, weights=weights, input_shape=input_shape, **extra
        )

    return build


register_backbone(
    "mobilenet_v3_small",
    preprocessing="none",  # include_preprocessing=True rescales inside.
    imagenet=True,
    min_size=32,
    description="keras.applications.MobileNetV3Small (1.5M parameters).",
    # Keras names MobileNetV3's activations with global counters
    # ("re_lu_14"), so the pyramid uses its stably named layers.
    feature_layers=(
        "conv_bn",
        "expanded_conv_project_bn",
        "expanded_conv_2_add",
        "expanded_conv_7_add",
        "conv_1_bn",
    ),
)(_keras_application(keras.applications.MobileNetV3Small))

register_backbone(
    "efficientnet_b0",
    preprocessing="none",  # EfficientNet rescales and normalizes inside.
    imagenet=True,
    min_size=32,
    description="keras.applications.EfficientNetB0 (4.0M parameters).",
    feature_layers=(
        "block2a_expand_activation",
        "block3a_expand_activation",
        "block4a_expand_activation",
        "block6a_expand_activation",
        "top_activation",
    ),
)(_keras_application(keras.applications.EfficientNetB0))

register_backbone(
    "resnet50",
    preprocessing="caffe",
    imagenet=True,
    min_size=32,
    description="keras.applications.ResNet50 (23.6M parameters).",
    feature_layers=(
        "conv1_relu",
        "conv2_block3_out",
        "conv3_block4_out",
        "conv4_block6_out",
        "conv5_block3_out",
    ),
)(_keras_application(keras.applications.ResNet50))


# ---------------------------------------------------------------------------
# The builder.
# ---------------------------------------------------------------------------


def get_backbone(model):
    """Returns the backbone inside a cvseq model, or `model` itself.

    Use it to reuse a trained feature extractor in another task:

    >>> get_backbone(tagger).save("digits_backbone.keras")
    >>> image_classifier(10, backbone="digits_backbone.keras")
    """
    if not isinstance(model, keras.Model):
        raise TypeError(
            "`model` must be a keras.Model (a cvseq model, or a backbone). Received "
            f"{model!r} of type {type(model).__name__}: for a saved file, load it "
            "first (keras.saving.load_model(path)).")
    if model.name == BACKBONE_NAME:
        return model
    attribute = getattr(model, "backbone", None)  # keras-cv / KerasHub tasks
    if isinstance(attribute, keras.Model):
        return attribute
    for layer in _walk_layers(model):
        if layer.name == BACKBONE_NAME and isinstance(layer, keras.Model):
            return layer
    return model


def _walk_layers(model):
    for layer in model.layers:
        yield layer
        inner = getattr(layer, "layer", None)  # TimeDistributed, Bidirectional
        if inner is not None:
            yield inner
            if isinstance(inner, keras.Model):
                yield from _walk_layers(inner)
        elif isinstance(layer, keras.Model):
            yield from _walk_layers(layer)


def build_backbone(
    backbone="small_cnn",
    *,
    image_size=(112, 112),
    weights=None,
    train_backbone=True,
    pooling=None,
):
    """Builds a feature extractor that takes raw [0, 255] pixels.

    Args:
        backbone: str or `keras.Model`. A name from `list_backbones()`, a
            model, a path to a saved `.keras` model, or a KerasHub preset
            (local directory or name). A model is shared, not copied (as
            Keras shares layers): training or freezing the new model
            trains or freezes it too; a path gives a copy. Defaults to
            `"small_cnn"`.
        image_size: int or (height, width). Defaults to `(112, 112)`.
        weights: None, `"imagenet"` or a path to a weights file
            (`.weights.h5`/`.h5`) for a registered backbone. Defaults to None
            (random initialization).
        train_backbone: bool. False freezes the backbone (its batch
            normalization then runs in inference mode). Defaults to True.
        pooling: None, `"avg"` or `"max"`. None returns the feature map
            `(batch, h, w, channels)`; otherwise a vector per image.
            Defaults to None.

    Returns:
        A `keras.Model` named `"backbone"` from `(batch, H, W, 3)` raw pixels.

    Raises:
        ValueError: unknown name, missing file, or bad argument.
        WeightsUnavailableError: `weights="imagenet"` could not be fetched.
    """
    image_size = check_image_size(image_size)
    check_bool("train_backbone", train_backbone)
    check_choice("pooling", pooling, (None, "avg", "max"))
    input_shape = (*image_size, 3)

    if isinstance(backbone, keras.Model):
        _check_no_weights(weights, "a keras.Model")
        features, preprocessing = _unwrap(get_backbone(backbone))
    elif isinstance(backbone, (str, os.PathLike)):
        backbone = os.fspath(backbone)
        if backbone in _REGISTRY:
            spec = _REGISTRY[backbone]
            if min(image_size) < spec.min_size:
                raise ValueError(
                    f"Backbone {backbone!r} needs images of at least "
                    f"{spec.min_size} pixels a side. Received: "
                    f"image_size={image_size}."
                )
            features = _build_registered(spec, input_shape, weights)
            preprocessing = spec.preprocessing
        elif backbone.endswith(".keras"):
            if not os.path.isfile(backbone):
                raise ValueError(
                    f"`backbone` looks like a saved model path but no file is "
                    f"there. Received: backbone={backbone!r}."
                )
            _check_no_weights(weights, "a saved .keras model")
            try:
                loaded = keras.saving.load_model(backbone)
            except (ValueError, OSError, zipfile.BadZipFile) as err:
                if not zipfile.is_zipfile(backbone):  # Keras says "File not found"
                    raise ValueError(
                        f"`backbone` {backbone!r} is not a .keras archive (damaged, "
                        "or another kind of file): save the model again with "
                        "model.save(path).") from err
                raise
            features, preprocessing = _unwrap(get_backbone(loaded))
        elif os.path.isdir(backbone) or _is_hub_preset_name(backbone):
            _check_no_weights(weights, "a KerasHub preset")
            features, preprocessing = _load_hub_preset(backbone, image_size)
        else:
            raise ValueError(
                f"Unknown `backbone`. Received: backbone={backbone!r}. Use one "
                f"of {', '.join(_REGISTRY)}, a keras.Model, a path to a saved "
                ".keras model, or a KerasHub preset name or directory."
            )
    else:
        raise TypeError(
            "`backbone` must be a name, a keras.Model or a path. Received: "
            f"backbone={backbone!r} of type {type(backbone).__name__}."
        )

    expected = tuple(features.inputs[0].shape) if getattr(features, "inputs", None) else ()
    if expected and (len(expected) != 4 or expected[-1] not in (None, 3)):
        raise ValueError(
            f"The backbone {features.name!r} takes inputs of shape {expected}; a "
            "backbone reads RGB images (batch, height, width, 3). Give an image "
            "model (a CNN on 3-channel images).")
    inputs = keras.Input(input_shape, name="images")
    x = inputs
    if isinstance(preprocessing, str):
        x = ImagePreprocessing(preprocessing, name="preprocessing")(x)
    elif preprocessing is not None:  # a layer, e.g. a KerasHub ImageConverter
        x = preprocessing(x)
    try:
        x = features(x)
    except ValueError as err:
        raise ValueError(
            f"The backbone {features.name!r} does not accept images of "
            f"{image_size} ({err}). Pass the image_size it was built for, "
            "or rebuild it for this size."
        ) from err
    if isinstance(x, (list, tuple)):
        # A feature pyramid (e.g. a segmenter's backbone): its coarsest map.
        x = x[-1]
    if len(x.shape) != 4:
        raise ValueError(
            f"The backbone must output a feature map (batch, h, w, channels). "
            f"Received a backbone whose output shape is {tuple(x.shape)}."
        )
    if pooling == "avg":
        x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    elif pooling == "max":
        x = keras.layers.GlobalMaxPooling2D(name="pool")(x)
    model = keras.Model(inputs, x, name=BACKBONE_NAME)
    if isinstance(backbone, str) and backbone in _REGISTRY and weights not in (
            None, "imagenet"):
        _load_backbone_weights(model, features, os.fspath(weights), backbone, image_size)
    model.trainable = train_backbone
    return model


def _load_backbone_weights(model, features, path, name, image_size):
    """Loads a weights file saved from `build_backbone(name, ...)` (the
    whole backbone) or from its feature model, whichever it is."""
    import warnings

    errors = []
    for target in (model, features):
        # Keras warns of each part a file of the other kind lacks: shown
        # only for the load that succeeds.
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            try:
                target.load_weights(path)
            except (ValueError, OSError) as err:
                errors.append(err)
                continue
        for warning in said:
            warnings.warn_explicit(warning.message, warning.category,
                                   warning.filename, warning.lineno)
        return
    first = str(errors[0]).strip().splitlines()[0][:200]
    if isinstance(errors[0], OSError):
        raise ValueError(
            f"`weights` must be a Keras weights file (.weights.h5); {path!r} could "
            f"not be read as one ({first}).") from errors[0]
    raise ValueError(
        f"The weights file {path!r} does not fit backbone {name!r} at "
        f"image_size={image_size}: it holds another model's weights ({first}). "
        f"Save it from cvseq.backbones.build_backbone({name!r}, image_size=...)"
        ".save_weights(...), or pass the backbone that made it.") from errors[0]


def _unwrap(model):
    """Splits a cvseq backbone wrapper into its feature model and its
    preprocessing layer, so it can be rebuilt for another image size and
    pooling. Other models are returned whole."""
    if model.name != BACKBONE_NAME:
        return model, None
    inner = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    if len(inner) != 1:
        return model, None
    try:
        preprocessing = model.get_layer("preprocessing")
    except ValueError:
        preprocessing = None
    return inner[0], preprocessing


def _check_no_weights(weights, what):
    if weights is not None:
        raise ValueError(
            f"`weights` only applies to registered backbones; {what} brings "
            f"its own weights. Received: weights={weights!r}. Pass weights=None."
        )


def _build_registered(spec, input_shape, weights):
    if weights is None:
        return spec.build(input_shape, None)
    if weights == "imagenet":
        if not spec.imagenet:
            raise ValueError(
                f"Backbone {spec.name!r} has no ImageNet weights. Received: "
                "weights='imagenet'. Use weights=None, a weights file, or a "
                "backbone with ImageNet weights: "
                f"{', '.join(n for n, s in _REGISTRY.items() if s.imagenet)}."
            )
        try:
            return spec.build(input_shape, "imagenet")
        except Exception as err:  # keras.utils.get_file raises bare Exception.
            raise WeightsUnavailableError(
                f"Could not fetch the ImageNet weights of {spec.name!r} "
                f"({type(err).__name__}: {err}). This usually means there is no "
                "network. On a machine with network, run "
                f"`cvseq.backbones.build_backbone({spec.name!r}, "
                "weights='imagenet').save_weights('backbone.weights.h5')` "
                "and pass weights='path/to/backbone.weights.h5', or save the "
                "whole backbone with `.save('backbone.keras')` and pass "
                "backbone='path/to/backbone.keras'."
            ) from err
    if isinstance(weights, (str, os.PathLike)):
        path = os.fspath(weights)
        if not os.path.isfile(path):
            raise ValueError(
                f"`weights` must be None, 'imagenet' or the path of a weights "
                f"file; no file is at that path. Received: weights={path!r}."
            )
        if path.endswith(".keras"):
            raise ValueError(
                "`weights` takes a weights file (.weights.h5); a whole saved "
                f"model goes in `backbone`. Received: weights={path!r}. Use "
                f"backbone={path!r}, weights=None."
            )
        return spec.build(input_shape, None)  # `build_backbone` loads `path`
    raise TypeError(
        "`weights` must be None, 'imagenet' or a path. Received: "
        f"weights={weights!r} of type {type(weights).__name__}."
    )


def _is_hub_preset_name(name):
    try:
        import keras_hub
    except ImportError:
        return False
    return name in keras_hub.models.Backbone.presets or name.startswith(
        ("kaggle://", "hf://", "gs://")
    )


def _load_hub_preset(preset, image_size):
    import keras_hub

    try:
        hub_backbone = keras_hub.models.Backbone.from_preset(preset)
    except Exception as err:
        if os.path.isdir(preset):
            raise ValueError(
                f"Could not load a KerasHub backbone from the directory "
                f"{preset!r} ({type(err).__name__}: {err}). A preset directory "
                "is what `backbone.save_to_preset(dir)` writes."
            ) from err
        raise WeightsUnavailableError(
            f"Could not download the KerasHub preset {preset!r} "
            f"({type(err).__name__}: {err}). This usually means there is no "
            "network. On a machine with network, run "
            f"`keras_hub.models.Backbone.from_preset({preset!r})"
            ".save_to_preset('my_preset')`, copy the folder here and pass "
            "backbone='my_preset'."
        ) from err
    preprocessing = "unit"
    try:
        converter = keras_hub.layers.ImageConverter.from_preset(
            preset, image_size=image_size, name="preprocessing"
        )
        preprocessing = converter
    except Exception:
        # Presets saved without an image converter expect [0, 1] pixels.
        pass
    return hub_backbone, preprocessing


# ---------------------------------------------------------------------------
# Multi-scale features (U-Net skips, detection pyramids).
# ---------------------------------------------------------------------------


def build_feature_pyramid(
    backbone="small_cnn",
    *,
    image_size=(112, 112),
    weights=None,
    train_backbone=True,
):
    """Builds a backbone that returns its feature maps at every stride.

    Takes the same `backbone` and `weights` as `build_backbone` and returns
    the deepest feature map at each output stride it reaches (from 1 or 2
    up to 8 for the small CNNs, 32 for the Keras applications), from fine
    to coarse: the skips of an encoder-decoder and the levels of a
    detection pyramid. Which layers: a registered backbone's
    `feature_layers` when it names them (`small_cnn`: `stage1_relu`,
    `stage2_relu`, `stage3_relu`, `stage4`, strides 1, 2, 4, 8 -> four
    maps), a KerasHub backbone's
    `pyramid_outputs`, otherwise the last layer of each stride (for
    ResNet50 and EfficientNetB0 that rule picks exactly the layers
    `feature_layers` lists). A model that already returns several maps (a
    saved pyramid) is used as it is.

    Args:
        backbone: str or `keras.Model`. As in `build_backbone`. Defaults to
            `"small_cnn"`.
        image_size: int or (height, width). Defaults to `(112, 112)`.
        weights: None, `"imagenet"` or a weights file. Defaults to None.
        train_backbone: bool. False freezes it. Defaults to True.

    Returns:
        A `keras.Model` named `"backbone"` from raw pixels
        `(batch, H, W, 3)` to a list of feature maps, strides ascending.

    Example:

    >>> pyramid = build_feature_pyramid("small_cnn", image_size=64)
    >>> [tuple(t.shape[1:3]) for t in pyramid.outputs]
    [(64, 64), (32, 32), (16, 16), (8, 8)]
    """
    image_size = check_image_size(image_size)
    check_bool("train_backbone", train_backbone)
    given = _as_model(backbone)
    if given is not None and len(given.outputs) > 1:
        _check_no_weights(weights, "a keras.Model")
        pyramid = _rebuild_for_size(given, image_size)
    else:
        base = build_backbone(
            backbone if given is None else given,
            image_size=image_size,
            weights=weights,
        )
        pyramid = _pyramid_from_backbone(base, image_size)
    pyramid.trainable = train_backbone
    return pyramid


def _as_model(backbone):
    """The backbone inside a model or a saved `.keras` file, else None."""
    if isinstance(backbone, keras.Model):
        return get_backbone(backbone)
    if isinstance(backbone, (str, os.PathLike)):
        path = os.fspath(backbone)
        if path.endswith(".keras") and os.path.isfile(path):
            return get_backbone(keras.saving.load_model(path))
    return None


def _rebuild_for_size(pyramid, image_size):
    features, preprocessing = _unwrap(pyramid)
    inputs = keras.Input((*image_size, 3), name="images")
    x = inputs if preprocessing is None else preprocessing(inputs)
    try:
        maps = features(x)
    except ValueError as err:
        raise ValueError(
            f"The backbone {features.name!r} does not accept images of "
            f"{image_size} ({err}). Pass the image_size it was built for."
        ) from err
    return keras.Model(inputs, maps, name=BACKBONE_NAME)


def _pyramid_from_backbone(base, image_size):
    """Rewires `build_backbone`'s model to output its multi-scale maps."""
    features = [layer for layer in base.layers if isinstance(layer, keras.Model)]
    if not features:
        raise ValueError(
            "The backbone holds no feature-extractor model to take multi-scale "
            "features from. Received a backbone with layers "
            f"{[layer.name for layer in base.layers]}."
        )
    features = features[-1]
    taps = _pyramid_taps(features, image_size)
    multi = keras.Model(features.inputs, taps, name=f"{features.name}_pyramid")

    inputs = keras.Input((*image_size, 3), name="images")
    x = inputs
    for layer in base.layers[1:]:
        if layer is features:
            break
        x = layer(x)  # preprocessing
    maps = multi(x)
    if not isinstance(maps, (list, tuple)):
        maps = [maps]
    # The deepest map at each stride, fine to coarse.
    by_size = {}
    for feature_map in maps:
        by_size[tuple(feature_map.shape[1:3])] = feature_map
    outputs = sorted(by_size.values(), key=lambda t: -t.shape[1])
    return keras.Model(inputs, outputs, name=BACKBONE_NAME)


def _pyramid_taps(features, image_size):
    """The tensors of `features` (a functional model) to expose."""
    hub_outputs = getattr(features, "pyramid_outputs", None)
    if hub_outputs:  # KerasHub image backbones: {"P1": tensor, ...}
        return [hub_outputs[k] for k in sorted(hub_outputs, key=lambda k: int(k[1:]))]
    names = {layer.name for layer in features.layers}
    for spec in _REGISTRY.values():
        if spec.feature_layers and set(spec.feature_layers) <= names:
            return [features.get_layer(n).output for n in spec.feature_layers]
    # The last layer at each stride; needs static spatial sizes.
    height = features.inputs[0].shape[1]
    if height is None:
        raise ValueError(
            f"Cannot tell the strides of backbone {features.name!r}: its input "
            "size is not fixed and it is not a registered backbone. Build it "
            "with a fixed input size, e.g. keras.Input((224, 224, 3))."
        )
    last = {}
    for layer in features.layers:
        shape = getattr(layer, "output", None)
        shape = getattr(shape, "shape", None)
        if shape is None or len(shape) != 4 or not shape[1]:
            continue
        if isinstance(layer, keras.layers.ZeroPadding2D) or height % shape[1]:
            continue
        last[height // shape[1]] = layer.output
    # Up to stride 32: past it, 1x1 maps are squeeze-excite pools, not stages.
    taps = [last[s] for s in sorted(last) if 1 < s <= 32]
    if not taps:
        raise ValueError(
            f"Backbone {features.name!r} never downsamples its {height}-pixel-high "
            f"input (strides found: {sorted(last) or 'none'}), so it has no feature "
            "maps at strides 2 to 32 to make a pyramid of. Use a backbone with "
            "strided convolutions or pooling, e.g. 'small_cnn'."
        )
    return taps


# ---------------------------------------------------------------------------
# Appended backbones.
# ---------------------------------------------------------------------------

# frame_cnn's stage widths: small_cnn's at half width. A tagger runs its
# backbone on every frame, so the backbone is most of a training step's cost:
# at small_cnn's width (16-128) the default tagger took 1.8x the CPU time per
# step of a minimal plain Keras CNN+LSTM, at half width 1.1x, for the same
# held-out accuracy on real video (see BENCHMARKS.md, "The video tagger's
# design choices on real video"). benchmarks/video_tagger.py builds its
# variants from this.
FRAME_CNN_FILTERS = (8, 16, 32, 64)


# Why no batch norm: a tagger's batch holds the frames of a few clips, highly
# correlated; with batch norm the tagger reached 0.69-0.72 on moving digits
# (4 frames) against 0.94-0.99 without, and the same on real video (0.80
# against 0.81). See BENCHMARKS.md.
_register_conv_stages(
    "frame_cnn", FRAME_CNN_FILTERS, batch_norm=False,
    description="small_cnn at half width (8, 16, 32, 64 filters) without "
    "batch normalization (convolutions with bias), output stride 8 (24K "
    "parameters): the video tagger's default, which trained better on real "
    "and digit video without batch norm and at half the cost per frame.",
)
