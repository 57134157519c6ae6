"""``keras-matting train RECIPE [--flag value ...]``: train IGF or AlphaGAN with model.fit.

Every hyper-parameter of the recipe is a flag (``--batch-size 4``); unknown flags
are an error. ``--smoke`` runs a few steps of tiny models on tiny generated data.
"""

import sys

from keras_matting.training.recipe_config import build_parser as build_recipe_parser
from keras_matting.training.recipe_config import check_data_flags, config_from_args


def _recipes():
    from keras_matting.training.runner import RECIPES

    return RECIPES


def build_parser(recipe_name=None):
    import argparse

    recipes = _recipes()
    if recipe_name is None or recipe_name not in recipes:
        parser = argparse.ArgumentParser(
            prog="keras-matting train",
            description="Train a matting model with its paper's recipe through model.fit.",
            epilog="Run 'keras-matting train RECIPE --help' for the recipe's flags.",
        )
        parser.add_argument("recipe", choices=sorted(recipes))
        return parser
    recipe = recipes[recipe_name]
    parser = build_recipe_parser(
        recipe.config_cls, prog=f"keras-matting train {recipe_name}",
        description=(recipe.config_cls.__doc__ or "").strip().splitlines()[0],
    )
    from keras_matting.data.layouts import LAYOUTS
    from keras_matting.training.runner import STRATEGIES

    for action in parser._actions:
        if action.dest in FLAG_HELP:
            action.help = f"{FLAG_HELP[action.dest]} ({action.help})"
        if action.dest == "strategy":
            action.choices = STRATEGIES
        if action.dest == "dataset_layout":
            action.choices = LAYOUTS
    return parser


FLAG_HELP = {
    "strategy": (
        "default (one device), mirrored (all local GPUs), multiworker (the cluster in "
        "TF_CONFIG; the chief writes --output-dir, worker i --output-dir/workers/i) or tpu; "
        "--batch-size is the GLOBAL batch, split over all replicas (see docs/scaling.md)"
    ),
    "batch_size": "global batch: summed over all replicas of --strategy",
    "dataset_dir": (
        "a downloaded matting dataset (Adobe/Composition-1k training set, Distinctions-646, "
        "AM-2k, P3M-10k, PPM-100, a folder of RGBA PNGs, or fg/ + alpha/), prepared once "
        "in --output-dir/dataset; instead of --fg-dir/--alpha-dir (see docs/training_on_gpu.md)"
    ),
    "dataset_layout": "the layout of --dataset-dir; auto detects it",
    "bg_dir": "REQUIRED (except with --smoke): background photos composited behind the fg",
    "val_dir": (
        "REQUIRED (except with --smoke): evaluation folder (image/, alpha/, mask/ or "
        "trimap/NAME/) validated every epoch, or 'none' to train without validation"
    ),
}


def parse_args(args):
    """Returns ``(recipe, config)``."""
    args = list(args)
    recipes = _recipes()
    if not args or args[0] not in recipes:
        build_parser().parse_args(args[:1] or ["--help"])
    from keras_matting.training.runner import smoke_defaults

    recipe = recipes[args[0]]
    namespace = build_parser(args[0]).parse_args(args[1:])
    presets = smoke_defaults(recipe.config_cls) if namespace.smoke else None
    return recipe, config_from_args(recipe.config_cls, namespace, presets=presets)


def main(argv=None):
    from keras_matting.cli.main import run_guarded
    from keras_matting.data.layouts import apply_dataset_layout
    from keras_matting.training.runner import run_recipe

    def train():
        # inside run_guarded: a bad value (--steps -5) is one line on stderr, exit 2
        recipe, config = parse_args(sys.argv[1:] if argv is None else argv)
        config = check_data_flags(config, recipe.name)
        run_recipe(recipe, apply_dataset_layout(config))
        return 0

    return run_guarded(train)


if __name__ == "__main__":
    sys.exit(main())
