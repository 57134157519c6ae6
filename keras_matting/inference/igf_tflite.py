"""IGFTFLite: the IGF's coefficient network on LiteRT, for predictions without TensorFlow."""

import os

import numpy as np

from keras_matting.errors import MattingInputError

__all__ = ["IGFTFLite"]


class IGFTFLite:
    """An IGF whose coefficient network runs on LiteRT (``ai_edge_litert``), no TensorFlow.

    The ``.tflite`` file maps one packed input ``image_mask`` ``(1, H, W, 4)`` (H and W
    multiples of 32) to the guided-filter coefficients ``[A, B]`` at 1/4 resolution
    (``keras_matting.export.tflite.convert_to_tflite(..., output="coefficients")``);
    :func:`keras_matting.inference.high_resolution.predict_mask_reduced` applies them at
    full resolution, ``alpha = up(A) . I + up(B)``, exactly as for the Keras model. Loading
    and running it takes no TensorFlow import (measured: the import alone is most of a
    one-photo ``keras-matting predict`` with the Keras model).

    Args:
        path: the coefficients ``.tflite`` file.
        num_threads: LiteRT CPU threads; default ``min(4, os.cpu_count())``.

    Example:
    >>> model = IGFTFLite("igf_coefficients.tflite")
    >>> alpha = model.predict_alpha(image, mask)  # (H, W) float32
    """

    size_multiple = 32
    condition_name = "mask"

    def __init__(self, path, num_threads=None):
        from ai_edge_litert.interpreter import Interpreter

        self.path = os.fspath(path)
        if num_threads is None:
            num_threads = min(4, os.cpu_count() or 1)
        try:
            self.interpreter = Interpreter(model_path=self.path, num_threads=num_threads)
        except (ValueError, RuntimeError) as exc:
            raise MattingInputError(
                f"{self.path}: not a LiteRT model ({' '.join(str(exc).split())[:120]}); "
                "export one with keras-matting export --format tflite") from None
        inputs = self.interpreter.get_input_details()
        outputs = self.interpreter.get_output_details()
        if len(inputs) != 1 or int(inputs[0]["shape_signature"][-1]) != 4 or len(outputs) != 1:
            raise MattingInputError(
                f"{self.path}: not an IGF coefficient model (one (1, H, W, 4) input "
                "image_mask, one output); export one with output='coefficients'")
        self._input = inputs[0]["index"]
        self._output = outputs[0]["index"]
        self._shape = None

    def coefficients(self, padded):
        """``[A, B]`` ``(1, H / 4, W / 4, 4)`` of a padded ``(1, H, W, 4)`` float32 batch."""
        from keras_matting.quiet import filtered_stderr

        padded = np.ascontiguousarray(padded, np.float32)
        if padded.shape != self._shape:
            self.interpreter.resize_tensor_input(self._input, padded.shape, strict=False)
            # LiteRT announces its CPU delegate on stderr when it first applies it
            with filtered_stderr():
                self.interpreter.allocate_tensors()
            self._shape = padded.shape
        self.interpreter.set_tensor(self._input, padded)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self._output).copy()

    def predict_alpha(self, image, mask):
        """Alpha ``(H, W)`` of one ``(H, W, 3)`` image in [0, 1] and its ``(H, W)`` mask."""
        from keras_matting.inference.high_resolution import predict_mask_reduced

        return predict_mask_reduced(self, np.asarray(image, np.float32),
                                    np.asarray(mask, np.float32))
