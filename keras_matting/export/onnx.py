"""ONNX export through tf2onnx (opset >= 17) and an onnxruntime runner.

The graph is the inference function of :mod:`keras_matting.export.serving`: inputs
``image`` ``(N, H, W, 3)`` float32 in [0, 1] and ``trimap``/``mask`` ``(N, H, W, 1)``,
output ``alpha`` ``(N, H, W, 1)``; batch, height and width are dynamic (``H, W >= stride``)
unless ``size`` fixes them. BatchNormalization is folded into the convolutions by tf2onnx.
"""

import os

__all__ = ["DEFAULT_OPSET", "ONNXRunner", "convert_to_onnx", "export_onnx"]

DEFAULT_OPSET = 17
_OPTIMIZATION_LEVELS = {
    "all": "ORT_ENABLE_ALL",
    "extended": "ORT_ENABLE_EXTENDED",
    "basic": "ORT_ENABLE_BASIC",
    "disable": "ORT_DISABLE_ALL",
}


def convert_to_onnx(generator, size=None, batch=None, opset=DEFAULT_OPSET):
    """Convert ``generator`` to an ``onnx.ModelProto``.

    Args:
        generator: an ``AlphaGANGenerator`` or ``IGFGenerator``.
        size: ``None`` (dynamic height and width) or ``(height, width)``.
        batch: ``None`` (dynamic) or a fixed batch size.
        opset: ONNX opset, at least 17.
    """
    import tensorflow as tf
    import tf2onnx

    from keras_matting.export.serving import float32_generator, padded_alpha, serving_specs

    if opset < 17:
        raise ValueError(f"opset must be >= 17, got {opset}")
    generator = float32_generator(generator)
    specs = serving_specs(generator, size=size, batch=batch)
    fn = tf.function(
        lambda image, guide: {"alpha": padded_alpha(generator, image, guide, robust=False)},
        input_signature=specs,
    )
    proto, _ = tf2onnx.convert.from_function(fn, input_signature=specs, opset=opset)
    _rename_io(proto, {spec.name: spec.name for spec in specs}, "alpha")
    return proto


def _rename_io(proto, inputs, output):
    """tf2onnx names tensors ``name:0``; give the graph inputs/output plain names."""
    renames = {}
    for value in proto.graph.input:
        base = value.name.split(":")[0]
        if base in inputs and value.name != inputs[base]:
            renames[value.name] = inputs[base]
    if len(proto.graph.output) == 1 and proto.graph.output[0].name != output:
        renames[proto.graph.output[0].name] = output
    for value in list(proto.graph.input) + list(proto.graph.output):
        value.name = renames.get(value.name, value.name)
    for node in proto.graph.node:
        for i, name in enumerate(node.input):
            node.input[i] = renames.get(name, name)
        for i, name in enumerate(node.output):
            node.output[i] = renames.get(name, name)


def export_onnx(generator, path, **kwargs):
    """Convert with :func:`convert_to_onnx` (same keyword arguments) and write ``path``
    atomically (stale temporaries of killed exports into its folder are removed first).
    Returns ``path``."""
    from keras_matting.io import atomic_write
    from keras_matting.tempfiles import remove_stale_temporaries

    remove_stale_temporaries(os.path.dirname(os.path.abspath(os.fspath(path))))
    return atomic_write(os.fspath(path), convert_to_onnx(generator, **kwargs).SerializeToString())


class ONNXRunner:
    """Callable ``runner(image, guide) -> alpha`` around an onnxruntime CPU session.

    Args:
        model: path to a ``.onnx`` file, model bytes, or an ``onnx.ModelProto``.
        num_threads: intra-op threads (``None``: onnxruntime's default); inter-op is 1.
        optimization: ``"all"`` (default), ``"extended"``, ``"basic"`` or ``"disable"``
            (``GraphOptimizationLevel``).
    """

    def __init__(self, model, num_threads=None, optimization="all"):
        import onnxruntime as ort

        if hasattr(model, "SerializeToString"):
            model = model.SerializeToString()
        options = ort.SessionOptions()
        if num_threads:
            options.intra_op_num_threads = int(num_threads)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = getattr(
            ort.GraphOptimizationLevel, _OPTIMIZATION_LEVELS[optimization]
        )
        self.session = ort.InferenceSession(
            model if isinstance(model, bytes) else os.fspath(model), options,
            providers=["CPUExecutionProvider"],
        )
        names = [i.name for i in self.session.get_inputs()]
        self._image = next((n for n in names if "image" in n), names[0])
        self._guide = next(n for n in names if n != self._image)

    def __call__(self, image, guide):
        feeds = {self._image: image.astype("float32", copy=False),
                 self._guide: guide.astype("float32", copy=False)}
        return self.session.run(None, feeds)[0]
