"""Recipe configurations: every hyper-parameter of a paper as a dataclass default.

A recipe is a dataclass; :func:`build_parser` turns its fields into command-line
flags (``batch_size`` -> ``--batch-size``) so each one can be overridden, and
:func:`load_config_file` reads JSON overrides. Unknown keys are an error in both.
"""

import argparse
import dataclasses
import json
import typing

from keras_matting.errors import MattingInputError

SHARED_DATA = "../shared/data"


@dataclasses.dataclass
class RecipeConfig:
    """Settings common to both recipes (data, schedule, checkpoints, scaling)."""

    fg_dir: typing.Optional[str] = None
    alpha_dir: typing.Optional[str] = None
    bg_dir: str = f"{SHARED_DATA}/backgrounds_bsds500"
    synthetic_count: int = 1000
    synthetic_size: int = 800
    val_dir: typing.Optional[str] = f"{SHARED_DATA}/alphamatting_val"
    val_images: int = 14
    output_dir: str = "runs/recipe"
    steps: int = 100_000
    steps_per_epoch: int = 500
    validate_every_epochs: int = 1
    batch_size: int = 8
    crop_size: int = 512
    learning_rate: float = 1e-4
    warmup_steps: int = 1000
    beta_1: float = 0.5
    beta_2: float = 0.999
    jit_compile: bool = True
    strategy: str = "default"
    seed: int = 0
    init_weights: typing.Optional[str] = None
    tiny: bool = False
    smoke: bool = False


def _flag(name):
    return "--" + name.replace("_", "-")


def _parse_bool(text):
    lowered = str(text).lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def _field_type(field):
    hint = field.type
    if isinstance(hint, str):
        hint = eval(hint, vars(typing))  # dataclass annotations written as strings
    args = typing.get_args(hint)
    if args:  # Optional[X]
        hint = next(a for a in args if a is not type(None))
    return _parse_bool if hint is bool else hint


def build_parser(config_cls, prog, description):
    """An ``argparse`` parser with one flag per field of ``config_cls``."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--config", help="JSON file of overrides (unknown keys are an error)")
    for field in dataclasses.fields(config_cls):
        default = field.default
        kind = _field_type(field)
        extra = {"nargs": "?", "const": True, "metavar": "BOOL"} if kind is _parse_bool else {}
        parser.add_argument(
            _flag(field.name),
            dest=field.name,
            type=kind,
            default=None,
            help=f"default: {default}",
            **extra,
        )
    return parser


def load_config_file(path, config_cls):
    """Read JSON overrides, refusing keys that are not fields of ``config_cls``."""
    try:
        with open(path) as f:
            values = json.load(f)
    except (OSError, json.JSONDecodeError) as exc:
        raise MattingInputError(f"{path}: cannot read the recipe config ({exc})") from None
    known = {f.name for f in dataclasses.fields(config_cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise MattingInputError(
            f"{path}: unknown recipe keys {unknown}; valid keys: {sorted(known)}"
        )
    return values


def config_from_args(config_cls, args, presets=None):
    """Paper defaults < ``presets`` (e.g. the ``--smoke`` ones) < ``--config`` file < flags."""
    values = dict(presets or {})
    if getattr(args, "config", None):
        values.update(load_config_file(args.config, config_cls))
    for field in dataclasses.fields(config_cls):
        value = getattr(args, field.name, None)
        if value is not None:
            values[field.name] = value
    return config_cls(**values)
