"""Latency, throughput, memory and accuracy of a matting generator on every runtime.

``keras-matting benchmark`` (:mod:`keras_matting.cli.benchmark`): Keras ``tf.function``,
XLA, TFLite fp32 / fp16 / dynamic-range / int8 (XNNPACK), onnxruntime, and a classical
method on the same input. Each backend runs in a fresh subprocess
(:mod:`keras_matting.benchmark.worker`) so that its peak RSS is its own. Timing lives here
and in ``benchmarks/``, never in tests.
"""
