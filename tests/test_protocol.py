import os

import cv2
import numpy as np
import pytest

from keras_matting import protocol as P
from keras_matting.errors import MattingInputError
from tests.data.conftest import reference_dilate, reference_erode


def _blobs(seed=0, shape=(60, 70)):
    rng = np.random.default_rng(seed)
    return (rng.random(shape) < 0.03).astype(np.uint8)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 20, 21])
def test_morphology_twins_equal_opencv_bit_for_bit(k):
    x = _blobs(k)
    square = np.ones((k, k), np.uint8)
    ref_d, ref_e = cv2.dilate(x, square), cv2.erode(1 - x, square)
    # OpenCV itself against an independent sliding-window reference (anchor k // 2)
    np.testing.assert_array_equal(ref_d, reference_dilate(x, k))
    np.testing.assert_array_equal(ref_e, reference_erode(1 - x, k))
    np.testing.assert_array_equal(P.dilate_np(x, k), ref_d)
    np.testing.assert_array_equal(P.erode_np(1 - x, k), ref_e)
    xf = x[..., None].astype("float32")
    np.testing.assert_array_equal(np.asarray(P.dilate(xf, k))[..., 0], ref_d)
    np.testing.assert_array_equal(np.asarray(P.erode(1.0 - xf, k))[..., 0], ref_e)
    batch = np.stack([xf, 1.0 - xf])
    np.testing.assert_array_equal(np.asarray(P.dilate(batch, k))[1, ..., 0],
                                  cv2.dilate(1 - x, square))


@pytest.mark.parametrize("k", [9, 10, 20, 21])
def test_scoring_trimap_twins_equal_opencv(k):
    mask = _blobs(3, (64, 80))
    mask = cv2.dilate(mask, np.ones((7, 7), np.uint8))  # blobs bigger than a kernel
    square = np.ones((k, k), np.uint8)
    expected = np.where(cv2.erode(mask, square) > 0, 1.0,
                        np.where(cv2.dilate(mask, square) > 0, 0.5, 0.0))
    np.testing.assert_array_equal(P.scoring_trimap_np(mask, k), expected)
    np.testing.assert_array_equal(P.scoring_trimap_np(mask.astype(bool), k), expected)
    np.testing.assert_array_equal(P.scoring_trimap_np(mask * 255, k), expected)
    got = np.asarray(P.scoring_trimap(mask[None, ..., None].astype("float32"), k))[0, ..., 0]
    np.testing.assert_array_equal(got, expected)
    u8 = P.trimap_to_uint8(expected)
    assert set(np.unique(u8)) <= {0, 128, 255}
    np.testing.assert_array_equal(u8 == 128, expected == 0.5)


def test_even_kernels_are_anchored_as_opencv_not_as_a_same_max_pool():
    # Output i is the max of x[i - 2 : i + 2] for k = 4 (anchor k // 2): a single pixel
    # at 4 reaches rows/cols 3..6; a "same" max-pool (pads 1 before, 2 after) reaches 2..5.
    mask = np.zeros((9, 9), np.float32)
    mask[4, 4] = 1.0
    t = np.asarray(P.scoring_trimap(mask[..., None], 4))[..., 0]
    rows, cols = np.nonzero(t)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (3, 6, 3, 6)
    np.testing.assert_array_equal(t > 0, cv2.dilate(mask, np.ones((4, 4), np.uint8)) > 0)


def test_composite_argument_order():
    alpha = np.array([[0.25]], np.float32)[..., None]
    fg = np.full((1, 1, 3), 1.0, np.float32)
    bg = np.zeros((1, 1, 3), np.float32)
    np.testing.assert_allclose(P.composite(alpha, fg, bg), 0.25)
    np.testing.assert_allclose(P.composite(1.0 - alpha, fg, bg), 0.75)


def test_unknown_region_thresholds():
    t = np.array([0.0, 0.3, 1 / 3, 0.5, 2 / 3, 0.7, 1.0], np.float32)
    np.testing.assert_array_equal(np.asarray(P.unknown_region(t)), [0, 0, 1, 1, 1, 0, 0])


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
    got = alphagan_trimap(P.chessboard_distances_np(alpha), radius).numpy()[..., 0]
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(P.trimap_from_alpha_np(alpha, k), expected)


def test_weak_mask_and_its_scoring_trimap():
    alpha = _alpha()
    mask = P.weak_mask_np(alpha, 7, 12)
    expected_mask = reference_erode(reference_dilate((alpha > 127).astype(np.uint8), 7), 12)
    np.testing.assert_array_equal(mask, expected_mask)
    t = P.scoring_trimap_np(mask, 20)
    np.testing.assert_array_equal(t == 1.0, reference_erode(mask, 20) > 0)
    np.testing.assert_array_equal(t > 0, reference_dilate(mask, 20) > 0)


def test_weak_mask_erode_first_removes_thin_structures():
    alpha = np.zeros((60, 80), np.uint8)
    alpha[10:50, 10:40] = 255  # a body
    alpha[20:22, 40:75] = 255  # a 2-px "hair" sticking out
    alpha[28:31, 20:23] = 0  # a 3-px hole
    closing = P.weak_mask_np(alpha, 9, 9)
    opening = P.weak_mask_np(alpha, 9, 9, erode_first=True)
    fg = (alpha > 127).astype(np.uint8)
    np.testing.assert_array_equal(opening, reference_dilate(reference_erode(fg, 9), 9))
    assert closing[21, 60] == 1 and opening[21, 60] == 0  # the hair survives only a closing
    assert closing[29, 21] == 1 and opening[29, 21] == 0  # the hole is filled / squared off
    assert opening[38:45, 15:35].all()  # the body away from the hole stays


def test_mask_area_rule():
    alpha = _alpha()
    fg = alpha > 127
    assert P.mask_keeps_foreground(fg.astype(np.uint8), alpha)
    half = fg.copy()
    rows = np.flatnonzero(fg.any(axis=1))
    half[rows[: len(rows) * 2 // 3]] = False  # keep about a third
    assert not P.mask_keeps_foreground(half.astype(np.uint8), alpha)
    assert P.mask_keeps_foreground(np.zeros_like(alpha), np.zeros_like(alpha))


def test_segmenter_mask_loses_thin_parts_and_keeps_the_body():
    alpha = np.zeros((200, 300), np.uint8)
    alpha[60:180, 80:220] = 255  # body
    alpha[10:60, 150] = 255  # a one-pixel strand above it
    mask = P.segmenter_mask_np(alpha, low_side=50, threshold=0.5)
    assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 1}
    assert mask[70:170, 90:210].all()  # the body's interior
    assert not mask[10:50, 150].any()  # the strand is lost, as a segmenter loses hair
    assert not mask[:, :60].any() and not mask[:, 240:].any()


def test_segmenter_mask_threshold_and_shift():
    alpha = np.zeros((120, 120), np.uint8)
    alpha[30:90, 30:90] = 255
    loose = P.segmenter_mask_np(alpha, 30, 0.3)
    tight = P.segmenter_mask_np(alpha, 30, 0.7)
    assert loose.sum() > tight.sum() and (loose >= tight).all()  # nested
    shifted = P.segmenter_mask_np(alpha, 30, 0.5, shift_y=5, shift_x=-3)
    base = P.segmenter_mask_np(alpha, 30, 0.5)
    np.testing.assert_array_equal(shifted[5:, :-3], base[:-5, 3:])


def test_list_images_skips_hidden_and_other_files(tmp_path):
    for name in ["b.png", "a.JPG", ".hidden.png", "notes.txt", "sub/c.png", ".git/d.png"]:
        os.makedirs(os.path.dirname(tmp_path / name), exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert P.list_images(tmp_path) == [str(tmp_path / "a.JPG"), str(tmp_path / "b.png")]
    assert P.list_images(tmp_path, recursive=True) == [
        str(tmp_path / "a.JPG"), str(tmp_path / "b.png"), str(tmp_path / "sub" / "c.png")]
    assert P.list_images(tmp_path, extensions=(".png",)) == [str(tmp_path / "b.png")]
    assert P.images_by_stem(tmp_path) == {"a": str(tmp_path / "a.JPG"), "b": str(tmp_path / "b.png")}


def test_list_images_errors_are_one_line(tmp_path):
    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / "a.jpg").write_bytes(b"x")
    (tmp_path / "empty").mkdir()
    cases = [
        (lambda: P.images_by_stem(tmp_path, "trimap"), "trimap folder .* has two files named a"),
        (lambda: P.list_images(tmp_path / "missing"), "image folder .*missing' does not exist"),
        (lambda: P.list_images(tmp_path / "a.png", "mask"), "a.png' is a file, not a folder"),
        (lambda: P.list_images(tmp_path / "empty", "alpha"), "alpha folder .*empty' has no image"),
    ]
    for call, message in cases:
        with pytest.raises(MattingInputError, match=message) as info:
            call()
        assert "\n" not in str(info.value)


def test_guided_filter_defaults_are_the_igf_prior():
    from keras_matting.models.igf import igf_generator

    assert P.GUIDED_FILTER == {"radius": 64, "eps": 1e-5, "subsample": 4}
    assert igf_generator.PRIOR_RADIUS == P.GUIDED_FILTER_RADIUS
    assert igf_generator.PRIOR_EPSILON == P.GUIDED_FILTER_EPS


def test_importing_the_protocol_does_not_import_tensorflow():
    import subprocess
    import sys

    code = "import sys, keras_matting.protocol; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
