"""Listing and pairing of image folders, with one-line :class:`MattingInputError` messages."""

import os

from keras_matting.errors import MattingInputError
from keras_matting.protocol import IMAGE_EXTENSIONS, TF_IMAGE_EXTENSIONS, list_images

__all__ = ["IMAGE_EXTENSIONS", "TF_IMAGE_EXTENSIONS", "list_images", "pair_by_name"]


def _stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def pair_by_name(dir_a, dir_b, what_a="fg", what_b="alpha", extensions=TF_IMAGE_EXTENSIONS):
    """Pair the files of two folders by file name (without extension).

    Returns ``(names, paths_a, paths_b)``; raises :class:`MattingInputError` when a folder
    is missing or empty, or when a name is present in only one of them.
    """
    a = {_stem(p): p for p in list_images(dir_a, what=what_a, extensions=extensions)}
    b = {_stem(p): p for p in list_images(dir_b, what=what_b, extensions=extensions)}
    only_a = sorted(set(a) - set(b))
    only_b = sorted(set(b) - set(a))
    if only_a or only_b:
        side, other, names = (dir_a, dir_b, only_a) if only_a else (dir_b, dir_a, only_b)
        what = what_a if only_a else what_b
        missing = what_b if only_a else what_a
        examples = ", ".join(names[:3])
        raise MattingInputError(
            f"{side}: {len(names)} {what} file(s) have no {missing} of the same name in "
            f"{other} (e.g. {examples}); give every {what}/NAME a {missing}/NAME"
        )
    names = sorted(a)
    return names, [a[n] for n in names], [b[n] for n in names]
