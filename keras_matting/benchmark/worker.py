"""One benchmark backend in a fresh process: ``python -m keras_matting.benchmark.worker SPEC``.

``SPEC`` is a JSON file: ``backend`` (``keras``, ``xla``, ``tflite``, ``onnx``,
``guided-filter``, ``closed-form``), ``model`` (a ``.keras``, ``.tflite`` or ``.onnx`` path),
``inputs`` (an ``.npz`` with ``image`` and ``guide``), ``runs``, ``warmup``, ``threads``,
optional ``val`` (an ``.npz`` of ``image`` and ``guide`` stacks) and ``predictions`` (where
to save the alphas of ``val``), ``tflite_options`` and ``onnx_optimization``. Prints one
JSON line: ``times`` (seconds per call), ``peak_rss_mb`` (``ru_maxrss`` of this process:
interpreter, runtime libraries, model and buffers, see :func:`peak_rss_mb`),
or ``error``. Only the modules the
backend needs are imported: TFLite and onnxruntime rows carry no TensorFlow.
"""

import json
import os
import resource
import sys
import time

import numpy as np


def _build(spec):
    backend, threads = spec["backend"], int(spec["threads"])
    if backend in ("keras", "xla"):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        from keras_matting.export.serving import padded_alpha
        from keras_matting.models.registry import load

        generator = load(spec["model"])
        fn = tf.function(lambda image, guide: padded_alpha(generator, image, guide),
                         jit_compile=backend == "xla")
        return lambda image, guide: fn(image, guide).numpy()
    if backend == "tflite":
        from keras_matting.export.tflite_runner import TFLiteRunner

        return TFLiteRunner(spec["model"], num_threads=threads, **spec.get("tflite_options", {}))
    if backend == "onnx":
        from keras_matting.export.onnx import ONNXRunner

        return ONNXRunner(spec["model"], num_threads=threads,
                          optimization=spec.get("onnx_optimization", "all"))
    if backend == "guided-filter":
        import cv2

        cv2.setNumThreads(threads)
        from keras_matting.filters.guided_filter import fast_guided_filter
        from keras_matting.protocol import GUIDED_FILTER

        def run(image, guide):
            return np.stack([
                fast_guided_filter(i, g[..., 0], **GUIDED_FILTER)[..., None]
                for i, g in zip(image, guide, strict=True)
            ])

        return run
    if backend == "closed-form":
        from keras_matting.filters.classical import closed_form_matting

        return lambda image, guide: np.stack(
            [closed_form_matting(i, g[..., 0])[..., None] for i, g in zip(image, guide,
                                                                         strict=True)])
    raise ValueError(f"unknown backend {backend!r}")


def run(spec):
    inputs = np.load(spec["inputs"])
    image, guide = inputs["image"], inputs["guide"]
    fn = _build(spec)
    for _ in range(int(spec["warmup"])):
        fn(image, guide)
    times = []
    for _ in range(int(spec["runs"])):
        start = time.perf_counter()
        fn(image, guide)
        times.append(time.perf_counter() - start)
    # peak of the timed runs, before the validation images are loaded
    result = {"times": times, "peak_rss_mb": peak_rss_mb()}
    if spec.get("val"):
        val = np.load(spec["val"])
        batch = image.shape[0]
        preds = []
        for start in range(0, len(val["image"]), batch):
            chunk = slice(start, start + batch)
            im, gd = val["image"][chunk], val["guide"][chunk]
            n = len(im)
            if n < batch:  # fixed-batch models: pad the last batch by repetition
                im = np.concatenate([im, np.repeat(im[-1:], batch - n, 0)])
                gd = np.concatenate([gd, np.repeat(gd[-1:], batch - n, 0)])
            preds.append(np.asarray(fn(im, gd))[:n])
        np.save(spec["predictions"], np.concatenate(preds).astype(np.float32))
    return result


def peak_rss_mb():
    """This process's RSS high-water mark in MB.

    ``VmHWM`` from ``/proc/self/status`` (Linux): it starts afresh at ``exec``, whereas
    ``ru_maxrss`` keeps the parent's peak across fork + exec (measured: a numpy-only worker
    reported the TensorFlow parent's 880 MB). ``ru_maxrss`` elsewhere.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    scale = 1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0  # bytes vs kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    with open(argv[0]) as f:
        spec = json.load(f)
    try:
        result = run(spec)
    except Exception as exc:  # reported as the row's error, the benchmark goes on
        result = {"error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"}
    print("BENCHMARK_RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
