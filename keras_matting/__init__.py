"""keras_matting: deep natural-image matting for Keras 3 / TensorFlow.

Implements AlphaGAN (Lutz et al., BMVC 2018) and the Inductive Guided Filter
(Li et al., 2019), with classical baselines, metrics, data pipelines and export.
Heavy modules (TensorFlow) are imported lazily so ``keras-matting --help`` is fast:
``keras_matting.matte``, ``load``, ``estimate_foreground``, ``cutout`` and ``composite``
are resolved on first access (module ``__getattr__``, PEP 562).
"""

__version__ = "0.1.0"

from keras_matting.errors import MattingInputError  # noqa: E402

# public name -> module that defines it, imported on first access
_LAZY = {
    "composite": "keras_matting.api",
    "cutout": "keras_matting.api",
    "estimate_foreground": "keras_matting.api",
    "matte": "keras_matting.api",
    "load": "keras_matting.models.registry",
}

__all__ = ["MattingInputError", "__version__", *sorted(_LAZY)]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'keras_matting' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
