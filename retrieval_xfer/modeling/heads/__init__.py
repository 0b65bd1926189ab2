"""Task heads, each a sentence-transformers loss module that owns its parameters (one shared encoder).

``registry.py`` maps card ``head`` names to classes and reloads saved heads.
"""

from retrieval_xfer.modeling.heads.base import TaskHead
from retrieval_xfer.modeling.heads.registry import HEADS, load_head, read_head_config

__all__ = ["HEADS", "TaskHead", "load_head", "read_head_config"]
