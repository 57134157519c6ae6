"""Export of matting generators: SavedModel (TF Serving), TFLite (LiteRT), ONNX.

All formats share one interface (:mod:`keras_matting.export.serving`): inputs ``image``
``(N, H, W, 3)`` RGB in [0, 1] and ``trimap`` (AlphaGAN) or ``mask`` (IGF) ``(N, H, W, 1)``,
output ``alpha`` ``(N, H, W, 1)``; padding to the network stride happens inside. Functions
are imported on first access (no TensorFlow at import).
"""

_LAZY = {
    "export_saved_model": "keras_matting.export.saved_model",
    "convert_to_tflite": "keras_matting.export.tflite",
    "export_tflite": "keras_matting.export.tflite",
    "QUANTIZATIONS": "keras_matting.export.tflite",
    "TFLiteRunner": "keras_matting.export.tflite_runner",
    "convert_to_onnx": "keras_matting.export.onnx",
    "export_onnx": "keras_matting.export.onnx",
    "ONNXRunner": "keras_matting.export.onnx",
    "calibration_sample": "keras_matting.export.calibration",
    "representative_dataset": "keras_matting.export.calibration",
    "padded_alpha": "keras_matting.export.serving",
    "load_generator": "keras_matting.export.model_source",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'keras_matting.export' has no attribute {name!r}")
