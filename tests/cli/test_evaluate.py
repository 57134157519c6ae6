import json
import os

import cv2
import numpy as np
import pytest

from keras_matting.cli import evaluate
from keras_matting.cli import main as dispatcher
from keras_matting.io import quantize
from keras_matting.metrics import SCORE_KEYS, clamp_known, compute_metrics, whole_image_scores


def _dataset(root, names=("a", "b", "c"), size=(20, 24)):
    rng = np.random.default_rng(0)
    expected = {}
    for folder in ("pred", "gt", "trimap"):
        os.makedirs(root / folder)
    for i, name in enumerate(names):
        yy, xx = np.mgrid[0 : size[0], 0 : size[1]]
        gt = quantize(np.clip((xx - 6 - 2 * i) / 10.0, 0, 1))
        trimap = np.where(gt > 127, 255, 0).astype(np.uint8)
        trimap[:, 4 + 2 * i : 18 + 2 * i] = 128
        pred = quantize(rng.random(size))
        # predictions as 16-bit, trimaps as TIFF: matched by stem, any image extension
        assert cv2.imwrite(str(root / "pred" / f"{name}.png"), pred.astype(np.uint16) * 257)
        assert cv2.imwrite(str(root / "gt" / f"{name}.png"), gt)
        assert cv2.imwrite(str(root / "trimap" / f"{name}.tif"), trimap)
        expected[name] = {**compute_metrics(clamp_known(pred, trimap), gt, trimap),
                          **whole_image_scores(pred, gt)}  # the user view: not clamped
    return expected


def _args(root, *extra):
    return [
        "--pred",
        str(root / "pred"),
        "--gt",
        str(root / "gt"),
        "--trimap",
        str(root / "trimap"),
        *extra,
    ]


def test_scores_and_writes_json(tmp_path, capsys):
    expected = _dataset(tmp_path)
    report = tmp_path / "out" / "scores.json"
    assert evaluate.main(_args(tmp_path, "--json", str(report))) == 0
    out = capsys.readouterr().out
    assert "SAD" in out and "Conn" in out and "mean" in out and "clamped" in out
    assert "whole SAD" in out and "band SAD" in out and "holes %" in out and "halo %" in out
    data = json.loads(report.read_text())
    assert data["count"] == 3 and [row["name"] for row in data["images"]] == ["a", "b", "c"]
    keys = ("sad", "mse", "grad", "conn", "whole_sad", "whole_mse", "band_sad")
    for row in data["images"]:
        for key in keys:
            assert row[key] == pytest.approx(expected[row["name"]][key], abs=1e-12)
        # 20x24 images are too small for a sure interior or exterior: null, not NaN
        assert row["holes_pct"] is None and row["halo_pct"] is None
    for key in keys:
        assert data["mean"][key] == pytest.approx(np.mean([v[key] for v in expected.values()]))
    assert data["mean"]["holes_pct"] is None
    assert "nothing clamped" in data["user_protocol"]
    assert os.listdir(report.parent) == ["scores.json"]


def test_through_the_dispatcher(tmp_path, capsys):
    _dataset(tmp_path, names=("x",))
    assert dispatcher.main(["evaluate", *_args(tmp_path)]) == 0
    assert "x " in capsys.readouterr().out


def test_missing_prediction_is_one_line_exit_2(tmp_path, capsys):
    _dataset(tmp_path)
    os.remove(tmp_path / "pred" / "b.png")
    assert evaluate.main(_args(tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lacks 1 of the 3" in err and "(b)" in err
    assert "Traceback" not in err


def test_size_mismatch_is_exit_2(tmp_path, capsys):
    _dataset(tmp_path)
    cv2.imwrite(str(tmp_path / "pred" / "c.png"), np.zeros((5, 5), np.uint8))
    assert evaluate.main(_args(tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "c.png" in err and "5x5" in err


def test_missing_folder_and_arguments(tmp_path, capsys):
    _dataset(tmp_path)
    args = _args(tmp_path)
    args[args.index("--gt") + 1] = str(tmp_path / "nothing")
    assert evaluate.main(args) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        evaluate.main(["--pred", "p", "--trimap", "t"])
    assert info.value.code == 2
    assert "--gt" in capsys.readouterr().err


def test_help_states_the_protocol():
    text = " ".join(evaluate.build_parser().format_help().split())
    assert "clamped" in text and "--pred" in text and "--json" in text
    assert "nothing clamped" in text and "holes %" in text and "halo %" in text
    assert "portraits" in text and "eroded by 15 px" in text


# --------------------------------------------------------------------------- what users see
# A 60x60 square reference in a 100x100 image with defects counted by hand (the region
# counts are derived in tests/metrics/test_whole_image.py): the trimap's unknown region is
# exactly the band, so the clamped standard SAD sees only the band error while the user
# view also sees the hole and the halo that clamping hides.


def _square_case(root, trimap=True):
    gt = np.zeros((100, 100), np.uint8)
    gt[20:80, 20:80] = 255
    pred = gt.copy()
    pred[45:50, 45:51] = 100  # hole: 30 pixels in the sure interior (rows 35..64), 155 off
    pred[0:4, 0:5] = 128  # halo: 20 pixels in the sure exterior, 128 off
    pred[15, 50] = 51  # band, outside the square
    pred[21, 50] = 0  # band, inside the square
    for folder, array in (("pred", pred), ("gt", gt)):
        os.makedirs(root / folder)
        assert cv2.imwrite(str(root / folder / "sq.png"), array)
    if trimap:
        # unknown = dilate(square, 20x20) - erode(square, 20x20) = rows 11..89 - rows 30..70
        trimap_array = np.zeros_like(gt)
        trimap_array[11:90, 11:90] = 128
        trimap_array[30:71, 30:71] = 255
        os.makedirs(root / "trimap")
        assert cv2.imwrite(str(root / "trimap" / "sq.png"), trimap_array)


SQUARE_EXPECTED = {
    "whole_sad": (30 * 155 + 20 * 128 + 51 + 255) / 255 / 1000,
    "whole_mse": (30 * 155**2 + 20 * 128**2 + 51**2 + 255**2) / 255**2 / 100**2,
    "band_sad": (51 + 255) / 255 / 1000,
    "holes_pct": 100 * 30 / 900,
    "halo_pct": 100 * 20 / 1900,
}


def test_user_view_counted_by_hand_is_not_clamped(tmp_path, capsys):
    _square_case(tmp_path)
    report = tmp_path / "scores.json"
    assert evaluate.main(_args(tmp_path, "--json", str(report))) == 0
    data = json.loads(report.read_text())
    row = data["images"][0]
    for key in SCORE_KEYS:
        assert row[key] == pytest.approx(SQUARE_EXPECTED[key], rel=1e-12), key
        assert data["mean"][key] == pytest.approx(SQUARE_EXPECTED[key], rel=1e-12), key
    # the standard SAD is clamped: hole (known foreground) and halo (known background)
    # are overwritten from the trimap, only the two band pixels remain
    assert row["sad"] == pytest.approx((51 + 255) / 255 / 1000, rel=1e-12)
    lines = capsys.readouterr().out.splitlines()
    header = lines[0]
    assert header.split()[:5] == ["image", "SAD", "MSE", "Grad", "Conn"]
    assert "whole SAD" in header and header.rstrip().endswith("halo %")
    mean_line = next(line for line in lines if line.startswith("mean"))
    for key in ("whole_sad", "holes_pct", "halo_pct"):
        assert f"{SQUARE_EXPECTED[key]:.2f}" in mean_line


def test_folder_mode_without_trimap_reports_only_what_users_see(tmp_path, capsys):
    _square_case(tmp_path, trimap=False)
    report = tmp_path / "scores.json"
    args = ["--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt"), "--json", str(report)]
    assert dispatcher.main(["evaluate", *args]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["image", "whole", "SAD", "whole", "MSE", "band",
                                           "SAD", "holes", "%", "halo", "%"]
    assert "no --trimap" in out and "Conn" not in out
    data = json.loads(report.read_text())
    assert data["trimap"] is None and data["protocol"] is None
    row = data["images"][0]
    assert sorted(row) == sorted(["name", *SCORE_KEYS])
    assert sorted(data["mean"]) == sorted(SCORE_KEYS)
    for key in SCORE_KEYS:
        assert row[key] == pytest.approx(SQUARE_EXPECTED[key], rel=1e-12), key
