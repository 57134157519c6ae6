"""Quiet runs: TensorFlow's start-up messages stay off stderr unless asked for.

TensorFlow 2.21 writes, while it is imported and when it first looks for GPUs, lines
that tell a user of this package nothing, e.g. on a machine without a GPU::

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 00:00:... port.cc:153] oneDNN custom operations are on. ...
    I0000 00:00:... cudart_stub.cc:31] Could not find cuda drivers on your machine, ...
    I0000 00:00:... cpu_feature_guard.cc:227] This TensorFlow binary is optimized ...
    To enable the following instructions: AVX2 FMA, in other operations, rebuild ...
    E0000 00:00:... cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error ...

``TF_CPP_MIN_LOG_LEVEL`` does not remove them: the C++ libraries log through absl
before absl's logging is initialised (the first line), which ignores the variable
(level 3 hides the ``cuInit`` line, and every later error with it, not the others).
What works is to capture file descriptor 2 while TensorFlow is imported and probes
its devices, then write back every line that is not known start-up noise: an
unexpected message (a real error) still shows. GPUs are not hidden.

:func:`install` (called by the ``keras-matting`` command) does this for the first
``import tensorflow`` of the process, wherever it happens, and keeps
``TF_CPP_MIN_LOG_LEVEL=2`` for TensorFlow's later C++ messages. ``keras-matting
--verbose`` or ``KERAS_MATTING_VERBOSE=1`` turns all of it off (level 0, nothing
filtered), as does an explicit ``TF_CPP_MIN_LOG_LEVEL`` for the level alone.
"""

import contextlib
import importlib.abc
import os
import re
import sys
import tempfile

__all__ = ["VERBOSE_ENV", "filtered_stderr", "install", "is_startup_noise", "verbose"]

VERBOSE_ENV = "KERAS_MATTING_VERBOSE"

_NOISE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    # absl INFO / WARNING lines (I0000 00:00:1796157590.757509    8700 port.cc:153] ...)
    r"|[IW]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^\s\]]+:\d+\] "
    # the older TensorFlow format (2024-01-01 12:00:00.000000: I tensorflow/...cc:42] ...)
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IW] [^\s\]]+:\d+\] "
    # LiteRT, when an interpreter first applies its default CPU delegate
    r"|INFO: Created TensorFlow Lite XNNPACK delegate for CPU\."
    # second line of the cpu_feature_guard message
    r"|To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler"
    # errors that only mean "no (usable) GPU here" or duplicate CUDA plugin registration
    r"|(E\d{4} \d\d:\d\d:\d+\.\d+ +\d+|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: E) [^\s\]]+:\d+\] "
    r"(failed call to cuInit|Unable to register cu\w+ factory)"
)


def verbose():
    """True when ``KERAS_MATTING_VERBOSE`` is set to anything but ``0``/``false``/``no``."""
    value = os.environ.get(VERBOSE_ENV, "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


def is_startup_noise(line):
    """True for a TensorFlow start-up log line that :func:`filtered_stderr` drops."""
    return bool(_NOISE.match(line.lstrip("\r")))


@contextlib.contextmanager
def filtered_stderr(is_noise=is_startup_noise):
    """Capture file descriptor 2 inside the block, then write back the lines that are not
    ``is_noise``. Does nothing in verbose mode or without a real descriptor 2."""
    if verbose():
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (AttributeError, OSError, ValueError):  # no real descriptor (embedded interpreters)
        yield
        return
    capture = tempfile.TemporaryFile()
    try:
        os.dup2(capture.fileno(), 2)
        yield
    finally:
        with contextlib.suppress(AttributeError, OSError, ValueError):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        capture.seek(0)
        text = capture.read().decode("utf-8", errors="replace")
        capture.close()
        kept = [line for line in text.splitlines(keepends=True) if not is_noise(line)]
        if kept:
            sys.stderr.write("".join(kept))
            sys.stderr.flush()


def _probe_devices(tf):
    # The cuInit message comes when TensorFlow first enumerates its devices, not at import.
    with contextlib.suppress(Exception):
        tf.config.list_physical_devices()


class _QuietLoader:
    """Wraps TensorFlow's loader: runs the module (and the device probe) filtered."""

    def __init__(self, loader):
        self._loader = loader

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        with filtered_stderr():
            self._loader.exec_module(module)
            _probe_devices(module)


class _TensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` with the other finders and wraps its loader, once."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow" or "tensorflow" in sys.modules:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _QuietLoader(spec.loader)
                return spec
        return None


def install():
    """Quiet TensorFlow's start-up for the rest of the process (see the module docstring).

    Call it before TensorFlow is imported; it does nothing to an imported TensorFlow.
    """
    if verbose():
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules:
        return
    if not any(isinstance(f, _TensorFlowFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _TensorFlowFinder())
