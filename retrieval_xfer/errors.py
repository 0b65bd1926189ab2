"""User-facing errors: each message is a single line that names the file (or option) and the problem.

``RxError`` is what the CLI prints as one line with exit status 1. Its subclasses exist where a caller must tell
one failure from another without matching message text.
"""


class RxError(Exception):
    """A user-facing error (bad file, bad option, incompatible index). The CLI prints it as one line and exits 1."""


class HubUnreachableError(RxError):
    """The Hugging Face Hub cannot be reached (offline mode, or no connection) and nothing local can stand in."""


class SplitMissingError(RxError):
    """A hub dataset has no such split (for one language, e.g. UD-POS Kazakh has no dev split)."""


class CardError(RxError):
    """A task card (``tasks/*.yaml``) is missing, malformed, or has a key or value its schema does not allow."""


class RunFolderError(RxError):
    """A run folder (written by ``rx train``) is missing, unfinished, or has a corrupt ``run.json``/``head.json``."""
