"""The generator an export or a benchmark works on: a shipped name, a ``.keras`` path, or
the default configuration with random weights (until trained models ship)."""

from keras_matting.errors import MattingInputError

__all__ = ["load_generator", "parse_size"]

GENERATOR_NAMES = ("igf", "alphagan")


def load_generator(name_or_path, random_weights=False, seed=0):
    """``(generator, note)``: :func:`keras_matting.load` or, with ``random_weights``, the
    default configuration of ``"igf"`` / ``"alphagan"`` with seeded random weights (``note``
    says so; ``None`` otherwise)."""
    if random_weights:
        if name_or_path not in GENERATOR_NAMES:
            raise MattingInputError(
                f"--random-weights needs --model igf or alphagan, not {name_or_path!r}"
            )
        import keras

        keras.utils.set_random_seed(seed)
        if name_or_path == "igf":
            from keras_matting.models.igf import IGFGenerator

            generator = IGFGenerator()
        else:
            from keras_matting.models.alphagan import AlphaGANGenerator

            generator = AlphaGANGenerator()
        note = (f"note: {name_or_path} with RANDOM weights (default configuration, seed {seed}); "
                "timings are valid, alphas and SAD are not")
        return generator, note
    from keras_matting.models.registry import load

    try:
        return load(name_or_path), None
    except MattingInputError as exc:
        if name_or_path in GENERATOR_NAMES:
            raise MattingInputError(f"{exc}, or add --random-weights") from None
        raise


def parse_size(text):
    """``"512"`` or ``"512x384"`` (height x width) -> ``(height, width)``."""
    parts = str(text).lower().replace("×", "x").split("x")
    try:
        if len(parts) not in (1, 2):
            raise ValueError
        size = tuple(int(p) for p in parts)
    except ValueError:
        raise MattingInputError(
            f"size {text!r} is not HxW: write e.g. 512x512 (height x width) or 512"
        ) from None
    size = size * 2 if len(size) == 1 else size
    if min(size) < 8 or max(size) > 16384:
        raise MattingInputError(f"size {text!r} must be between 8 and 16384 pixels a side")
    return size
