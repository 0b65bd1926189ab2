"""The ``rx`` command line: parse options, call one library function, print. No logic a Python user could not call.

One module per group of commands (``eval_commands``: ``rx eval``, ``rx diagnose``, ``rx report``;
``corpus_commands``: index, search, export, mining, prepare; ``run_commands``: training and grids), on the root
group of ``group``; every option is made from the library's options dataclasses (``options``). Only click and the
light core are imported at start; each command imports what it needs when it runs, so ``rx --help``,
``rx tasks list``, ``rx info`` and ``rx report`` never load torch.
"""

from retrieval_xfer.cli import corpus_commands, eval_commands, run_commands  # noqa: F401  (they add the commands)
from retrieval_xfer.cli.group import main

__all__ = ["main"]
