"""Run an exported ``.tflite`` matting model with LiteRT (``ai_edge_litert``), no TensorFlow."""

import numpy as np

from keras_matting.errors import MattingInputError

__all__ = ["TFLiteRunner"]


class TFLiteRunner:
    """Callable ``runner(image, guide) -> alpha`` around ``ai_edge_litert``'s ``Interpreter``.

    Dynamic models are resized (``resize_tensor_input`` + ``allocate_tensors``) whenever the
    input shape changes; fixed models reject other shapes. CPU ops run on XNNPACK (the
    default delegate) unless ``op_resolver="builtin_without_default_delegates"``.

    Args:
        model: path to a ``.tflite`` file or the model bytes.
        num_threads: CPU threads (``None``: LiteRT's default).
        op_resolver: ``"auto"`` (default), ``"builtin"``, ``"builtin_ref"`` or
            ``"builtin_without_default_delegates"`` (``OpResolverType``).

    Example:
        >>> runner = TFLiteRunner("igf_512.tflite", num_threads=2)
        >>> alpha = runner(image[None], mask[None, ..., None])  # float32 (1, H, W, 1)
    """

    def __init__(self, model, num_threads=None, op_resolver="auto"):
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        source = {"model_content": bytes(model)} if isinstance(model, (bytes, bytearray)) else {
            "model_path": str(model)}
        self.interpreter = Interpreter(
            **source,
            num_threads=num_threads,
            experimental_op_resolver_type=getattr(OpResolverType, op_resolver.upper()),
        )
        inputs = self.interpreter.get_input_details()
        if len(inputs) not in (1, 2):
            raise MattingInputError(
                f"TFLite model has {len(inputs)} inputs, expected image and trimap/mask "
                "(or one packed 4-channel input): export it with keras-matting export"
            )
        self.packed = len(inputs) == 1
        image = [d for d in inputs if "image" in d["name"]]
        self._image = image[0] if image else inputs[0]
        self._guide = next((d for d in inputs if d["index"] != self._image["index"]), None)
        self._output = self.interpreter.get_output_details()[0]["index"]
        self.dynamic = bool(np.any(self._image["shape_signature"] == -1))
        self.input_shape = tuple(int(s) for s in self._image["shape_signature"])
        self._shape = tuple(int(s) for s in self._image["shape"])
        self.interpreter.allocate_tensors()

    def __call__(self, image, guide):
        """``image`` ``(N, H, W, 3)`` and ``guide`` ``(N, H, W, 1)`` float32 -> alpha."""
        image = np.ascontiguousarray(image, np.float32)
        guide = np.ascontiguousarray(guide, np.float32)
        if self.packed:  # the app writes one 4-channel buffer
            image = np.concatenate([image, guide], axis=-1)
        if image.shape != self._shape:
            if not self.dynamic:
                raise MattingInputError(
                    f"this TFLite model takes images of shape {self.input_shape}, got "
                    f"{image.shape}; resize the input or export a dynamic-size model"
                )
            self.interpreter.resize_tensor_input(self._image["index"], image.shape)
            if not self.packed:
                self.interpreter.resize_tensor_input(self._guide["index"], guide.shape)
            self.interpreter.allocate_tensors()
            self._shape = image.shape
        self.interpreter.set_tensor(self._image["index"], image)
        if not self.packed:
            self.interpreter.set_tensor(self._guide["index"], guide)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self._output).copy()
