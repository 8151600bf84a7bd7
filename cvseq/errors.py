"""The error types of user mistakes and of what the user's setup lacks.

`UserError` is the base of every error the `cvseq` command prints as one
line, `cvseq: error: ...`, exiting with status 2; any other exception is a
bug and shows its traceback. `UserInputError` is a `ValueError` raised for a
mistake in what the user gave (a file, an option, the data);
`cvseq.datasets.DatasetUnavailableError` and
`cvseq.backbones.WeightsUnavailableError` (data or weights that cannot be
had here) are `UserError`s too.

Raise them where the input is checked (a file reader, an option check, the
data against the model), never by catching a plain ValueError/TypeError
around cvseq's own code: that would show a bug as a user mistake.
"""


class UserError(Exception):
    """Base of the errors `cvseq` shows as one line (not bugs)."""


class UserInputError(UserError, ValueError):
    """A mistake in what the user gave (file, option, data); shown as one line."""
