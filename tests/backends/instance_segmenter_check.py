"""The instance segmenter's backend check, run by no_tensorflow.py in its
process (on JAX or PyTorch, TensorFlow blocked): `check_factory` (build,
predict, a fit step, `.keras` round trip with equal `predict_instances`),
then the grouping on targets made by the loss's own target maker."""

import numpy as np
from factory_checks import check_factory

import cvseq
from cvseq.models.instance_segmenter import group_instances, instance_targets


def run():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (2, 16, 16, 3)).astype("uint8")
    semantic = np.zeros((2, 16, 16), "int32")
    instances = np.zeros((2, 16, 16), "int32")
    semantic[:, 3:8, 2:12] = 2
    instances[:, 3:8, 2:7], instances[:, 3:8, 7:12] = 1, 2
    check_factory(cvseq.instance_segmenter, args=(4,), kwargs=dict(image_size=16, max_instances=4),
                  inputs=images, targets={"semantic": semantic, "instances": instances},
                  output_shape={"semantic": (2, 16, 16, 4), "instances": (2, 16, 16, 3)},
                  round_trip=lambda m: m.predict_instances(images, center_threshold=0.0))
    heat, offsets = instance_targets(instances, 4)
    maps = np.concatenate([np.asarray(heat)[..., None], np.asarray(offsets)], -1)
    found = group_instances(np.eye(4, dtype="float32")[semantic], maps, max_instances=4)
    ids = np.asarray(found["instance_ids"])
    assert len(np.unique(ids[0][instances[0] == 1])) == 1
    assert len(np.unique(ids[0][instances[0] > 0])) == 2
