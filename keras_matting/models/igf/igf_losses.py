"""Losses of the Inductive Guided Filter (Li et al. 2019, eq. 5-9).

All functions take NHWC float tensors; alphas and masks have one channel.
"""

import math

import numpy as np
from keras import ops

GABOR_KERNEL_SIZE = 7
GABOR_ORIENTATIONS = 16
GABOR_WAVELENGTH = 5.0
GABOR_ASPECT_RATIO = 0.5
GABOR_SIGMA = 0.5
# psi = pi/2 (OpenCV's default): odd, zero-mean filters, i.e. oriented edge
# detectors. The paper motivates the Gabor loss as an extended gradient loss
# (section 3.2); with sigma = 0.5 the even psi = 0 filters are almost a
# delta (centre 1, neighbours <= 0.14) and would mostly repeat the L2 loss.
GABOR_PHASE = math.pi / 2


def gabor_kernel(ksize, sigma, theta, lambd, gamma, psi=GABOR_PHASE):
    """One Gabor kernel with OpenCV's formula (``cv2.getGaborKernel``), float64.

    ``k(y, x) = exp(-(x'^2 + gamma^2 y'^2) / (2 sigma^2)) cos(2 pi x' / lambd + psi)``
    with ``x' = x cos(theta) + y sin(theta)``, ``y' = -x sin(theta) + y cos(theta)``,
    stored flipped (OpenCV writes ``kernel[ymax - y, xmax - x]``) and unnormalised.
    """
    half = ksize // 2
    coords = np.arange(-half, half + 1, dtype=np.float64)
    y, x = np.meshgrid(coords, coords, indexing="ij")
    c, s = math.cos(theta), math.sin(theta)
    xr = x * c + y * s
    yr = -x * s + y * c
    sigma_x, sigma_y = sigma, sigma / gamma
    kernel = np.exp(-0.5 * (xr**2 / sigma_x**2 + yr**2 / sigma_y**2)) * np.cos(
        2.0 * math.pi / lambd * xr + psi
    )
    return kernel[::-1, ::-1].copy()


def gabor_filter_bank(
    ksize=GABOR_KERNEL_SIZE,
    orientations=GABOR_ORIENTATIONS,
    sigma=GABOR_SIGMA,
    lambd=GABOR_WAVELENGTH,
    gamma=GABOR_ASPECT_RATIO,
    psi=GABOR_PHASE,
):
    """The paper's bank: 16 7x7 Gabor filters, ``theta = k pi / 16``, as a conv kernel.

    Returns a float32 array ``(ksize, ksize, 1, orientations)``.
    """
    kernels = [
        gabor_kernel(ksize, sigma, k * math.pi / orientations, lambd, gamma, psi)
        for k in range(orientations)
    ]
    return np.stack(kernels, axis=-1)[:, :, None, :].astype("float32")


def boundary_weight(alpha, mask, threshold=0.01, dilation=7):
    """Delta(alpha, M) of eq. (6): ``|alpha - M| > threshold``, dilated with a 7x7 kernel.

    The dilation (paper: "an addition morphological dilation with a 7x7
    kernel") is a 7x7 stride-1 'same' max-pool of the binary map; the map is
    built from targets only, so no gradient flows through it.

    Follows the formula, not the prose of section 3.2, which says the map is "1 for
    the same values in ground truth and mask and 0 for the other pixels": that
    would weight the pixels the mask already gets right, against the stated aim
    of focusing "on the boundary of foreground object". 1 where they differ.
    """
    diff = ops.cast(ops.abs(alpha - mask) > threshold, alpha.dtype)
    return ops.max_pool(diff, pool_size=dilation, strides=1, padding="same")


def global_loss(alpha, pred):
    """Eq. (5): L1 between ground-truth and predicted alpha, mean over pixels."""
    return ops.mean(ops.abs(alpha - pred))


def local_loss(alpha, pred, mask, threshold=0.01, dilation=7):
    """Eq. (6): L1 weighted by the dilated difference map ``Delta(alpha, M)``.

    Mean over all pixels (as the global loss), so that lambda_l = 1 vs
    lambda_g = 10 weighs the boundary pixels 11x in total.
    """
    weight = boundary_weight(alpha, mask, threshold, dilation)
    return ops.mean(weight * ops.abs(alpha - pred))


def gabor_loss(alpha, pred, bank=None):
    """Eq. (7): ``sum_phi ||phi(alpha) - phi(pred)||_2^2`` over the 16 Gabor filters.

    Each term is the mean over pixels of the squared response difference
    (the convolution is linear, so it is computed on ``alpha - pred``);
    the 16 terms are summed. 'same' padding.
    """
    if bank is None:
        bank = gabor_filter_bank()
    bank = ops.convert_to_tensor(bank, dtype=pred.dtype)
    response = ops.conv(alpha - pred, bank, strides=1, padding="same")
    return ops.sum(ops.mean(ops.square(response), axis=(0, 1, 2)))


def lsgan_discriminator_loss(real_scores, fake_scores):
    """Eq. (8) L_D = E[(D(alpha|I, M) - 1)^2] + E[D(pred|I, M)^2]."""
    return ops.mean(ops.square(real_scores - 1.0)) + ops.mean(ops.square(fake_scores))


def lsgan_generator_loss(fake_scores):
    """Standard LSGAN generator loss ``E[(D(pred|I, M) - 1)^2]`` (Mao et al. 2017).

    The paper prints ``L_G = -E[(D(pred) - 1)^2]`` (eq. 8); minimising that
    would push the critic's score on predictions away from "real", the
    opposite of the generator's goal, so this is the standard LSGAN sign.
    """
    return ops.mean(ops.square(fake_scores - 1.0))


def gradient_penalty_from_gradients(gradients):
    """``E[(||grad||_2 - 1)^2]`` with the norm per sample over all pixels/channels."""
    norms = ops.sqrt(ops.sum(ops.square(gradients), axis=(1, 2, 3)) + 1e-12)
    return ops.mean(ops.square(norms - 1.0))


__all__ = [
    "boundary_weight",
    "gabor_filter_bank",
    "gabor_kernel",
    "gabor_loss",
    "global_loss",
    "gradient_penalty_from_gradients",
    "local_loss",
    "lsgan_discriminator_loss",
    "lsgan_generator_loss",
]
