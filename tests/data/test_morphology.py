import numpy as np
import pytest
import tensorflow as tf

from keras_matting.data import morphology as mo
from tests.data.conftest import reference_dilate, reference_erode


def _blobs(seed=0, shape=(60, 70)):
    rng = np.random.default_rng(seed)
    return (rng.random(shape) < 0.03).astype(np.uint8)


@pytest.mark.parametrize("k", [1, 2, 3, 5, 20])
def test_tf_and_opencv_match_independent_reference(k):
    x = _blobs(k)
    ref_d, ref_e = reference_dilate(x, k), reference_erode(1 - x, k)
    np.testing.assert_array_equal(mo.dilate_np(x, k), ref_d)
    np.testing.assert_array_equal(mo.erode_np(1 - x, k), ref_e)
    xt = tf.constant(x[..., None].astype("float32"))
    np.testing.assert_array_equal(mo.dilate(xt, k).numpy()[..., 0], ref_d)
    np.testing.assert_array_equal(mo.erode(1.0 - xt, k).numpy()[..., 0], ref_e)


def _alpha(seed=1):
    rng = np.random.default_rng(seed)
    a = np.zeros((80, 90), np.float32)
    a[20:60, 25:70] = 1.0
    a[18:20, 25:70] = rng.random((2, 45))  # fractional rim
    a[60:75, 40:42] = 0.5  # a thin semi-transparent strand
    return (a * 255).round().astype(np.uint8)


@pytest.mark.parametrize("radius", [1, 2, 5, 10])
def test_distance_trimap_equals_dilate_minus_erode(radius):
    from keras_matting.data.alphagan_dataset import alphagan_trimap

    alpha = _alpha()
    k = 2 * radius + 1
    unknown = reference_dilate((alpha > 0).astype(np.uint8), k) > 0
    fg = reference_erode((alpha == 255).astype(np.uint8), k) > 0
    expected = np.where(fg, 1.0, np.where(unknown, 0.5, 0.0))
    got = alphagan_trimap(mo.chessboard_distances_np(alpha), radius).numpy()[..., 0]
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(mo.trimap_from_alpha_np(alpha, k), expected)


def test_scoring_trimap_and_weak_mask():
    alpha = _alpha()
    mask = mo.weak_mask_np(alpha, 7, 12)
    expected_mask = reference_erode(reference_dilate((alpha > 127).astype(np.uint8), 7), 12)
    np.testing.assert_array_equal(mask, expected_mask)
    t = mo.scoring_trimap_np(mask, 20)
    assert set(np.unique(t)) <= {0.0, 0.5, 1.0}
    np.testing.assert_array_equal(t == 1.0, reference_erode(mask, 20) > 0)
    np.testing.assert_array_equal(t > 0, reference_dilate(mask, 20) > 0)
    tt = mo.scoring_trimap(tf.constant(mask[..., None].astype("float32")), 20).numpy()[..., 0]
    np.testing.assert_array_equal(tt, t)


def test_weak_mask_erode_first_removes_thin_structures():
    alpha = np.zeros((60, 80), np.uint8)
    alpha[10:50, 10:40] = 255  # a body
    alpha[20:22, 40:75] = 255  # a 2-px "hair" sticking out
    alpha[28:31, 20:23] = 0  # a 3-px hole
    closing = mo.weak_mask_np(alpha, 9, 9)
    opening = mo.weak_mask_np(alpha, 9, 9, erode_first=True)
    fg = (alpha > 127).astype(np.uint8)
    np.testing.assert_array_equal(opening, reference_dilate(reference_erode(fg, 9), 9))
    assert closing[21, 60] == 1 and opening[21, 60] == 0  # the hair survives only a closing
    assert closing[29, 21] == 1 and opening[29, 21] == 0  # the hole is filled / squared off
    assert opening[38:45, 15:35].all()  # the body away from the hole stays


def test_mask_area_rule():
    alpha = _alpha()
    fg = alpha > 127
    assert mo.mask_keeps_foreground(fg.astype(np.uint8), alpha)
    half = fg.copy()
    rows = np.flatnonzero(fg.any(axis=1))
    half[rows[: len(rows) * 2 // 3]] = False  # keep about a third
    assert not mo.mask_keeps_foreground(half.astype(np.uint8), alpha)
    assert mo.mask_keeps_foreground(np.zeros_like(alpha), np.zeros_like(alpha))


def test_segmenter_mask_loses_thin_parts_and_keeps_the_body():
    from keras_matting.data.morphology import segmenter_mask_np

    alpha = np.zeros((200, 300), np.uint8)
    alpha[60:180, 80:220] = 255  # body
    alpha[10:60, 150] = 255  # a one-pixel strand above it
    mask = segmenter_mask_np(alpha, low_side=50, threshold=0.5)
    assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 1}
    assert mask[70:170, 90:210].all()  # the body's interior
    assert not mask[10:50, 150].any()  # the strand is lost, as a segmenter loses hair
    assert not mask[:, :60].any() and not mask[:, 240:].any()


def test_segmenter_mask_threshold_and_shift():
    from keras_matting.data.morphology import segmenter_mask_np

    alpha = np.zeros((120, 120), np.uint8)
    alpha[30:90, 30:90] = 255
    loose = segmenter_mask_np(alpha, 30, 0.3)
    tight = segmenter_mask_np(alpha, 30, 0.7)
    assert loose.sum() > tight.sum() and (loose >= tight).all()  # nested
    shifted = segmenter_mask_np(alpha, 30, 0.5, shift_y=5, shift_x=-3)
    base = segmenter_mask_np(alpha, 30, 0.5)
    np.testing.assert_array_equal(shifted[5:, :-3], base[:-5, 3:])
