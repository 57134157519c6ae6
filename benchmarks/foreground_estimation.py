"""Foreground estimation: blur-fusion vs pymatting (numba) vs the TensorFlow port.

    python benchmarks/foreground_estimation.py [--data /work/shared/data/alphamatting_val]
        [--skip-cold]

Timing: each (method, size) runs in a fresh subprocess: "first" is the first call
(numba's cached JIT load or TF's tracing included), "warm" the median of 3 further calls.
"cold" (pymatting only) is a first call with an empty numba cache (``NUMBA_CACHE_DIR``
set to a fresh folder): what a fresh install pays once.

Quality:

- "synthetic F err": mean absolute error of the estimated F against the true one where
  alpha > 0.05, on a synthetic composite (smooth random colour fields, soft disc alpha),
  at 680x440.
- "real-alpha F err" (on ``--data``, alphamatting_val: 14 photos with ground-truth
  alpha): a composite with known F built from real mattes and real textures: F = photo
  k, B = photo k+1 (resized, flipped), alpha = ground-truth alpha k; mean absolute F
  error where 0.05 < alpha < 1, averaged over the 14.
- "recon err" (on ``--data``, the real photos with their ground-truth alpha, no true F):
  mean |alpha F + (1 - alpha) B - I| over 0 < alpha < 1, B from the same estimator. A
  sanity check only: F = B = I scores 0 here, so it cannot rank methods on its own.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

SIZES = ((680, 440), (2000, 1500))
METHODS = ("blur-fusion", "pymatting", "tensorflow")

TIMING = r"""
import json, os, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import cv2, numpy as np
from keras_matting.inference.foreground import estimate_foreground
method, width, height, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(0)
def field(cells):
    low = rng.random((cells, cells, 3)).astype(np.float32)
    return cv2.resize(low, (width, height), interpolation=cv2.INTER_CUBIC).clip(0, 1)
fg, bg = field(24), field(12)
yy, xx = np.mgrid[:height, :width]
r = np.hypot((yy - height / 2) / height, (xx - width / 2) / width)
alpha = np.clip((0.35 - r) / 0.1 + 0.3 * (rng.random((height, width)) - 0.5), 0, 1)
alpha = alpha.astype(np.float32)
image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
t = time.perf_counter(); f = estimate_foreground(image, alpha, method); first = time.perf_counter() - t
warm = []
for _ in range(repeats):
    t = time.perf_counter(); estimate_foreground(image, alpha, method); warm.append(time.perf_counter() - t)
err = float(np.abs(f - fg)[alpha > 0.05].mean())
print(json.dumps({"first": first, "warm": sorted(warm)[len(warm) // 2] if warm else None,
                  "error": err}))
"""


def _estimate(method, image, alpha):
    """(F, B or None) from one method, on float32 arrays."""
    from keras_matting.inference import foreground as fgmod

    if method == "blur-fusion":
        return fgmod.estimate_foreground_blur_fusion(image, alpha, return_background=True)
    if method == "pymatting":
        from pymatting import estimate_foreground_ml

        f, b = estimate_foreground_ml(image, alpha, return_background=True)
        return np.asarray(f, np.float32), np.asarray(b, np.float32)
    return fgmod.estimate_foreground_tf(image, alpha, return_background=True)


def _read(path, gray=False):
    import cv2

    if gray:
        return cv2.imread(path, cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255.0
    return cv2.imread(path, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255.0


def dataset_quality(method, root):
    import cv2

    names = sorted(os.listdir(os.path.join(root, "alpha")))
    photos = [_read(os.path.join(root, "image", n)) for n in names]
    alphas = [_read(os.path.join(root, "alpha", n), gray=True) for n in names]
    real, recon = [], []
    for k, (photo, alpha) in enumerate(zip(photos, alphas, strict=True)):
        h, w = alpha.shape
        other = cv2.resize(photos[(k + 1) % len(photos)], (w, h), interpolation=cv2.INTER_AREA)
        other = np.ascontiguousarray(other[:, ::-1])
        a = alpha[..., None]
        image = (a * photo + (1 - a) * other).astype(np.float32)
        f, _ = _estimate(method, image, alpha)
        soft = (alpha > 0.05) & (alpha < 1)  # at alpha = 1, F = I is exact for every method
        real.append(float(np.abs(f - photo)[soft].mean()))
        f, b = _estimate(method, photo, alpha)
        unknown = (alpha > 0) & (alpha < 1)
        recon.append(float(np.abs(a * f + (1 - a) * b - photo)[unknown].mean()))
    return float(np.mean(real)), float(np.mean(recon))


def timing(method, width, height, env=None, repeats=3):
    out = subprocess.run(
        [sys.executable, "-c", TIMING, method, str(width), str(height), str(repeats)],
        capture_output=True, text=True, check=True, env=env,
    ).stdout.strip().splitlines()[-1]
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/work/shared/data/alphamatting_val")
    parser.add_argument("--skip-cold", action="store_true")
    args = parser.parse_args()

    rows = []
    for method in METHODS:
        times = {size: timing(method, *size) for size in SIZES}
        cold = None
        if method == "pymatting" and not args.skip_cold:
            with tempfile.TemporaryDirectory() as cache:
                env = dict(os.environ, NUMBA_CACHE_DIR=cache)
                cold = timing(method, *SIZES[0], env=env, repeats=0)["first"]
        real, recon = dataset_quality(method, args.data) if args.data else (None, None)
        rows.append((method, times, cold, real, recon))

    def fmt(x, digits=2):
        return "n/a" if x is None else f"{x:.{digits}f}"

    head = ["method"]
    for w, h in SIZES:
        head += [f"{w}x{h} first (s)", f"{w}x{h} warm (s)"]
    head += ["cold first (s)", "synthetic F err", "real-alpha F err", "recon err"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for method, times, cold, real, recon in rows:
        cells = [method]
        for size in SIZES:
            cells += [fmt(times[size]["first"]), fmt(times[size]["warm"])]
        cells += [fmt(cold), fmt(times[SIZES[0]]["error"], 4), fmt(real, 4), fmt(recon, 4)]
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    import numpy as np

    main()
