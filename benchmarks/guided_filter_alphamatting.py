"""Fast guided filter on alphamatting_val with the IGF mask protocol (the reference row).

Predict from ``image/`` + ``mask/``, score on ``trimap/Weak/`` with the known
regions clamped from that trimap, 8-bit alphas (``keras_matting.metrics``).
Reference (../shared/data/VAL_BASELINES.md): SAD 8.68, MSE 0.053, Grad 8.16,
Conn 9.46 (colour guide, r=64, eps=1e-5, s=4).

    python benchmarks/guided_filter_alphamatting.py [--data ../shared/data/alphamatting_val]
"""

import argparse
import time
from pathlib import Path

import numpy as np

from keras_matting.filters.guided_filter import fast_guided_filter
from keras_matting.io import read_alpha, read_image, read_mask, read_trimap
from keras_matting.metrics import clamp_known, compute_metrics

REFERENCE = {"sad": 8.68, "mse": 0.053, "grad": 8.16, "conn": 9.46}
DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "alphamatting_val"


def score_image(root, name, radius=64, eps=1e-5, subsample=4):
    """Metrics of the colour fast guided filter on one image of the mask protocol."""
    root = Path(root)
    image = read_image(root / "image" / f"{name}.png")
    mask = read_mask(root / "mask" / f"{name}.png", image.shape)
    alpha = read_alpha(root / "alpha" / f"{name}.png")
    trimap = read_trimap(root / "trimap" / "Weak" / f"{name}.png", image.shape)
    pred = np.clip(fast_guided_filter(image, mask, radius, eps, subsample), 0.0, 1.0)
    return compute_metrics(clamp_known(pred, trimap), alpha, trimap)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    names = sorted(p.stem for p in (args.data / "image").glob("*.png"))
    start = time.perf_counter()
    rows = [score_image(args.data, n) for n in names]
    print("| image | SAD | MSE | Grad | Conn |\n|---|---|---|---|---|")
    for name, r in zip(names, rows, strict=True):
        print(f"| {name} | {r['sad']:.2f} | {r['mse']:.4f} | {r['grad']:.2f} | {r['conn']:.2f} |")
    mean = {k: float(np.mean([r[k] for r in rows])) for k in REFERENCE}
    print(
        f"| **mean ({len(rows)})** | {mean['sad']:.2f} | {mean['mse']:.4f} | "
        f"{mean['grad']:.2f} | {mean['conn']:.2f} |"
    )
    print(
        "| reference | "
        + " | ".join(f"{REFERENCE[k]:.2f}" if k != "mse" else f"{REFERENCE[k]:.3f}" for k in REFERENCE)
        + " |"
    )
    rel = {k: 100 * (mean[k] - REFERENCE[k]) / REFERENCE[k] for k in REFERENCE}
    print("relative difference: " + ", ".join(f"{k} {v:+.1f}%" for k, v in rel.items()))
    print(f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
