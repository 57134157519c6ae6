import itertools

import numpy as np
import pytest

from keras_matting.data.igf_dataset import _np_train_mask, build_igf_dataset
from tests.data.conftest import reference_dilate, reference_erode

CROP, SHORT = 48, 64


def _build(root, **kw):
    kw.setdefault("batch_size", 3)
    return build_igf_dataset(
        root / "fg", root / "alpha", root / "bg", crop_size=CROP, short_side=SHORT, **kw
    )


def _take(ds, n):
    return [{k: v.numpy() for k, v in b.items()} for b in ds.take(n)]


def _check(b, keys):
    assert set(b) == keys
    for key, v in b.items():
        assert v.dtype == np.float32
        assert v.shape[1:] == (CROP, CROP, 3 if key in ("image", "fg", "bg") else 1)
        assert v.min() >= 0.0 and v.max() <= 1.0
    assert set(np.unique(b["mask"])) <= {0.0, 1.0}
    a = b["alpha"]
    np.testing.assert_allclose(b["image"], a * b["fg"] + (1 - a) * b["bg"], atol=1e-6)


def test_training_batches(train_dir):
    for b in _take(_build(train_dir, seed=2), 3):
        _check(b, {"image", "mask", "alpha", "fg", "bg"})
        assert b["image"].shape[0] == 3


def test_same_seed_same_batches(train_dir):
    a = _take(_build(train_dir, seed=5), 3)
    b = _take(_build(train_dir, seed=5), 3)
    for x, y in zip(a, b, strict=True):
        for k in x:
            np.testing.assert_array_equal(x[k], y[k])


def test_mask_area_rule_matches_reference(train_dir):
    import cv2

    alpha = cv2.imread(str(train_dir / "alpha" / "00001.png"), cv2.IMREAD_UNCHANGED)
    fg = alpha > 127
    kept_any = dropped_any = False
    cases = [(5, 5), (5, 30), (30, 5), (12, 25), (5, 18)]
    for (k_d, k_e), erode_first in itertools.product(cases, (False, True)):
        mask, keep = _np_train_mask(alpha[..., None], k_d, k_e, erode_first)
        fg8 = fg.astype(np.uint8)
        if erode_first:
            ref = reference_dilate(reference_erode(fg8, k_e), k_d)
        else:
            ref = reference_erode(reference_dilate(fg8, k_d), k_e)
        np.testing.assert_array_equal(mask[..., 0], ref)
        expected = (ref.astype(bool) & fg).sum() >= 0.5 * fg.sum()
        assert bool(keep) == expected
        kept_any |= expected
        dropped_any |= not expected
    assert kept_any and dropped_any


def test_dropped_samples_never_reach_the_stream(train_dir):
    # erosion always much stronger than dilation: the rule drops most masks; what is
    # left must keep at least half of the foreground seen in the (uncropped) element
    ds = _build(train_dir, seed=0, kernel_sizes=(5, 30), batch_size=None, hue_delta=0.0)
    n = 0
    for el in ds.take(8):
        n += 1
        fg = el["alpha"].numpy() > 0.5
        if fg.sum() > 50:
            assert (el["mask"].numpy().astype(bool) & fg).sum() > 0
    assert n == 8


def test_evaluation_variant(train_dir):
    ds = _build(train_dir, training=False, seed=0)
    batches = _take(ds, 10)
    assert sum(b["image"].shape[0] for b in batches) == 6  # one pass, nothing dropped
    for b in batches:
        _check(b, {"image", "mask", "trimap", "alpha", "fg", "bg"})
        t, m = b["trimap"], b["mask"]
        assert set(np.unique(t)) <= {0.0, 0.5, 1.0}
        assert np.all(m[t == 1.0] == 1.0) and np.all(m[t == 0.0] == 0.0)
    again = _take(_build(train_dir, training=False, seed=0), 10)
    np.testing.assert_array_equal(batches[0]["image"], again[0]["image"])


def test_rotation_about_the_centre_is_exact_at_90_degrees():
    from keras_matting.data.igf_dataset import IGF_ROTATIONS, _np_train_warp

    assert len(IGF_ROTATIONS) == 11 and 0.0 in IGF_ROTATIONS  # paper 4.1: 11 angles
    rng = np.random.default_rng(0)
    fg = rng.integers(0, 256, (9, 9, 3), dtype=np.uint8)
    alpha = rng.integers(0, 256, (9, 9, 1), dtype=np.uint8)
    mask = rng.integers(0, 2, (9, 9, 1), dtype=np.uint8)
    bg = rng.integers(0, 256, (9, 9, 3), dtype=np.uint8)
    for flip in (False, True):
        # the whole 9x9 frame, unscaled: a quarter turn (and a mirror image) of each input
        out = _np_train_warp(np.concatenate([fg, alpha], -1), mask, bg, 90.0, 0, 0, 9, flip,
                             0.0, 0.0, 9)
        for got, x in zip(out[:3], (fg, alpha, mask), strict=True):
            ref = np.rot90(x, k=1, axes=(0, 1))  # output (x, y) samples (cx - (y - cy), ...)
            np.testing.assert_array_equal(got, ref[:, ::-1] if flip else ref)
        np.testing.assert_array_equal(out[3], bg[:, ::-1] if flip else bg)  # not rotated


def _ramp(h, w, gy, gx, c0):
    """A linear image, where bilinear sampling is exact: value(x, y) = c0 + gy y + gx x."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    return c0 + gy * y + gx * x


def test_one_warp_is_rotation_then_crop_then_resize_then_flip():
    # Independent reference: each output pixel's source point, composed step by step
    # (tf.image.resize half-pixel centres, then the rotation about the centre), on a
    # linear image, so the expected value is the ramp at that point.
    from keras_matting.data.igf_dataset import _np_train_warp

    h, w, crop = 60, 80, 32
    ramps = [(1.1, 0.9, 20.0), (-0.8, 1.2, 150.0), (0.5, -1.3, 200.0)]
    fg = np.stack([_ramp(h, w, *r) for r in ramps], -1)
    alpha = _ramp(h, w, 1.5, 0.7, 30.0)[..., None]
    bg_h, bg_w = 30, 50
    bg = np.stack([_ramp(bg_h, bg_w, *r) for r in [(2.0, 1.0, 10.0), (1.0, -2.0, 160.0),
                                                     (-2.5, 1.5, 120.0)]], -1)
    # float32 images: no rounding, so the only error is OpenCV's 1/32-pixel fixed-point
    # coordinates (measured 0.14 at most here); a half-pixel shift would be 0.45-0.9
    f32 = lambda v: v.astype(np.float32)  # noqa: E731
    mask = np.ones((h, w, 1), np.uint8)
    for degrees, y0, x0, side, flip in [(18.0, 5, 12, 44, False), (-30.0, 0, 20, 60, True),
                                        (0.0, 3, 7, 50, True)]:
        oy, ox = 0.3, 0.8
        got = _np_train_warp(f32(np.concatenate([fg, alpha], -1)), mask, f32(bg), degrees, y0,
                             x0, side, flip, oy, ox, crop)
        u = np.arange(crop, dtype=np.float64)
        uu = crop - 1 - u if flip else u
        k = side / crop
        xr = x0 + (uu[None, :] + 0.5) * k - 0.5  # rotated frame (resize: half-pixel centres)
        yr = y0 + (u[:, None] + 0.5) * k - 0.5
        t = np.deg2rad(degrees)
        cy, cx = (h - 1) / 2, (w - 1) / 2
        xs = np.cos(t) * (xr - cx) - np.sin(t) * (yr - cy) + cx
        ys = np.sin(t) * (xr - cx) + np.cos(t) * (yr - cy) + cy
        inside = (xs > 0.5) & (xs < w - 1.5) & (ys > 0.5) & (ys < h - 1.5)
        assert inside.mean() > 0.5
        for c, (gy, gx, c0) in enumerate(ramps):
            ref = c0 + gy * ys + gx * xs
            np.testing.assert_allclose(got[0][..., c][inside], ref[inside], atol=0.25)
        np.testing.assert_allclose(got[1][..., 0][inside], (30 + 1.5 * ys + 0.7 * xs)[inside],
                                   atol=0.25)
        assert got[2][inside].min() == 1 and got[2][~inside & ((xs < -1) | (ys < -1))].max(
            initial=0) == 0
        # background: scaled to cover the 60x80 frame (sc = 2), window offset by (oy, ox)
        # of the slack, the same crop, not rotated, flipped with the sample
        sc = max(h / bg_h, w / bg_w)
        by = (y0 + oy * (sc * bg_h - h)) / sc
        bx = (x0 + ox * (sc * bg_w - w)) / sc
        kb = side / sc / crop
        xb = bx + (uu[None, :] + 0.5) * kb - 0.5
        yb = by + (u[:, None] + 0.5) * kb - 0.5  # broadcasts with xb
        for c, (gy, gx, c0) in enumerate([(2.0, 1.0, 10.0), (1.0, -2.0, 160.0),
                                          (-2.5, 1.5, 120.0)]):
            np.testing.assert_allclose(got[3][..., c], c0 + gy * yb + gx * xb, atol=0.25)


def test_large_downscales_are_low_pass_filtered():
    # a 1-pixel checkerboard reduced 3x: bilinear sampling alone lands on pixel centres
    # (3u + 1) and keeps black and white (std 127); the area pre-filter averages 3x3
    # blocks (113 or 142: std 14.5)
    from keras_matting.data.igf_dataset import _np_train_warp

    board = (np.indices((96, 96)).sum(0) % 2 * 255).astype(np.uint8)
    fg = np.repeat(board[..., None], 3, -1)
    out = _np_train_warp(np.concatenate([fg, board[..., None]], -1), board[..., None] // 255,
                         fg, 0.0, 0, 0, 96, False, 0.0, 0.0, 32)
    for got in (out[0], out[1], out[3]):
        assert abs(float(got.mean()) - 127.5) < 2 and got.std() < 20
    assert set(np.unique(out[2])) <= {0, 1}  # the mask stays binary (nearest)


@pytest.mark.slow
def test_photo_realism_changes_the_image_not_the_truth(train_dir):
    from keras_matting.data.igf_dataset import REALISM

    always = dict(REALISM, segmenter_mask=1.0, harmonize=1.0, defocus=1.0, noise=1.0, jpeg=1.0)
    real = _take(_build(train_dir, seed=4, rotations=(), hue_delta=0.0, realism=always), 2)
    again = _take(_build(train_dir, seed=4, rotations=(), hue_delta=0.0, realism=always), 2)
    for r, a in zip(real, again, strict=True):
        np.testing.assert_array_equal(r["image"], a["image"])  # seeded
        assert r["image"].min() >= 0.0 and r["image"].max() <= 1.0
        assert set(np.unique(r["mask"])) <= {0.0, 1.0}
        # noise and JPEG act on the composite of the (harmonised, defocused) fg and bg
        composite = r["alpha"] * r["fg"] + (1 - r["alpha"]) * r["bg"]
        diff = np.abs(r["image"] - composite)
        assert 1e-3 < diff.mean() < 0.1
