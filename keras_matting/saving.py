"""Compact ``.keras`` files: float16 weights, optionally split into parts under a size cap.

The shipped AlphaGAN generator has 40.3M parameters: 161 MB as a float32 ``.keras``,
81 MB with float16 weights, still above the project's 50 MB per-file limit. So
:func:`save_compact` writes float16 weights (Keras casts them back to the variables'
float32 on load; small tensors such as BN statistics stay float32) and, when the file
is still too big, splits it into ``NAME.keras.part0``, ``NAME.keras.part1``, ...
:func:`load_compact` joins the parts into a temporary ``.keras`` and loads it with
``keras.saving.load_model`` (``safe_mode=True``).

Float16 rounding changes each weight by at most 2**-11 relative (0.05%);
``tests/test_saving.py`` checks that a reloaded generator's alphas stay within 0.02.
"""

import glob
import io
import os
import tempfile
import zipfile

import numpy as np

from keras_matting.tempfiles import write_bytes_atomic

WEIGHTS_ENTRY = "model.weights.h5"
# Tensors with fewer elements stay float32 (BN statistics, biases): they weigh nothing
# and BN moving variances can be small enough to lose precision in float16.
MIN_FLOAT16_SIZE = 4096
DEFAULT_MAX_PART_BYTES = 45 * 2**20


def part_paths(path):
    """The ``path.part0``, ``path.part1``, ... files of a split ``.keras``, in order."""
    parts = glob.glob(glob.escape(os.fspath(path)) + ".part*")
    suffix = len(os.fspath(path)) + len(".part")
    parts = [p for p in parts if p[suffix:].isdigit()]
    return sorted(parts, key=lambda p: int(p[suffix:]))


def exists(path):
    """Whether ``path`` exists as one ``.keras`` file or as its parts."""
    return os.path.isfile(path) or bool(part_paths(path))


def _float16_weights(h5_bytes):
    import h5py

    src = h5py.File(io.BytesIO(h5_bytes), "r")
    out_buffer = io.BytesIO()
    with src, h5py.File(out_buffer, "w") as dst:
        for key, value in src.attrs.items():
            dst.attrs[key] = value

        def copy(name, obj):
            if isinstance(obj, h5py.Group):
                group = dst.require_group(name)
                for key, value in obj.attrs.items():
                    group.attrs[key] = value
                return
            data = obj[()]
            if data.dtype == np.float32 and data.size >= MIN_FLOAT16_SIZE:
                data = data.astype(np.float16)
            dst.create_dataset(name, data=data)

        src.visititems(copy)
    return out_buffer.getvalue()


def save_compact(model, path, max_part_bytes=DEFAULT_MAX_PART_BYTES):
    """Save ``model`` to ``path`` (``.keras``) with float16 weights, split if too big.

    Writes ``path`` when the result fits in ``max_part_bytes``, else ``path.part0``,
    ``path.part1``, ...; removes stale parts or a stale whole file of the other form.
    Each file is written to a temporary name and renamed.

    Returns:
        The list of files written.
    """
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise ValueError(f"path must end in .keras, got {path!r}")
    with tempfile.TemporaryDirectory() as tmp:
        full = os.path.join(tmp, "model.keras")
        model.save(full)
        with zipfile.ZipFile(full) as src:
            entries = {name: src.read(name) for name in src.namelist()}
    entries[WEIGHTS_ENTRY] = _float16_weights(entries[WEIGHTS_ENTRY])
    buffer = io.BytesIO()
    # Stored, not deflated: float16 weights barely compress and loading stays fast.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as dst:
        for name, data in entries.items():
            dst.writestr(name, data)
    blob = buffer.getvalue()

    for stale in part_paths(path) + ([path] if os.path.isfile(path) else []):
        os.remove(stale)
    if len(blob) <= max_part_bytes:
        chunks, names = [blob], [path]
    else:
        chunks = [blob[i : i + max_part_bytes] for i in range(0, len(blob), max_part_bytes)]
        names = [f"{path}.part{i}" for i in range(len(chunks))]
    for name, chunk in zip(names, chunks, strict=True):
        write_bytes_atomic(name, chunk)
    return names


class ModelFileError(ValueError):
    """A ``.keras`` file (or its joined parts) that is not a complete Keras archive."""


def check_archive(path, shown=None):
    """Raise :class:`ModelFileError` unless ``path`` is a complete ``.keras`` zip archive.

    Keras reports a truncated archive as "File not found"; this check reads every
    entry (CRC) first so the message says what is wrong. ``shown``: the name to report.
    """
    shown = shown or path
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
            names = set(archive.namelist())
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise ModelFileError(
            f"'{shown}' is truncated or corrupt: not a complete .keras (zip) archive ({exc})"
        ) from None
    if bad is not None:
        raise ModelFileError(f"'{shown}' is corrupt: its entry {bad!r} fails its checksum")
    if "config.json" not in names:
        raise ModelFileError(f"'{shown}' is a zip archive but not a Keras model (no config.json)")


def load_compact(path, **kwargs):
    """``keras.saving.load_model`` for a ``.keras`` file or its ``.partN`` pieces.

    ``kwargs`` go to ``load_model`` (``compile``, ``safe_mode``, ...).

    Raises:
        ModelFileError: the file (or the joined parts) is not a complete ``.keras`` archive.
    """
    import keras

    path = os.fspath(path)
    if os.path.isfile(path):
        check_archive(path)
        return keras.saving.load_model(path, **kwargs)
    parts = part_paths(path)
    if not parts:
        raise FileNotFoundError(f"{path} (nor {path}.part0, ...) does not exist")
    with tempfile.TemporaryDirectory() as tmp:
        joined = os.path.join(tmp, os.path.basename(path))
        with open(joined, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    out.write(f.read())
        check_archive(joined, f"{path}.part0..part{len(parts) - 1}")
        return keras.saving.load_model(joined, **kwargs)
