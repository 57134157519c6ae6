"""Per-op time breakdown of a ``.tflite`` model, with LiteRT only (no TensorFlow).

LiteRT's Python interpreter has no op profiler (the C++ ``benchmark_model`` tool has one
but does not ship with ``ai_edge_litert``). This profiler cuts the model into one-op models
(the op, its constant inputs as they are in the file, its other inputs as model inputs),
times each with the same interpreter settings as the whole model (XNNPACK, ``num_threads``)
and reports the medians next to the whole model's median. The sum of the ops exceeds the
whole model by the per-invoke overhead of each one-op model (a few microseconds each) and by
what XNNPACK saves across fused neighbours; the difference is printed.
"""

import time

import numpy as np

__all__ = ["format_profile", "profile_tflite"]


def _median_ms(interpreter, runs, warmup):
    for _ in range(warmup):
        interpreter.invoke()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        interpreter.invoke()
        times.append(time.perf_counter() - start)
    return 1000.0 * float(np.median(times))


def _fill_inputs(interpreter, rng):
    for detail in interpreter.get_input_details():
        shape, dtype = detail["shape"], detail["dtype"]
        if np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            value = rng.integers(max(info.min, -128), min(info.max, 127) + 1, size=shape)
        else:
            value = rng.random(shape)
        interpreter.set_tensor(detail["index"], value.astype(dtype))


def _interpreter(content, num_threads):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=content, num_threads=num_threads)
    interpreter.allocate_tensors()
    return interpreter


def _one_op_models(content):
    """Yield ``(op_index, op_name, output shape, output dtype, one-op model bytes)``."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(content), 0)
    graph = model.subgraphs[0]
    operators, inputs, outputs = graph.operators, graph.inputs, graph.outputs
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    types = {v: k.lower() for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    model.signatureDefs = []

    def constant(index):
        buffer = model.buffers[graph.tensors[index].buffer]
        return buffer.data is not None and len(buffer.data) > 0 or buffer.size

    try:
        for k, op in enumerate(operators):
            code = model.operatorCodes[op.opcodeIndex]
            builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
            graph.operators = [op]
            graph.inputs = [int(i) for i in op.inputs if i >= 0 and not constant(i)]
            graph.outputs = [int(i) for i in op.outputs]
            builder = flatbuffers.Builder(1024)
            builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
            out = graph.tensors[op.outputs[0]]
            yield (k, names.get(builtin, str(builtin)), tuple(int(s) for s in out.shape),
                   types.get(out.type, "?"), bytes(builder.Output()))
    finally:
        graph.operators, graph.inputs, graph.outputs = operators, inputs, outputs


def profile_tflite(model, num_threads=2, runs=20, warmup=3, seed=0):
    """Time every op of ``model`` (``.tflite`` path or bytes) on its own.

    Args:
        model: path or bytes of a fixed-size ``.tflite`` model.
        num_threads: interpreter threads (as the benchmark's TFLite rows).
        runs: timed invokes per one-op model (the median is kept).
        warmup: untimed invokes first.
        seed: seed of the random inputs.

    Returns:
        ``{"whole_ms": float, "ops": [{"index", "op", "shape", "dtype", "ms"}, ...]}``.
    """
    content = model if isinstance(model, (bytes, bytearray)) else open(model, "rb").read()
    rng = np.random.default_rng(seed)
    whole = _interpreter(bytes(content), num_threads)
    _fill_inputs(whole, rng)
    whole_ms = _median_ms(whole, runs, warmup)
    ops = []
    for index, name, shape, dtype, one_op in _one_op_models(content):
        interpreter = _interpreter(one_op, num_threads)
        _fill_inputs(interpreter, rng)
        ops.append({"index": index, "op": name, "shape": shape, "dtype": dtype,
                    "ms": _median_ms(interpreter, runs, warmup)})
    return {"whole_ms": whole_ms, "ops": ops}


def format_profile(profile, title, top=12):
    """Markdown: time by op type, then the ``top`` costliest ops."""
    ops = profile["ops"]
    total = sum(op["ms"] for op in ops) or 1.0
    by_type = {}
    for op in ops:
        entry = by_type.setdefault(op["op"], [0, 0.0])
        entry[0] += 1
        entry[1] += op["ms"]
    lines = [
        f"{title}: whole model {profile['whole_ms']:.2f} ms (median); sum of its "
        f"{len(ops)} ops timed one by one {total:.2f} ms",
        "",
        "| op type | count | ms | share |",
        "|---|---|---|---|",
    ]
    for name, (count, ms) in sorted(by_type.items(), key=lambda kv: -kv[1][1]):
        lines.append(f"| {name} | {count} | {ms:.2f} | {100.0 * ms / total:.1f}% |")
    lines += ["", "| # | op | output | dtype | ms | share |", "|---|---|---|---|---|---|"]
    for op in sorted(ops, key=lambda o: -o["ms"])[:top]:
        shape = "x".join(str(s) for s in op["shape"])
        lines.append(f"| {op['index']} | {op['op']} | {shape} | {op['dtype']} "
                     f"| {op['ms']:.3f} | {100.0 * op['ms'] / total:.1f}% |")
    return "\n".join(lines)
