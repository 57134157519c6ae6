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
    output="alpha",
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
        output: ``"alpha"`` (default) or ``"coefficients"`` (IGF only): the guided-filter
            coefficients ``[A, B]`` at 1/4 resolution of one packed input
            ``image_mask`` ``(1, H, W, 4)``, H and W multiples of ``size_multiple`` (no
            padding in the graph); the caller applies ``alpha = up(A) . I + up(B)`` at full
            resolution, as :func:`keras_matting.inference.high_resolution.
            predict_mask_reduced` does (what ``keras-matting predict`` runs).

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
        float32_generator,
        packed_alpha,
        padded_alpha,
        serving_specs,
    )

    if quantize not in QUANTIZATIONS:
        raise MattingInputError(
            f"unknown quantisation {quantize!r}: use one of {', '.join(QUANTIZATIONS)}"
        )
    if output not in ("alpha", "coefficients"):
        raise MattingInputError(f"unknown output {output!r}: use alpha or coefficients")
    if quantize == "int8" and not packed and output == "alpha" and needs_packed_int8(generator):
        # Measured (TF 2.21): an IGF with the guided-filter prior and two inputs stops the
        # quantiser on "scale out of expressed type range" and crashes the process (no
        # exception to catch) at 256x256 and above; with the packed input it converts.
        raise MattingInputError(
            f"int8 export of {type(generator).__name__} with the guided-filter prior needs "
            "the packed input: add --packed-input (packed=True; one 4-channel image_mask "
            "input)")
    generator = float32_generator(generator)
    if size is not None and batch is None:
        batch = 1
    specs = serving_specs(generator, size=size, batch=batch, packed=packed)
    if output == "coefficients":
        import keras

        from keras_matting.layers.guided_linear_transform import GuidedLinearTransform

        layer = next((layer for layer in generator.layers if layer.name == "alpha"), None)
        if not isinstance(layer, GuidedLinearTransform):
            raise MattingInputError(
                f"{type(generator).__name__} has no coefficient output (an IGF has): "
                "export output='alpha'")
        sub = keras.Model(generator.inputs[0], layer.input[1])
        specs = [tf.TensorSpec((batch or 1, *(size or (None, None)), 4), tf.float32,
                               name="image_mask")]
        fn = tf.function(lambda x: {"coefficients": sub(x, training=False)},
                         input_signature=specs)
    elif packed:
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
    named = tf.function(lambda *args: {output: frozen(*args)[0]},
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
        float_nodes = _float_only_nodes(generator, named) if quantize == "int8" else []
        if float_nodes:
            # Selective quantisation: the generator's ``float32_layers`` stay float32.
            # The IGF's guided-filter arithmetic has no int8 representation: variances
            # ~1e-3, 3x3 determinants down to eps^3 = 1e-15 (fully int8, the prior
            # divided by a determinant quantised to the zero point, which TFLite's DIV
            # refuses), and coefficients A of tens multiplied by the image (int8 A:
            # mean alpha error 0.03-0.06 on portraits, measured on the shipped IGF).
            # Splits and stacks are quantisation-transparent: the quantiser makes them int8 with
            # their input even inside denylisted layers (measured: the prior's A and B
            # split in int8, mean alpha error 0.05), so they are denylisted by type; the
            # networks have none.
            options = tf.lite.experimental.QuantizationDebugOptions(
                denylisted_nodes=float_nodes, denylisted_ops=["SPLIT", "SPLIT_V", "UNPACK", "PACK"])
            debugger = tf.lite.experimental.QuantizationDebugger(
                converter=converter, debug_dataset=converter.representative_dataset,
                debug_options=options)
            return debugger.get_nondebug_quantized_model()
        return converter.convert()
    except Exception as exc:  # tf.lite ConverterError and friends
        needs = sorted(set(re.findall(r"'tf\.(\w+)' op is neither", str(exc))))
        reason = (f"ops {', '.join(needs)} have no TFLite builtin kernel" if needs
                  else " ".join(str(exc).split())[:200])
        raise MattingInputError(
            f"cannot convert {type(generator).__name__} to TFLite with builtin ops only: "
            f"{reason}; export a fixed --size or use --format onnx / saved_model"
        ) from None


def needs_packed_int8(generator):
    """True when ``generator`` has a guided-filter prior (``GuidedFilterCoefficients``):
    its int8 TFLite export takes the packed input (see :func:`convert_to_tflite`)."""
    return any(type(layer).__name__ == "GuidedFilterCoefficients" for layer in generator.layers)


def _float_only_nodes(generator, concrete_function):
    """Output tensor names, in the float TFLite model of ``concrete_function``, of the ops
    of ``generator``'s layers named in its ``float32_layers`` (the converter names them
    ``<model>/<layer>_<k>/<op>``)."""
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    present = {layer.name for layer in generator.layers}
    layers = [name for name in getattr(generator, "float32_layers", ()) if name in present]
    if not layers:
        return []
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete_function], generator)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    interpreter = Interpreter(model_content=converter.convert())
    names = {t["index"]: t["name"] for t in interpreter.get_tensor_details()}
    pattern = re.compile("/(" + "|".join(re.escape(n) for n in layers) + r")(_\d+)?/")
    outputs = {detail["index"] for detail in interpreter.get_output_details()}
    # the ops of those layers, and the op writing the model's output (the clip of alpha:
    # int8 there would limit alpha to 256 levels)
    return [names[op["outputs"][0]] for op in interpreter._get_ops_details()
            if pattern.search(names[op["outputs"][0]]) or op["outputs"][0] in outputs]


def export_tflite(generator, path, **kwargs):
    """Convert with :func:`convert_to_tflite` (same keyword arguments) and write ``path``
    atomically (stale temporaries of killed exports into its folder are removed first).
    Returns ``path``."""
    from keras_matting.io import atomic_write
    from keras_matting.tempfiles import remove_stale_temporaries

    remove_stale_temporaries(os.path.dirname(os.path.abspath(os.fspath(path))))
    return atomic_write(os.fspath(path), convert_to_tflite(generator, **kwargs))
