"""Automatic person masks with MediaPipe's selfie segmenter (``--mask auto``).

The two models are vendored in ``keras_matting/assets/selfie_segmentation/`` (Apache-2.0,
from the mediapipe 0.10.14 wheel; see the NOTICE file there) and run with the LiteRT
interpreter. Facts found by inspecting the models (``Interpreter.get_input_details``):

- ``selfie_segmentation.tflite``: input ``(1, 256, 256, 3)`` float32, output
  ``(1, 256, 256, 1)`` float32 person probability (sigmoid, in [0, 1]).
- ``selfie_segmentation_landscape.tflite``: input ``(1, 144, 256, 3)``, output
  ``(1, 144, 256, 1)``, same meaning.
- Input: RGB in [0, 1] (MediaPipe's graph converts with ``output_tensor_float_range
  {min: 0 max: 1}``). Checked by experiment on BSDS500 photos: on a portrait [0, 1] covers
  head and hat fully, [-1, 1] misses part of the hat.
- The image is stretched to the model's size (no letterbox, as MediaPipe's
  ``ImageToTensorCalculator`` without ``keep_aspect_ratio``); the landscape model is
  used when width / height > 4/3 (the geometric middle of its 16:9 and the square 1:1).

The probability map is resized back bilinearly and thresholded at 0.5.
"""

import contextlib
import os
import sys

import cv2
import numpy as np

__all__ = ["person_mask", "person_probability"]

_ASSETS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "assets", "selfie_segmentation")
MODELS = {
    "square": os.path.join(_ASSETS, "selfie_segmentation.tflite"),
    "landscape": os.path.join(_ASSETS, "selfie_segmentation_landscape.tflite"),
}
LANDSCAPE_ASPECT = 4.0 / 3.0
THRESHOLD = 0.5

_INTERPRETERS = {}


@contextlib.contextmanager
def _quiet_stderr():
    """Silence the C-level stderr (file descriptor 2) inside the block."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real descriptor (embedded interpreters)
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _interpreter(kind):
    if kind not in _INTERPRETERS:
        from ai_edge_litert.interpreter import Interpreter

        with _quiet_stderr():  # LiteRT prints "INFO: Created ... XNNPACK delegate" from C++
            interpreter = Interpreter(model_path=MODELS[kind])
            interpreter.allocate_tensors()
        _INTERPRETERS[kind] = interpreter
    return _INTERPRETERS[kind]


def person_probability(image):
    """Person probability ``(H, W)`` float32 in [0, 1] for an RGB float image in [0, 1]."""
    image = np.asarray(image, np.float32)
    height, width = image.shape[:2]
    kind = "landscape" if width > LANDSCAPE_ASPECT * height else "square"
    interpreter = _interpreter(kind)
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    model_h, model_w = (int(s) for s in inp["shape"][1:3])
    small = cv2.resize(image, (model_w, model_h), interpolation=cv2.INTER_AREA)
    interpreter.set_tensor(inp["index"], np.clip(small, 0, 1)[None].astype(np.float32))
    interpreter.invoke()
    prob = interpreter.get_tensor(out["index"])[0, ..., 0]
    return np.clip(cv2.resize(prob, (width, height), interpolation=cv2.INTER_LINEAR), 0, 1)


def person_mask(image):
    """Binary person mask ``(H, W)`` float32 in {0, 1} (probability > 0.5)."""
    return (person_probability(image) > THRESHOLD).astype(np.float32)
