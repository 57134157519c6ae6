"""High-resolution inference: time and peak memory at 1080p, 4K and 6000x4000.

    python benchmarks/high_resolution.py [--alphagan default|tiny] [--sizes 1920x1080,...]

Each (model, size) runs in a fresh subprocess with random weights: IGF in its default
(paper) configuration through ``predict_mask_reduced`` (coefficients at 1024 px, applied at
full size), AlphaGAN (tiny by default: the default ResNet50 one takes minutes per 4K image
on a 2-core CPU) through ``predict_trimap_tiled`` (1024 px tiles, 128 px overlap, tiles
without unknown pixels skipped), and the guided-filter baseline. The input is a smooth
random image with a disc-shaped object (trimap band 40 px). "peak RSS" is
``resource.getrusage`` max RSS of the child after the call; "increase" subtracts the RSS
measured after building the model and the inputs (i.e. what inference itself needs).
Prints a Markdown table; not a test.
"""

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, os, resource, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import cv2, numpy as np
model_name, alphagan_config, width, height = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(0)
image = cv2.resize(rng.random((24, 32, 3)).astype(np.float32), (width, height))
mask = np.zeros((height, width), np.uint8)
cv2.circle(mask, (width // 2, height // 2), min(width, height) // 3, 255, -1)
import keras_matting
if model_name == "igf":
    from keras_matting.models.igf import IGFGenerator
    model = IGFGenerator()
elif model_name == "alphagan":
    from keras_matting.models.alphagan import AlphaGANGenerator
    from keras_matting.models.backbones.dilated_resnet_backbone import DilatedResNetBackbone
    if alphagan_config == "tiny":
        model = AlphaGANGenerator(
            backbone=DilatedResNetBackbone([8, 8, 16, 16], [1, 1, 1, 1], stem_filters=8),
            aspp_filters=16, skip_filters=(8, 8), decoder_filters=((16, 16, 8), (8, 8, 8), (8, 8)))
    else:
        model = AlphaGANGenerator()
else:
    model = model_name
kwargs = {"mask": mask} if model_name != "alphagan" else {"trimap_from_mask_px": 40, "mask": mask}
crop = (slice(height // 2 - 128, height // 2 + 128), slice(width // 2 - 128, width // 2 + 128))
keras_matting.matte(image[crop], **{k: (v[crop] if hasattr(v, "shape") else v)
                                    for k, v in kwargs.items()}, model=model)  # warm-up
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
start = time.perf_counter()
alpha = keras_matting.matte(image, model=model, **kwargs)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
assert alpha.shape == (height, width)
print(json.dumps({"seconds": seconds, "peak": peak, "increase": peak - base}))
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alphagan", choices=("tiny", "default"), default="tiny")
    parser.add_argument("--models", default="igf,alphagan,guided-filter")
    parser.add_argument("--sizes", default="1920x1080,3840x2160,6000x4000")
    args = parser.parse_args(argv)
    print("| model | size | time (s) | peak RSS (MB) | increase (MB) |")
    print("|---|---|---|---|---|")
    for model in args.models.split(","):
        for size in args.sizes.split(","):
            width, height = (int(v) for v in size.split("x"))
            proc = subprocess.run(
                [sys.executable, "-c", CHILD, model, args.alphagan, str(width), str(height)],
                capture_output=True, text=True,
            )
            if proc.returncode:
                print(f"| {model} | {size} | failed: {proc.stderr.strip().splitlines()[-1]} | | |")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            label = f"alphagan ({args.alphagan})" if model == "alphagan" else model
            print(f"| {label} | {size} | {r['seconds']:.2f} | {r['peak']:.0f} "
                  f"| {r['increase']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
