import keras
import numpy as np
import pytest

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
    assert kinds == {"EpochLog", "BackupAndRestore", "StopOnDivergence"}
    # The log row of an epoch is written before its backup.
    assert [type(c).__name__ for c in found][:2] == ["EpochLog", "BackupAndRestore"]


def _fit(log, initial_epoch, epochs):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.ones((8, 2)), np.ones((8, 1)), epochs=epochs, verbose=0,
              initial_epoch=initial_epoch, callbacks=[log])


def test_epoch_log_never_holds_two_rows_for_one_epoch(tmp_path):
    path = str(tmp_path / "log.csv")
    _fit(callbacks.EpochLog(path), 0, 3)
    assert [r["epoch"] for r in callbacks.read_log(path)] == ["0", "1", "2"]
    # A run killed after logging epoch 2 and before backing it up resumes
    # at epoch 2: the row is replaced, not repeated.
    _fit(callbacks.EpochLog(path), 2, 4)
    rows = callbacks.read_log(path)
    assert [r["epoch"] for r in rows] == ["0", "1", "2", "3"]
    assert list(rows[0]) == ["epoch", "loss"]


def test_epoch_log_drops_a_row_cut_short(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss\n0,1.5\n1,1.2\n2,1.")  # killed mid-write
    assert [r["epoch"] for r in callbacks.read_log(str(path))] == ["0", "1"]
    _fit(callbacks.EpochLog(str(path)), 2, 3)
    assert path.read_text().splitlines()[:3] == ["epoch,loss", "0,1.5", "1,1.2"]
    assert [r["epoch"] for r in callbacks.read_log(str(path))] == ["0", "1", "2"]


def test_a_second_fit_from_epoch_0_keeps_the_earlier_log(tmp_path):
    # Stage 1 and stage 2 of a fine-tuning, each `fit(epochs=2)` in one
    # run directory: stage 1's rows used to be dropped as if stale.
    path = str(tmp_path / "log.csv")
    _fit(callbacks.EpochLog(path), 0, 2)
    before = open(path).read()
    with pytest.warns(UserWarning, match=r"epochs 0 to 1 of an earlier fit.*log\.1\.csv"):
        _fit(callbacks.EpochLog(path), 0, 2)
    assert open(tmp_path / "log.1.csv").read() == before
    assert [r["epoch"] for r in callbacks.read_log(path)] == ["0", "1"]
    # With initial_epoch, one log goes on across the fits.
    _fit(callbacks.EpochLog(path), 2, 4)
    assert [r["epoch"] for r in callbacks.read_log(path)] == ["0", "1", "2", "3"]
    assert not (tmp_path / "log.2.csv").exists()


def test_a_metric_that_appears_later_gets_its_column(tmp_path):
    path = str(tmp_path / "log.csv")
    log = callbacks.EpochLog(path)
    _fit(log, 0, 1)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    data = (np.ones((8, 2)), np.ones((8, 1)))
    model.fit(*data, validation_data=data, epochs=2, initial_epoch=1, verbose=0,
              callbacks=[log])
    rows = callbacks.read_log(path)
    assert list(rows[0]) == ["epoch", "loss", "val_loss"]
    assert rows[0]["val_loss"] == "" and float(rows[1]["val_loss"]) >= 0


def test_paths_are_checked_and_a_missing_folder_is_made(tmp_path):
    from cvseq import training

    for make in (callbacks.EpochLog, training.RunDirectory):
        with pytest.raises(TypeError, match="Received: path=None"):
            make(None)
    path = tmp_path / "new" / "log.csv"  # failed after the first epoch
    _fit(callbacks.EpochLog(str(path)), 0, 1)
    assert [r["epoch"] for r in callbacks.read_log(str(path))] == ["0"]


def test_with_its_backup_folder_the_log_tells_a_resume_from_a_new_fit(tmp_path):
    import warnings

    path, backup = str(tmp_path / "log.csv"), tmp_path / "backup"
    # A one-epoch stage 1, then stage 2 from epoch 0 (the last row alone
    # looked like a killed run's and was dropped).
    _fit(callbacks.EpochLog(path, backup_dir=str(backup)), 0, 1)
    backup.rmdir()  # as BackupAndRestore deletes it when fit ends
    with pytest.warns(UserWarning, match="log.1.csv"):
        _fit(callbacks.EpochLog(path, backup_dir=str(backup)), 0, 1)
    assert [r["epoch"] for r in callbacks.read_log(str(tmp_path / "log.1.csv"))] == ["0"]
    # A killed run whose backup is an epoch behind its log (save_freq of
    # more batches than an epoch): the rows it trains again are dropped,
    # without a warning, not kept as an earlier fit's.
    _fit(callbacks.EpochLog(path, backup_dir=str(backup)), 0, 3)  # backup/ left
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _fit(callbacks.EpochLog(path, backup_dir=str(backup)), 1, 3)
    assert not [w for w in caught if "earlier fit" in str(w.message)]
    assert [r["epoch"] for r in callbacks.read_log(path)] == ["0", "1", "2"]
    assert not (tmp_path / "log.2.csv").exists()


def test_fault_tolerant_refuses_a_backup_folder_of_the_users(tmp_path):
    # BackupAndRestore writes into run_dir/backup/ and deletes it when fit ends.
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "thesis.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"backup/ that no cvseq run wrote \(thesis.txt\)"):
        callbacks.fault_tolerant(str(tmp_path))
    assert (tmp_path / "backup" / "thesis.txt").read_text() == "mine"
