import os

import numpy as np
import pytest

from keras_matting.cli import export
from keras_matting.cli.main import main as keras_matting_main
from tests.export.conftest import IGF_TINY


@pytest.fixture(scope="module")
def tiny_igf_path(tmp_path_factory):
    from keras_matting.models.igf import IGFGenerator

    path = tmp_path_factory.mktemp("model") / "igf.keras"
    IGFGenerator(**IGF_TINY).save(path)
    return str(path)


@pytest.mark.parametrize("extra,message", [
    (["--format", "onnx", "--quantize", "int8", "--out", "m.onnx"], "--quantize int8"),
    (["--format", "tflite", "--size", "big", "--out", "m.tflite"], "is not HxW"),
    (["--format", "saved_model", "--size", "64x64", "--out", "m"], "--size applies"),
    (["--format", "tflite", "--out", "m.onnx"], "must end in .tflite"),
])
def test_bad_arguments_exit_2_with_one_line(tiny_igf_path, capsys, extra, message):
    assert keras_matting_main(["export", "--model", tiny_igf_path, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


def test_missing_model_and_untrained_shipped_model_exit_2(tmp_path, capsys, monkeypatch):
    from keras_matting.models import registry

    out = str(tmp_path / "m.tflite")
    assert keras_matting_main(["export", "--model", str(tmp_path / "none.keras"),
                               "--format", "tflite", "--out", out]) == 2
    assert "neither a known name" in capsys.readouterr().err
    # an install without the shipped model: the message points at --random-weights
    monkeypatch.setattr(registry, "SAVED_MODELS_DIR", str(tmp_path / "no_models"))
    code = keras_matting_main(["export", "--model", "igf", "--format", "tflite", "--out", out])
    assert code == 2 and "--random-weights" in capsys.readouterr().err
    assert not os.path.exists(out)


@pytest.mark.slow
def test_export_fixed_tflite_runs(tiny_igf_path, tmp_path, capsys):
    from keras_matting.export.tflite_runner import TFLiteRunner

    out = tmp_path / "sub" / "igf_64.tflite"
    out.parent.mkdir()
    left = out.parent / ".igf_64.tmp-0123abcd.tflite"  # what a killed export left, hours ago
    left.write_bytes(b"TFL3")
    os.utime(left, (0, 0))
    assert export.main(["--model", tiny_igf_path, "--format", "tflite", "--size", "64x96",
                        "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    assert sorted(p.name for p in out.parent.iterdir()) == ["igf_64.tflite"]  # no temp left
    runner = TFLiteRunner(str(out))
    assert runner.input_shape == (1, 64, 96, 3)
    alpha = runner(np.full((1, 64, 96, 3), 0.5, np.float32), np.ones((1, 64, 96, 1), np.float32))
    assert alpha.shape == (1, 64, 96, 1)
