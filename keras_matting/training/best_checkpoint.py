"""BestCheckpoint: ``ModelCheckpoint(save_best_only=True)`` whose best value survives a resume."""

import json
import math
import os

import keras


class BestCheckpoint(keras.callbacks.ModelCheckpoint):
    """Keep the model with the best ``monitor`` value, remembered across restarts.

    Keras' ``ModelCheckpoint`` starts every ``fit`` with ``best = inf``, so after a
    ``BackupAndRestore`` resume the first epoch overwrote ``best.keras`` even when
    it was worse than the checkpoint already there. This callback records the
    best value and its epoch in ``filepath + ".json"`` and starts from it.

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
            initial = record["value"]
        super().__init__(
            filepath,
            monitor=monitor,
            mode=mode,
            save_best_only=True,
            initial_value_threshold=initial,
            **kwargs,
        )

    @staticmethod
    def read_record(path):
        """The ``{"monitor", "value", "epoch"}`` record at ``path``, or None."""
        try:
            with open(path) as f:
                record = json.load(f)
            return record if math.isfinite(float(record["value"])) else None
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def on_epoch_end(self, epoch, logs=None):
        before = self.best
        super().on_epoch_end(epoch, logs)
        if self.best != before and self.best is not None and math.isfinite(float(self.best)):
            tmp = self.record_path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(
                    {"monitor": self.monitor, "value": float(self.best), "epoch": int(epoch) + 1}, f
                )
            os.replace(tmp, self.record_path)
