"""Foreground colour estimation: the colours ``F`` of ``I = alpha F + (1 - alpha) B``.

Three methods:

- ``"blur-fusion"``: Forte & Pitie 2021, "Approximate Fast Foreground Colour
  Estimation" (ICIP 2021), the "x2" variant, in numpy/OpenCV: F and B are the
  alpha-weighted (resp. ``1 - alpha``-weighted) box means of the previous estimate, plus
  the compositing residual ``I - alpha F_mean - (1 - alpha) B_mean`` scaled by ``alpha``
  (resp. ``1 - alpha``); a 90 px pass from ``F = B = I``, then a 6 px pass. Box filters
  only: no JIT, no tracing, linear in the pixel count.
- ``"pymatting"``: ``pymatting.estimate_foreground_ml``, Germer et al. 2020, "Fast
  multi-level foreground estimation" (ICPR 2020): a coarse-to-fine pyramid where each
  pixel solves the 2x2 least-squares system of the compositing equation plus a
  smoothness term towards its 4 neighbours (numba, in-place Gauss-Seidel sweeps). Optional
  dependency (``pip install "keras-matting[baselines]"``); numba compiles it when
  ``pymatting`` is first imported with an empty cache (~45 s), announced on stderr.
- ``"tensorflow"``: this module's vectorised TensorFlow port of the same multi-level
  algorithm (Jacobi updates, as pymatting's GPU versions): no extra dependency.

Decision, measured with ``benchmarks/foreground_estimation.py`` on 2 shared cores (AMD
Zen 4 EPYC, a training job running at low priority). Seconds: "first" = first call in a
fresh process (numba's cached-JIT load, TF's tracing, first-touch memory), "warm" = median
of 3 further calls, "cold" = first call with an empty numba cache (a fresh install).
Errors: "synthetic" = mean |F - F_true| where alpha > 0.05 on a composite of smooth
random colour fields with a soft disc alpha (680x440); "real-alpha" = the same where
0.05 < alpha < 1 on alphamatting_val's 14 ground-truth mattes, compositing photo k over
photo k+1 (real hair/fur mattes and textures, known F); "recon" = mean
|alpha F + (1 - alpha) B - I| over 0 < alpha < 1 on the real photos with their true alpha
(a sanity check only: F = B = I scores 0):

| method | 680x440 first | warm | 2000x1500 first | warm | cold | synthetic | real-alpha | recon |
|---|---|---|---|---|---|---|---|---|
| blur-fusion | 0.03 | 0.03 | 2.13 | 0.30 | - | 0.0681 | 0.0672 | 0.0063 |
| pymatting (numba) | 1.32 | 0.09 | 1.87 | 0.85 | 48.1 | 0.0547 | 0.0685 | 0.0065 |
| tensorflow | 3.86 | 0.08 | 9.30 | 0.92 | - | 0.0608 | 0.0733 | 0.0088 |

Criterion: ``"auto"`` takes the fastest method whose real-alpha F error is within 10%
of the best one's (real mattes are what users pass; the smooth synthetic scene favours
the smoothness prior of the multi-level solvers). ``"auto"`` (the default) uses
blur-fusion: the lowest real-alpha error (0.0672 vs 0.0685 pymatting, 0.0733 TF), ~3x
faster warm at 2000x1500 than pymatting, no dependency beyond OpenCV and no 48 s numba
compile on a fresh install. It is 25% worse than pymatting on the synthetic scene
(0.068 vs 0.055), and on very small images its 90 px box covers the whole image (the
first pass is then global means); pass ``method="pymatting"`` for the multi-level
solver.
"""

import glob
import importlib.util
import os
import sys

import cv2
import numpy as np

from keras_matting.errors import MattingInputError

__all__ = ["estimate_foreground", "estimate_foreground_blur_fusion", "estimate_foreground_tf"]

#: What ``method="auto"`` runs (chosen by the measurements in the module docstring).
AUTO_METHOD = "blur-fusion"
#: Box sizes of the two blur-fusion passes (Forte & Pitie 2021, "x2").
BLUR_FUSION_SIZES = (90, 6)

REGULARIZATION = 1e-5
GRADIENT_WEIGHT = 1.0
SMALL_SIZE = 32
SMALL_ITERATIONS = 10
BIG_ITERATIONS = 2


def _check(image, alpha):
    image = np.asarray(image, np.float32)
    alpha = np.asarray(alpha, np.float32)
    if alpha.ndim == 3 and alpha.shape[2] == 1:
        alpha = alpha[..., 0]
    if image.ndim != 3 or image.shape[2] != 3:
        raise MattingInputError(f"image has shape {image.shape}: expected height x width x 3")
    if alpha.shape != image.shape[:2]:
        raise MattingInputError(
            f"alpha is {alpha.shape[1]}x{alpha.shape[0]} but the image is "
            f"{image.shape[1]}x{image.shape[0]} (width x height): pass the alpha of this image"
        )
    return np.ascontiguousarray(image), np.ascontiguousarray(np.clip(alpha, 0.0, 1.0))


def estimate_foreground(image, alpha, method="auto"):
    """Estimate the foreground colours of ``image`` given its alpha matte.

    Args:
        image: RGB float ``(H, W, 3)`` in [0, 1].
        alpha: ``(H, W)`` or ``(H, W, 1)`` in [0, 1].
        method: ``"auto"`` (see ``AUTO_METHOD``), ``"blur-fusion"``, ``"pymatting"`` or
            ``"tensorflow"``. See the module docstring for the measurements.

    Returns:
        float32 ``(H, W, 3)`` foreground colours in [0, 1].
    """
    image, alpha = _check(image, alpha)
    if alpha.size == 1:  # one pixel (pymatting divides by zero): F = B = I solves I = aF + (1-a)B
        return image.copy()
    if method == "auto":
        method = AUTO_METHOD
    if method == "blur-fusion":
        return estimate_foreground_blur_fusion(image, alpha)
    if method == "pymatting":
        if importlib.util.find_spec("pymatting") is None:
            raise MattingInputError(
                'foreground estimation with pymatting needs: pip install "keras-matting[baselines]"'
            )
        _announce_numba_compile()
        from pymatting import estimate_foreground_ml

        return np.asarray(estimate_foreground_ml(image, alpha), np.float32)
    if method == "tensorflow":
        return estimate_foreground_tf(image, alpha)
    raise ValueError(
        f"method must be 'auto', 'blur-fusion', 'pymatting' or 'tensorflow', got {method!r}"
    )


NUMBA_MESSAGE = (
    "keras-matting: compiling pymatting's foreground estimator (numba; first run only, ~40 s)"
)
_ANNOUNCED = False


def _numba_cache_is_empty():
    """True when no numba cache index of pymatting's ``_estimate_fb_ml`` is found.

    pymatting compiles it eagerly (explicit signature, ``cache=True``) when
    ``pymatting`` is imported; numba keeps the cache in the module's ``__pycache__``, or
    under ``NUMBA_CACHE_DIR`` / the user-wide cache when that is not writable. A found
    but stale index (other numba or CPU) still recompiles: not detected.
    """
    if os.environ.get("NUMBA_CACHE_DIR"):  # numba then caches only there
        places = [os.environ["NUMBA_CACHE_DIR"]]
    else:
        spec = importlib.util.find_spec("pymatting")
        locations = (spec.submodule_search_locations or []) if spec is not None else []
        places = [os.path.join(loc, "foreground", "__pycache__") for loc in locations]
        places.append(os.path.join(os.path.expanduser("~"), ".cache", "numba"))
    for place in places:
        if place and os.path.isdir(place):
            pattern = os.path.join(place, "**", "estimate_foreground_ml._estimate_fb_ml-*.nbi")
            if glob.glob(pattern, recursive=True):
                return False
    return True


def _announce_numba_compile():
    """Once per process, before pymatting's first import, say why the wait when numba
    has to compile (its cache is empty)."""
    global _ANNOUNCED
    if _ANNOUNCED or "pymatting" in sys.modules:
        return
    _ANNOUNCED = True
    if _numba_cache_is_empty():
        print(NUMBA_MESSAGE, file=sys.stderr, flush=True)


def _box_means(image, alpha, fg, bg, size):
    """One blur-fusion pass: alpha-weighted box means of F and B, plus the residual.

    In-place arithmetic on few temporaries (the first call in a process otherwise pays
    for page-faulting many fresh image-sized buffers).
    """
    eps = 1e-5
    ksize = (size, size)
    a = alpha[..., None]
    na = 1.0 - alpha
    f_mean = cv2.blur(fg * a, ksize)  # blur(F alpha) / blur(alpha)
    f_mean /= (cv2.blur(alpha, ksize) + eps)[..., None]
    b_mean = cv2.blur(bg * na[..., None], ksize)  # blur(B (1 - alpha)) / blur(1 - alpha)
    b_mean /= (cv2.blur(na, ksize) + eps)[..., None]
    # the compositing residual of the local means, shared out by alpha
    residual = a * f_mean
    np.subtract(image, residual, out=residual)
    residual -= na[..., None] * b_mean
    f_mean += a * residual
    b_mean += na[..., None] * residual
    return np.clip(f_mean, 0.0, 1.0, out=f_mean), np.clip(b_mean, 0.0, 1.0, out=b_mean)


def estimate_foreground_blur_fusion(image, alpha, sizes=BLUR_FUSION_SIZES, return_background=False):
    """Blur-fusion foreground estimation (Forte & Pitie, ICIP 2021), the "x2" variant.

    Each pass estimates F and B at every pixel as the alpha-weighted (resp.
    ``1 - alpha``-weighted) box means of the previous F and B, then adds back the
    compositing residual ``I - alpha F_mean - (1 - alpha) B_mean``, scaled by ``alpha``
    for F and ``1 - alpha`` for B. The first pass starts from ``F = B = I`` with a
    large box (90 px), the second refines with a small one (6 px).

    Returns:
        float32 ``(H, W, 3)`` foreground colours in [0, 1]; with ``return_background``
        also the estimated background.
    """
    image, alpha = _check(image, alpha)
    fg, bg = image, image
    for size in sizes:
        fg, bg = _box_means(image, alpha, fg, bg, int(size))
    fg, bg = fg.astype(np.float32, copy=False), bg.astype(np.float32, copy=False)
    return (fg, bg) if return_background else fg


_LEVEL_FN = None


def _level_fn():
    global _LEVEL_FN
    if _LEVEL_FN is None:
        import tensorflow as tf

        def resize_nearest(x, height, width):
            # pymatting's index rule: src = dst * size_src // size_dst
            src_h, src_w = tf.shape(x)[0], tf.shape(x)[1]
            ys = tf.range(height) * src_h // height
            xs = tf.range(width) * src_w // width
            return tf.gather(tf.gather(x, ys, axis=0), xs, axis=1)

        def shifted(x):
            # the 4 neighbours with clamped (edge-replicated) borders: left, right, up, down
            p = tf.pad(x, [[1, 1], [1, 1], [0, 0]], mode="SYMMETRIC")
            return (p[1:-1, :-2], p[1:-1, 2:], p[:-2, 1:-1], p[2:, 1:-1])

        def level(image0, alpha0, f_prev, b_prev, height, width, iterations):
            image = resize_nearest(image0, height, width)
            alpha = resize_nearest(alpha0[..., None], height, width)
            f = resize_nearest(f_prev, height, width)
            b = resize_nearest(b_prev, height, width)
            a0, a1 = alpha, 1.0 - alpha
            weights = [
                REGULARIZATION + GRADIENT_WEIGHT * tf.abs(a0 - n) for n in shifted(alpha)
            ]
            wsum = tf.add_n(weights)
            a00, a01, a11 = a0 * a0 + wsum, a0 * a1, a1 * a1 + wsum
            inv_det = 1.0 / (a00 * a11 - a01 * a01)
            b00, b01, b11 = inv_det * a11, -inv_det * a01, inv_det * a00
            ia0, ia1 = a0 * image, a1 * image

            def body(i, f, b):
                rf = ia0 + tf.add_n([w * n for w, n in zip(weights, shifted(f), strict=True)])
                rb = ia1 + tf.add_n([w * n for w, n in zip(weights, shifted(b), strict=True)])
                f_new = tf.clip_by_value(b00 * rf + b01 * rb, 0.0, 1.0)
                b_new = tf.clip_by_value(b01 * rf + b11 * rb, 0.0, 1.0)
                return i + 1, f_new, b_new

            _, f, b = tf.while_loop(lambda i, f, b: i < iterations, body, (0, f, b))
            return f, b

        _LEVEL_FN = tf.function(
            level,
            input_signature=[
                tf.TensorSpec([None, None, 3], tf.float32),
                tf.TensorSpec([None, None], tf.float32),
                tf.TensorSpec([None, None, 3], tf.float32),
                tf.TensorSpec([None, None, 3], tf.float32),
                tf.TensorSpec([], tf.int32),
                tf.TensorSpec([], tf.int32),
                tf.TensorSpec([], tf.int32),
            ],
        )
    return _LEVEL_FN


def estimate_foreground_tf(image, alpha, return_background=False):
    """Multi-level foreground estimation (Germer et al. 2020) in TensorFlow.

    Same pyramid, weights and iteration counts as ``pymatting.estimate_foreground_ml``
    (defaults: regularisation 1e-5, gradient weight 1, 10 iterations up to 32 px, 2
    above), with Jacobi instead of Gauss-Seidel updates.

    Returns:
        float32 ``(H, W, 3)`` foreground colours; with ``return_background`` also the
        estimated background.
    """
    import tensorflow as tf

    image, alpha = _check(image, alpha)
    height, width = alpha.shape
    fg_mean = image[alpha > 0.9].sum(0) / (np.count_nonzero(alpha > 0.9) + 1e-5)
    bg_mean = image[alpha < 0.1].sum(0) / (np.count_nonzero(alpha < 0.1) + 1e-5)
    f = tf.constant(np.broadcast_to(fg_mean, (1, 1, 3)).astype(np.float32))
    b = tf.constant(np.broadcast_to(bg_mean, (1, 1, 3)).astype(np.float32))
    image_t, alpha_t = tf.constant(image), tf.constant(alpha)
    levels = int(np.ceil(np.log2(max(height, width, 2))))
    level = _level_fn()
    for i in range(levels + 1):
        w = round(width ** (i / levels))
        h = round(height ** (i / levels))
        iterations = SMALL_ITERATIONS if (w <= SMALL_SIZE and h <= SMALL_SIZE) else BIG_ITERATIONS
        f, b = level(image_t, alpha_t, f, b, h, w, iterations)
    return (f.numpy(), b.numpy()) if return_background else f.numpy()
