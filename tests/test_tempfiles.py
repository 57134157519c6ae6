import os
import time

import pytest

from keras_matting.io import write_alpha
from keras_matting.tempfiles import (
    atomic_save,
    remove_stale_temporaries,
    temporary_path,
    write_json_atomic,
)

HOURS_AGO = time.time() - 2 * 3600


def _touch(path, data=b"x", mtime=HOURS_AGO):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))
    return path


def test_only_stale_temporaries_of_our_naming_are_removed(tmp_path):
    ours = [
        _touch(tmp_path / ".image.tmp-1a2b3c4d.png"),  # keras_matting.io.atomic_write
        _touch(tmp_path / ".best.tmp-0f0f0f0f.keras"),  # atomic_save
        _touch(tmp_path / ".tmp-ab_cd123.png"),  # procedural data (mkstemp)
    ]
    saved_model = tmp_path / ".model.tmp-x7_k2mq9"  # SavedModel export (mkdtemp)
    _touch(saved_model / "variables" / "variables.index")
    for path in (saved_model / "variables", saved_model):
        os.utime(path, (HOURS_AGO, HOURS_AGO))
    kept = [
        _touch(tmp_path / ".image.tmp-5e6f7a8b.png", mtime=time.time()),  # being written
        _touch(tmp_path / "image.png"),
        _touch(tmp_path / ".image.png"),
        _touch(tmp_path / ".image.tmp-XYZ.png"),  # not 8 hex digits
        _touch(tmp_path / "image.tmp-1a2b3c4d.png"),  # not hidden
        _touch(tmp_path / ".bashrc.tmp"),
    ]
    busy = tmp_path / ".other.tmp-q1w2e3r4"  # an old folder with a file written just now
    _touch(busy / "saved_model.pb", mtime=time.time())
    os.utime(busy, (HOURS_AGO, HOURS_AGO))
    kept.append(busy)
    target = _touch(tmp_path / "elsewhere" / "keep.png")
    os.symlink(target, tmp_path / ".link.tmp-1a2b3c4d.png")
    kept.append(tmp_path / ".link.tmp-1a2b3c4d.png")
    nested = _touch(tmp_path / "sub" / ".deep.tmp-1a2b3c4d.png")  # only the folder given
    kept.append(nested)

    removed = remove_stale_temporaries(tmp_path)
    assert removed == sorted(str(p) for p in [*ours, saved_model])
    assert not any(os.path.lexists(p) for p in [*ours, saved_model])
    assert all(os.path.lexists(p) for p in kept)
    assert target.exists()
    assert remove_stale_temporaries(tmp_path / "missing") == []


def test_what_a_killed_write_alpha_leaves_matches(tmp_path, monkeypatch):
    import keras_matting.io as kio

    def killed(src, dst):
        raise KeyboardInterrupt  # no cleanup can run after a real kill -9: keep the file

    monkeypatch.setattr(kio.os, "unlink", lambda path: None)
    monkeypatch.setattr(kio.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        write_alpha(tmp_path / "a.png", [[0.5]])
    monkeypatch.undo()
    (left,) = tmp_path.iterdir()
    os.utime(left, (HOURS_AGO, HOURS_AGO))
    assert remove_stale_temporaries(tmp_path) == [str(left)]


def test_atomic_save_keeps_the_old_file_when_the_save_fails(tmp_path):
    path = tmp_path / "summary.json"
    write_json_atomic(path, {"a": 1})

    def broken(tmp):
        with open(tmp, "w") as f:
            f.write('{"a": ')
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_save(path, broken)
    assert path.read_text() == '{"a": 1}'
    assert os.listdir(tmp_path) == ["summary.json"]


def test_temporary_names_keep_the_extension_keras_needs(tmp_path):
    name = os.path.basename(temporary_path(tmp_path / "best.keras"))
    assert name.startswith(".best.tmp-") and name.endswith(".keras")
    name = os.path.basename(temporary_path(tmp_path / "last.weights.h5"))
    assert name.startswith(".last.tmp-") and name.endswith(".weights.h5")
