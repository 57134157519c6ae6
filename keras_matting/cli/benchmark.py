"""``keras-matting benchmark``: latency, memory and accuracy on every runtime.

    keras-matting benchmark --model igf|alphagan|PATH [--random-weights] [--size 512]
        [--batch 1] [--threads 2] [--runs 10] [--warmup 2] [--val-dir DIR]
        [--skip xla,onnx,...] [--calibration-count 16] [--profile]

Rows: Keras tf.function, XLA, TFLite fp32 / fp16 / dynamic-range / int8 and fp32 with one
packed 4-channel input (XNNPACK, ``num_threads=T``, fixed-size models), onnxruntime (``intra_op_num_threads=T``), and the
classical method a user would pick instead on the same input (IGF: fast guided filter;
AlphaGAN: closed-form matting, pymatting). Each row runs in a fresh subprocess (peak RSS
is that process's). The input is a procedural composite (:mod:`keras_matting.export.
calibration`). With ``--val-dir`` each TFLite variant is scored (SAD) on that folder.
Prints a markdown table on stdout; progress on stderr. With ``--profile``, per-op time
breakdowns of the fixed-size TFLite models follow (:mod:`keras_matting.benchmark.
tflite_profile`). Not a test: run it on an idle CPU.
"""

import argparse
import os
import sys

from keras_matting.errors import MattingInputError

SKIPPABLE = ("keras", "xla", "tflite", "tflite-none", "tflite-float16", "tflite-dynamic",
             "tflite-int8", "tflite-packed", "onnx", "guided-filter", "closed-form")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-matting benchmark",
        description="Time a matting model on TF, XLA, TFLite and ONNX against a classical method.",
        epilog="Example: keras-matting benchmark --model igf --random-weights --size 512 "
               "--threads 2 --runs 30 --val-dir ../shared/data/alphamatting_val",
    )
    parser.add_argument("--model", required=True, metavar="igf|alphagan|PATH",
                        help="shipped model name or a .keras generator file")
    parser.add_argument("--random-weights", action="store_true",
                        help="use the default igf/alphagan configuration with random weights "
                             "(until trained models ship)")
    parser.add_argument("--size", default="512", metavar="S|HxW", help="input size (512)")
    parser.add_argument("--batch", type=int, default=1, help="images per call (1)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads per backend (2)")
    parser.add_argument("--runs", type=int, default=10, help="timed runs per backend (10)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs first (2)")
    parser.add_argument("--val-dir", metavar="DIR",
                        help="evaluation folder (image/, alpha/, mask/, trimap/): SAD of each "
                             "TFLite variant")
    parser.add_argument("--skip", default="", metavar="ROWS",
                        help=f"comma-separated rows to skip: {','.join(SKIPPABLE)}")
    parser.add_argument("--calibration-count", type=int, default=16, metavar="N",
                        help="int8 calibration images (16)")
    parser.add_argument("--profile", action="store_true",
                        help="also print a per-op time breakdown of the fixed-size TFLite "
                             "models (fp32 and int8, packed input) on LiteRT/XNNPACK")
    return parser


def parse_args(args):
    return build_parser().parse_args(args)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from keras_matting.export.model_source import parse_size

    size = parse_size(args.size)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = skip - set(SKIPPABLE)
    if unknown:
        raise MattingInputError(
            f"--skip {','.join(sorted(unknown))}: unknown row; use {','.join(SKIPPABLE)}")
    for name in ("batch", "threads", "runs", "calibration_count"):
        if getattr(args, name) < 1:
            raise MattingInputError(f"--{name.replace('_', '-')} must be >= 1")
    if args.warmup < 0:
        raise MattingInputError("--warmup must be >= 0")
    if args.val_dir and not os.path.isdir(args.val_dir):
        raise MattingInputError(f"--val-dir {args.val_dir}: folder not found")
    if args.val_dir and size[0] != size[1]:
        raise MattingInputError("--val-dir scores square crops: give a square --size (e.g. 512)")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from keras_matting.benchmark.runner import BenchmarkConfig, format_table, run_benchmark
    from keras_matting.export.model_source import load_generator

    generator, note = load_generator(args.model, random_weights=args.random_weights)
    config = BenchmarkConfig(size=size, batch=args.batch, threads=args.threads, runs=args.runs,
                             warmup=args.warmup, val_dir=args.val_dir, skip=skip,
                             calibration_count=args.calibration_count)
    result = run_benchmark(generator, config, note=note)
    print(format_table(result))
    if args.profile:
        from keras_matting.benchmark.tflite_profile import format_profile, profile_tflite
        from keras_matting.export.tflite import convert_to_tflite

        for quantize, label in (("none", "fp32"), ("int8", "int8")):
            print(f"profiling TFLite {label} ...", file=sys.stderr, flush=True)
            model = convert_to_tflite(generator, size=size, batch=args.batch, packed=True,
                                      quantize=quantize,
                                      calibration_count=args.calibration_count)
            profile = profile_tflite(model, num_threads=args.threads, runs=args.runs,
                                     warmup=args.warmup)
            print()
            print(format_profile(
                profile, f"TFLite {label}, packed input, {size[0]}x{size[1]}, "
                         f"{args.threads} threads"))
    return 0


if __name__ == "__main__":
    from keras_matting.cli.main import run_guarded

    sys.exit(run_guarded(main))
