"""Classical trimap-based matting baselines (closed-form, KNN) through pymatting.

pymatting is an optional dependency (``pip install "keras-matting[baselines]"``),
imported on first use.
"""

import contextlib
import io
import sys

import numpy as np

__all__ = ["CLASSICAL_METHODS", "closed_form_matting", "knn_matting"]

_INSTALL_HINT = 'classical matting needs pymatting: pip install "keras-matting[baselines]"'


def _pymatting():
    try:
        import pymatting
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return pymatting


def _prepare(image, trimap):
    image = np.asarray(image)
    trimap = np.asarray(trimap)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be height x width x 3, got shape {image.shape}")
    if trimap.ndim == 3 and trimap.shape[2] == 1:
        trimap = trimap[..., 0]
    if trimap.shape != image.shape[:2]:
        raise ValueError(f"trimap {trimap.shape} and image {image.shape} differ in size")
    if np.issubdtype(image.dtype, np.integer):
        image = image / float(np.iinfo(image.dtype).max)
    if np.issubdtype(trimap.dtype, np.integer):
        trimap = trimap / 255.0
    return image.astype(np.float64), trimap.astype(np.float64)


def _estimate_quietly(estimate, image, trimap):
    """``estimate(image, trimap)`` without pymatting's 6-line "PERFORMANCE WARNING" on stdout.

    pymatting prints it when its incomplete-Cholesky preconditioner needs a larger
    diagonal shift: it retries, the result is the same, only slower. Anything else it
    prints still shows; with ``KERAS_MATTING_VERBOSE=1`` everything does.
    """
    from keras_matting.quiet import verbose

    if verbose():
        return estimate(image, trimap)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            return estimate(image, trimap)
    finally:
        text = printed.getvalue()
        if text and "PERFORMANCE WARNING" not in text:
            sys.stdout.write(text)


def _solve(estimate, image, trimap):
    image, trimap = _prepare(image, trimap)
    alpha = _estimate_quietly(estimate, image, trimap)
    alpha = np.clip(alpha, 0.0, 1.0)
    # pymatting's trimap split: <= 0.1 background, >= 0.9 foreground
    alpha[trimap <= 0.1] = 0.0
    alpha[trimap >= 0.9] = 1.0
    return alpha.astype(np.float32)


def closed_form_matting(image, trimap):
    """Closed-form matting (Levin et al. 2008) with pymatting's defaults.

    Args:
        image: RGB ``(h, w, 3)``, float in [0, 1] or uint8/uint16.
        trimap: ``(h, w)``, uint8 {0, 128, 255} or float {0, 0.5, 1}.

    Returns:
        float32 alpha ``(h, w)`` in [0, 1]; known trimap pixels are exactly 0 or 1.

    Reference:
        Levin, Lischinski, Weiss, A Closed-Form Solution to Natural Image Matting,
        TPAMI 2008.
    """
    return _solve(_pymatting().estimate_alpha_cf, image, trimap)


def knn_matting(image, trimap):
    """KNN matting (Chen et al. 2013) with pymatting's defaults.

    Same arguments and result as :func:`closed_form_matting`.

    Reference:
        Chen, Li, Tang, KNN Matting, TPAMI 2013.
    """
    return _solve(_pymatting().estimate_alpha_knn, image, trimap)


# command-line name -> function
CLASSICAL_METHODS = {"closed-form": closed_form_matting, "knn": knn_matting}
