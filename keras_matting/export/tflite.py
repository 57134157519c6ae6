"""TFLite export with TFLite builtin ops only (no Flex / SELECT_TF_OPS), and quantisation.

The converter gets the frozen inference function of :mod:`keras_matting.export.serving`
(inputs ``image`` and ``trimap``/``mask``, output ``alpha``). Sizes:

- dynamic (``size=None``): any batch, height and width (``>= size_multiple``); the app calls
  ``resize_tensor_input`` and ``allocate_tensors`` before running a new size;
- fixed (``size=(H, W)``, batch 1 by default): static shapes, no pad/crop ops when ``H`` and
  ``W`` are multiples of the stride; the fastest and what phones should use.

Quantisation (``quantize``):

| value | weights | activations | I/O |
|---|---|---|---|
| ``none`` | float32 | float32 | float32 |
| ``float16`` | float16 (dequantised at load on CPUs; GPU delegates run fp16) | float32 | float32 |
| ``dynamic`` | int8 | float32 (dynamic-range: int8 where a kernel supports it) | float32 |
| ``int8`` | int8 | int8 (calibrated on :mod:`keras_matting.export.calibration`) | float32 |

Full-int8 models keep float32 inputs and outputs (a QUANTIZE op after each input and a
DEQUANTIZE before ``alpha``): one interface for every variant, no per-model scale/zero point
in the app, and alpha is not limited to 256 levels at the output; the two extra ops cost
well under 1% of a run. Ops without an int8 kernel stay float (the converter's fallback with
``TFLITE_BUILTINS``).
"""

import os
import re

from keras_matting.errors import MattingInputError

__all__ = ["QUANTIZATIONS", "convert_to_tflite", "export_tflite"]

QUANTIZATIONS = ("none", "float16", "dynamic", "int8")
DEFAULT_CALIBRATION_SIZE = (256, 256)


def convert_to_tflite(
    generator,
    size=None,
    batch=None,
    quantize="none",
    calibration_count=32,
    calibration_size=None,
    seed=0,
    packed=False,
):
    """Convert ``generator`` to a TFLite flatbuffer (bytes), TFLite builtin ops only.

    Args:
        generator: an ``AlphaGANGenerator`` or ``IGFGenerator``.
        size: ``None`` (dynamic height and width) or ``(height, width)``.
        batch: fixed batch size; default ``None`` (dynamic) for dynamic sizes, 1 for fixed.
        quantize: one of :data:`QUANTIZATIONS`.
        calibration_count: int8 only, number of calibration images.
        calibration_size: int8 only, ``(height, width)`` of the calibration images;
            default ``size`` for fixed models, 256x256 for dynamic ones.
        seed: seed of the calibration images.
        packed: one 4-channel input ``image_trimap`` / ``image_mask`` = concat(image,
            guide) instead of two inputs: no full-resolution concatenation in the graph
            (the fastest for phones, whose app fills one buffer anyway).

    Returns:
        The ``.tflite`` model as bytes.
    """
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    from keras_matting.export.calibration import representative_dataset
    from keras_matting.export.serving import (
        condition_name,
        packed_alpha,
        padded_alpha,
        serving_specs,
    )

    if quantize not in QUANTIZATIONS:
        raise MattingInputError(
            f"unknown quantisation {quantize!r}: use one of {', '.join(QUANTIZATIONS)}"
        )
    if size is not None and batch is None:
        batch = 1
    specs = serving_specs(generator, size=size, batch=batch, packed=packed)
    if packed:
        fn = tf.function(lambda x: {"alpha": packed_alpha(generator, x, robust=False)},
                         input_signature=specs)
    else:
        fn = tf.function(
            lambda image, guide: {"alpha": padded_alpha(generator, image, guide, robust=False)},
            input_signature=specs,
        )
    # Freezing first: TFLiteConverter.from_concrete_functions on the unfrozen function
    # left Keras 3 variables as uninitialised READ_VARIABLE ops (measured: NaN outputs).
    frozen = convert_variables_to_constants_v2(fn.get_concrete_function())
    # Freezing flattens the outputs (``output_0``); re-wrap to name the output ``alpha``
    # in the model's signature.
    named = tf.function(lambda *args: {"alpha": frozen(*args)[0]},
                        input_signature=specs).get_concrete_function()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([named], generator)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "int8":
        cal_size = calibration_size or size or DEFAULT_CALIBRATION_SIZE
        converter.representative_dataset = representative_dataset(
            condition_name(generator), cal_size, count=calibration_count, batch=batch or 1,
            seed=seed, packed=packed,
        )
    try:
        return converter.convert()
    except Exception as exc:  # tf.lite ConverterError and friends
        needs = sorted(set(re.findall(r"'tf\.(\w+)' op is neither", str(exc))))
        reason = (f"ops {', '.join(needs)} have no TFLite builtin kernel" if needs
                  else " ".join(str(exc).split())[:200])
        raise MattingInputError(
            f"cannot convert {type(generator).__name__} to TFLite with builtin ops only: "
            f"{reason}; export a fixed --size or use --format onnx / saved_model"
        ) from None


def export_tflite(generator, path, **kwargs):
    """Convert with :func:`convert_to_tflite` (same keyword arguments) and write ``path``
    atomically (stale temporaries of killed exports into its folder are removed first).
    Returns ``path``."""
    from keras_matting.io import atomic_write
    from keras_matting.tempfiles import remove_stale_temporaries

    remove_stale_temporaries(os.path.dirname(os.path.abspath(os.fspath(path))))
    return atomic_write(os.fspath(path), convert_to_tflite(generator, **kwargs))
