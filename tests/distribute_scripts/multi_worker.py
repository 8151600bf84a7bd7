"""One worker of a two-worker MultiWorkerMirroredStrategy run on loopback.

Usage: multi_worker.py INDEX PORT0 PORT1 OUT.json
"""

import json
import os
import sys

index, port0, port1, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_CONFIG"] = json.dumps({
    "cluster": {"worker": [f"127.0.0.1:{port0}", f"127.0.0.1:{port1}"]},
    "task": {"type": "worker", "index": index},
})

import cvseq  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

strategy = cvseq.distribute.strategy("auto")
keras.utils.set_random_seed(0)
with strategy.scope():
    model = cvseq.video_tagger(4, frames=4, image_size=16, units=8)
data = cvseq.datasets.load("moving_digits", "train", frames=4, image_size=16,
                           num_clips=64, batch_size=16)
history = model.fit(data, epochs=2, verbose=0)  # plain fit, no custom loop
with open(out, "w") as f:
    json.dump({
        "strategy": type(strategy).__name__,
        "replicas": strategy.num_replicas_in_sync,
        "epochs_run": len(history.history["loss"]),
        "loss": history.history["loss"],
        "trainable_weights": [np.asarray(w).ravel().tolist()
                              for w in model.trainable_weights],
    }, f)
