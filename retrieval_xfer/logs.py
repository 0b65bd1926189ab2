"""The package's one logger tree: every module logs to ``logging.getLogger(__name__)``, under ``retrieval_xfer``.

Library functions never print and take no ``echo`` callables: progress lines are ``logger.info``, problems the
user should see are ``logger.warning``. Used as a library, rx is silent except for warnings (Python's default
for a logger without handlers); the command line calls ``show_on_stderr`` once with the level that ``rx -v`` /
``rx -q`` ask for.
"""

from __future__ import annotations

import logging
import sys

ROOT = "retrieval_xfer"


class _Stderr(logging.Handler):
    """Writes each record to the ``sys.stderr`` of the moment (so a test runner's capture sees it too):
    progress lines as they are, warnings and errors with their level in front."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.levelno >= logging.WARNING:
                message = f"{record.levelname.capitalize()}: {message}"
            print(message, file=sys.stderr, flush=True)
        except Exception:  # a logging call never breaks the program (logging's own rule)
            self.handleError(record)


def show_on_stderr(level: int = logging.INFO) -> None:
    """Show the ``retrieval_xfer`` tree's records at ``level`` and above on stderr (installed once; a later call
    only changes the level)."""
    logger = logging.getLogger(ROOT)
    logger.setLevel(level)
    if not any(isinstance(handler, _Stderr) for handler in logger.handlers):
        logger.addHandler(_Stderr())
