"""AlphaGAN speed on this machine: forward latency and one training step, batch 1.

Prints a table of median wall times (after warm-up) for the paper-size generator
(dilated ResNet50 + ASPP + decoder) and the 70×70 PatchGAN, with ``tf.function`` and
with XLA (``jit_compile=True``). Not a test; run it when nothing else loads the CPU:

    /work/venv/bin/python benchmarks/alphagan_speed.py [--repeats 3] [--sizes 320 512]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_matting.models.alphagan import AlphaGAN  # noqa: E402


def _batch(size, seed=0):
    rng = np.random.default_rng(seed)
    alpha = rng.random((1, size, size, 1)).astype("float32")
    fg = rng.random((1, size, size, 3)).astype("float32")
    bg = rng.random((1, size, size, 3)).astype("float32")
    trimap = rng.choice([0.0, 0.5, 1.0], size=(1, size, size, 1)).astype("float32")
    batch = {"image": alpha * fg + (1 - alpha) * bg, "trimap": trimap, "alpha": alpha,
             "fg": fg, "bg": bg}
    return {key: tf.constant(value) for key, value in batch.items()}


def _time(fn, args, warmup, repeats):
    start = time.perf_counter()
    for _ in range(max(warmup, 1)):
        tf.nest.map_structure(lambda t: t.numpy(), fn(*args))
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        tf.nest.map_structure(lambda t: t.numpy(), fn(*args))
        times.append(time.perf_counter() - start)
    return statistics.median(times), first


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[320, 512])
    parser.add_argument("--train-size", type=int, default=320)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--modes", nargs="+", default=["tf.function", "xla"],
                        choices=["tf.function", "xla"])
    args = parser.parse_args(argv)

    model = AlphaGAN(seed=0)
    model.compile()
    generator = model.generator
    print(f"generator parameters: {generator.count_params():,}; "
          f"discriminator: {model.discriminator.count_params():,}; "
          f"CPU threads: {os.cpu_count()}")
    rows = []
    for mode in args.modes:
        jit = mode == "xla"
        forward = tf.function(lambda x: generator(x, training=False), jit_compile=jit)
        for size in args.sizes:
            batch = _batch(size)
            x = tf.concat([batch["image"], batch["trimap"]], axis=-1)
            median, first = _time(forward, (x,), args.warmup, args.repeats)
            rows.append((f"forward {size}x{size}", mode, median, first))
            print(*rows[-1], flush=True)
        train_step = tf.function(model.train_step, jit_compile=jit)
        median, first = _time(train_step, (_batch(args.train_size),), args.warmup, args.repeats)
        rows.append((f"train step {args.train_size}x{args.train_size}", mode, median, first))
        print(*rows[-1], flush=True)

    print()
    print(f"{'case':<22} {'mode':<12} {'median s':>9} {'first call s':>13}")
    for case, mode, median, first in rows:
        print(f"{case:<22} {mode:<12} {median:>9.3f} {first:>13.1f}")
    print(f"(batch 1, median of {args.repeats} after {args.warmup} warm-up; "
          "'first call' includes tracing / XLA compilation)")


if __name__ == "__main__":
    main()
