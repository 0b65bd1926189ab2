"""Loading a split of a Hugging Face hub dataset, failing in seconds with one line when the hub is unreachable."""

from __future__ import annotations

import functools
from typing import Any

from retrieval_xfer.errors import HubUnreachableError, RxError, SplitMissingError
from retrieval_xfer.hub import hub_reachable

PARQUET_BRANCH = "refs/convert/parquet"  # where the hub keeps its parquet conversion of a script dataset


@functools.cache
def resolve_revision(dataset: str, revision: str | None = None) -> str | None:
    """The commit that ``revision`` (a branch, tag or commit; None: the default branch) of a hub dataset names
    now, so a run reads, and records, one fixed commit. The given value when the hub cannot be asked."""
    if not hub_reachable():
        return revision
    from huggingface_hub import HfApi

    try:
        return HfApi().dataset_info(dataset, revision=revision).sha or revision
    except Exception:  # the load that follows reports what is wrong with the dataset
        return revision


def hub_source(dataset: str, config: str | None, split: str, revision: str | None = None) -> str:
    """``hf://dataset@commit/config/split``: where a split was read, with the commit ``load_hub_split`` read."""
    commit = resolve_revision(dataset, revision)
    return f"hf://{dataset}{'@' + commit if commit else ''}/{config or ''}/{split}"


def load_hub_split(
    dataset: str,
    config: str | None,
    split: str,
    hint: str = "pass --data-dir with local files",
    revision: str | None = None,
) -> Any:
    """Return ``datasets.load_dataset(dataset, config, split=split, revision=...)`` at the commit ``revision``
    resolves to (``hub_source`` names it); RxError (ending with ``hint``) when the hub is unreachable, or when
    the dataset cannot be loaded. A loading-script dataset is read from its parquet conversion branch."""
    name = f"{dataset}{'/' + config if config else ''}"
    if not hub_reachable():
        raise HubUnreachableError(f"{name}: the Hugging Face Hub cannot be reached; {hint}")
    import datasets

    try:
        return datasets.load_dataset(dataset, config, split=split, revision=resolve_revision(dataset, revision))
    except Exception as err:  # datasets raises many types (ConnectionError, ValueError, FileNotFoundError, ...)
        error = err
    text = f"{type(error).__name__}: {error}"
    if "unknown split" in str(error).lower():
        raise SplitMissingError(f"{name}: no {split!r} split ({str(error).splitlines()[0]})") from None
    if "scripts are no longer supported" in str(error).lower() or "loading script" in str(error).lower():
        try:  # the hub's automatic parquet conversion of a script dataset, when it exists
            return datasets.load_dataset(dataset, config, split=split, revision=PARQUET_BRANCH)
        except Exception:
            raise RxError(
                f"{name}: a loading-script dataset, which datasets {datasets.__version__} no longer runs, "
                f"and no parquet conversion ({PARQUET_BRANCH}) could be read; {hint}"
            ) from None
    raise RxError(f"{name} (split {split}): could not be loaded ({text.splitlines()[0]})") from None
