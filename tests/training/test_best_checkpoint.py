import json
import os

import keras
import numpy as np

from keras_matting.training.best_checkpoint import BestCheckpoint


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


def test_best_value_survives_a_restart(tmp_path):
    path = str(tmp_path / "best.keras")
    _run(path, 1.0, sad=10.0, epoch=0)
    assert json.load(open(path + ".json")) == {"monitor": "val_sad", "value": 10.0, "epoch": 1}
    # A resumed fit: a worse first epoch must not overwrite the best model.
    _run(path, 2.0, sad=12.0, epoch=3)
    assert _saved_bias(path) == 1.0
    assert json.load(open(path + ".json"))["value"] == 10.0
    _run(path, 3.0, sad=9.0, epoch=4)
    assert _saved_bias(path) == 3.0
    assert json.load(open(path + ".json")) == {"monitor": "val_sad", "value": 9.0, "epoch": 5}


def test_record_ignored_without_its_model(tmp_path):
    path = str(tmp_path / "best.keras")
    _run(path, 1.0, sad=10.0, epoch=0)
    os.remove(path)  # a record without its checkpoint: start afresh
    _run(path, 2.0, sad=12.0, epoch=1)
    assert _saved_bias(path) == 2.0
    assert np.isclose(json.load(open(path + ".json"))["value"], 12.0)
