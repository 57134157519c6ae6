"""Reference matting errors (numpy): SAD, MSE, gradient and connectivity error.

A re-implementation of the MATLAB evaluation code released with Deep Image Matting
(Xu et al., CVPR 2017: ``compute_sad_loss.m``, ``compute_mse_loss.m``,
``compute_gradient_loss.m``, ``compute_connectivity_error.m``), which implements the
definitions of Rhemann et al. (CVPR 2009, alphamatting.com). Errors are summed over the
unknown region ``U = {trimap == 128}`` only:

- SAD  = sum_U |p - g| / 1000
- MSE  = sum_U (p - g)^2 / |U|
- Grad = sum_U (|grad p| - |grad g|)^2 / 1000, after min-max normalising each alpha over
  the whole image; the gradient is the reference ``gaussgradient``: first derivative of a
  Gaussian, sigma = 1.4, half size ``ceil(sigma * sqrt(-2 ln(sqrt(2 pi) sigma 1e-2)))``
  (= 4), the 2-D kernel scaled to unit L2 norm, replicated border.
- Conn = sum_U |phi_p - phi_g| / 1000 with thresholds 0.1, 0.2, ..., 1.0, the largest
  4-connected component of ``(p >= t) & (g >= t)``, and ``phi = 1 - d * (d >= 0.15)``,
  ``d = alpha - l`` where ``l`` is the last threshold at which the pixel was still in the
  largest component.

The reference scores 8-bit PNGs, so by default float alphas are quantised to 8 bits as
MATLAB's ``imwrite`` / ``im2uint8`` does: ``round_half_up(clip(x, 0, 1) * 255)``; 16-bit
alphas are quantised the same way. ``quantize=False`` scores float alphas as given (the
Keras streaming metrics compute that variant). The standard protocol also clamps the
prediction's known region from the trimap first: see :func:`clamp_known`.
"""

import cv2
import numpy as np

from keras_matting.io import quantize as _quantize

__all__ = [
    "clamp_known",
    "compute_metrics",
    "connectivity_error",
    "gradient_error",
    "mse",
    "sad",
]

GRADIENT_SIGMA = 1.4
GRADIENT_EPSILON = 1e-2
CONNECTIVITY_STEP = 0.1
CONNECTIVITY_THETA = 0.15
NORM = 1000.0


def _as_2d(x, what):
    x = np.asarray(x)
    if x.ndim == 3 and x.shape[2] == 1:
        x = x[..., 0]
    if x.ndim != 2:
        raise ValueError(f"{what} must be height x width, got shape {x.shape}")
    return x


def _alpha(x, quantize, what):
    """Alpha as float64 in [0, 1]; 8-bit values ``k / 255`` unless ``quantize`` is False."""
    x = _as_2d(x, what)
    if x.dtype == np.uint8:
        return x / 255.0
    if not quantize and np.issubdtype(x.dtype, np.floating):
        return x.astype(np.float64)
    if np.issubdtype(x.dtype, np.floating):
        x = np.clip(np.nan_to_num(x.astype(np.float64)), 0.0, 1.0)
    return _quantize(x, 8) / 255.0


def _trimap(trimap):
    """Trimap as uint8 on the 0..255 scale (floats {0, 0.5, 1} become {0, 128, 255})."""
    trimap = _as_2d(trimap, "trimap")
    if np.issubdtype(trimap.dtype, np.floating):
        return np.floor(np.clip(trimap, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return trimap


def _inputs(pred, gt, trimap, quantize):
    p = _alpha(pred, quantize, "pred")
    g = _alpha(gt, quantize, "gt")
    t = _trimap(trimap)
    if not p.shape == g.shape == t.shape:
        raise ValueError(
            f"pred, gt and trimap must have the same size, got {p.shape}, {g.shape}, {t.shape}"
        )
    return p, g, t == 128


def clamp_known(pred, trimap):
    """Return a copy of ``pred`` set to 0 where ``trimap == 0`` and to 1 where ``trimap == 255``.

    The standard protocol scores predictions with their known region taken from the
    trimap. The dtype is kept: 1 is 255 for ``uint8``, 65535 for ``uint16``, 1.0 for
    floats. ``trimap`` is uint8 {0, 128, 255} or float {0, 0.5, 1}.
    """
    out = np.array(pred, copy=True)
    t = _trimap(trimap)
    known_shape = out.shape[:2]
    if known_shape != t.shape:
        raise ValueError(f"pred {out.shape} and trimap {t.shape} differ in size")
    one = np.iinfo(out.dtype).max if np.issubdtype(out.dtype, np.integer) else 1.0
    out[t == 0] = 0
    out[t == 255] = one
    return out


def sad(pred, gt, trimap, quantize=True):
    """Sum of absolute differences over the unknown region, divided by 1000.

    Args:
        pred: predicted alpha, uint8 or float in [0, 1] (HxW or HxWx1).
        gt: ground-truth alpha, same conventions.
        trimap: uint8 {0, 128, 255} (or float {0, 0.5, 1}); errors are summed where 128.
        quantize: quantise float alphas to 8 bits first, as the reference does.
    """
    p, g, unknown = _inputs(pred, gt, trimap, quantize)
    return float(np.abs(p - g)[unknown].sum() / NORM)


def mse(pred, gt, trimap, quantize=True):
    """Mean squared error over the unknown region (``nan`` when it is empty, as 0/0 in the reference)."""
    p, g, unknown = _inputs(pred, gt, trimap, quantize)
    count = int(unknown.sum())
    if count == 0:
        return float("nan")
    return float(((p - g) ** 2)[unknown].sum() / count)


def _gaussian_kernels(sigma=GRADIENT_SIGMA, epsilon=GRADIENT_EPSILON):
    """1-D factors of the reference ``gaussgradient`` kernel ``hx[i, j] = G(i) G'(j)``.

    ``hx`` is an outer product, so its unit-L2 normalisation is the product of the
    normalised factors: returns ``(gauss, dgauss)``, each of unit L2 norm.
    """
    half = int(np.ceil(sigma * np.sqrt(-2.0 * np.log(np.sqrt(2.0 * np.pi) * sigma * epsilon))))
    u = np.arange(-half, half + 1, dtype=np.float64)
    gauss = np.exp(-(u**2) / (2.0 * sigma**2)) / (sigma * np.sqrt(2.0 * np.pi))
    dgauss = -u * gauss / sigma**2
    return gauss / np.linalg.norm(gauss), dgauss / np.linalg.norm(dgauss)


def _gradient_magnitude(alpha):
    low, high = float(alpha.min()), float(alpha.max())
    # mat2gray: min-max normalisation; a constant image has zero gradient either way
    normed = (alpha - low) / (high - low) if high > low else np.zeros_like(alpha)
    gauss, dgauss = _gaussian_kernels()
    # correlation here, convolution in MATLAB's imfilter: only the sign differs
    gx = cv2.sepFilter2D(normed, cv2.CV_64F, dgauss, gauss, borderType=cv2.BORDER_REPLICATE)
    gy = cv2.sepFilter2D(normed, cv2.CV_64F, gauss, dgauss, borderType=cv2.BORDER_REPLICATE)
    return np.sqrt(gx**2 + gy**2)


def gradient_error(pred, gt, trimap, quantize=True):
    """Gradient error (Rhemann et al. 2009) over the unknown region, divided by 1000."""
    p, g, unknown = _inputs(pred, gt, trimap, quantize)
    diff = _gradient_magnitude(p) - _gradient_magnitude(g)
    return float((diff**2)[unknown].sum() / NORM)


def _largest_component(mask):
    """Largest 4-connected component of ``mask`` (all False when empty).

    Ties are broken as MATLAB's ``bwconncomp`` + ``max`` do: the component met first in
    column-major order.
    """
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        mask.astype(np.uint8), connectivity=4, ltype=cv2.CV_32S
    )
    if count <= 1:
        return np.zeros(mask.shape, bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    best = np.flatnonzero(areas == areas.max()) + 1
    if len(best) > 1:
        lefts = stats[best, cv2.CC_STAT_LEFT]
        column = int(lefts.min())
        best = best[lefts == column]
        first_rows = [int(np.argmax(labels[:, column] == label)) for label in best]
        best = best[[int(np.argmin(first_rows))]]
    return labels == best[0]


def connectivity_error(pred, gt, trimap, quantize=True):
    """Connectivity error (Rhemann et al. 2009) over the unknown region, divided by 1000.

    Follows the MATLAB reference where Python ports differ: an 8-bit value equal to a
    threshold passes it (mmeval 0.2.1 on float64 alphas thresholds at
    ``np.arange(0, 1.1, 0.1)`` and drops 153/255 at 0.6000000000000001), and equally large
    components are tie-broken in column-major order (``bwconncomp``). Measured on
    alphamatting_val, weak masks scored on trimap/Weak: mean 11.8744 here, 11.8753 with
    mmeval's float64 convention.
    """
    p, g, unknown = _inputs(pred, gt, trimap, quantize)
    steps = round(1.0 / CONNECTIVITY_STEP)
    # exact decimals j / 10, so that an 8-bit value equal to a threshold (51/255 = 0.2,
    # 153/255 = 0.6, ...) passes it, as in the reference, which compares in single
    # precision (np.arange(0, 1.1, 0.1)[6] = 0.6000000000000001 would reject 153/255)
    thresholds = np.arange(steps + 1) / steps
    level = np.full(p.shape, -1.0)
    for i in range(1, steps + 1):
        omega = _largest_component((p >= thresholds[i]) & (g >= thresholds[i]))
        level[(level == -1) & ~omega] = thresholds[i - 1]
    level[level == -1] = 1.0
    dp = p - level
    dg = g - level
    phi_p = 1.0 - dp * (dp >= CONNECTIVITY_THETA)
    phi_g = 1.0 - dg * (dg >= CONNECTIVITY_THETA)
    return float(np.abs(phi_p - phi_g)[unknown].sum() / NORM)


def compute_metrics(pred, gt, trimap, quantize=True):
    """All four errors: ``dict(sad=, mse=, grad=, conn=)``.

    ``pred`` is scored as given; apply :func:`clamp_known` first for the standard protocol.
    """
    return {
        "sad": sad(pred, gt, trimap, quantize),
        "mse": mse(pred, gt, trimap, quantize),
        "grad": gradient_error(pred, gt, trimap, quantize),
        "conn": connectivity_error(pred, gt, trimap, quantize),
    }
