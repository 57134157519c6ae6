"""Benchmarks on evaluation datasets and their reports (``keras-matting evaluate --dataset``).

numpy / OpenCV only at import; TensorFlow is loaded when a Keras model is evaluated.
"""

from keras_matting.evaluation.benchmark import (
    BASELINES,
    list_samples,
    parse_protocol,
    resolve_methods,
    run_benchmark,
    summarize,
)

__all__ = [
    "BASELINES",
    "list_samples",
    "parse_protocol",
    "resolve_methods",
    "run_benchmark",
    "summarize",
]
