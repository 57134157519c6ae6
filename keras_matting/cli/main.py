"""Entry point of the ``keras-matting`` command.

Each subcommand lives in its own module ``keras_matting.cli.<name>`` exposing
``build_parser()``, ``parse_args(args)`` and ``main(argv=None) -> int``. Modules are
imported only when their subcommand runs, so ``keras-matting --help`` stays fast.
"""

import argparse
import importlib
import os
import sys

from keras_matting import __version__, quiet
from keras_matting.errors import MattingInputError

# name -> one-line help. The module keras_matting.cli.<name> implements it.
SUBCOMMANDS = {
    "composition1k": "rebuild the Composition-1k test composites from the Adobe dataset",
    "evaluate": "score alphas, or run models and baselines on a dataset into a report",
    "benchmark": "time a model on TF, XLA, TFLite and ONNX against a classical method",
    "export": "export a model to SavedModel (TF Serving), TFLite (phones) or ONNX",
    "predict": "compute alpha mattes for an image or a folder",
    "synth": "generate a procedural matting training set (fg/, alpha/)",
    "train": "train IGF or AlphaGAN with the paper's recipe (model.fit)",
}

EXIT_BAD_INPUT = 2


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-matting",
        description="Deep natural-image matting (AlphaGAN, Inductive Guided Filter) on Keras 3.",
    )
    parser.add_argument("--version", action="version", version=f"keras-matting {__version__}")
    parser.add_argument(
        "--verbose", action="store_true",
        help="also show TensorFlow's and other libraries' log lines, hidden by default "
        "(same as KERAS_MATTING_VERBOSE=1; may also follow the command)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in SUBCOMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def run_guarded(func, *args):
    """Run ``func(*args)``, turning user-input errors into one line on stderr and exit 2."""
    try:
        return func(*args)
    except MattingInputError as exc:
        print(f"keras-matting: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("keras-matting: interrupted", file=sys.stderr)
        return 130


def _take_verbose(argv):
    """Remove ``--verbose`` (before any ``--``) from ``argv``; True if it was there."""
    end = argv.index("--") if "--" in argv else len(argv)
    found = "--verbose" in argv[:end]
    argv[:end] = [a for a in argv[:end] if a != "--verbose"]
    return found


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if _take_verbose(argv):
        os.environ[quiet.VERBOSE_ENV] = "1"  # also for the subprocesses the command starts
    quiet.install()  # TensorFlow's start-up log lines stay off stderr (unless verbose)
    parser = build_parser()
    if not argv or argv[0] not in SUBCOMMANDS:
        parser.parse_args(argv)  # handles --help, --version and unknown commands
        parser.print_help()
        return EXIT_BAD_INPUT
    module = importlib.import_module(f"keras_matting.cli.{argv[0]}")
    code = run_guarded(module.main, argv[1:])
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
