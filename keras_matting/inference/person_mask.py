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
  ``ImageToTensorCalculator`` without ``keep_aspect_ratio``).

Which model, measured on ``shared/data/portraits_val`` (8 portraits, 1080 px short side,
reference alphas; whole-image SAD / edge-band SAD / holes % / halo % of the binary
mask, :mod:`keras_matting.metrics.whole_image`):

| variant | whole SAD | band SAD | holes % | halo % |
|---|---|---|---|---|
| landscape model when width / height > 4/3, else square (before) | 54.6 | 17.1 | 5.7 | 0.4 |
| square model, stretched | 24.8 | 16.0 | 0.2 | 0.5 |
| square model, letterboxed | 60.0 | 17.8 | 7.1 | 0.2 |
| square + landscape, averaged | 41.4 | 16.1 | 3.6 | 0.3 |
| **square model, averaged with its horizontal flip** | **21.5** | **15.4** | **0.2** | **0.3** |

The landscape model (made for video calls) missed the whole coat of a man in a
landscape photo (whole SAD 276 on that image, 47 with the square model); averaging
with the mirrored image removes one-sided mistakes (a raised arm, a microphone). So
:func:`person_probability` runs the square model on the image and on its mirror
image and averages the two probabilities; the map is resized back bilinearly and
thresholded at 0.5. ``kind="landscape"`` is still available.
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


def _probability(kind, image):
    interpreter = _interpreter(kind)
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    model_h, model_w = (int(s) for s in inp["shape"][1:3])
    small = cv2.resize(image, (model_w, model_h), interpolation=cv2.INTER_AREA)
    interpreter.set_tensor(inp["index"], np.expand_dims(np.clip(small, 0, 1), 0).astype(np.float32))
    interpreter.invoke()
    return interpreter.get_tensor(out["index"])[0, ..., 0].copy()


def person_probability(image, kind="square", mirror=True):
    """Person probability ``(H, W)`` float32 in [0, 1] for an RGB float image in [0, 1].

    Args:
        image: ``(H, W, 3)`` RGB in [0, 1].
        kind: ``"square"`` (MediaPipe's general model, default) or ``"landscape"``.
        mirror: also run on the horizontally mirrored image and average (default).
    """
    image = np.asarray(image, np.float32)
    height, width = image.shape[:2]
    prob = _probability(kind, image)
    if mirror:
        prob = 0.5 * (prob + _probability(kind, np.ascontiguousarray(image[:, ::-1]))[:, ::-1])
    return np.clip(cv2.resize(prob, (width, height), interpolation=cv2.INTER_LINEAR), 0, 1)


def person_mask(image):
    """Binary person mask ``(H, W)`` float32 in {0, 1} (probability > 0.5)."""
    return (person_probability(image) > THRESHOLD).astype(np.float32)
