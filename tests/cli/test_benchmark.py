import pytest

from keras_matting.benchmark.runner import BACKENDS, CLASSICAL
from keras_matting.cli import benchmark
from keras_matting.cli.main import main as keras_matting_main
from tests.export.conftest import IGF_TINY


@pytest.mark.slow
def test_benchmark_prints_every_row(tmp_path, capsys):
    import keras

    from keras_matting.models.igf import IGFGenerator

    # Seeded: a few random initialisations (1 in 40 measured) give an all-zero alpha on
    # the one calibration image, hence a zero-width int8 output range that XNNPACK
    # refuses to prepare; a trained model's alpha spans [0, 1].
    keras.utils.set_random_seed(0)
    path = tmp_path / "igf.keras"
    IGFGenerator(**IGF_TINY).save(path)
    args = ["--model", str(path), "--size", "64", "--runs", "1", "--warmup", "0",
            "--calibration-count", "1", "--threads", "1"]
    assert benchmark.main(args) == 0
    out = capsys.readouterr().out
    assert "GFLOPs/image" in out and "| backend |" in out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "---" not in line]
    labels = [line.split(" | ")[0][2:] for line in rows[1:]]
    assert labels == list(BACKENDS.values()) + [CLASSICAL["mask"][1]]
    assert not any("skipped" in line for line in rows), out


def test_benchmark_bad_arguments_exit_2(capsys):
    assert keras_matting_main(["benchmark", "--model", "igf", "--skip", "gpu"]) == 2
    assert "unknown row" in capsys.readouterr().err
