import keras
import numpy as np

from cvseq import callbacks


def test_stop_on_divergence_says_where_and_what_to_do():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.ones((32, 2), "float32")
    y = np.ones((32, 1), "float32")
    y[20] = np.inf  # a bad label in batch 3
    stop = callbacks.StopOnDivergence()
    history = model.fit(x, y, batch_size=8, epochs=5, verbose=0, shuffle=False,
                        callbacks=[stop])
    assert stop.diverged_at == (1, 3)
    assert "learning rate" in stop.message
    assert len(history.history["loss"]) == 1  # stopped in the first epoch
    assert callbacks.divergence([stop]) == stop.message


def test_fault_tolerant_set(tmp_path):
    found = callbacks.fault_tolerant(str(tmp_path))
    kinds = {type(c).__name__ for c in found}
    assert kinds == {"BackupAndRestore", "CSVLogger", "StopOnDivergence"}
