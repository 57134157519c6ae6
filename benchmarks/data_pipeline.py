"""Throughput of the AlphaGAN and IGF tf.data pipelines (samples/s), next to model step rates.

Generates a procedural training set (``keras_matting.data.synthetic``), composites it over
``../shared/data/backgrounds_bsds500`` (procedural backgrounds if absent) and times whole
batches after a warm-up that fills the in-memory cache. If the IGF / AlphaGAN trainers are
importable, their default (paper) models' CPU training-step rates on one fixed batch are
printed too, and the ratio pipeline / model.

    python benchmarks/data_pipeline.py [--samples 48] [--size 800] [--batches 20]
                                       [--models igf,alphagan | none]

Per core (docs/training_on_gpu.md has the numbers): limit the CPUs with ``taskset``; the
tf.data private thread pool and TensorFlow's op pools are sized to the CPUs this process
may use. ``--repeats`` timed runs give a median; "per CPU-second" divides the samples by
the CPU time of this process (all threads), which other jobs on a shared machine do not
inflate. ``--cache false`` decodes every sample (what a dataset too large for the
in-memory cache costs), ``--cache file`` reads a file cache (``--cache DIR`` of the recipes); ``--stages`` gives the CPU milliseconds of each step of one
sample (decode, resize, rotation, mask, crops, hue, composite).

    taskset -c 0   python benchmarks/data_pipeline.py --crop-size 512 --models none --stages
    taskset -c 0,1 python benchmarks/data_pipeline.py --crop-size 512 --models none
"""

import argparse
import functools
import os
import statistics
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


def _cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _limit_threads(threads):
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


def _with_threads(ds, threads):
    import tensorflow as tf

    options = tf.data.Options()
    options.threading.private_threadpool_size = threads
    return ds.with_options(options)


def _rate(ds, batches, warmup, repeats=1):
    it = iter(ds)
    for _ in range(warmup):
        batch = next(it)
    rates, cpu_rates = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        n = 0
        for _ in range(batches):
            batch = next(it)
            n += int(batch["image"].shape[0])
        rates.append(n / (time.perf_counter() - start))
        cpu_rates.append(n / (time.process_time() - cpu))
    return statistics.median(rates), statistics.median(cpu_rates), batch


def _median_ms(fn, calls):
    """Median CPU milliseconds of ``fn()`` (all threads: a shared CPU does not inflate it)."""
    fn()  # trace / warm up
    times = []
    for _ in range(calls):
        start = time.process_time()
        out = fn()
        if hasattr(out, "numpy"):
            out.numpy()
        elif isinstance(out, (tuple, list, dict)):
            for v in out.values() if isinstance(out, dict) else out:
                if hasattr(v, "numpy"):
                    v.numpy()
        times.append(time.process_time() - start)
    return 1000.0 * statistics.median(times)


def _stages(fg_path, alpha_path, bg_path, crop_size, calls):
    """Milliseconds per sample of each pipeline step, on the calling thread's pools."""
    import tensorflow as tf

    from keras_matting.data import igf_dataset as igf
    from keras_matting.data import tf_utils
    from keras_matting.data.alphagan_dataset import _augment, alphagan_trimap
    from keras_matting.protocol import chessboard_distances_np, composite

    fp, ap, bp = tf.constant(fg_path), tf.constant(alpha_path), tf.constant(bg_path)
    decode = tf.function(lambda: (tf_utils.decode_image(fp, 3), tf_utils.decode_image(ap, 1)))
    fg, alpha = decode()
    bg = tf_utils.decode_image(bp, 3)
    both = tf.concat([tf.cast(fg, tf.float32), tf.cast(alpha, tf.float32)], -1)
    short = tf.function(lambda: tf_utils.resize_short_side(both, igf.IGF_SHORT_SIDE))
    small = tf.cast(tf.clip_by_value(tf.round(short()), 0.0, 255.0), tf.uint8)
    angle = igf.IGF_ROTATIONS[2]
    s_fg, s_alpha = small[..., :3], small[..., 3:]
    a_np, bg_np = s_alpha.numpy(), bg.numpy()
    mask_np = igf._np_train_mask(a_np, 17, 17, False)[0]
    side = igf.IGF_SHORT_SIDE
    warp_args = (small.numpy(), mask_np, bg_np, angle, 0, 0, side, True, 0.5, 0.5, crop_size)
    c_fg, c_alpha, c_mask, c_bg = igf._np_train_warp(*warp_args)
    to_float = tf.function(lambda: [tf.cast(tf.constant(v), tf.float32) / 255.0
                                     for v in (c_fg, c_alpha, c_mask, c_bg)])
    c_fg, c_alpha, _, c_bg = to_float()
    hue = tf.function(lambda: (tf.image.adjust_hue(c_fg, 0.05), tf.image.adjust_hue(c_bg, 0.05)))
    comp = tf.function(lambda: composite(c_alpha, c_fg, c_bg))
    realism = tf.function(lambda: igf._photo_realism(
        tf_utils.KeyedRandom(0, 0, stream=2), {"fg": c_fg, "bg": c_bg, "alpha": c_alpha},
        dict(igf.REALISM, harmonize=1.0, defocus=1.0, noise=1.0, jpeg=1.0),
        igf.noise_bank(0, crop_size)))

    # The same geometry in TensorFlow ops, as the pipeline did it before the one warp:
    # rotation of the working-resolution image, then crop + antialiased resizes.
    t = np.deg2rad(angle)
    hw = np.array(small.shape[:2], np.float32)
    cy, cx = (hw - 1.0) / 2.0
    c, s_ = np.cos(t), np.sin(t)
    transform = [c, -s_, cx - c * cx + s_ * cy, s_, c, cy - s_ * cx - c * cy, 0.0, 0.0]
    rotate = tf.function(lambda: tf_utils.projective_transform(
        tf.cast(small, tf.float32), transform, small.shape[:2], "BILINEAR", "CONSTANT"))
    mask = tf.constant(mask_np)
    zero, tside = tf.constant(0), tf.constant(side)
    rnd = tf_utils.KeyedRandom(0, 0)

    def crops():
        return (igf._crop_resize(s_fg, zero, zero, tside, crop_size),
                igf._crop_resize(s_alpha, zero, zero, tside, crop_size),
                igf._crop_resize(mask, zero, zero, tside, crop_size, method="nearest"),
                igf._background_window(rnd, bg, tf.shape(s_alpha)[:2], zero, zero, tside,
                                       crop_size, centred=True))

    igf_rows = [
        ("decode fg + alpha PNG (once per image when cached)", _median_ms(decode, calls)),
        ("resize to shorter side 600 (once per image when cached)", _median_ms(short, calls)),
        ("weak mask: dilate/erode + keep test (OpenCV, releases the GIL)",
         _median_ms(lambda: igf._np_train_mask(a_np, 17, 17, False), calls)),
        (f"one warp to {crop_size}: rotation + crop + resize + flip (fg, alpha, mask, bg; "
         "OpenCV)", _median_ms(lambda: igf._np_train_warp(*warp_args), calls)),
        ("uint8 to float", _median_ms(to_float, calls)),
        ("hue shift (fg, bg)", _median_ms(hue, calls)),
        ("composite", _median_ms(comp, calls)),
    ]
    reference_rows = [
        ("photo realism (all four on): harmonise, defocus, noise, JPEG",
         _median_ms(realism, calls)),
        ("before: rotation in TF ops (ImageProjectiveTransformV3, fg + alpha)",
         _median_ms(rotate, calls)),
        (f"before: crop + antialiased resize to {crop_size} in TF ops (fg, alpha, mask, bg)",
         _median_ms(tf.function(crops), calls)),
    ]

    dist = tf.constant(chessboard_distances_np(alpha.numpy()))
    radius = tf.constant(5)
    candidates = tf.function(lambda: tf.where(tf.cast(dist[..., 1], tf.int32) <= radius))
    trimap = tf.function(lambda: alphagan_trimap(dist, radius))
    sides = (crop_size, int(round(crop_size * 720 / 320)))
    augment = tf.function(lambda: _augment(tf.constant(3, tf.int64), fg, alpha, dist, bg, 0,
                                           crop_size, sides, (2, 20), 5.0))
    whole = _median_ms(augment, calls)
    parts = [_median_ms(candidates, calls), _median_ms(trimap, calls)]
    alphagan_rows = [
        ("decode fg + alpha PNG (once per image when cached)", _median_ms(decode, calls)),
        ("chessboard distance maps (numpy, once per image when cached)",
         _median_ms(lambda: chessboard_distances_np(alpha.numpy()), calls)),
        ("unknown-pixel candidates (full-resolution tf.where)", parts[0]),
        ("trimap at full resolution", parts[1]),
        (f"rest: rotation/crop warps to {crop_size}, background, flip, composite",
         max(whole - sum(parts), 0.0)),
    ]
    return {"igf": igf_rows, "alphagan": alphagan_rows}, {"igf": reference_rows}


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
    parser.add_argument("--crop-size", type=int, default=None,
                        help="output side of both pipelines (default: each paper's, 512 / 320)")
    parser.add_argument("--pipelines", default="alphagan,igf")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (median)")
    parser.add_argument("--cache", default="auto",
                        help="auto, true, false or a folder for a file cache (filled by the "
                             "warm-up epoch; a temporary one for 'file')")
    parser.add_argument("--threads", type=int, default=None,
                        help="tf.data and op thread pools (default: the CPUs taskset allows)")
    parser.add_argument("--realism", action="store_true",
                        help="IGF with the photo-realism augmentations (--photo-realism)")
    parser.add_argument("--stages", action="store_true", help="per-step ms of one sample")
    parser.add_argument("--stage-calls", type=int, default=5)
    args = parser.parse_args()
    threads = args.threads or _cores()
    _limit_threads(threads)
    cache = {"auto": "auto", "true": True, "false": False}.get(args.cache, args.cache)
    crop = {} if args.crop_size is None else {"crop_size": args.crop_size}

    from keras_matting.data.alphagan_dataset import build_alphagan_dataset
    from keras_matting.data.igf_dataset import build_igf_dataset

    with tempfile.TemporaryDirectory() as tmp:
        stats = write_dataset(tmp, args.samples, args.size, seed=0)
        if cache == "file":
            cache = os.path.join(tmp, "cache")
        print(
            f"synth: {args.samples} samples of {args.size} px at {stats['rate']:.2f} samples/s "
            f"({os.cpu_count()} CPU cores, {_cores()} allowed, {threads} threads, "
            f"cache {args.cache}, median of {args.repeats} runs of {args.batches} batches)"
        )
        bg = _backgrounds(tmp)
        fg_dir, alpha_dir = os.path.join(tmp, "fg"), os.path.join(tmp, "alpha")
        warmup = -(-args.samples // args.batch_size) + 2  # one epoch fills the cache
        builders = {"alphagan": build_alphagan_dataset, "igf": build_igf_dataset}
        if args.realism:
            from keras_matting.data.igf_dataset import REALISM

            builders["igf"] = functools.partial(build_igf_dataset, realism=REALISM)
        pipelines = {
            name: _with_threads(builders[name](fg_dir, alpha_dir, bg, batch_size=args.batch_size,
                                               seed=0, cache=cache, **crop), threads)
            for name in args.pipelines.split(",") if name
        }
        models = [] if args.models == "none" else [m for m in args.models.split(",") if m]
        print("\n| pipeline | crop | batch | pipeline samples/s | per core | per CPU-second "
              "| model train samples/s | ratio |")
        print("|---|---|---|---|---|---|---|---|")
        for name, ds in pipelines.items():
            rate, cpu_rate, batch = _rate(ds, args.batches, warmup, args.repeats)
            model_col, ratio_col = "-", "-"
            if name in models:
                try:
                    m_rate = _model_rate(name, batch, args.model_steps)
                    model_col, ratio_col = f"{m_rate:.2f}", f"{rate / m_rate:.1f}x"
                except ImportError as exc:
                    model_col = f"n/a ({exc.name})"
            crop = batch["image"].shape[1]
            print(
                f"| {name} | {crop} | {args.batch_size} | {rate:.1f} | {rate / _cores():.1f} "
                f"| {cpu_rate:.1f} | {model_col} | {ratio_col} |",
                flush=True,
            )
        if args.stages:
            names = sorted(os.listdir(fg_dir))
            bg_file = os.path.join(bg, sorted(os.listdir(bg))[0]) if bg != SHARED_BG else None
            if bg_file is None or not os.path.isfile(bg_file):
                from keras_matting.data.tf_utils import background_paths

                bg_file = background_paths(bg)[0]
            rows, references = _stages(os.path.join(fg_dir, names[0]), os.path.join(alpha_dir, names[0]),
                           bg_file, args.crop_size or 512, args.stage_calls)
            for name, stage_rows in rows.items():
                if name not in pipelines:
                    continue
                total = sum(ms for _, ms in stage_rows)
                cached = sum(ms for label, ms in stage_rows if "once per image" not in label)
                print(f"\n| {name} step ({threads} threads) | CPU ms per sample | share |")
                print("|---|---|---|")
                for label, ms in stage_rows:
                    print(f"| {label} | {ms:.1f} | {100 * ms / total:.0f}% |")
                print(f"| total, decoded images cached: {1000 / cached:.1f} samples/s | "
                      f"{cached:.1f} | {100 * cached / total:.0f}% |")
                print(f"| total, not cached: {1000 / total:.1f} samples/s | {total:.1f} | 100% |",
                      flush=True)
                for label, ms in references.get(name, ()):
                    print(f"| (not in the total) {label} | {ms:.1f} | - |", flush=True)


if __name__ == "__main__":
    main()
