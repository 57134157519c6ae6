"""Matting errors: numpy reference metrics and Keras streaming metrics.

- :mod:`~keras_matting.metrics.reference`: the standard errors (SAD, MSE, Grad, Conn)
  over a trimap's unknown region;
- :mod:`~keras_matting.metrics.whole_image`: what a user sees, whole image and no
  clamping (whole-image SAD and MSE, edge-band SAD, holes % and halo %).

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
from keras_matting.metrics.whole_image import SCORE_KEYS, user_regions, whole_image_scores

_KERAS_METRICS = {
    "UnknownSAD": "keras_matting.metrics.unknown_sad",
    "UnknownMSE": "keras_matting.metrics.unknown_mse",
}

__all__ = [
    "SCORE_KEYS",
    "UnknownMSE",
    "UnknownSAD",
    "clamp_known",
    "compute_metrics",
    "connectivity_error",
    "gradient_error",
    "mse",
    "sad",
    "user_regions",
    "whole_image_scores",
]


def __getattr__(name):
    if name in _KERAS_METRICS:
        import importlib

        return getattr(importlib.import_module(_KERAS_METRICS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
