import os

import pytest

from keras_matting.cli import synth
from keras_matting.cli.main import main as cli_main


def test_writes_layout(tmp_path, capsys):
    out = tmp_path / "set"
    (out / "fg").mkdir(parents=True)
    left = out / "fg" / ".tmp-ab12cd_4.png"  # what a run killed hours ago left
    left.write_bytes(b"\x89PNG")
    os.utime(left, (0, 0))
    code = synth.main(
        [
            "--out",
            str(out),
            "--count",
            "3",
            "--size",
            "40",
            "--seed",
            "2",
            "--workers",
            "1",
            "--no-progress",
        ]
    )
    assert code == 0
    assert sorted(os.listdir(out / "fg")) == ["00000.png", "00001.png", "00002.png"]
    assert sorted(os.listdir(out / "alpha")) == sorted(os.listdir(out / "fg"))
    assert "samples/s" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args",
    [
        ["--count", "0", "--size", "64"],
        ["--count", "2", "--size", "8"],
        ["--count", "x", "--size", "64"],
        ["--count", "2"],
        ["--count", "2", "--size", "64", "--textures", "{tmp}/missing"],
    ],
)
def test_bad_arguments_exit_2(tmp_path, args):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert cli_main(["synth", "--out", str(tmp_path / "o"), *args]) == 2
    assert not os.path.exists(tmp_path / "o" / "fg" / "00000.png")
