"""Foreground estimation: pymatting (numba) vs the TensorFlow port, time and error.

    python benchmarks/foreground_estimation.py

Each (method, size) runs in a fresh subprocess: "first" is the first call (numba's cached
JIT load or TF's tracing included), "warm" the median of 3 further calls. The error is the
mean absolute error of the estimated foreground against the true one where alpha > 0.05,
on a synthetic composite (smooth random colour fields, soft disc-shaped alpha).
"""

import json
import subprocess
import sys

SIZES = ((680, 440), (2000, 1500))
METHODS = ("pymatting", "tensorflow")

CHILD = r"""
import json, os, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import cv2, numpy as np
from keras_matting.inference.foreground import estimate_foreground
method, width, height = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
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
for _ in range(3):
    t = time.perf_counter(); estimate_foreground(image, alpha, method); warm.append(time.perf_counter() - t)
err = float(np.abs(f - fg)[alpha > 0.05].mean())
print(json.dumps({"first": first, "warm": sorted(warm)[1], "error": err}))
"""


def main():
    print("| method | size | first call (s) | warm (s) | mean abs error |")
    print("|---|---|---|---|---|")
    for method in METHODS:
        for width, height in SIZES:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, method, str(width), str(height)],
                capture_output=True, text=True, check=True,
            ).stdout.strip().splitlines()[-1]
            r = json.loads(out)
            print(f"| {method} | {width}x{height} | {r['first']:.2f} | {r['warm']:.2f} "
                  f"| {r['error']:.4f} |")


if __name__ == "__main__":
    main()
