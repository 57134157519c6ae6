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
    import tensorflow as tf

    from keras_matting.data.igf_dataset import IGF_ROTATIONS, _rotate

    assert len(IGF_ROTATIONS) == 11 and 0.0 in IGF_ROTATIONS  # paper 4.1: 11 angles
    x = np.random.default_rng(0).random((9, 9, 2)).astype(np.float32)
    out = _rotate(tf.constant(x), tf.constant(90.0)).numpy()
    # output (x, y) samples input (cx - (y - cy), cy + (x - cx)): a 90 degree turn
    np.testing.assert_allclose(out, np.rot90(x, k=1, axes=(0, 1)), atol=1e-5)
    np.testing.assert_allclose(_rotate(tf.constant(x), tf.constant(0.0)).numpy(), x, atol=1e-6)


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
