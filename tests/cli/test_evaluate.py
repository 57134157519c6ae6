import json
import os

import cv2
import numpy as np
import pytest

from keras_matting.cli import evaluate
from keras_matting.cli import main as dispatcher
from keras_matting.io import quantize
from keras_matting.metrics import clamp_known, compute_metrics


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
        expected[name] = compute_metrics(clamp_known(pred, trimap), gt, trimap)
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
    data = json.loads(report.read_text())
    assert data["count"] == 3 and [row["name"] for row in data["images"]] == ["a", "b", "c"]
    for row in data["images"]:
        for key in ("sad", "mse", "grad", "conn"):
            assert row[key] == pytest.approx(expected[row["name"]][key], abs=1e-12)
    for key in ("sad", "mse", "grad", "conn"):
        assert data["mean"][key] == pytest.approx(np.mean([v[key] for v in expected.values()]))
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
        evaluate.main(["--pred", "p", "--gt", "g"])
    assert info.value.code == 2
    assert "--trimap" in capsys.readouterr().err


def test_help_states_the_protocol():
    text = evaluate.build_parser().format_help()
    assert "clamped" in text and "--pred" in text and "--json" in text
