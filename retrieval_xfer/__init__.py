"""retrieval_xfer: English intermediate-task training and zero-shot cross-lingual retrieval evaluation.

Only ``RxError`` and ``__version__`` live here (importing the package loads no model stack). The entry points are
one function per job in their packages (README, "Python API"); the ``rx`` command line (``retrieval_xfer.cli``)
is a thin layer over them.
"""

from retrieval_xfer.errors import RxError
from retrieval_xfer.version import __version__

__all__ = ["RxError", "__version__"]
