"""Checkpoint callbacks that write atomically; ``BestCheckpoint`` also survives a resume.

Keras' ``ModelCheckpoint`` saves in place: a kill in the middle of a save leaves a
truncated ``.keras`` file (and the previous model is gone). Here the model goes to a
hidden temporary in the same folder (``.best.tmp-1a2b3c4d.keras``), is flushed to disk
and replaces the checkpoint with ``os.replace`` (:func:`keras_matting.tempfiles.atomic_save`).
"""

import json
import math
import os
import zipfile

import keras

from keras_matting.tempfiles import atomic_save, file_sha256, write_json_atomic


class AtomicModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """``keras.callbacks.ModelCheckpoint`` whose saves are atomic.

    A save that fails or is killed leaves the previous file intact (a kill may leave the
    hidden temporary, which :func:`keras_matting.tempfiles.remove_stale_temporaries`
    removes later). Same arguments as ``ModelCheckpoint``.

    Example:
    >>> callback = AtomicModelCheckpoint("runs/x/checkpoints/last.keras")
    """

    def _save_model(self, epoch, batch, logs):
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, batch, logs, filepath):
            return
        if self.save_weights_only:
            atomic_save(filepath, lambda tmp: self.model.save_weights(tmp, overwrite=True))
        else:
            atomic_save(filepath, lambda tmp: self.model.save(tmp, overwrite=True))
        self.saved_path = filepath


class BestCheckpoint(AtomicModelCheckpoint):
    """Keep the model with the best ``monitor`` value, remembered across restarts.

    Keras' ``ModelCheckpoint`` starts every ``fit`` with ``best = inf``, so after a
    ``BackupAndRestore`` resume the first epoch overwrote ``best.keras`` even when
    it was worse than the checkpoint already there. This callback records the
    best value, its epoch and the SHA-256 of the saved file in ``filepath + ".json"``
    and starts from it. The model is written first, then the record (both atomically);
    on start the record is checked against the file: a file that is not a ``.keras``
    archive is replaced by the next validated model; a valid file the record does not
    describe (a run killed between the two writes: the file is the newer, better model)
    is kept, with the recorded value as the bar to beat.

    Args:
        filepath: where the best model is saved (``.keras``).
        monitor: metric to watch, e.g. ``"val_sad"``.
        mode: ``"min"`` or ``"max"``.
        **kwargs: other ``ModelCheckpoint`` arguments.

    Example:
    >>> callback = BestCheckpoint("runs/x/best.keras", monitor="val_sad", mode="min")
    """

    def __init__(self, filepath, monitor="val_loss", mode="min", **kwargs):
        self.record_path = os.fspath(filepath) + ".json"
        record = self.read_record(self.record_path)
        initial = None
        if record and os.path.isfile(filepath) and record.get("monitor") == monitor:
            initial = self._checked_value(record, os.fspath(filepath))
        super().__init__(
            filepath,
            monitor=monitor,
            mode=mode,
            save_best_only=True,
            initial_value_threshold=initial,
            **kwargs,
        )

    def _checked_value(self, record, filepath):
        """The recorded best value if ``filepath`` holds a model it may stand for, else None."""
        if not zipfile.is_zipfile(filepath):
            print(f"note: {filepath} is damaged (not a .keras archive); the next validated "
                  "model replaces it", flush=True)
            return None
        if record.get("sha256") not in (None, file_sha256(filepath)):
            print(f"note: {filepath} is not the model {self.record_path} describes (a run "
                  f"stopped between writing them); keeping it, with {record['monitor']} "
                  f"{record['value']:.6g} as the value to beat", flush=True)
        return record["value"]

    @staticmethod
    def read_record(path):
        """The ``{"monitor", "value", "epoch", "sha256"}`` record at ``path``, or None."""
        try:
            with open(path) as f:
                record = json.load(f)
            return record if math.isfinite(float(record["value"])) else None
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def on_epoch_end(self, epoch, logs=None):
        if (logs or {}).get(self.monitor) is None:
            # not validated this epoch (--validate-every-epochs): Keras would save anyway,
            # putting an unvalidated model under the record of the best one
            return
        before = self.best
        self.saved_path = None
        super().on_epoch_end(epoch, logs)
        if (self.saved_path is not None and self.best != before and self.best is not None
                and math.isfinite(float(self.best))):
            # after the model: a record always describes a complete file
            write_json_atomic(self.record_path, {
                "monitor": self.monitor, "value": float(self.best), "epoch": int(epoch) + 1,
                "sha256": file_sha256(self.saved_path),
            })
