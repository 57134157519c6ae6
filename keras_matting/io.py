"""Reading and writing images, trimaps, masks and alpha mattes.

Readers take a path (``str`` or ``os.PathLike``) or a numpy array, so the Python API
accepts either. Files are decoded with OpenCV (``IMREAD_UNCHANGED``: 8- or 16-bit,
gray, RGB or RGBA; PNG, JPEG, TIFF, WebP, BMP) and converted from OpenCV's BGR order
to RGB; arrays are taken as RGB(A). Integer data is scaled by its full range (255 for
``uint8``, 65535 for ``uint16``); float arrays must already lie in [0, 1].

Every file (image, trimap, mask, alpha, background) is turned upright as photo viewers
show it: the EXIF orientation tag (1-8; JPEG APP1, PNG ``eXIf``, WebP ``EXIF``, TIFF
IFD0; read with Pillow) is applied after decoding, since ``IMREAD_UNCHANGED`` (needed
for 16-bit data and alpha channels) ignores it. A phone's portrait JPEG stored sideways with tag 6 is
read portrait, so masks drawn on it as shown match, and outputs (written without a tag)
are upright. A truncated or corrupt PNG / JPEG is refused before it reaches the decoder.

Writers quantise with ``floor(x * (2**bits - 1) + 0.5)`` (round half up, as MATLAB's
``imwrite`` does for the reference evaluation code) and write atomically: the data go
to a hidden temporary file in the destination folder that keeps the real extension
(``.name.tmp-1a2b3c4d.png``), which then replaces the destination with ``os.replace``.
A failed write removes the temporary file and leaves any existing destination intact.

Bad input raises :class:`keras_matting.errors.MattingInputError` with a one-line message.
"""

import os
import warnings
import zlib

import cv2
import numpy as np

from keras_matting.errors import MattingInputError
from keras_matting.protocol import TRIMAP_BACKGROUND_BELOW, TRIMAP_FOREGROUND_ABOVE

__all__ = [
    "atomic_write",
    "quantize",
    "read_alpha",
    "read_image",
    "read_mask",
    "read_trimap",
    "write_alpha",
    "write_cutout",
    "write_image",
]

_FLOAT_TOLERANCE = 1e-3  # float inputs may overshoot [0, 1] by rounding; clipped


# --------------------------------------------------------------------------- reading


def _name(source):
    return "<array>" if isinstance(source, np.ndarray) else f"'{os.fspath(source)}'"


def _format(data):
    """``"PNG"``, ``"JPEG"``, ``"TIFF"``, ``"WebP"``, ``"BMP"`` from the magic bytes, or None."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:4] in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"):
        return "TIFF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    if data[:2] == b"BM":
        return "BMP"
    return None


def _jpeg_segments(data):
    """``(marker, start, end)`` of the JPEG header segments up to the first scan (SOS)."""
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9:  # end of image
            return
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            i += 2
            continue
        end = i + 2 + int.from_bytes(data[i + 2 : i + 4], "big")
        yield marker, i + 4, end
        if marker == 0xDA:  # start of scan: the header ends here
            return
        i = end


def _damage(data, kind):
    """What is structurally wrong with a PNG or JPEG file ('' if nothing seen).

    Checked before decoding so a truncated file gives our one line instead of the
    decoder's stderr noise (libpng prints "libpng error: ..."), or, with some libjpeg
    versions, a grey-filled image that decodes "successfully".
    """
    if kind == "PNG":
        view, i = memoryview(data), 8
        while True:
            if i + 12 > len(data):
                return "it is truncated (it ends before its IEND chunk)"
            length = int.from_bytes(view[i : i + 4], "big")
            if i + 12 + length > len(data):
                return "it is truncated (it ends inside a chunk)"
            crc = int.from_bytes(view[i + 8 + length : i + 12 + length], "big")
            critical = not view[i + 4] & 0x20  # IHDR, PLTE, IDAT, IEND (libpng skips others)
            if critical and zlib.crc32(view[i + 4 : i + 8 + length]) != crc:
                chunk = bytes(view[i + 4 : i + 8]).decode("latin-1")
                return f"its {chunk} chunk is corrupt (bad checksum)"
            if view[i + 4 : i + 8] == b"IEND":
                return ""
            i += 12 + length
    if kind == "JPEG":
        scan = None
        for marker, _start, end in _jpeg_segments(data):
            if end > len(data):
                return "it is truncated (it ends inside its header)"
            if marker == 0xDA:
                scan = end
        if scan is None:
            return "it is truncated (it ends before its image data)"
        if data.find(b"\xff\xd9", scan) < 0:
            return "it is truncated (no end-of-image marker after its image data)"
    return ""


def _orientation(data):
    """EXIF orientation (1..8) of an encoded image file; 1 when absent or unreadable.

    Pillow reads the tag from JPEG (APP1), PNG (``eXIf``), WebP (``EXIF``) and TIFF
    headers without decoding the pixels.
    """
    import io as _bytes_io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(_bytes_io.BytesIO(data)) as image:
            value = int(image.getexif().get(0x0112, 1))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return 1
    return value if 1 <= value <= 8 else 1


def _orient(array, orientation):
    """Apply EXIF orientation ``orientation`` (1..8) to decoded pixels (rows, columns, ...)."""
    if orientation == 2:
        return array[:, ::-1]  # mirrored
    if orientation == 3:
        return array[::-1, ::-1]  # upside down
    if orientation == 4:
        return array[::-1]
    if orientation == 5:
        return array.swapaxes(0, 1)  # transposed
    if orientation == 6:
        return np.rot90(array, -1)  # stored sideways: rotate 90 degrees clockwise
    if orientation == 7:
        return np.rot90(array, -1)[::-1]
    if orientation == 8:
        return np.rot90(array, 1)  # rotate 90 degrees counter-clockwise
    return array


def _load(source, what):
    """Return ``(array, name)``: the raw pixels in RGB(A) channel order and a display name."""
    if isinstance(source, np.ndarray):
        if source.size == 0:
            raise MattingInputError(f"{what} array is empty (shape {source.shape}): pass an image")
        return source, "<array>"
    if not isinstance(source, (str, bytes, os.PathLike)):
        raise MattingInputError(
            f"{what} must be a file path or a numpy array, not {type(source).__name__}"
        )
    path = os.fspath(source)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    name = f"'{path}'"
    if not os.path.exists(path):
        raise MattingInputError(f"{what} file {name} does not exist: check the path")
    if os.path.isdir(path):
        raise MattingInputError(f"{what} path {name} is a folder: pass an image file")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise MattingInputError(
            f"cannot read {what} file {name}: {exc.strerror or exc}; check its permissions"
        ) from None
    if not data:
        raise MattingInputError(f"{what} file {name} is empty (0 bytes): re-export it")
    kind = _format(data)
    damage = _damage(data, kind)
    if damage:
        raise MattingInputError(
            f"cannot decode {what} file {name}: it is a {kind} file but {damage}; "
            "re-export or re-download it"
        )
    # imdecode on the bytes (same decoders as cv2.imread) also handles non-ASCII paths
    # and avoids OpenCV's own stderr warnings for unreadable files.
    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None or array.size == 0:
        if kind is not None:
            raise MattingInputError(
                f"cannot decode {what} file {name}: its {kind} data is corrupt or in a "
                f"variant OpenCV does not read; re-export it (e.g. as an 8-bit PNG)"
            )
        raise MattingInputError(
            f"cannot decode {what} file {name}: it is not a PNG, JPEG, TIFF, WebP or BMP "
            "image; convert it to PNG"
        )
    array = _orient(array, _orientation(data))
    if array.ndim == 3 and array.shape[2] == 3:
        array = array[..., ::-1]
    elif array.ndim == 3 and array.shape[2] == 4:
        array = array[..., [2, 1, 0, 3]]
    return np.ascontiguousarray(array), name


def _full_scale(array, what, name):
    """Return ``(values, max)``: exact values (int64 or float64) and their full-scale value."""
    if array.dtype == np.bool_:
        return array.astype(np.int64), 1
    if array.dtype == np.uint8:
        return array.astype(np.int64), 255
    if array.dtype == np.uint16:
        return array.astype(np.int64), 65535
    if np.issubdtype(array.dtype, np.floating):
        values = array.astype(np.float64)
        if not np.all(np.isfinite(values)):
            raise MattingInputError(f"{what} {name} contains NaN or infinite values")
        low, high = float(values.min()), float(values.max())
        if low < -_FLOAT_TOLERANCE or high > 1 + _FLOAT_TOLERANCE:
            raise MattingInputError(
                f"{what} {name} has float values in [{low:g}, {high:g}]: float data must lie "
                "in [0, 1] (divide 8-bit data by 255)"
            )
        return np.clip(values, 0.0, 1.0), 1.0
    raise MattingInputError(
        f"{what} {name} has unsupported dtype {array.dtype}: use uint8, uint16 or float in [0, 1]"
    )


def _single_channel(array, what, name):
    """Gray data from HxW, HxWx1 or the first (red / gray) channel of HxWxC."""
    if array.ndim == 2:
        return array
    if array.ndim == 3 and 1 <= array.shape[2] <= 4:
        return array[..., 0]
    raise MattingInputError(
        f"{what} {name} has shape {array.shape}: expected height x width (x channels)"
    )


def _varying_alpha(array):
    """Whether ``array`` is gray + alpha or RGBA with an alpha channel that is not constant."""
    return (
        array.ndim == 3
        and array.shape[2] in (2, 4)
        and array[..., -1].min() != array[..., -1].max()
    )


def _hw(shape):
    return f"{shape[1]}x{shape[0]}"


def _check_size(shape, image_shape, what, name, image_path):
    if image_shape is None or tuple(shape[:2]) == tuple(image_shape[:2]):
        return
    image_name = "the image" if image_path is None else f"image {_name(image_path)}"
    raise MattingInputError(
        f"{what} {name} is {_hw(shape)} (width x height) but {image_name} is "
        f"{_hw(image_shape)}: use the {what} made for this image, or resize it to "
        f"{_hw(image_shape)} with nearest-neighbour interpolation"
    )


def read_image(path, what="image"):
    """Read an RGB image as float32 ``(height, width, 3)`` in [0, 1].

    Gray images are replicated to three channels. The alpha channel of an RGBA (or
    gray + alpha) image is dropped; a ``UserWarning`` says so when it is not fully
    opaque (an opaque alpha carries no information). Files are turned upright by their
    EXIF orientation (see the module docstring).

    Args:
        path: file path, or a numpy array (``uint8``, ``uint16``, ``bool`` or float in
            [0, 1]; HxW, HxWx1, HxWx3 RGB or HxWx4 RGBA).
        what: what the image is, for messages (``"image"``, ``"background"``, ...).

    Returns:
        ``np.ndarray`` float32 of shape ``(height, width, 3)``.

    Raises:
        MattingInputError: missing, empty or undecodable file; unsupported array.
    """
    array, name = _load(path, what)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise MattingInputError(
            f"{what} {name} has shape {array.shape}: expected height x width (x 1, 3 or 4 channels)"
        )
    values, full = _full_scale(array, what, name)
    if values.shape[2] in (2, 4):
        if np.any(values[..., -1] < full):
            warnings.warn(
                f"{what} {name} has a transparent alpha channel; it is ignored (RGB only)",
                UserWarning,
                stacklevel=2,
            )
        values = values[..., :-1]
    if values.shape[2] == 1:
        values = np.repeat(values, 3, axis=2)
    return (values / full).astype(np.float32)


def read_trimap(path, image_shape=None, image_path=None):
    """Read a trimap as uint8 ``(height, width)`` with values exactly {0, 128, 255}.

    Values are mapped to three classes on the 0..255 scale (16-bit data divided by 257,
    float data multiplied by 255): ``v < 85`` -> 0 (background), ``v > 170`` -> 255
    (foreground), ``85 <= v <= 170`` -> 128 (unknown). An RGB(A) trimap uses its first
    (red) channel when it is opaque (its alpha, if any, constant). When the alpha varies:

    - one colour wherever it is visible (e.g. white with transparency): the alpha
      channel holds the trimap and is used;
    - gray colours (R = G = B; a trimap painted on a transparent layer): the gray
      composited over black (``gray * alpha``) is used, so unpainted = background;
    - other colours (a cutout of a photo): refused, as it cannot be told which
      channel holds the trimap.

    Args:
        path: file path or numpy array.
        image_shape: optional shape of the image the trimap belongs to (``(h, w)`` or
            ``(h, w, c)``); a different size raises.
        image_path: optional image path, named in the size-mismatch message.

    Returns:
        ``np.ndarray`` uint8 of shape ``(height, width)``.

    Raises:
        MattingInputError: unreadable file, size mismatch, or no unknown pixel.
    """
    array, name = _load(path, "trimap")
    if _varying_alpha(array):
        values, full = _full_scale(array, "trimap", name)
        alpha = values[..., -1]
        colours = values[..., :-1][alpha > 0]
        if np.all(colours == colours[0]):
            values = alpha  # one colour: the shape is in the alpha channel
        elif np.all(colours == colours[:, :1]):
            values, full = values[..., 0] * alpha, full * full  # gray over black
        else:
            raise MattingInputError(
                f"trimap {name} has transparent pixels and coloured (non-gray) pixels, like "
                "a cutout: it cannot be told which channel holds the trimap; save it as an "
                "opaque gray image (0 background, 128 unknown, 255 foreground)"
            )
    else:
        values, full = _full_scale(_single_channel(array, "trimap", name), "trimap", name)
    _check_size(values.shape, image_shape, "trimap", name, image_path)
    # compare v / full with 85 / 255 and 170 / 255 exactly (integer arithmetic for ints)
    scaled = values * 255
    trimap = np.full(values.shape, 128, np.uint8)
    trimap[scaled < TRIMAP_BACKGROUND_BELOW * full] = 0
    trimap[scaled > TRIMAP_FOREGROUND_ABOVE * full] = 255
    if not np.any(trimap == 128):
        image_part = "" if image_path is None else f" (image {_name(image_path)})"
        raise MattingInputError(
            f"trimap {name}{image_part} has no unknown pixel (grey, 85..170 of 255): "
            "nothing to solve; mark the uncertain band around the object in grey"
        )
    return trimap


def read_mask(path, image_shape=None, image_path=None):
    """Read a binary mask as float32 ``(height, width)`` with values in {0, 1}.

    A pixel is 1 when its value is above half the range: ``v > 127.5`` for 8-bit
    (i.e. ``v >= 128``), ``v > 32767.5`` for 16-bit, ``v > 0.5`` for float data. An
    RGB(A) mask uses its first (red) channel when it is opaque (its alpha, if any,
    constant). A mask whose alpha channel varies carries its shape there (a white image
    with transparency, a cutout PNG): the alpha channel is used, and a ``UserWarning``
    says so when the colours composited over black would give another mask (a
    cutout's colours), so the choice is never silent.

    Args:
        path: file path or numpy array.
        image_shape: optional shape of the image; a different size raises.
        image_path: optional image path, named in the size-mismatch message.

    Raises:
        MattingInputError: unreadable file or size mismatch.
    """
    array, name = _load(path, "mask")
    if _varying_alpha(array):
        values, full = _full_scale(array, "mask", name)
        _check_size(values.shape, image_shape, "mask", name, image_path)
        alpha = values[..., -1]
        mask = alpha * 2 > full
        if np.any((values[..., 0] * alpha * 2 > full * full) != mask):
            warnings.warn(
                f"mask {name} has a transparent alpha channel and colours that do not match "
                "it (a cutout?): its alpha channel is used as the mask",
                UserWarning,
                stacklevel=2,
            )
        return mask.astype(np.float32)
    values, full = _full_scale(_single_channel(array, "mask", name), "mask", name)
    _check_size(values.shape, image_shape, "mask", name, image_path)
    return (values * 2 > full).astype(np.float32)


def read_alpha(path):
    """Read an alpha matte as float32 ``(height, width)`` in [0, 1] (8- or 16-bit).

    An RGB(A) matte uses its first (red) channel when it is opaque; an RGBA image whose
    alpha channel varies (a cutout) gives its alpha channel, with a ``UserWarning``
    when its visible colours are not all one colour.

    Raises:
        MattingInputError: unreadable file or unsupported data.
    """
    array, name = _load(path, "alpha")
    if _varying_alpha(array):
        values, full = _full_scale(array, "alpha", name)
        alpha = values[..., -1]
        colours = values[..., :-1][alpha > 0]
        if not np.all(colours == colours[0]):
            warnings.warn(
                f"alpha {name} is an image with transparency and varying colours (a "
                "cutout?): its alpha channel is used as the matte",
                UserWarning,
                stacklevel=2,
            )
        return (alpha / full).astype(np.float32)
    values, full = _full_scale(_single_channel(array, "alpha", name), "alpha", name)
    return (values / full).astype(np.float32)


# --------------------------------------------------------------------------- writing


def quantize(x, bits=8):
    """Quantise data in [0, 1] to ``uint8`` / ``uint16`` with ``floor(x * max + 0.5)``.

    Values are clipped to [0, 1] first (MATLAB's ``im2uint8`` saturates and rounds half
    up the same way). Integer input is rescaled from its own full range.
    """
    if bits not in (8, 16):
        raise ValueError(f"bits must be 8 or 16, got {bits}")
    x = np.asarray(x)
    full = 255 if bits == 8 else 65535
    dtype = np.uint8 if bits == 8 else np.uint16
    if x.dtype == np.uint8 and bits == 8 or x.dtype == np.uint16 and bits == 16:
        return x.copy()
    if np.issubdtype(x.dtype, np.floating):
        if not np.all(np.isfinite(x)):
            raise MattingInputError("data to quantise contains NaN or infinite values")
        values, source_full = np.clip(x.astype(np.float64), 0.0, 1.0), 1.0
    else:
        values, source_full = _full_scale(x, "data", "<array>")
    return np.floor(values * (full / source_full) + 0.5).astype(dtype)


def atomic_write(path, data):
    """Write ``data`` (bytes or str, UTF-8) to ``path`` atomically; create parent folders.

    Returns:
        The path written, as a string.

    Raises:
        MattingInputError: the destination cannot be written.
    """
    from keras_matting.tempfiles import write_bytes_atomic

    path = os.fspath(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        return write_bytes_atomic(path, data)
    except OSError as exc:
        raise MattingInputError(
            f"cannot write '{path}': {exc.strerror or exc}; choose a writable location"
        ) from None


def _encode(path, array):
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if not ext:
        raise MattingInputError(f"output file '{os.fspath(path)}' has no extension: use .png")
    try:
        ok, buffer = cv2.imencode(ext, np.ascontiguousarray(array))
    except cv2.error:
        ok = False
    if not ok:
        raise MattingInputError(
            f"cannot encode '{os.fspath(path)}' as {ext} ({array.dtype}, "
            f"{array.shape[2] if array.ndim == 3 else 1} channels): use .png"
        )
    return buffer.tobytes()


def _gray(array, what):
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim != 2:
        raise MattingInputError(f"{what} has shape {array.shape}: expected height x width")
    return array


def _rgb(array, what):
    array = np.asarray(array)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] != 3:
        raise MattingInputError(f"{what} has shape {array.shape}: expected height x width x 3")
    return array


def write_alpha(path, alpha, bits=8):
    """Write an alpha matte (HxW, float in [0, 1] or uint8/uint16) as an 8- or 16-bit gray PNG.

    Returns:
        The path written.
    """
    if bits not in (8, 16):
        raise MattingInputError(f"alpha bit depth must be 8 or 16, got {bits}")
    return atomic_write(path, _encode(path, quantize(_gray(alpha, "alpha"), bits)))


def write_cutout(path, rgb, alpha):
    """Write an 8-bit RGBA cutout (straight, not premultiplied, alpha) to a PNG/TIFF/WebP.

    Args:
        path: destination; its extension must support transparency (``.png``).
        rgb: HxWx3 colours (float in [0, 1] or uint8/uint16).
        alpha: HxW alpha matte.

    Returns:
        The path written.
    """
    rgb = _rgb(rgb, "cutout colours")
    alpha = _gray(alpha, "cutout alpha")
    if rgb.shape[:2] != alpha.shape:
        raise MattingInputError(
            f"cutout colours are {_hw(rgb.shape)} but its alpha is {_hw(alpha.shape)}: "
            "pass the alpha computed for this image"
        )
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in (".png", ".tif", ".tiff", ".webp"):
        raise MattingInputError(
            f"cutout '{os.fspath(path)}' needs a format with transparency: use .png"
        )
    rgba = np.dstack([quantize(rgb, 8), quantize(alpha, 8)])
    return atomic_write(path, _encode(path, rgba[..., [2, 1, 0, 3]]))


def write_image(path, rgb):
    """Write an RGB image (HxWx3 or HxW, float in [0, 1] or uint8/uint16) as 8 bits.

    The format follows the extension (PNG, JPEG, TIFF, WebP, BMP).

    Returns:
        The path written.
    """
    rgb = quantize(_rgb(rgb, "image"), 8)
    return atomic_write(path, _encode(path, rgb[..., ::-1]))
