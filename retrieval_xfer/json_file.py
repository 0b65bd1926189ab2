"""Reading a JSON object that rx wrote (a manifest, run.json, head.json) with one-line errors naming the file.

Every reader of such a file needs the same four failures told apart from a sound file: missing, unreadable
(permissions, bytes that are not UTF-8), not JSON (a truncated write), and not the object expected (a JSON list,
a key missing). Callers choose the error type and the wording of "missing"; the rest reads the same everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from retrieval_xfer.errors import RxError


def read_json_object(
    path: Path, what: str, *, missing: str, error: type[RxError] = RxError, required: Iterable[str] = ()
) -> dict[str, Any]:
    """The JSON object in ``path``.

    Raises ``error(missing)`` when the file does not exist (also when a folder on its path is a file), and
    ``error("<path>: corrupt <what> (<reason>)")`` when it cannot be read, is not JSON, is not a JSON object, or
    lacks one of the ``required`` keys.
    """
    path = Path(path)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):  # no such file, or a "folder" on its path is a file
        raise error(missing) from None
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"{path}: corrupt {what} (unreadable: {type(err).__name__})") from None
    except json.JSONDecodeError as err:
        raise error(f"{path}: corrupt {what} ({err.msg} at line {err.lineno})") from None
    if not isinstance(payload, dict):
        raise error(f"{path}: corrupt {what} (expected a JSON object, found {type(payload).__name__})")
    absent = [key for key in required if key not in payload]
    if absent:
        raise error(f"{path}: corrupt {what} (no {absent[0]!r})")
    return payload
