"""Calibration data for int8 quantisation: procedural composites with training-style guides.

Each sample is a :func:`keras_matting.data.synthetic.generate_sample` foreground composited
on a procedural noise background, ``I = alpha F + (1 - alpha) B``, with the guide made as in
training: for IGF a weak mask ``alpha > 0.5`` dilated then eroded with random kernels of
5-30 px, redrawn until it keeps half of the foreground (:mod:`keras_matting.data.igf_dataset`);
for AlphaGAN a trimap with a random kernel of size 2-20 (radius ``k // 2``,
:mod:`keras_matting.data.alphagan_dataset`). Imports no TensorFlow.
"""

import numpy as np

__all__ = ["calibration_sample", "representative_dataset"]



def calibration_sample(rng, condition, size):
    """One composite ``(image (H, W, 3), guide (H, W, 1), alpha (H, W, 1))``, float32.

    Args:
        rng: ``numpy.random.Generator`` or int seed.
        condition: ``"mask"`` (IGF) or ``"trimap"`` (AlphaGAN).
        size: ``(height, width)``, each at least 32.
    """
    from keras_matting.data.synthetic import _procedural_texture, generate_sample
    from keras_matting.protocol import (
        TRIMAP_KERNEL_SIZES,
        WEAK_MASK_KERNEL_SIZES,
        composite,
        mask_keeps_foreground,
        trimap_from_alpha_np,
        weak_mask_np,
    )

    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    height, width = int(size[0]), int(size[1])
    fg, alpha8 = generate_sample(rng, (height, width))
    background = _procedural_texture(rng, height, width)
    alpha = alpha8.astype(np.float32)[..., None] / 255.0
    image = composite(alpha, fg.astype(np.float32) / 255.0, background)
    if condition == "mask":
        lo, hi = WEAK_MASK_KERNEL_SIZES
        for _ in range(8):
            k_dilate, k_erode = rng.integers(lo, hi + 1, size=2)
            guide = weak_mask_np(alpha8, int(k_dilate), int(k_erode))
            if mask_keeps_foreground(guide, alpha8):
                break
        guide = guide.astype(np.float32)
    elif condition == "trimap":
        k = int(rng.integers(TRIMAP_KERNEL_SIZES[0], TRIMAP_KERNEL_SIZES[1] + 1))
        guide = trimap_from_alpha_np(alpha8, 2 * (k // 2) + 1)
    else:
        raise ValueError(f"condition must be 'mask' or 'trimap', got {condition!r}")
    return image.astype(np.float32), guide[..., None], alpha


def representative_dataset(condition, size, count=32, batch=1, seed=0, packed=False):
    """A zero-argument callable yielding ``[image, guide]`` batches for the TFLite converter.

    Args:
        condition: ``"mask"`` or ``"trimap"``.
        size: ``(height, width)`` of the samples.
        count: number of batches.
        batch: images per batch.
        seed: samples are a function of ``(seed, index)`` only.
        packed: yield one 4-channel ``concat(image, guide)`` instead.
    """

    def generate():
        for i in range(count):
            samples = [
                calibration_sample(np.random.default_rng([seed, i, j]), condition, size)
                for j in range(batch)
            ]
            image, guide = np.stack([s[0] for s in samples]), np.stack([s[1] for s in samples])
            yield [np.concatenate([image, guide], axis=-1)] if packed else [image, guide]

    return generate
