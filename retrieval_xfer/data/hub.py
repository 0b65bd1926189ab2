"""Loading a split of a Hugging Face hub dataset, failing in seconds with one line when the hub is unreachable."""

from __future__ import annotations

from typing import Any

from retrieval_xfer.errors import HubUnreachableError, RxError, SplitMissingError

PARQUET_BRANCH = "refs/convert/parquet"  # where the hub keeps its parquet conversion of a script dataset
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
        error = err
    text = f"{type(error).__name__}: {error}"
    if "unknown split" in str(error).lower():
        raise SplitMissingError(f"{name}: no {split!r} split ({str(error).splitlines()[0]})") from None
    if "scripts are no longer supported" in str(error).lower() or "loading script" in str(error).lower():
        try:  # the hub's automatic parquet conversion of a script dataset, when it exists
            return datasets.load_dataset(dataset, config, split=split, revision=PARQUET_BRANCH)
        except Exception:
            raise RxError(f"{name}: a loading-script dataset, which datasets {datasets.__version__} no longer runs, "
                          f"and no parquet conversion ({PARQUET_BRANCH}) could be read; {hint}") from None
    raise RxError(f"{name} (split {split}): could not be loaded ({text.splitlines()[0]})") from None
