"""``keras-matting export``: SavedModel (TF Serving), TFLite (LiteRT, builtins only) or ONNX.

    keras-matting export --model NAME|PATH --format saved_model|tflite|onnx
        [--quantize none|float16|dynamic|int8] [--size HxW] [--batch N] [--packed-input]
        --out PATH
        [--random-weights] [--calibration-count N] [--opset 17]

Every format takes ``image`` (N, H, W, 3) float32 RGB in [0, 1] and ``trimap`` (AlphaGAN,
{0, 0.5, 1}) or ``mask`` (IGF, {0, 1}) (N, H, W, 1), pads to the network stride inside and
returns ``alpha`` (N, H, W, 1) float32; the SavedModel also has a ``serving_uint8``
signature (uint8 0-255 inputs). See docs/deployment.md. Output written atomically (a
SavedModel directory is written beside ``--out`` and renamed). Exit status 2 on bad input.
"""

import argparse
import os
import sys

from keras_matting.errors import MattingInputError

FORMATS = ("saved_model", "tflite", "onnx")
QUANTIZATIONS = ("none", "float16", "dynamic", "int8")
EXTENSIONS = {"tflite": ".tflite", "onnx": ".onnx"}


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-matting export",
        description="Export a matting generator to SavedModel, TFLite or ONNX.",
        epilog=(
            "Example (phones): keras-matting export --model igf --format tflite "
            "--size 512x512 --quantize float16 --out igf_512_fp16.tflite"
        ),
    )
    parser.add_argument("--model", required=True, metavar="NAME|PATH",
                        help="igf, alphagan, or a .keras generator file")
    parser.add_argument("--format", required=True, choices=FORMATS)
    parser.add_argument("--quantize", default="none", choices=QUANTIZATIONS,
                        help="TFLite only: weight/activation quantisation (none)")
    parser.add_argument("--size", metavar="HxW",
                        help="TFLite/ONNX: fixed input size (batch 1, or --batch); "
                             "default: any size (dynamic)")
    parser.add_argument("--batch", type=int, metavar="N",
                        help="TFLite/ONNX: fixed batch size (default 1 with --size, else any)")
    parser.add_argument("--packed-input", action="store_true",
                        help="TFLite: one 4-channel input image_mask / image_trimap = "
                             "concat(image, guide) instead of two (fastest on phones)")
    parser.add_argument("--out", required=True, metavar="PATH",
                        help="output file (.tflite, .onnx) or directory (SavedModel)")
    parser.add_argument("--random-weights", action="store_true",
                        help="export the default igf/alphagan configuration with random "
                             "weights (for testing a deployment before a model is trained)")
    parser.add_argument("--calibration-count", type=int, default=32, metavar="N",
                        help="int8: number of procedural calibration images (32)")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset, >= 17 (17)")
    return parser


def parse_args(args):
    return build_parser().parse_args(args)


def _check(args):
    from keras_matting.export.model_source import parse_size

    if args.quantize != "none" and args.format != "tflite":
        raise MattingInputError(
            f"--quantize {args.quantize} applies to --format tflite only; drop it"
        )
    size = parse_size(args.size) if args.size else None
    if size is not None and args.format == "saved_model":
        raise MattingInputError(
            "--size applies to tflite and onnx; a SavedModel takes any size: drop --size"
        )
    if args.batch is not None and (args.batch < 1 or args.format == "saved_model"):
        raise MattingInputError("--batch must be >= 1 and applies to tflite and onnx only")
    if args.packed_input and args.format != "tflite":
        raise MattingInputError("--packed-input applies to --format tflite only; drop it")
    if args.opset < 17:
        raise MattingInputError(f"--opset {args.opset}: use 17 or later")
    if args.calibration_count < 1:
        raise MattingInputError("--calibration-count must be >= 1")
    ext = EXTENSIONS.get(args.format)
    if ext and not args.out.lower().endswith(ext):
        raise MattingInputError(f"--out {args.out!r}: a {args.format} file must end in {ext}")
    if ext and os.path.isdir(args.out):
        raise MattingInputError(f"--out {args.out!r} is a directory; give a {ext} file name")
    return size


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    size = _check(args)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from keras_matting.export.model_source import load_generator

    generator, note = load_generator(args.model, random_weights=args.random_weights)
    if note:
        print(note, file=sys.stderr)
    if args.format == "saved_model":
        from keras_matting.export.saved_model import export_saved_model

        path = export_saved_model(generator, args.out)
    elif args.format == "tflite":
        from keras_matting.export.tflite import export_tflite

        path = export_tflite(generator, args.out, size=size, batch=args.batch,
                             quantize=args.quantize, calibration_count=args.calibration_count,
                             packed=args.packed_input)
    else:
        from keras_matting.export.onnx import export_onnx

        path = export_onnx(generator, args.out, size=size, batch=args.batch, opset=args.opset)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    from keras_matting.cli.main import run_guarded

    sys.exit(run_guarded(main))
