import keras
import numpy as np
import pytest

from cvseq import backbones


def _images(size=32, batch=2):
    return np.random.default_rng(0).integers(0, 256, (batch, size, size, 3)).astype("uint8")


@pytest.mark.parametrize("name", backbones.list_backbones())
def test_every_registered_backbone_builds_and_runs(name):
    model = backbones.build_backbone(name, image_size=32, pooling="avg")
    assert model.name == "backbone"
    features = model.predict(_images(), verbose=0)
    assert features.ndim == 2 and features.shape[0] == 2
    assert np.all(np.isfinite(features))


@pytest.mark.parametrize("name", backbones.list_backbones())
def test_feature_layers_exist_and_get_coarser(name):
    spec = backbones.get_spec(name)
    model = backbones.build_backbone(name, image_size=64)
    inner = next(layer for layer in model.layers if isinstance(layer, keras.Model))
    probe = keras.Model(
        inner.inputs, [inner.get_layer(n).output for n in spec.feature_layers]
    )
    maps = probe.predict(np.zeros((1, 64, 64, 3), "float32"), verbose=0)
    sizes = [m.shape[1] for m in maps]
    assert len(set(sizes)) == len(sizes) and sizes == sorted(sizes, reverse=True), sizes


def test_small_cnn_rescales_inside():
    model = backbones.build_backbone("small_cnn", image_size=16)
    assert model.get_layer("preprocessing").mode == "unit"
    assert model.output.shape == (None, 2, 2, 128)


def test_imagenet_without_network_says_how_to_pass_a_file(monkeypatch, tmp_path):
    # Point Keras' cache at an empty folder so no cached file hides the error.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(backbones.WeightsUnavailableError, match="weights="):
        backbones.build_backbone("mobilenet_v3_small", image_size=32, weights="imagenet")


def test_weights_from_a_file(tmp_path):
    source = backbones.build_backbone("small_cnn", image_size=16)
    path = str(tmp_path / "small.weights.h5")
    backbones.get_spec("small_cnn")  # registered
    source.get_layer("small_cnn").save_weights(path)
    loaded = backbones.build_backbone("small_cnn", image_size=16, weights=path)
    np.testing.assert_allclose(
        source.predict(_images(16), verbose=0), loaded.predict(_images(16), verbose=0)
    )


def test_weights_saved_from_the_whole_backbone_load_as_the_offline_advice_says(
        tmp_path):
    # WeightsUnavailableError says: build_backbone(name).save_weights(path),
    # then weights=path. That file is the wrapper's, not the feature model's.
    source = backbones.build_backbone("small_cnn", image_size=16)
    for variable in source.weights:
        variable.assign(np.random.default_rng(0).random(variable.shape).astype("float32"))
    path = str(tmp_path / "backbone.weights.h5")
    source.save_weights(path)
    loaded = backbones.build_backbone("small_cnn", image_size=16, weights=path,
                                      train_backbone=False)
    np.testing.assert_allclose(
        source.predict(_images(16), verbose=0), loaded.predict(_images(16), verbose=0))
    assert not loaded.trainable
    # Another backbone's file, or no weights file at all: said, naming both.
    other = str(tmp_path / "other.weights.h5")
    backbones.build_backbone("frame_cnn", image_size=16).save_weights(other)
    with pytest.raises(ValueError, match=r"does not fit backbone 'small_cnn'.*another "
                       r"model's weights"):
        backbones.build_backbone("small_cnn", image_size=16, weights=other)
    text = tmp_path / "notes.weights.h5"
    text.write_text("not weights")
    with pytest.raises(ValueError, match=r"must be a Keras weights file"):
        backbones.build_backbone("small_cnn", image_size=16, weights=str(text))


def test_saved_backbone_loads_by_path_at_another_size(tmp_path):
    source = backbones.build_backbone("small_cnn", image_size=32)
    path = str(tmp_path / "bb.keras")
    source.save(path)
    loaded = backbones.build_backbone(path, image_size=48)
    assert loaded.output.shape == (None, 6, 6, 128)
    # Same weights: same features on the same 32x32 images.
    again = backbones.build_backbone(path, image_size=32)
    np.testing.assert_allclose(
        source.predict(_images(), verbose=0), again.predict(_images(), verbose=0),
        atol=1e-5,
    )


def test_task_model_contributes_its_backbone():
    from cvseq import video_tagger

    tagger = video_tagger(2, frames=2, image_size=16, units=4, backbone="small_cnn")
    inner = backbones.get_backbone(tagger)
    assert inner.name == "backbone"
    rebuilt = backbones.build_backbone(tagger, image_size=16)
    # The same (shared) feature layers, rebuilt around a new input.
    assert rebuilt.get_layer("small_cnn") is inner.get_layer("small_cnn")
    clips = np.zeros((1, 2, 16, 16, 3), "uint8")
    assert rebuilt.predict(clips[:, 0], verbose=0).shape == (1, 2, 2, 128)


def test_keras_model_as_backbone():
    custom = keras.Sequential(
        [keras.Input((16, 16, 3)), keras.layers.Conv2D(4, 3)], name="custom"
    )
    model = backbones.build_backbone(custom, image_size=16, pooling="max")
    assert model.output.shape == (None, 4)


def test_local_keras_hub_preset(tmp_path):
    import keras_hub

    hub = keras_hub.models.ResNetBackbone(
        input_conv_filters=[64],
        input_conv_kernel_sizes=[3],
        stackwise_num_filters=[64, 16],
        stackwise_num_blocks=[1, 1],
        stackwise_num_strides=[1, 2],
        block_type="basic_block",
        image_shape=(None, None, 3),
    )
    preset = str(tmp_path / "tiny_resnet")
    hub.save_to_preset(preset)
    model = backbones.build_backbone(preset, image_size=32, pooling="avg")
    assert model.predict(_images(), verbose=0).shape == (2, 16)
    assert model.get_layer("preprocessing") is not None


def test_freezing():
    model = backbones.build_backbone("small_cnn", image_size=16, train_backbone=False)
    assert not model.trainable and model.trainable_weights == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(backbone="vgg99"), "vgg99"),
        (dict(backbone=3), "backbone"),
        (dict(backbone="small_cnn", weights="imagenet"), "no ImageNet weights"),
        (dict(backbone="small_cnn", weights="nope.weights.h5"), "no file"),
        (dict(backbone="small_cnn", weights="whole.keras"), "no file"),
        (dict(backbone="missing.keras"), "no file"),
        (dict(backbone="small_cnn", image_size=4), "image_size"),
        (dict(backbone="mobilenet_v3_small", image_size=16), "at least 32"),
        (dict(backbone="small_cnn", pooling="min"), "pooling"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        backbones.build_backbone(**kwargs)


def test_weights_rejects_a_whole_model(tmp_path):
    path = tmp_path / "whole.keras"
    path.write_bytes(b"x")
    with pytest.raises(ValueError, match="backbone="):
        backbones.build_backbone("small_cnn", weights=str(path))


def test_compact_cnn_is_the_image_classifiers_default_not_the_taggers():
    import inspect

    from cvseq import image_classifier, video_tagger

    assert inspect.signature(image_classifier).parameters["backbone"].default == "compact_cnn"
    assert inspect.signature(video_tagger).parameters["backbone"].default == "frame_cnn"
    model = image_classifier(3, image_size=16)
    assert backbones.get_backbone(model).get_layer("compact_cnn") is not None


def test_compact_cnn_shape_parameters_and_pyramid():
    model = backbones.build_backbone("compact_cnn", image_size=32)
    assert model.get_layer("preprocessing").mode == "unit"
    assert model.output.shape == (None, 4, 4, 256)  # output stride 8
    # small_cnn's stages at twice the width: 0.39M parameters, against 0.1M.
    assert 380_000 < model.count_params() < 400_000
    pyramid = backbones.build_feature_pyramid("compact_cnn", image_size=32)
    assert [tuple(t.shape[1:]) for t in pyramid.outputs] == [
        (32, 32, 32), (16, 16, 64), (8, 8, 128), (4, 4, 256)]


def test_feature_pyramid_is_what_its_docstring_says():
    # build_feature_pyramid's example: small_cnn at 64 px gives four maps,
    # strides 1, 2, 4 and 8 (an older docstring promised three).
    pyramid = backbones.build_feature_pyramid("small_cnn", image_size=64)
    assert [tuple(t.shape[1:3]) for t in pyramid.outputs] == [
        (64, 64), (32, 32), (16, 16), (8, 8)]


def test_compact_cnn_saved_loads_at_another_size(tmp_path):
    source = backbones.build_backbone("compact_cnn", image_size=16, pooling="avg")
    path = str(tmp_path / "compact.keras")
    source.save(path)
    loaded = backbones.build_backbone(path, image_size=24, pooling="avg")
    assert loaded.output.shape == (None, 256)
    again = backbones.build_backbone(path, image_size=16, pooling="avg")
    np.testing.assert_allclose(source.predict(_images(16), verbose=0),
                               again.predict(_images(16), verbose=0), atol=1e-5)
