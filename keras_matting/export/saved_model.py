"""SavedModel export for TensorFlow Serving (``keras.export.ExportArchive``).

Signatures (inputs of any batch, height and width; padding to the network stride and
cropping back happen inside, see :mod:`keras_matting.export.serving`):

| signature | inputs | output |
|---|---|---|
| ``serving_default`` | ``image`` float32 ``(N, H, W, 3)`` RGB in [0, 1]; ``trimap`` (AlphaGAN, {0, 0.5, 1}) or ``mask`` (IGF, {0, 1}) float32 ``(N, H, W, 1)`` | ``alpha`` float32 ``(N, H, W, 1)`` in [0, 1] |
| ``serving_uint8`` | ``image`` uint8 ``(N, H, W, 3)`` 0-255; ``trimap`` uint8 (< 85 background, > 170 foreground, else unknown) or ``mask`` uint8 (> 127 foreground) ``(N, H, W, 1)`` | ``alpha`` float32 ``(N, H, W, 1)`` in [0, 1] |

Float32 is the default because it is what the Python API and the other formats take;
``serving_uint8`` takes decoded 8-bit images as they are (4x smaller request tensors).
"""

import os
import shutil
import tempfile

from keras_matting.errors import MattingInputError
from keras_matting.tempfiles import apply_umask, remove_stale_temporaries

__all__ = ["export_saved_model"]


def _build_archive(generator):
    import keras
    import tensorflow as tf

    from keras_matting.export.serving import (
        condition_name,
        float32_generator,
        padded_alpha,
        serving_specs,
        uint8_to_condition,
    )

    generator = float32_generator(generator)
    name = condition_name(generator)

    def serve(image, condition):
        return {"alpha": padded_alpha(generator, image, condition, robust=True)}

    def serve_uint8(image, condition):
        image = tf.cast(image, tf.float32) / 255.0
        alpha = padded_alpha(generator, image, uint8_to_condition(condition, name), robust=True)
        return {"alpha": alpha}

    archive = keras.export.ExportArchive()
    archive.track(generator)
    archive.add_endpoint("serving_default", serve, serving_specs(generator))
    archive.add_endpoint("serving_uint8", serve_uint8, serving_specs(generator, dtype="uint8"))
    return archive


def replace_directory(tmp_dir, path):
    """Move the finished directory ``tmp_dir`` to ``path``, replacing what was there.

    ``os.replace`` cannot replace a non-empty directory: an existing ``path`` is first
    renamed aside, then removed, so ``path`` is never a half-written export.
    """
    old = None
    if os.path.lexists(path):
        if not os.path.isdir(path) or os.path.islink(path):
            raise MattingInputError(
                f"cannot write SavedModel '{path}': a file is in the way; choose another --out"
            )
        old = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.old-",
                               dir=os.path.dirname(path))
        os.rmdir(old)
        os.replace(path, old)
    os.replace(tmp_dir, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def export_saved_model(generator, path):
    """Write ``generator`` as a SavedModel directory at ``path`` (atomically).

    The directory gets the permissions of a plain ``mkdir`` (the umask's), and stale
    temporaries of earlier, killed exports into the same folder are removed
    (:func:`keras_matting.tempfiles.remove_stale_temporaries`).

    Args:
        generator: an ``AlphaGANGenerator`` or ``IGFGenerator``.
        path: output directory (replaced if it exists).

    Returns:
        ``path``.

    Example:
        >>> export_saved_model(keras_matting.load("model.keras"), "igf_savedmodel")
        >>> fn = tf.saved_model.load("igf_savedmodel").signatures["serving_default"]
        >>> fn(image=image, mask=mask)["alpha"]
    """
    path = os.path.abspath(os.fspath(path))
    parent = os.path.dirname(path)
    try:
        os.makedirs(parent, exist_ok=True)
        remove_stale_temporaries(parent)
        tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.tmp-", dir=parent)
        apply_umask(tmp)  # mkdtemp makes it 0700: others could not read the export
    except OSError as exc:
        raise MattingInputError(
            f"cannot write '{path}': {exc.strerror or exc}; choose a writable --out"
        ) from None
    try:
        _build_archive(generator).write_out(tmp, verbose=False)
        replace_directory(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path
