"""Exceptions raised by keras_matting for bad user input."""


class MattingInputError(ValueError):
    """Bad input data: a missing/unreadable file, a size mismatch, an empty unknown region.

    The message is one line that names the file(s), says what is wrong and what to do.
    The CLI prints it without a traceback and exits with status 2.
    """
