import math

import cv2
import keras
import numpy as np
import pytest

from keras_matting.models.igf import igf_losses as L


def test_gabor_bank_matches_opencv():
    bank = L.gabor_filter_bank()
    assert bank.shape == (7, 7, 1, 16)
    for k in range(16):
        ref = cv2.getGaborKernel(
            (7, 7), sigma=0.5, theta=k * math.pi / 16, lambd=5, gamma=0.5, psi=math.pi / 2
        )
        np.testing.assert_allclose(bank[:, :, 0, k], ref, atol=1e-7)
    # psi = pi/2: odd filters (edge detectors), zero response on constant images
    np.testing.assert_allclose(bank.sum(axis=(0, 1)), 0.0, atol=1e-6)


def test_gabor_kernel_other_phase_matches_opencv():
    ref = cv2.getGaborKernel((7, 7), 0.5, 0.3, 5, 0.5, psi=0)
    np.testing.assert_allclose(L.gabor_kernel(7, 0.5, 0.3, 5, 0.5, psi=0), ref, atol=1e-12)


def test_gabor_loss_against_scipy_style_reference():
    rng = np.random.default_rng(0)
    a = rng.random((2, 16, 16, 1)).astype("float32")
    b = rng.random((2, 16, 16, 1)).astype("float32")
    bank = L.gabor_filter_bank()
    expected = 0.0
    d = np.pad((a - b)[..., 0], ((0, 0), (3, 3), (3, 3)))
    for k in range(16):
        kern = bank[:, :, 0, k]
        resp = np.zeros((2, 16, 16))
        for i in range(7):
            for j in range(7):  # correlation, as tf conv2d
                resp += kern[i, j] * d[:, i : i + 16, j : j + 16]
        expected += np.mean(resp**2)
    assert float(L.gabor_loss(a, b)) == pytest.approx(expected, rel=1e-4)
    assert float(L.gabor_loss(a, a)) == 0.0


def test_global_and_local_loss():
    alpha = np.zeros((1, 21, 21, 1), "float32")
    alpha[0, 10, 10, 0] = 1.0  # one pixel differs from the mask
    mask = np.zeros_like(alpha)
    pred = np.full_like(alpha, 0.5)
    assert float(L.global_loss(alpha, pred)) == pytest.approx(0.5)
    weight = keras.ops.convert_to_numpy(L.boundary_weight(alpha, mask))[0, ..., 0]
    assert weight.sum() == 49 and weight[7:14, 7:14].all()  # dilated 7x7
    assert float(L.local_loss(alpha, pred, mask)) == pytest.approx(49 * 0.5 / 441)
    # below the 0.01 threshold the difference map ignores the pixel
    alpha[0, 10, 10, 0] = 0.005
    assert float(keras.ops.convert_to_numpy(L.boundary_weight(alpha, mask)).sum()) == 0.0


def test_lsgan_losses():
    real, fake = np.full((2, 4, 4, 1), 0.5, "float32"), np.full((2, 4, 4, 1), 0.25, "float32")
    assert float(L.lsgan_discriminator_loss(real, fake)) == pytest.approx(0.25 + 0.0625)
    assert float(L.lsgan_generator_loss(fake)) == pytest.approx(0.5625)  # +E[(D-1)^2]


def test_gradient_penalty_from_gradients():
    g = np.zeros((2, 4, 4, 1), "float32")
    g[0, 0, 0, 0] = 3.0  # norm 3 -> (3-1)^2 = 4; norm 0 -> 1
    assert float(L.gradient_penalty_from_gradients(g)) == pytest.approx(2.5, rel=1e-5)


