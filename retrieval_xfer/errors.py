"""The one exception type for bad input: its message is a single line that names the file and the problem."""


class RxError(Exception):
    """A user-facing error (bad file, bad option, incompatible index). The CLI prints it as one line and exits 1."""
