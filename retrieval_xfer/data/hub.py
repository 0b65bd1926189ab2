"""Loading a split of a Hugging Face hub dataset, failing in seconds with one line when the hub is unreachable."""

from __future__ import annotations

from typing import Any

from retrieval_xfer.errors import HubUnreachableError, RxError
from retrieval_xfer.hub import hub_reachable


def load_hub_split(dataset: str, config: str | None, split: str, hint: str = "pass --data-dir with local files",
                   revision: str | None = None) -> Any:
    """Return ``datasets.load_dataset(dataset, config, split=split, revision=revision)``; RxError (ending with
    ``hint``) when the hub is unreachable, or when the dataset cannot be loaded."""
    name = f"{dataset}{'/' + config if config else ''}"
    if not hub_reachable():
        raise HubUnreachableError(f"{name}: the Hugging Face Hub cannot be reached; {hint}")
    import datasets

    try:
        return datasets.load_dataset(dataset, config, split=split, revision=revision)
    except Exception as err:  # datasets raises many types (ConnectionError, ValueError, FileNotFoundError, ...)
        raise RxError(f"{name} (split {split}): could not be loaded ({type(err).__name__}: {err})") from None
