import os

import cv2
import numpy as np
import pytest
import tensorflow as tf

from keras_matting.data import tf_utils
from keras_matting.errors import MattingInputError


def _images(folder, values):
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i, v in enumerate(values):
        path = os.path.join(folder, f"{i}.png")
        cv2.imwrite(path, np.full((6, 8, 3), v, np.uint8))
        paths.append(path)
    return paths


def _stream(paths, cache):
    ds = tf.data.Dataset.from_tensor_slices(paths).map(lambda p: tf_utils.decode_image(p, 3))
    return tf_utils.cache_stream(ds, cache, paths, 3, "foregrounds")


def _values(ds):
    return [int(x.numpy()[0, 0, 0]) for x in ds]


def test_file_cache_decodes_once_and_notices_changed_files(tmp_path):
    paths = _images(tmp_path / "fg", [10, 20, 30])
    cache = tmp_path / "cache"
    assert _values(_stream(paths, str(cache))) == [10, 20, 30]
    assert any(name.endswith(".index") for name in os.listdir(cache))
    # same size and modification time, other pixels: the cache is what is read
    st = os.stat(paths[1])
    cv2.imwrite(paths[1], np.full((6, 8, 3), 99, np.uint8))
    os.utime(paths[1], ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(paths[1]).st_size == st.st_size
    assert _values(_stream(paths, str(cache))) == [10, 20, 30]
    # a changed modification time names another cache: decoded anew
    os.utime(paths[1], ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert _values(_stream(paths, str(cache))) == [10, 99, 30]


def test_stale_lockfile_is_one_line(tmp_path):
    paths = _images(tmp_path / "fg", [1, 2])
    cache = tmp_path / "cache"
    ds = _stream(paths, str(cache))
    it = iter(ds)
    next(it)  # the writer holds its lock until the pass is complete
    locks = [n for n in os.listdir(cache) if n.endswith(".lockfile")]
    assert locks
    with pytest.raises(MattingInputError) as info:
        _stream(paths, str(cache))
    message = str(info.value)
    assert "\n" not in message and locks[0] in message and "delete" in message


def test_auto_cache_says_when_the_data_do_not_fit(tmp_path, monkeypatch, capsys):
    paths = _images(tmp_path / "fg", [5, 6])
    assert tf_utils.memory_cache_limit() >= tf_utils.DEFAULT_CACHE_BYTES
    ds = _stream(paths, "auto")
    assert "note" not in capsys.readouterr().out
    assert type(ds).__name__ == "CacheDataset"
    monkeypatch.setattr(tf_utils, "memory_cache_limit", lambda: 100)  # 2 x 144 bytes
    ds = _stream(paths, "auto")
    out = capsys.readouterr().out
    assert type(ds).__name__ != "CacheDataset"
    assert out.count("\n") == 1 and "foregrounds" in out and "--cache DIR" in out
    assert _values(ds) == [5, 6]


def test_cache_argument_is_checked(tmp_path):
    paths = _images(tmp_path / "fg", [5])
    with pytest.raises(MattingInputError, match="cache=3"):
        _stream(paths, 3)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(MattingInputError, match="cannot create the cache folder"):
        _stream(paths, str(blocker / "sub"))
