"""retrieval_xfer: English intermediate-task training and zero-shot cross-lingual retrieval evaluation.

The public entry points are re-exported here; the ``rx`` command line (``retrieval_xfer.cli``) is a thin
layer over them.
"""

from retrieval_xfer.errors import RxError
from retrieval_xfer.version import __version__

__all__ = ["RxError", "__version__"]
