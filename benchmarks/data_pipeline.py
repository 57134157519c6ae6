"""Throughput of the AlphaGAN and IGF tf.data pipelines (samples/s), next to model step rates.

Generates a procedural training set (``keras_matting.data.synthetic``), composites it over
``../shared/data/backgrounds_bsds500`` (procedural backgrounds if absent) and times whole
batches after a warm-up that fills the in-memory cache. If the IGF / AlphaGAN trainers are
importable, their default (paper) models' CPU training-step rates on one fixed batch are
printed too, and the ratio pipeline / model.

    python benchmarks/data_pipeline.py [--samples 48] [--size 800] [--batches 20]
                                       [--models igf,alphagan | none]
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from keras_matting.data.synthetic import write_dataset  # noqa: E402

SHARED_BG = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "backgrounds_bsds500"
)


def _backgrounds(tmp):
    if os.path.isdir(SHARED_BG):
        return SHARED_BG
    folder = os.path.join(tmp, "bg")
    os.makedirs(folder)
    rng = np.random.default_rng(0)
    for i in range(50):
        img = cv2.resize(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8), (481, 321))
        cv2.imwrite(os.path.join(folder, f"{i:03d}.jpg"), img)
    return folder


def _rate(ds, batches, warmup):
    it = iter(ds)
    for _ in range(warmup):
        batch = next(it)
    start = time.perf_counter()
    n = 0
    for _ in range(batches):
        batch = next(it)
        n += int(batch["image"].shape[0])
    return n / (time.perf_counter() - start), batch


def _model_rate(name, batch, steps):
    import tensorflow as tf

    if name == "igf":
        from keras_matting.models.igf import IGF as Model
    else:
        from keras_matting.models.alphagan import AlphaGAN as Model
    model = Model()
    model.compile()
    ds = tf.data.Dataset.from_tensors(batch).repeat()
    model.fit(ds, steps_per_epoch=2, epochs=1, verbose=0)  # trace + warm-up
    start = time.perf_counter()
    model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0)
    return steps * int(batch["image"].shape[0]) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=48, help="procedural fg/alpha pairs")
    parser.add_argument("--size", type=int, default=800, help="side of the procedural samples")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--batches", type=int, default=20, help="timed batches per pipeline")
    parser.add_argument("--models", default="igf,alphagan", help="'none' or a comma list")
    parser.add_argument("--model-steps", type=int, default=3)
    args = parser.parse_args()

    from keras_matting.data.alphagan_dataset import build_alphagan_dataset
    from keras_matting.data.igf_dataset import build_igf_dataset

    with tempfile.TemporaryDirectory() as tmp:
        stats = write_dataset(tmp, args.samples, args.size, seed=0)
        print(
            f"synth: {args.samples} samples of {args.size} px at {stats['rate']:.2f} samples/s "
            f"({os.cpu_count()} CPU cores)"
        )
        bg = _backgrounds(tmp)
        fg_dir, alpha_dir = os.path.join(tmp, "fg"), os.path.join(tmp, "alpha")
        warmup = -(-args.samples // args.batch_size) + 2  # one epoch fills the cache
        pipelines = {
            "alphagan": build_alphagan_dataset(
                fg_dir, alpha_dir, bg, batch_size=args.batch_size, seed=0
            ),
            "igf": build_igf_dataset(fg_dir, alpha_dir, bg, batch_size=args.batch_size, seed=0),
        }
        models = [] if args.models == "none" else [m for m in args.models.split(",") if m]
        print("\n| pipeline | crop | batch | pipeline samples/s | model train samples/s | ratio |")
        print("|---|---|---|---|---|---|")
        for name, ds in pipelines.items():
            rate, batch = _rate(ds, args.batches, warmup)
            model_col, ratio_col = "-", "-"
            if name in models:
                try:
                    m_rate = _model_rate(name, batch, args.model_steps)
                    model_col, ratio_col = f"{m_rate:.2f}", f"{rate / m_rate:.1f}x"
                except ImportError as exc:
                    model_col = f"n/a ({exc.name})"
            crop = batch["image"].shape[1]
            print(
                f"| {name} | {crop} | {args.batch_size} | {rate:.1f} | {model_col} | {ratio_col} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
