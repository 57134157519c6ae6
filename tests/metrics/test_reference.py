"""The numpy reference metrics against mmeval 0.2.1, an independent implementation.

mmeval's conventions (read from mmeval/metrics/*.py): alphas are float arrays in [0, 1]
(thresholds 0.1..1.0 in Conn); SAD sums the whole image, MSE sums the whole image and
divides by |U|, so both are given alphas masked to the unknown region; Grad and Conn
take whole images and sum over trimap == 128 themselves.

Conn: mmeval thresholds with np.arange(0, 1.1, 0.1), whose 7th value is
0.6000000000000001, so in float64 it drops pixels of value 153/255 = 0.6, which the
MATLAB reference (single-precision alphas, exact colon thresholds) keeps; and it breaks
ties between equally large components in row-major order where MATLAB's bwconncomp uses
column-major order. Feeding mmeval float32 alphas, transposed, reproduces the MATLAB
semantics; both differences are pinned by dedicated tests below.
"""

import warnings

import cv2
import numpy as np
import pytest

from keras_matting.io import quantize
from keras_matting.metrics import (
    clamp_known,
    compute_metrics,
    connectivity_error,
    gradient_error,
    mse,
    sad,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from mmeval import (
        ConnectivityError,
        GradientError,
        MattingMeanSquaredError,
        SumAbsoluteDifferences,
    )
    from mmeval.metrics.gradient_error import gauss_filter

SIZE = (48, 64)


def _trimap_from(gt, rng, band=3):
    """Unknown band around the 0/1 transitions of ``gt`` plus a few random unknown pixels."""
    fg = (gt >= 128).astype(np.uint8)
    kernel = np.ones((2 * band + 1, 2 * band + 1), np.uint8)
    unknown = (cv2.dilate(fg, kernel) - cv2.erode(fg, kernel)) > 0
    unknown |= (gt > 0) & (gt < 255)
    unknown |= rng.random(gt.shape) < 0.05
    trimap = np.where(fg > 0, 255, 0).astype(np.uint8)
    trimap[unknown] = 128
    return trimap


def _noisy(gt, rng, scale=40):
    return np.clip(gt.astype(np.int64) + rng.integers(-scale, scale + 1, gt.shape), 0, 255).astype(
        np.uint8
    )


def _case(kind, seed):
    rng = np.random.default_rng(seed)
    h, w = SIZE
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    if kind == "random":
        gt = rng.integers(0, 256, SIZE, dtype=np.uint8)
        pred = rng.integers(0, 256, SIZE, dtype=np.uint8)
        trimap = rng.choice(np.array([0, 128, 255], np.uint8), SIZE, p=[0.3, 0.4, 0.3])
        return pred, gt, trimap
    if kind == "gradient":
        gt = quantize(np.clip((xx - 16) / 32, 0, 1))
        pred = quantize(np.clip((xx - 12 + 4 * np.sin(yy / 5)) / 40, 0, 1))
    elif kind == "blobs":
        field = np.zeros(SIZE)
        for cy, cx, r in rng.uniform([0, 0, 4], [h, w, 12], (6, 3)):
            field += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r**2))
        gt = quantize(np.clip(field, 0, 1))
        pred = _noisy(quantize(np.clip(field * 1.2 - 0.1, 0, 1)), rng, 20)
    elif kind == "edges":
        gt = np.zeros(SIZE, np.uint8)
        gt[8:40, 10:30] = 255
        gt[20:30, 40:60] = 255
        pred = gt.copy()
        pred[8:40, 28:33] = 255
        pred[22:28, 38:44] = 0
        pred[2:5, 2:5] = 255  # a separate false-positive island
    else:
        raise ValueError(kind)
    return pred, gt, _trimap_from(gt, rng)


CASES = [(kind, seed) for kind in ("random", "gradient", "blobs", "edges") for seed in (0, 1)]


def _mmeval(pred, gt, trimap):
    p = pred.astype(np.float64) / 255.0
    g = gt.astype(np.float64) / 255.0
    unknown = trimap == 128
    t = np.ascontiguousarray(trimap.T)
    return {
        "sad": SumAbsoluteDifferences()([p * unknown], [g * unknown])["sad"],
        "mse": MattingMeanSquaredError()([p * unknown], [g * unknown], [trimap])["matting_mse"],
        "grad": GradientError()([p], [g], [trimap])["gradient_error"],
        "conn": ConnectivityError()(
            [np.ascontiguousarray(p.T, np.float32)], [np.ascontiguousarray(g.T, np.float32)], [t]
        )["connectivity_error"],
    }


@pytest.mark.parametrize("kind,seed", CASES)
def test_metrics_match_mmeval(kind, seed):
    pred, gt, trimap = _case(kind, seed)
    pred = clamp_known(pred, trimap)
    ours = compute_metrics(pred, gt, trimap)
    theirs = _mmeval(pred, gt, trimap)
    assert ours["sad"] > 0 and ours["grad"] > 0 and ours["conn"] > 0
    for key in ("sad", "mse", "grad", "conn"):
        assert ours[key] == pytest.approx(theirs[key], abs=1e-6, rel=1e-9), key


@pytest.mark.parametrize("kind,seed", CASES[:4])
def test_metrics_match_mmeval_without_clamping(kind, seed):
    pred, gt, trimap = _case(kind, seed)
    p, g = pred / 255.0, gt / 255.0
    assert gradient_error(pred, gt, trimap) == pytest.approx(
        GradientError()([p], [g], [trimap])["gradient_error"], abs=1e-6
    )
    assert connectivity_error(pred, gt, trimap) == pytest.approx(
        ConnectivityError()(
            [np.ascontiguousarray(p.T, np.float32)],
            [np.ascontiguousarray(g.T, np.float32)],
            [np.ascontiguousarray(trimap.T)],
        )["connectivity_error"],
        abs=1e-6,
    )


def test_hand_computed_values():
    gt = np.array([[0, 255, 255, 0]], np.uint8)
    pred = np.array([[255, 204, 51, 0]], np.uint8)
    trimap = np.array([[0, 128, 128, 128]], np.uint8)
    assert sad(pred, gt, trimap) == pytest.approx((0.2 + 0.8 + 0.0) / 1000)
    assert mse(pred, gt, trimap) == pytest.approx((0.04 + 0.64 + 0.0) / 3)
    assert sad(gt, gt, trimap) == 0 and mse(gt, gt, trimap) == 0
    assert gradient_error(gt, gt, trimap) == 0 and connectivity_error(gt, gt, trimap) == 0


def test_gradient_kernel_is_the_reference_one():
    from keras_matting.metrics.reference import _gaussian_kernels

    gauss, dgauss = _gaussian_kernels()
    assert len(gauss) == 9  # half size 4 for sigma = 1.4, epsilon = 1e-2
    filter_x, filter_y = gauss_filter(1.4)
    np.testing.assert_allclose(np.outer(gauss, dgauss), filter_x, atol=1e-15)
    np.testing.assert_allclose(np.outer(dgauss, gauss), filter_y, atol=1e-15)


def test_conn_keeps_values_equal_to_a_threshold():
    # 153/255 == 0.6: MATLAB keeps it at t = 0.6, mmeval's float64 np.arange drops it.
    pred = np.full((4, 4), 153, np.uint8)
    gt = np.full((4, 4), 255, np.uint8)
    trimap = np.full((4, 4), 128, np.uint8)
    # level l = 0.6: phi_p = 1 - 0 (d < 0.15), phi_g = 1 - 0.4
    assert connectivity_error(pred, gt, trimap) == pytest.approx(16 * 0.4 / 1000)
    as64 = ConnectivityError()([pred / 255.0], [gt / 255.0], [trimap])["connectivity_error"]
    assert as64 == pytest.approx(16 * 0.5 / 1000)  # l = 0.5 in mmeval, float64 inputs


def test_conn_breaks_ties_in_column_major_order():
    # two equal components; row-major meets the top-right one first, column-major the
    # bottom-left one (MATLAB's bwconncomp order)
    gt = np.zeros((8, 8), np.uint8)
    gt[0:2, 5:8] = 255
    gt[5:7, 0:3] = 255
    pred = gt.copy()
    trimap = np.full((8, 8), 128, np.uint8)
    pred[0:2, 5:8] = 200
    ours = connectivity_error(pred, gt, trimap)
    p, g = pred / 255.0, gt / 255.0
    column_major = ConnectivityError()(
        [np.ascontiguousarray(p.T, np.float32)],
        [np.ascontiguousarray(g.T, np.float32)],
        [trimap],
    )["connectivity_error"]
    row_major = ConnectivityError()([p.astype(np.float32)], [g.astype(np.float32)], [trimap])[
        "connectivity_error"
    ]
    assert ours == pytest.approx(column_major, abs=1e-9)
    assert abs(ours - row_major) > 1e-4


def test_float_inputs_are_quantised_to_8_bits():
    rng = np.random.default_rng(3)
    pred, gt = rng.random(SIZE), rng.random(SIZE)
    trimap = rng.choice(np.array([0, 128, 255], np.uint8), SIZE)
    quantised = compute_metrics(quantize(pred), quantize(gt), trimap)
    assert compute_metrics(pred, gt, trimap) == pytest.approx(quantised, abs=1e-12)
    exact = sad(pred, gt, trimap, quantize=False)
    assert exact == pytest.approx(np.abs(pred - gt)[trimap == 128].sum() / 1000)
    assert exact != pytest.approx(quantised["sad"], abs=1e-9)
    # float trimaps {0, 0.5, 1} are accepted
    assert sad(pred, gt, trimap / 255.0) == pytest.approx(quantised["sad"])


def test_clamp_known_keeps_dtype():
    trimap = np.array([[0, 128, 255]], np.uint8)
    np.testing.assert_array_equal(
        clamp_known(np.full((1, 3), 100, np.uint8), trimap), [[0, 100, 255]]
    )
    np.testing.assert_array_equal(clamp_known(np.full((1, 3), 0.3), trimap), [[0, 0.3, 1.0]])
    np.testing.assert_array_equal(
        clamp_known(np.full((1, 3), 7, np.uint16), trimap), [[0, 7, 65535]]
    )


def test_empty_unknown_region_and_bad_shapes():
    trimap = np.array([[0, 255]], np.uint8)
    alpha = np.array([[0, 255]], np.uint8)
    assert np.isnan(mse(alpha, alpha, trimap))
    assert sad(alpha, alpha, trimap) == 0
    with pytest.raises(ValueError, match="same size"):
        sad(alpha, np.zeros((2, 2), np.uint8), trimap)
    with pytest.raises(ValueError, match="height x width"):
        sad(np.zeros((2, 2, 3)), np.zeros((2, 2, 3)), np.zeros((2, 2)))
