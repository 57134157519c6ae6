"""Training and evaluation data: procedural foregrounds, tf.data pipelines, trimaps/masks.

TensorFlow is imported only when a pipeline is used, so ``keras-matting synth`` stays light.
"""

import importlib

_EXPORTS = {
    "build_alphagan_dataset": "keras_matting.data.alphagan_dataset",
    "build_igf_dataset": "keras_matting.data.igf_dataset",
    "build_eval_dataset": "keras_matting.data.eval_dataset",
    "list_eval_samples": "keras_matting.data.eval_dataset",
    "generate_sample": "keras_matting.data.synthetic",
    "write_dataset": "keras_matting.data.synthetic",
    "trimap_from_alpha_np": "keras_matting.protocol",
    "weak_mask_np": "keras_matting.protocol",
    "scoring_trimap_np": "keras_matting.protocol",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
