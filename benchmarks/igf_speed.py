"""IGF generator speed at 512x512 on CPU: tf.function, XLA, TFLite (XNNPACK), onnxruntime.

Prints one table: median latency per image (batch 1), batch-32 XLA throughput,
GFLOPs per image (multiply-adds x 2 of convolutions, resizes and the linear
transform) and the achieved GFLOP/s, and the fast guided filter (numpy/OpenCV,
colour guide, r=64, eps=1e-5, s=4) on the same image in the same run.
Timing belongs here, never in tests. On a shared machine the medians are noisy:
run it when the CPU is idle and compare rows of one run only.

    python benchmarks/igf_speed.py [--runs 30] [--threads 2] [--skip onnx,xla32]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.python.framework.convert_to_constants import (  # noqa: E402
    convert_variables_to_constants_v2,
)

from keras_matting.filters.guided_filter import fast_guided_filter  # noqa: E402
from keras_matting.models.igf import IGFGenerator  # noqa: E402

SIZE = 512


def generator_flops(size=SIZE, **config):
    """Floating-point operations (2 x multiply-adds) of one forward pass at ``size``."""
    model = IGFGenerator(input_shape=(size, size, 4), **config)
    flops = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            _, h, w, c = layer.output.shape
            k = layer.kernel_size[0] * layer.kernel_size[1]
            flops += 2 * h * w * c * k
        elif isinstance(layer, keras.layers.Conv2D):
            _, h, w, c = layer.output.shape
            k = layer.kernel_size[0] * layer.kernel_size[1]
            flops += 2 * h * w * c * k * layer.input.shape[-1]
        elif layer.__class__.__name__ in ("BilinearUpSampling2D",):
            _, h, w, c = layer.output.shape
            flops += 8 * h * w * c  # 4 taps, multiply-add
    # two x4 resizes of A (4 ch with the zero pad) and B, product, channel sum, + B
    flops += size * size * (8 * 5 + 2 * 4 + 2)
    return flops


def time_ms(fn, runs, warmup=3):
    """``(median, min)`` wall time in ms; the min is the least disturbed run on a shared CPU."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times)), 1000 * float(np.min(times))


def build_tflite(model, shape, threads):
    from ai_edge_litert.interpreter import Interpreter

    fn = tf.function(lambda x: model(x, training=False), input_signature=[tf.TensorSpec(shape)])
    frozen = convert_variables_to_constants_v2(fn.get_concrete_function())
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen], model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    interpreter = Interpreter(model_content=converter.convert(), num_threads=threads)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]["index"]
    out = interpreter.get_output_details()[0]["index"]

    def run(x):
        interpreter.set_tensor(inp, x)
        interpreter.invoke()
        return interpreter.get_tensor(out)

    return run


def build_onnx(model, shape, threads):
    import onnxruntime as ort
    import tf2onnx

    fn = tf.function(
        lambda x: model(x, training=False), input_signature=[tf.TensorSpec(shape, name="x")]
    )
    proto, _ = tf2onnx.convert.from_function(fn, input_signature=fn.input_signature, opset=17)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(
        proto.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    name = session.get_inputs()[0].name
    return lambda x: session.run(None, {name: x})[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip", default="", help="comma-separated rows to skip: onnx,xla32")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)

    model = IGFGenerator()
    rng = np.random.default_rng(0)
    image = rng.random((1, SIZE, SIZE, 3)).astype("float32")
    mask = (rng.random((1, SIZE, SIZE, 1)) > 0.5).astype("float32")
    x = np.concatenate([image, mask], axis=-1)
    gflop = generator_flops() / 1e9

    rows = []

    def add(name, times, batch=1):
        median, fastest = (t / batch for t in times)
        rows.append((name, median, fastest, 1000.0 / median, gflop / (median / 1000.0)))

    graph = tf.function(lambda t: model(t, training=False))
    xla = tf.function(lambda t: model(t, training=False), jit_compile=True)
    add("tf.function", time_ms(lambda: graph(x).numpy(), args.runs))
    add("tf.function + XLA", time_ms(lambda: xla(x).numpy(), args.runs))
    tflite = build_tflite(model, x.shape, args.threads)
    add(f"TFLite fp32 XNNPACK ({args.threads} threads)", time_ms(lambda: tflite(x), args.runs))
    if "onnx" not in skip:
        onnx = build_onnx(model, x.shape, args.threads)
        add(f"onnxruntime ({args.threads} threads)", time_ms(lambda: onnx(x), args.runs))
    if "xla32" not in skip:
        x32 = np.repeat(x, 32, axis=0)
        ms32 = time_ms(lambda: xla(x32).numpy(), max(3, args.runs // 10), warmup=1)
        add("XLA batch 32 (per image)", ms32, batch=32)
    fgf, fgf_min = time_ms(lambda: fast_guided_filter(image[0], mask[0, ..., 0], 64, 1e-5, 4), args.runs)

    print(f"IGF generator, {SIZE}x{SIZE}, {gflop:.3f} GFLOPs/image, {os.cpu_count()} CPUs visible")
    print("| runtime | ms / image (median) | ms (min) | images/s | GFLOP/s (median) |")
    print("|---|---|---|---|---|")
    for name, median, fastest, ips, gfs in rows:
        print(f"| {name} | {median:.2f} | {fastest:.2f} | {ips:.1f} | {gfs:.1f} |")
    print(
        f"| fast guided filter (numpy/OpenCV, r=64, s=4) | {fgf:.2f} | {fgf_min:.2f} "
        f"| {1000 / fgf:.1f} | - |"
    )


if __name__ == "__main__":
    main()
