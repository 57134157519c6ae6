"""Matting errors: numpy reference metrics and Keras streaming metrics.

The numpy functions import no TensorFlow; ``UnknownSAD`` and ``UnknownMSE`` (Keras
metrics) are imported on first access.
"""

from keras_matting.metrics.reference import (
    clamp_known,
    compute_metrics,
    connectivity_error,
    gradient_error,
    mse,
    sad,
)

_KERAS_METRICS = {
    "UnknownSAD": "keras_matting.metrics.unknown_sad",
    "UnknownMSE": "keras_matting.metrics.unknown_mse",
}

__all__ = [
    "UnknownMSE",
    "UnknownSAD",
    "clamp_known",
    "compute_metrics",
    "connectivity_error",
    "gradient_error",
    "mse",
    "sad",
]


def __getattr__(name):
    if name in _KERAS_METRICS:
        import importlib

        return getattr(importlib.import_module(_KERAS_METRICS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
