"""What a user sees: whole-image errors, edge-band error, holes and halos.

The standard protocol (:mod:`keras_matting.metrics.reference`) scores only the unknown
band of a trimap and clamps everything else, so a model that opens holes in the sure
interior or paints halos far from the edge scores as well as one that does not. These
measures look at the whole image, with the reference alpha alone defining the regions
(``shared/data/portraits_val/README.md``):

- whole-image SAD (/1000) and MSE, no clamping;
- band SAD (/1000) inside ``dilate(ref > 0.5, 20) - erode(ref > 0.5, 20)``;
- holes % = share of the sure interior, ref > 0.99 eroded by 15 px, predicted below 0.9;
- halo % = share of the sure exterior, ref < 0.01 eroded by 15 px, predicted above 0.1.

Kernels are ``k x k`` squares of ones (OpenCV, anchor ``k // 2``): the band uses 20 x 20
(the README's "20x20 square kernels"); "eroded by 15 px" is a radius, so the sure regions
are eroded with 31 x 31 (``2 * 15 + 1``), which removes exactly 15 pixels on each side.
That reading reproduces the README's table on portraits_val with ``--mask auto`` (means
of the binary mask and the guided filter: holes 5.73 / 12.42 %, halo 0.37 / 2.46 %); a
15 x 15 kernel (7 px) gives 5.92 / 14.06 % and 0.44 / 3.27 %. Alphas are scored in 8
bits like the reference protocol (``round_half_up(clip(x, 0, 1) * 255)``); no known
region is clamped.
"""

import numpy as np

from keras_matting.metrics.reference import _alpha
from keras_matting.protocol import SCORING_KERNEL, erode_np, scoring_trimap_np

__all__ = [
    "BAND_KERNEL",
    "HALO_THRESHOLD",
    "HOLE_THRESHOLD",
    "SCORE_KEYS",
    "SURE_KERNEL",
    "user_regions",
    "whole_image_scores",
]

BAND_KERNEL = SCORING_KERNEL
SURE_KERNEL = 31  # "eroded by 15 px": 15 pixels each side
HOLE_THRESHOLD = 0.9
HALO_THRESHOLD = 0.1
NORM = 1000.0
SCORE_KEYS = ("whole_sad", "whole_mse", "band_sad", "holes_pct", "halo_pct")


def _unit(x, what):
    """Alpha as float64 ``k / 255`` (8-bit, as the reference protocol scores)."""
    return _alpha(x, True, what)


def user_regions(ref, band_kernel=BAND_KERNEL, sure_kernel=SURE_KERNEL):
    """Boolean ``(band, sure_fg, sure_bg)`` masks of a reference alpha (uint8 or float)."""
    g = _unit(ref, "reference alpha")
    band = scoring_trimap_np(g > 0.5, band_kernel) == 0.5
    sure_fg = erode_np((g > 0.99).astype(np.uint8), sure_kernel) > 0
    sure_bg = erode_np((g < 0.01).astype(np.uint8), sure_kernel) > 0
    return band, sure_fg, sure_bg


def whole_image_scores(pred, ref, band_kernel=BAND_KERNEL, sure_kernel=SURE_KERNEL):
    """Whole-image SAD/MSE, band SAD, holes % and halo % of one prediction.

    Args:
        pred: predicted alpha ``(H, W)``: uint8, uint16 or float in [0, 1] (quantised to
            8 bits).
        ref: reference alpha, same size.
        band_kernel: side of the square kernel of the edge band (20).
        sure_kernel: side of the square kernel that erodes the sure regions (31: 15 px
            each side).

    Returns:
        dict with ``whole_sad``, ``whole_mse``, ``band_sad``, ``holes_pct`` and
        ``halo_pct``; a percentage is NaN where its region is empty.

    Example:
        >>> ref = np.zeros((64, 64)); ref[16:48, 16:48] = 1
        >>> whole_image_scores(ref, ref)["whole_sad"]
        0.0
    """
    p, g = _unit(pred, "prediction"), _unit(ref, "reference alpha")
    if p.shape != g.shape:
        raise ValueError(f"prediction {p.shape} and reference {g.shape} differ in size")
    band, sure_fg, sure_bg = user_regions(g, band_kernel, sure_kernel)
    diff = np.abs(p - g)
    return {
        "whole_sad": float(diff.sum() / NORM),
        "whole_mse": float((diff**2).mean()),
        "band_sad": float(diff[band].sum() / NORM),
        "holes_pct": float(100.0 * (p[sure_fg] < HOLE_THRESHOLD).mean()) if sure_fg.any() else float("nan"),
        "halo_pct": float(100.0 * (p[sure_bg] > HALO_THRESHOLD).mean()) if sure_bg.any() else float("nan"),
    }
