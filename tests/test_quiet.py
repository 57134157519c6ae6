import os
import re
import subprocess
import sys

import pytest

from keras_matting.quiet import VERBOSE_ENV, filtered_stderr, is_startup_noise

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LEMUR = os.path.join(ROOT, "examples", "lemur")

# what TensorFlow 2.21 printed on every run of a machine without a GPU
STARTUP = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796157590.757509    8700 port.cc:153] oneDNN custom operations are on. You "
    "may see slightly different numerical results due to floating-point round-off errors.",
    "I0000 00:00:1796157590.757905    8700 cudart_stub.cc:31] Could not find cuda drivers on "
    "your machine, GPU will not be used.",
    "I0000 00:00:1796157685.375114    9337 cpu_feature_guard.cc:227] This TensorFlow binary is "
    "optimized to use available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild "
    "TensorFlow with the appropriate compiler flags.",
    "E0000 00:00:1796157593.830671    8700 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
    "CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
    "2024-05-01 10:00:00.123456: I tensorflow/core/util/port.cc:113] oneDNN custom operations",
    "2024-05-01 10:00:00.123456: E external/local_xla/xla/stream_executor/cuda/cuda_dnn.cc:9261]"
    " Unable to register cuDNN factory: Attempting to register factory for plugin cuDNN",
]
# TF-like lines that must still show: real errors, and this package's own messages
KEPT = [
    "E0000 00:00:1796157593.830671    8700 bfc_allocator.cc:485] Allocator ran out of memory",
    "F0000 00:00:1796157593.830671    8700 check.cc:12] Check failed: x > 0",
    "keras-matting: warning: image 'a.png' has a transparent alpha channel; it is ignored",
    "Traceback (most recent call last):",
]
TF_LINE = re.compile(r"^([IWEF]\d{4} |\d{4}-\d\d-\d\d [\d:.]+: [IWEF] |WARNING: All log)|"
                     r"oneDNN|cuInit|cuda|AVX|absl", re.IGNORECASE)


def test_startup_lines_are_noise_and_errors_are_not():
    assert all(is_startup_noise(line + "\n") for line in STARTUP)
    assert not any(is_startup_noise(line + "\n") for line in KEPT)


def test_filtered_stderr_drops_noise_at_the_descriptor_and_keeps_the_rest(capfd, monkeypatch):
    monkeypatch.delenv(VERBOSE_ENV, raising=False)
    with filtered_stderr():
        os.write(2, ("\n".join(STARTUP + KEPT) + "\n").encode())  # as C++ writes: fd 2
    assert capfd.readouterr().err.splitlines() == KEPT
    monkeypatch.setenv(VERBOSE_ENV, "1")
    with filtered_stderr():
        os.write(2, (STARTUP[0] + "\n").encode())
    assert capfd.readouterr().err == STARTUP[0] + "\n"


# the shipped IGF through Keras/TensorFlow (``--model igf`` runs LiteRT, no TensorFlow)
KERAS_IGF = os.path.join(ROOT, "keras_matting", "saved_models", "igf.keras")
LITERT_LINE = "Created TensorFlow Lite XNNPACK delegate"


def _predict(tmp_path, *extra, env=None, model=KERAS_IGF):
    env = {k: v for k, v in (env or os.environ).items()
           if k not in ("TF_CPP_MIN_LOG_LEVEL", VERBOSE_ENV)}
    out = tmp_path / f"out{len(extra)}{os.path.basename(model)}"
    return subprocess.run(
        [sys.executable, "-m", "keras_matting", "predict", "--model", model,
         "--image", os.path.join(LEMUR, "image.png"), "--mask", os.path.join(LEMUR, "mask.png"),
         "--out", str(out), *extra],
        capture_output=True, text=True, env=env, timeout=300, cwd=ROOT,
    )


@pytest.mark.skipif(not os.path.isdir(LEMUR), reason="examples/lemur not in this checkout")
@pytest.mark.slow
def test_predict_prints_only_its_own_lines_unless_verbose(tmp_path):
    quiet = _predict(tmp_path)
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    # nothing from TensorFlow, absl, CUDA or oneDNN: only the package's own lines, if any
    assert all(line.startswith("keras-matting: ") and not TF_LINE.search(line)
               for line in quiet.stderr.splitlines()), quiet.stderr
    assert quiet.stdout.startswith("wrote ") and len(quiet.stdout.splitlines()) == 1

    # what TensorFlow itself prints on this machine when imported
    raw = subprocess.run(
        [sys.executable, "-c", "import tensorflow as tf; tf.config.list_physical_devices()"],
        capture_output=True, text=True, timeout=300,
        env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"},
    )
    raw_lines = [line for line in raw.stderr.splitlines() if TF_LINE.search(line)]
    loud = _predict(tmp_path, "--verbose")
    assert loud.returncode == 0, loud.stderr[-2000:]
    if raw_lines:  # they come back with --verbose
        assert any(TF_LINE.search(line) for line in loud.stderr.splitlines()), loud.stderr

    # the LiteRT path: its delegate announcement is hidden too, and shown with --verbose
    quiet = _predict(tmp_path, model="igf")
    assert quiet.returncode == 0 and quiet.stdout.startswith("wrote "), quiet.stderr[-2000:]
    assert LITERT_LINE not in quiet.stderr and not quiet.stderr.strip(), quiet.stderr
    loud = _predict(tmp_path, "--verbose", model="igf")
    assert loud.returncode == 0, loud.stderr[-2000:]
    assert LITERT_LINE in loud.stderr, loud.stderr
