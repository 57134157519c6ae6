"""Atomic writes through hidden temporary files, and removal of the ones a kill left behind.

Every file this package writes goes first to a hidden temporary next to it, which then
replaces the destination with ``os.replace``: a reader (or a run killed in the middle)
sees the old file or the new one, never half of one. The temporary names are:

| writer | temporary |
|---|---|
| :func:`keras_matting.io.atomic_write`, :func:`atomic_save` | ``.NAME.tmp-1a2b3c4d.EXT`` (8 hex digits) |
| SavedModel export (``tempfile.mkdtemp``) | directories ``.NAME.tmp-XXXXXXXX``, ``.NAME.old-XXXXXXXX`` |
| procedural data of earlier versions (``tempfile.mkstemp``) | ``.tmp-XXXXXXXX.png`` |

A ``kill -9`` leaves such a temporary behind; :func:`remove_stale_temporaries` removes,
in one folder, those that match these names exactly and have not been modified for
:data:`STALE_AFTER_S` seconds (a live writer keeps modifying its temporary; the names
carry no process id, so age is the only safe sign).
"""

import contextlib
import json
import os
import re
import secrets
import shutil
import time

__all__ = [
    "STALE_AFTER_S",
    "apply_umask",
    "atomic_save",
    "current_umask",
    "file_sha256",
    "remove_stale_temporaries",
    "temporary_path",
    "write_bytes_atomic",
    "write_json_atomic",
]

STALE_AFTER_S = 3600

_STALE_FILE = re.compile(r"\..+\.tmp-[0-9a-f]{8}(\.[A-Za-z0-9]+)*|\.tmp-[a-z0-9_]{8}\.png")
_STALE_DIR = re.compile(r"\..+\.(tmp|old)-[a-z0-9_]{8}")
_COMPOUND_SUFFIXES = (".weights.h5",)  # Keras requires the whole suffix on save_weights


def temporary_path(path):
    """A hidden, unused name next to ``path`` that keeps its extension:
    ``dir/.best.tmp-1a2b3c4d.keras`` for ``dir/best.keras``."""
    path = os.fspath(path)
    folder, name = os.path.split(path)
    ext = next((s for s in _COMPOUND_SUFFIXES if name.endswith(s)), None)
    stem, ext = (name[: -len(ext)], ext) if ext else os.path.splitext(name)
    while True:
        candidate = os.path.join(folder, f".{stem}.tmp-{secrets.token_hex(4)}{ext}")
        if not os.path.lexists(candidate):
            return candidate


def _fsync(path, directory=False):
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        if directory:  # some systems cannot open a directory: the rename still happened
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


def atomic_save(path, save):
    """Write ``path`` atomically with ``save(tmp)``, a function that writes a file.

    ``save`` writes a temporary from :func:`temporary_path` (same folder, same
    extension, e.g. ``model.save``); it is flushed to disk (``fsync``) and then
    replaces ``path`` (``os.replace``). If ``save`` fails, the temporary is removed
    and ``path`` is left as it was.

    Returns:
        ``path``.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = temporary_path(path)
    try:
        save(tmp)
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync(folder, directory=True)
    return path


def write_bytes_atomic(path, data):
    """``data`` (bytes) to ``path`` atomically; the file is created as by a plain
    ``open`` (the umask applies)."""

    def save(tmp):
        with open(tmp, "xb") as f:
            f.write(data)

    return atomic_save(path, save)


def write_json_atomic(path, data, **kwargs):
    """``json.dump(data)`` to ``path`` atomically (``kwargs`` go to ``json.dump``)."""

    def save(tmp):
        with open(tmp, "w") as f:
            json.dump(data, f, **kwargs)

    return atomic_save(path, save)


def file_sha256(path):
    """Hex SHA-256 of the file at ``path``."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def current_umask():
    """The process umask (read without changing it where ``/proc`` allows)."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def apply_umask(path, mode=0o777):
    """Give ``path`` the permissions a plain ``mkdir``/``open`` would: ``mode & ~umask``.

    For what ``tempfile.mkdtemp``/``mkstemp`` created (always 0700/0600) and is kept.
    """
    os.chmod(path, mode & ~current_umask())


def _newest_mtime(path):
    newest = os.lstat(path).st_mtime
    if os.path.isdir(path) and not os.path.islink(path):
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                with contextlib.suppress(OSError):
                    newest = max(newest, os.lstat(os.path.join(root, name)).st_mtime)
    return newest


def remove_stale_temporaries(folder, older_than=STALE_AFTER_S, now=None):
    """Remove this package's temporaries in ``folder`` (not below it) that a killed run left.

    Only names of the table in the module docstring are touched, only when neither they
    nor anything in them changed for ``older_than`` seconds, and never through a symbolic
    link. Errors (a file removed meanwhile, no permission) are ignored.

    Returns:
        The sorted paths removed.
    """
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        try:
            if entry.is_symlink():
                continue
            if entry.is_file():
                if not _STALE_FILE.fullmatch(entry.name):
                    continue
                if now - entry.stat().st_mtime < older_than:
                    continue
                os.unlink(entry.path)
            elif entry.is_dir():
                if not _STALE_DIR.fullmatch(entry.name):
                    continue
                if now - _newest_mtime(entry.path) < older_than:
                    continue
                shutil.rmtree(entry.path)
            else:
                continue
        except OSError:
            continue
        removed.append(entry.path)
    return sorted(removed)
