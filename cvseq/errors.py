"""The error type of user mistakes.

`UserInputError` is a `ValueError` raised for a mistake in what the user
gave (a file, an option, the data). The `cvseq` command prints it as one
line, `cvseq: error: ...`, and exits with status 2; any other exception is
a bug and shows its traceback.
"""


class UserInputError(ValueError):
    """A mistake in what the user gave (file, option, data); shown as one line."""
