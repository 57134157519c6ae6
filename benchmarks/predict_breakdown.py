"""Where a ``keras-matting predict`` call spends its time, stage by stage.

Each configuration runs in a fresh Python process (imports are paid as a user pays them)
and times the stages of ``keras-matting predict``: importing the package, loading the
model, reading the inputs, the automatic person mask, the matte, foreground estimation
and writing the PNGs. The parent also times the whole process. Medians of ``--runs``.

    python benchmarks/predict_breakdown.py [--image examples/lemur/image.png]
        [--mask examples/lemur/mask.png | auto] [--runs 5]

Configurations: ``igf`` (the shipped IGF as ``keras-matting predict`` runs it: its
coefficient network on LiteRT), ``igf-keras`` (the same model through Keras/TensorFlow,
what ``predict`` ran before) and ``guided-filter`` (numpy/OpenCV, the reference).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

STAGES = ("import", "load", "read", "auto mask", "matte", "foreground", "write")
CONFIGS = ("igf", "igf-keras", "guided-filter")

_CHILD = r"""
import json, os, sys, time
t = {}
s = time.perf_counter()
import numpy as np
from keras_matting.api import _run
from keras_matting.inference.foreground import estimate_foreground
from keras_matting.io import read_image, read_mask, write_alpha, write_cutout
from keras_matting.models.registry import load, load_inference
t["import"] = time.perf_counter() - s
config, image_path, mask_path, out = sys.argv[1:5]
s = time.perf_counter()
model = {"igf": lambda: load_inference("igf"), "igf-keras": lambda: load("igf"),
         "guided-filter": lambda: "guided-filter"}[config]()
t["load"] = time.perf_counter() - s
s = time.perf_counter()
image = read_image(image_path)
mask = None if mask_path == "auto" else read_mask(mask_path, image.shape, image_path)
t["read"] = time.perf_counter() - s
s = time.perf_counter()
if mask is None:
    from keras_matting.inference.person_mask import person_mask
    mask = person_mask(image)
t["auto mask"] = time.perf_counter() - s
s = time.perf_counter()
alpha = np.clip(np.asarray(_run(model, "mask", image, None, mask), np.float32), 0, 1)
t["matte"] = time.perf_counter() - s
s = time.perf_counter()
fg = estimate_foreground(image, alpha)
t["foreground"] = time.perf_counter() - s
s = time.perf_counter()
write_alpha(os.path.join(out, "alpha.png"), alpha)
write_cutout(os.path.join(out, "cutout.png"), fg, alpha)
t["write"] = time.perf_counter() - s
print("BREAKDOWN " + json.dumps(t))
"""


def run_once(config, image, mask):
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", _CHILD, config, image, mask, out],
                              capture_output=True, text=True,
                              env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
        wall = time.perf_counter() - start
    for line in proc.stdout.splitlines():
        if line.startswith("BREAKDOWN "):
            stages = json.loads(line[len("BREAKDOWN "):])
            stages["process"] = wall
            return stages
    raise RuntimeError(f"{config} failed: {proc.stderr[-500:]}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="examples/lemur/image.png")
    parser.add_argument("--mask", default="examples/lemur/mask.png", help="a mask file or auto")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    args = parser.parse_args(argv)
    configs = [c for c in args.configs.split(",") if c]
    results = {}
    for config in configs:
        runs = [run_once(config, args.image, args.mask) for _ in range(args.runs)]
        results[config] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"{config}: done", file=sys.stderr, flush=True)
    print(f"{args.image}, mask {args.mask}; medians of {args.runs} fresh processes; "
          f"{os.cpu_count()} CPUs visible")
    print()
    print("| stage (s) | " + " | ".join(configs) + " |")
    print("|---|" + "---|" * len(configs))
    for stage in (*STAGES, "process"):
        label = "whole process (interpreter start included)" if stage == "process" else stage
        print(f"| {label} | " + " | ".join(f"{results[c][stage]:.3f}" for c in configs) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
