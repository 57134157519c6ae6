"""Inference on large images (up to 6000x4000 and beyond) with bounded memory.

- AlphaGAN (:func:`predict_trimap_tiled`): images up to ``max_pixels`` run whole. Larger
  ones run on overlapping ``tile x tile`` windows laid over the image; windows whose
  trimap has no unknown pixel are skipped (their alpha is the trimap's 0 / 1), the others
  are blended with separable linear-ramp weights over the overlap (weights sum to 1 in
  the overlap, so seams are invisible when neighbouring tiles agree), and known trimap
  pixels are clamped. The network's receptive field is large (ASPP image pooling sees
  the whole input), so each window gets ``overlap`` pixels of context on each side.
- IGF (:func:`predict_mask_reduced`): the Fast Guided Filter's trick (He & Sun 2015),
  which the IGF itself uses at x4: the network runs on the image downscaled so its
  longer side is ``inference_side``, giving the linear coefficients ``A`` (3 channels)
  and ``B`` at 1/4 of that size; they are upsampled bilinearly to the full resolution
  (half-pixel centres, exactly the mapping of the in-network x4 upsampling composed
  with the downscale) and applied to the full-resolution image, ``alpha = clip(A.I + B)``,
  in horizontal strips so no full-size coefficient map is ever held. The coefficients
  come from the input of the generator's ``alpha`` layer (``IGFGenerator``).

Measured with ``benchmarks/high_resolution.py`` on this 2-core CPU (random weights; the
default IGF; a tiny AlphaGAN, since the ResNet50 one takes minutes per 4K image on 2
cores; a disc-shaped object with a 40 px unknown band; "increase" = peak RSS during the
call minus before it, which includes ``matte``'s float64 input conversion):

| model | size | time (s) | peak RSS (MB) | increase (MB) |
|---|---|---|---|---|
| igf | 1920x1080 | 0.41 | 884 | 119 |
| igf | 3840x2160 | 2.68 | 1316 | 475 |
| igf | 6000x4000 | 7.75 | 2407 | 1373 |
| alphagan (tiny, tiled) | 1920x1080 | 7.89 | 1269 | 462 |
| alphagan (tiny, tiled) | 3840x2160 | 39.71 | 1382 | 498 |
| alphagan (tiny, tiled) | 6000x4000 | 70.48 | 2449 | 1373 |
| guided-filter | 6000x4000 | 21.64 | 2520 | 2158 |

Memory stays far below 24 GB at 6000x4000; a whole-image AlphaGAN pass at 24 MP would hold
several full-resolution 32-64-channel float32 maps (about 3 GB each). Tiling was not
compared against other strategies (e.g. a low-resolution pass refined by tiles) for
accuracy: that needs trained weights.
"""

import cv2
import numpy as np

__all__ = [
    "blend_weights",
    "predict_mask_reduced",
    "predict_trimap_tiled",
    "tile_starts",
]

TILE = 1024
OVERLAP = 128
MAX_PIXELS = 2048 * 2048  # whole-image inference below this many pixels
# IGF: longer side of the network input for large images. Measured with the shipped IGF
# on portraits_val (8 photos, 1080 x 1613-1920, automatic masks; whole-image SAD / band
# SAD / holes % / halo %): 512: 38.6 / 12.9 / 9.9 / 2.1; 1024: 21.5 / 10.9 / 2.1 / 0.7;
# 1536: 18.4 / 10.6 / 0.7 / 0.5; 2048 (full resolution): 18.1 / 10.6 / 0.5 / 0.5. Below
# full resolution the coefficient maps blur the person's edge over the sure interior.
INFERENCE_SIDE = 2048
STRIP_ROWS = 512


def tile_starts(length, tile, overlap):
    """Start offsets of windows of size ``tile`` covering ``[0, length)`` with >= overlap."""
    if length <= tile:
        return [0]
    step = tile - overlap
    count = int(np.ceil((length - tile) / step)) + 1
    # spread the windows evenly so every overlap is at least ``overlap``
    return [int(round(i * (length - tile) / (count - 1))) for i in range(count)]


def blend_weights(tile_h, tile_w, overlap, top, left, bottom, right):
    """Separable linear-ramp weights; no ramp on sides that touch the image border."""

    def ramp(n, start_edge, end_edge):
        w = np.ones(n, np.float32)
        k = min(overlap, n // 2)
        if k > 0:
            r = (np.arange(k, dtype=np.float32) + 0.5) / k
            if start_edge:
                w[:k] = np.minimum(w[:k], r)
            if end_edge:
                w[n - k :] = np.minimum(w[n - k :], r[::-1])
        return w

    return ramp(tile_h, not top, not bottom)[:, None] * ramp(tile_w, not left, not right)[None, :]


def predict_trimap_tiled(
    predict, image, trimap, tile=TILE, overlap=OVERLAP, max_pixels=MAX_PIXELS, progress=None
):
    """Alpha from a trimap-guided network, tiled over the unknown region of large images.

    Args:
        predict: ``predict(image, trimap) -> alpha``: ``(h, w, 3)`` float32 and ``(h, w)``
            in {0, 0.5, 1} to ``(h, w)`` float32 (e.g. ``AlphaGANGenerator.predict_alpha``).
        image: ``(H, W, 3)`` float32 in [0, 1].
        trimap: ``(H, W)`` float32 in {0, 0.5, 1}.
        tile, overlap: window side and minimum overlap in pixels.
        max_pixels: images with at most this many pixels run whole.
        progress: optional ``progress(done, total)``, called with ``(0, total)`` before
            the first tile and after each tile of a tiled run (``total``: the windows
            that hold unknown pixels); not called for a whole-image run. The CLI shows
            it as a progress bar (a 6000x4000 AlphaGAN run takes minutes on a CPU).

    Returns:
        float32 ``(H, W)`` alpha; known trimap pixels are exactly 0 / 1.
    """
    height, width = trimap.shape
    unknown = (trimap > 0.25) & (trimap < 0.75)
    if height * width <= max_pixels:
        alpha = np.asarray(predict(image, trimap), np.float32).reshape(height, width)
    else:
        acc = np.zeros((height, width), np.float32)
        weight = np.zeros((height, width), np.float32)
        ys, xs = tile_starts(height, tile, overlap), tile_starts(width, tile, overlap)
        windows = [
            (y, x) for y in ys for x in xs if unknown[y : y + tile, x : x + tile].any()
        ]
        if progress is not None:
            progress(0, len(windows))
        for done, (y, x) in enumerate(windows, 1):
            window = (slice(y, y + tile), slice(x, x + tile))
            pred = np.asarray(predict(image[window], trimap[window]), np.float32)
            th, tw = pred.shape[:2]
            w = blend_weights(th, tw, overlap, y == 0, x == 0, y + th >= height, x + tw >= width)
            acc[window] += pred.reshape(th, tw) * w
            weight[window] += w
            if progress is not None:
                progress(done, len(windows))
        alpha = np.divide(acc, weight, out=np.zeros_like(acc), where=weight > 0)
    alpha = np.clip(alpha, 0.0, 1.0)
    alpha[trimap <= 0.25] = 0.0
    alpha[trimap >= 0.75] = 1.0
    return alpha


def _coefficient_model(generator):
    """``keras.Model`` image_mask -> [A, B] coefficients (cached on the generator).

    The coefficients are the second input of the ``alpha`` layer (``phi_ab``, plus
    the guided filter's own with ``guided_filter_prior=True``).
    """
    if hasattr(generator, "coefficients"):  # IGFTFLite: the coefficient network itself
        return generator.coefficients
    model = getattr(generator, "_keras_matting_coefficients", None)
    if model is None:
        import keras

        try:
            coefficients = generator.get_layer("alpha").input[1]
        except (ValueError, IndexError, TypeError):
            return None
        sub = keras.Model(generator.inputs[0], coefficients)
        if keras.backend.backend() != "tensorflow":
            model = sub.predict_on_batch
        else:
            import tensorflow as tf

            def run(x):
                return sub(x, training=False)

            model = tf.function(
                run, input_signature=[tf.TensorSpec([1, None, None, 4], tf.float32)]
            )
        generator._keras_matting_coefficients = model
    return model


def predict_mask_reduced(generator, image, mask, inference_side=INFERENCE_SIDE):
    """IGF alpha for a large image: coefficients at reduced resolution, applied at full size.

    Args:
        generator: an ``IGFGenerator`` (with its ``phi_ab`` coefficient layer); another
            mask-guided generator falls back to alpha at reduced resolution upsampled
            bilinearly (an approximation: exact only with the coefficients).
        image: ``(H, W, 3)`` float32 in [0, 1].
        mask: ``(H, W)`` float32 in {0, 1}.
        inference_side: longer side of the network input; images not larger run at full
            resolution (same result as ``predict_alpha``, computed in strips).

    Returns:
        float32 ``(H, W)`` alpha in [0, 1].
    """
    from keras_matting.inference.padding import pad_array_to_multiple

    height, width = mask.shape
    coefficients = _coefficient_model(generator)
    if max(height, width) <= inference_side:
        if coefficients is None:
            return generator.predict_alpha(image, mask)
        image_low, mask_low, low_w, low_h = image, mask, width, height
    else:
        scale = inference_side / max(height, width)
        low_w, low_h = max(1, round(width * scale)), max(1, round(height * scale))
        image_low = cv2.resize(image, (low_w, low_h), interpolation=cv2.INTER_AREA)
        mask_low = cv2.resize(mask, (low_w, low_h), interpolation=cv2.INTER_AREA)
    if coefficients is None:
        alpha_low = generator.predict_alpha(image_low, mask_low)
        return np.clip(cv2.resize(alpha_low, (width, height), interpolation=cv2.INTER_LINEAR), 0, 1)
    x = np.concatenate([image_low, mask_low[..., None]], axis=-1)[None].astype(np.float32)
    padded, _ = pad_array_to_multiple(x, generator.size_multiple)
    pad_h, pad_w = int(padded.shape[1]), int(padded.shape[2])
    # float32 also for a generator trained under a mixed dtype policy (OpenCV: no bfloat16)
    coeffs = np.asarray(coefficients(padded), dtype=np.float32)[0]  # (pad_h / 4, pad_w / 4, 4)
    ch, cw = coeffs.shape[:2]
    # full-res pixel (x + 0.5) sits at low-res (x + 0.5) * low_w / width, i.e. coefficient
    # (x + 0.5) * (low_w / width) * (cw / pad_w) - 0.5 (half-pixel centres at each step).
    sx, sy = low_w / width * cw / pad_w, low_h / height * ch / pad_h
    alpha = np.empty((height, width), np.float32)
    for y0 in range(0, height, STRIP_ROWS):
        rows = min(STRIP_ROWS, height - y0)
        matrix = np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, (y0 + 0.5) * sy - 0.5]], np.float64)
        up = cv2.warpAffine(
            coeffs,
            matrix,
            (width, rows),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )
        strip = np.einsum("hwc,hwc->hw", up[..., :3], image[y0 : y0 + rows]) + up[..., 3]
        alpha[y0 : y0 + rows] = np.clip(strip, 0.0, 1.0)
    return alpha
