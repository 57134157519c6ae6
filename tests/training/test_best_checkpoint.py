import json
import os

import keras
import numpy as np
import pytest

from keras_matting.tempfiles import file_sha256
from keras_matting.training.best_checkpoint import AtomicModelCheckpoint, BestCheckpoint


def _model(value):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    model.layers[0].bias.assign([value])
    return model


def _run(path, value, sad, epoch):
    callback = BestCheckpoint(path, monitor="val_sad", mode="min", verbose=0)
    callback.set_model(_model(value))
    callback.on_epoch_end(epoch, {"val_sad": sad})
    return callback


def _saved_bias(path):
    return float(keras.saving.load_model(path).layers[0].bias.numpy()[0])


def _record(path):
    """The record, after checking that its SHA-256 is the checkpoint's."""
    record = json.load(open(path + ".json"))
    assert record.pop("sha256") == file_sha256(path)
    return record


def test_best_value_survives_a_restart(tmp_path):
    path = str(tmp_path / "best.keras")
    _run(path, 1.0, sad=10.0, epoch=0)
    assert _record(path) == {"monitor": "val_sad", "value": 10.0, "epoch": 1}
    # A resumed fit: a worse first epoch must not overwrite the best model.
    _run(path, 2.0, sad=12.0, epoch=3)
    assert _saved_bias(path) == 1.0
    assert json.load(open(path + ".json"))["value"] == 10.0
    _run(path, 3.0, sad=9.0, epoch=4)
    assert _saved_bias(path) == 3.0
    assert _record(path) == {"monitor": "val_sad", "value": 9.0, "epoch": 5}


def test_record_ignored_without_its_model(tmp_path):
    path = str(tmp_path / "best.keras")
    _run(path, 1.0, sad=10.0, epoch=0)
    os.remove(path)  # a record without its checkpoint: start afresh
    _run(path, 2.0, sad=12.0, epoch=1)
    assert _saved_bias(path) == 2.0
    assert np.isclose(json.load(open(path + ".json"))["value"], 12.0)


def _crash_mid_save(monkeypatch):
    """``model.save`` writes the first 2,601 bytes of junk, then fails (a full disk, a kill)."""

    def save(self, filepath, *args, **kwargs):
        with open(filepath, "wb") as f:
            f.write(b"PK\x03\x04" + b"\0" * 2597)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(keras.Model, "save", save)


def test_crash_while_saving_keeps_the_previous_best(tmp_path, monkeypatch):
    path = str(tmp_path / "best.keras")
    _run(path, 1.0, sad=10.0, epoch=0)
    record = open(path + ".json").read()
    _crash_mid_save(monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        _run(path, 2.0, sad=5.0, epoch=1)  # better: saved, and the save breaks
    monkeypatch.undo()
    assert _saved_bias(path) == 1.0  # intact and loadable
    assert open(path + ".json").read() == record  # still describes it
    assert _record(path)["value"] == 10.0
    assert sorted(os.listdir(tmp_path)) == ["best.keras", "best.keras.json"]  # no temporary


def test_crash_while_saving_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    path = str(tmp_path / "last.keras")
    callback = AtomicModelCheckpoint(path)
    callback.set_model(_model(1.0))
    callback.on_epoch_end(0, {})
    _crash_mid_save(monkeypatch)
    callback.set_model(_model(2.0))
    with pytest.raises(OSError):
        callback.on_epoch_end(1, {})
    monkeypatch.undo()
    assert _saved_bias(path) == 1.0
    assert os.listdir(tmp_path) == ["last.keras"]


def test_damaged_best_is_replaced_by_the_next_model(tmp_path, capsys):
    path = str(tmp_path / "best.keras")
    _run(path, 1.0, sad=10.0, epoch=0)
    with open(path, "wb") as f:  # what an in-place save killed half-way left
        f.write(b"\0" * 2601)
    _run(path, 2.0, sad=12.0, epoch=1)  # worse than the record, but the file is junk
    assert "damaged" in capsys.readouterr().out
    assert _saved_bias(path) == 2.0
    assert _record(path) == {"monitor": "val_sad", "value": 12.0, "epoch": 2}


def test_record_is_checked_against_the_file(tmp_path, capsys):
    path = str(tmp_path / "best.keras")
    _run(path, 1.0, sad=10.0, epoch=0)
    record = json.load(open(path + ".json"))
    _run(path, 3.0, sad=8.0, epoch=1)
    with open(path + ".json", "w") as f:  # killed after the model, before its record
        json.dump(record, f)
    _run(path, 2.0, sad=9.0, epoch=2)  # better than the record, not than the file's model
    assert "not the model" in capsys.readouterr().out
    assert _saved_bias(path) == 2.0  # the record's value is the bar: 9 < 10 replaces it
    assert _record(path) == {"monitor": "val_sad", "value": 9.0, "epoch": 3}


def test_epochs_without_validation_leave_the_best_alone(tmp_path):
    path = str(tmp_path / "best.keras")
    _run(path, 1.0, sad=10.0, epoch=0)
    callback = BestCheckpoint(path, monitor="val_sad", mode="min", verbose=0)
    callback.set_model(_model(2.0))
    callback.on_epoch_end(1, {"g_loss": 0.5})  # --validate-every-epochs 2: no val_sad
    assert _saved_bias(path) == 1.0
    assert _record(path) == {"monitor": "val_sad", "value": 10.0, "epoch": 1}
