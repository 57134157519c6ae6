"""What users see (keras_matting.metrics.whole_image) on cases counted by hand.

The reference is a 60 x 60 square of ones (rows and columns 20..79) in a 100 x 100 image.
OpenCV's k x k kernel is anchored at k // 2, so a pixel at y looks at y - k // 2 ..
y + k - 1 - k // 2:

- band, k = 20 (offsets -10..9): dilate(square) = rows 11..89 (79), erode(square) =
  rows 30..70 (41); band = 79^2 - 41^2 = 4560 pixels.
- sure regions, "eroded by 15 px" = k = 31 (offsets -15..15): sure interior = rows
  35..64 (30 x 30 = 900 pixels); sure exterior = outside the 90 x 90 block of rows and
  columns 5..94, i.e. 100^2 - 90^2 = 1900 pixels (pixels beyond the image border never
  erode, as in OpenCV).
"""

import numpy as np
import pytest

from keras_matting.metrics import SCORE_KEYS, user_regions, whole_image_scores

SIDE, LO, HI = 100, 20, 80  # the square covers [LO, HI) in rows and columns


def _reference():
    ref = np.zeros((SIDE, SIDE), np.uint8)
    ref[LO:HI, LO:HI] = 255
    return ref


def _prediction():
    """The reference with known defects; returns ``(pred, differences in 8-bit units)``."""
    pred = _reference()
    diffs = {}
    pred[45:50, 45:51] = 100  # a hole of 30 pixels inside the sure interior
    diffs["hole"] = [155] * 30
    pred[40, 40] = 230  # 0.902: not a hole
    pred[40, 42] = 229  # 0.898: a hole
    diffs["probes_in"] = [25, 26]
    pred[32, 50] = 200  # inside the square, outside the sure interior and the band
    diffs["dip"] = [55]
    pred[0:4, 0:5] = 128  # a halo blob of 20 pixels far outside
    diffs["blob"] = [128] * 20
    pred[97, 50] = 26  # 0.102: halo
    pred[97, 52] = 25  # 0.098: not halo
    diffs["probes_out"] = [26, 25]
    pred[15, 50] = 51  # outside the square, in the band, not sure exterior
    pred[21, 50] = 0  # inside the square, in the band, not sure interior
    diffs["band"] = [51, 255]
    return pred, diffs


def test_regions_counted_by_hand():
    band, sure_fg, sure_bg = user_regions(_reference())
    assert band.sum() == 79**2 - 41**2 == 4560
    assert sure_fg.sum() == 30 * 30
    assert sure_bg.sum() == SIDE**2 - 90**2 == 1900
    # edges of the band pin the 20 x 20 kernel anchored at 10 (offsets -10..9)
    column = band[:, 50]
    assert not column[10] and column[11] and column[29] and not column[30]
    assert not column[70] and column[71] and column[89] and not column[90]
    # sure interior: rows 35..64 (15 px each side of the 60 px square)
    rows = np.flatnonzero(sure_fg[:, 50])
    assert rows[0] == 35 and rows[-1] == 64
    assert sure_bg[4, 50] and not sure_bg[5, 50] and not sure_bg[94, 50] and sure_bg[95, 50]
    assert sure_bg[50, 4] and not sure_bg[50, 5]


@pytest.mark.parametrize(
    ("inside", "outside", "counts"),
    [
        (253, 0, (4560, 900, 1900)),  # 253 / 255 = 0.992 > 0.99: sure interior
        (252, 0, (4560, 0, 1900)),  # 0.988: not sure
        (128, 2, (4560, 0, 1900)),  # 128 / 255 = 0.502 > 0.5: foreground; 0.008 < 0.01
        (127, 2, (0, 0, 1900)),  # 0.498: no foreground, so no band
        (255, 3, (4560, 900, 0)),  # 3 / 255 = 0.012: not sure exterior
    ],
)
def test_region_thresholds(inside, outside, counts):
    ref = np.full((SIDE, SIDE), outside, np.uint8)
    ref[LO:HI, LO:HI] = inside
    band, sure_fg, sure_bg = user_regions(ref)
    assert (band.sum(), sure_fg.sum(), sure_bg.sum()) == counts


def test_scores_counted_by_hand():
    pred, diffs = _prediction()
    got = whole_image_scores(pred, _reference())
    assert set(got) == set(SCORE_KEYS)
    every = [d for values in diffs.values() for d in values]
    assert sum(every) == 7673
    assert got["whole_sad"] == pytest.approx(7673 / 255 / 1000, rel=1e-12)
    squares = 30 * 155**2 + 25**2 + 26**2 + 55**2 + 20 * 128**2 + 26**2 + 25**2 + 51**2 + 255**2
    assert got["whole_mse"] == pytest.approx(squares / 255**2 / SIDE**2, rel=1e-12)
    assert got["band_sad"] == pytest.approx((51 + 255) / 255 / 1000, rel=1e-12)
    # 30 hole pixels + the 229 probe; not the 230 probe nor the dip at row 32
    assert got["holes_pct"] == pytest.approx(100 * 31 / 900, rel=1e-12)
    # 20 blob pixels + the 26 probe; not the 25 probe nor the band pixel at row 15
    assert got["halo_pct"] == pytest.approx(100 * 21 / 1900, rel=1e-12)


def test_float_prediction_is_scored_in_8_bits():
    pred, _ = _prediction()
    as_float = pred.astype(np.float64) / 255.0
    assert whole_image_scores(as_float, _reference()) == whole_image_scores(pred, _reference())
    # 0.9 is 230 in 8 bits: not a hole; 0.1 is 26: a halo
    ref = _reference()
    pred = ref / 255.0
    pred[50, 50] = 0.9
    pred[2, 2] = 0.1
    got = whole_image_scores(pred, ref)
    assert got["holes_pct"] == 0.0
    assert got["halo_pct"] == pytest.approx(100 / 1900)


def test_perfect_prediction_and_empty_regions():
    ref = _reference()
    assert whole_image_scores(ref, ref) == {
        "whole_sad": 0.0, "whole_mse": 0.0, "band_sad": 0.0, "holes_pct": 0.0, "halo_pct": 0.0,
    }
    full = np.full((40, 40), 255, np.uint8)
    got = whole_image_scores(np.zeros((40, 40)), full)
    assert got["holes_pct"] == 100.0 and np.isnan(got["halo_pct"])
    assert got["whole_sad"] == pytest.approx(1.6) and got["band_sad"] == 0.0
    got = whole_image_scores(np.ones((40, 40)), np.zeros((40, 40), np.uint8))
    assert np.isnan(got["holes_pct"]) and got["halo_pct"] == 100.0


def test_size_mismatch_raises():
    with pytest.raises(ValueError, match="differ in size"):
        whole_image_scores(np.zeros((10, 10)), np.zeros((10, 11)))
