"""benchmarks/detector_architectures.py: each model trains on its own
default compile unless `--compile schedule` asks for the shared one; unknown
model names are refused. Builds the models at 32 px, trains nothing."""

import argparse
import os
import sys

import keras
import numpy as np
import pytest

from cvseq.training import WarmUpInverseSqrt

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks"))
import detector_architectures as bench  # noqa: E402


def _args(compile_):
    return argparse.Namespace(image_size=32, yolo_backbone="yolo_v8_tiny",
                              retinanet_backbone="mobilenet_v3_small",
                              compile=compile_, learning_rate=2e-3)


def _rate(model):
    return model.optimizer._learning_rate


def test_default_compile_is_each_models_own():
    args = _args("default")
    yolo = bench.build("yolo_v8", args, steps=100)
    assert isinstance(_rate(yolo), WarmUpInverseSqrt)  # the factory's
    stock = bench.build("stock_retinanet", args, steps=100)
    assert isinstance(stock.optimizer, keras.optimizers.Adam)
    assert float(stock.optimizer.learning_rate) == pytest.approx(5e-5)  # KerasHub's
    stock_yolo = bench.build("stock_yolo_v8", args, steps=100)
    assert isinstance(stock_yolo.optimizer, keras.optimizers.SGD)  # keras-cv's docstring


def test_schedule_compile_is_shared():
    yolo = bench.build("yolo_v8", _args("schedule"), steps=100)
    assert isinstance(_rate(yolo), keras.optimizers.schedules.CosineDecay)
    assert yolo.optimizer.global_clipnorm == 10.0


def test_unknown_model_is_refused(capsys):
    with pytest.raises(SystemExit):
        bench.main(["--models", "yolo_v8,yolo_v9"])
    assert "yolo_v9" in capsys.readouterr().err


@pytest.mark.graph
@pytest.mark.parametrize("name", ["stock_retinanet", "stock_yolo_v8"])
def test_stock_models_score_with_cvseq_keys(name):
    """The stock models' `predict` through `_Scores`, as `evaluate_detector`
    calls it: a partial last batch (40 = 32 + 8) makes a traced predict
    retrace with an unknown batch size, where KerasHub's NMS fails."""
    model = bench.build(name, _args("default"), steps=100)
    images = np.random.default_rng(0).integers(0, 256, (40, 32, 32, 3)).astype("uint8")
    found = bench._Scores(model).predict(images)
    assert sorted(found) == ["boxes", "labels", "num_detections", "scores"]
    assert np.shape(found["boxes"]) == (40, 100, 4)


def test_yolo_default_optimizer_for_a_stock_model():
    stock = bench.build("stock_retinanet", _args("yolo_default"), steps=100)
    assert isinstance(_rate(stock), WarmUpInverseSqrt)
    assert stock.optimizer.global_clipnorm == 10.0
