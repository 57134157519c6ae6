"""Foreground colour estimation: the colours ``F`` of ``I = alpha F + (1 - alpha) B``.

Two implementations of the same algorithm, Germer et al. 2020, "Fast multi-level
foreground estimation" (ICPR 2020): a coarse-to-fine pyramid (levels of size
``round(w ** (l / L)) x round(h ** (l / L))``, nearest resizing), where each pixel solves
the 2x2 least-squares system of the compositing equation plus a smoothness term towards
its 4 neighbours, weighted ``eps + |alpha_i - alpha_j|``; 10 iterations on levels up
to 32 px, 2 above.

- ``"pymatting"``: ``pymatting.estimate_foreground_ml`` (numba, in-place Gauss-Seidel
  sweeps), the authors' own maintained implementation. Optional dependency
  (``pip install "keras-matting[baselines]"``).
- ``"tensorflow"``: this module's vectorised TensorFlow port (Jacobi updates, as the
  authors' GPU versions in pymatting ``estimate_fg_ml_cupy`` do): no extra dependency.

Decision, measured with ``benchmarks/foreground_estimation.py`` on this 2-core CPU
(seconds; "first" = first call in a fresh process, including numba's cached-JIT load or
TF's tracing; error = mean absolute error of F against the true foreground where
alpha > 0.05, on a synthetic composite of a textured foreground over a textured
background with a soft alpha):

| method | 680x440 first | 680x440 warm | 2000x1500 first | 2000x1500 warm | error |
|---|---|---|---|---|---|
| pymatting (numba) | 4.05 | 0.82 | 5.25 | 2.42 | 0.053 |
| tensorflow (this module) | 11.97 | 0.34 | 15.04 | 3.35 | 0.060 |

(Two runs on a shared, loaded CPU; the first run gave the same ranking: pymatting first
4.9 / 6.8 s, warm 1.1 / 2.4 s; TF first 15.6 / 21.6 s, warm 0.34 / 6.2 s. The error is
dominated by pixels of alpha near 0.05, where F is barely observable.)

``"auto"`` (the default) uses pymatting when it is installed: the CLI mostly runs
one-shot, where its first call (numba's on-disk JIT cache) is ~3x faster than TF's
tracing of the pyramid loop; it is faster warm on large images and more accurate
(Gauss-Seidel converges faster than Jacobi at the same iteration count). TF wins only
warm on small images. Without pymatting the TensorFlow port is used (same algorithm,
~0.007 higher error).
"""

import numpy as np

from keras_matting.errors import MattingInputError

__all__ = ["estimate_foreground", "estimate_foreground_tf"]

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
        method: ``"auto"`` (pymatting if installed, else TensorFlow), ``"pymatting"`` or
            ``"tensorflow"``. See the module docstring for the measurements.

    Returns:
        float32 ``(H, W, 3)`` foreground colours in [0, 1].
    """
    image, alpha = _check(image, alpha)
    if alpha.size == 1:  # one pixel (pymatting divides by zero): F = B = I solves I = aF + (1-a)B
        return image.copy()
    if method == "auto":
        try:
            import pymatting  # noqa: F401
        except ImportError:
            method = "tensorflow"
        else:
            method = "pymatting"
    if method == "pymatting":
        try:
            from pymatting import estimate_foreground_ml
        except ImportError:
            raise MattingInputError(
                'foreground estimation with pymatting needs: pip install "keras-matting[baselines]"'
            ) from None
        return np.asarray(estimate_foreground_ml(image, alpha), np.float32)
    if method == "tensorflow":
        return estimate_foreground_tf(image, alpha)
    raise ValueError(f"method must be 'auto', 'pymatting' or 'tensorflow', got {method!r}")


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


def estimate_foreground_tf(image, alpha):
    """Multi-level foreground estimation (Germer et al. 2020) in TensorFlow.

    Same pyramid, weights and iteration counts as ``pymatting.estimate_foreground_ml``
    (defaults: regularisation 1e-5, gradient weight 1, 10 iterations up to 32 px, 2
    above), with Jacobi instead of Gauss-Seidel updates.

    Returns:
        float32 ``(H, W, 3)`` foreground colours.
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
    return f.numpy()
