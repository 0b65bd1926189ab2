"""Where a model lives: a local folder (sentence-transformers or plain transformers layout) or a hub id."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from retrieval_xfer.errors import HubUnreachableError, RxError
from retrieval_xfer.hub import hub_reachable

# Files an encoder needs; weight formats other than safetensors are fetched only when a repo has no safetensors.
_HUB_PATTERNS = ["*.json", "*.model", "*.txt", "*.safetensors", "**/*.json", "**/*.safetensors"]


@dataclass(frozen=True)
class ModelSource:
    """A model resolved to a local folder.

    ``name``: what the user passed (hub id or path), recorded in index and result metadata.
    ``folder``: the local folder holding it. ``transformer_folder``: the folder of the Hugging Face model
    inside it (the folder itself for a plain transformers model or an ST model saved in its root).
    ``is_sentence_transformer``: the folder has ``modules.json`` (its own pooling pipeline).
    """

    name: str
    folder: Path
    transformer_folder: Path
    is_sentence_transformer: bool


def _transformer_subfolder(folder: Path) -> Path:
    modules_file = folder / "modules.json"
    try:
        modules = json.loads(modules_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise RxError(f"{modules_file}: unreadable sentence-transformers modules.json ({err})") from None
    for module in modules:
        if str(module.get("type", "")).endswith("Transformer"):
            sub = str(module.get("path", ""))
            if Path(sub).is_absolute() or ".." in Path(sub).parts:
                raise RxError(f"{modules_file}: module path {sub!r} leaves the model folder")
            return folder / sub
    raise RxError(f"{modules_file}: no Transformer module; rx needs a transformer encoder")


def _download(model_id: str) -> Path:
    """Fetch (or find in the cache) a hub model's files; fail fast with one line when the hub is unreachable."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, RepositoryNotFoundError

    online = hub_reachable()
    try:
        path = snapshot_download(model_id, allow_patterns=_HUB_PATTERNS, local_files_only=not online)
    except LocalEntryNotFoundError:
        raise HubUnreachableError(
            f"{model_id}: the Hugging Face Hub cannot be reached and the model is not in the local cache; "
            "pass a local model folder instead"
        ) from None
    except RepositoryNotFoundError:
        raise RxError(f"{model_id}: no such model on the Hugging Face Hub (nor a local folder of that name)") from None
    except (HfHubHTTPError, OSError) as err:
        raise RxError(f"{model_id}: could not download from the Hugging Face Hub ({type(err).__name__})") from None
    folder = Path(path)
    if online and not any(folder.rglob("*.safetensors")):  # older repos ship only PyTorch pickles
        folder = Path(snapshot_download(model_id, allow_patterns=_HUB_PATTERNS + ["*.bin", "**/*.bin"]))
    return folder


def named_prompt(source: ModelSource, name: str) -> str:
    """The text of the sentence-transformers prompt ``name`` (e.g. ``query``) of a model folder; RxError naming the
    prompts it has when there is no such prompt (or no prompts at all)."""
    config = source.folder / "config_sentence_transformers.json"
    prompts: dict[str, str] = {}
    if source.is_sentence_transformer and config.is_file():
        try:
            prompts = json.loads(config.read_text(encoding="utf-8")).get("prompts") or {}
        except (OSError, json.JSONDecodeError) as err:
            raise RxError(f"{config}: unreadable ({type(err).__name__})") from None
    if name not in prompts:
        have = ", ".join(f"{k} ({v!r})" for k, v in prompts.items()) or "none"
        raise RxError(f"--prompt-name {name!r}: {source.name} has no such prompt (its prompts: {have})")
    return prompts[name]


def resolve_model(model: str) -> ModelSource:
    """Resolve a hub id or a local path to a ``ModelSource``; raises RxError for anything that is not a model."""
    path = Path(model).expanduser()
    if path.is_dir():
        folder = path.resolve()
    elif path.exists() or model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise RxError(f"{model}: no such model folder")
    else:
        folder = _download(model)
    if (folder / "modules.json").exists():
        transformer = _transformer_subfolder(folder)
        is_st = True
    else:
        transformer, is_st = folder, False
    if not (transformer / "config.json").exists():
        raise RxError(f"{model}: not a model folder (no config.json or modules.json in {transformer})")
    return ModelSource(
        name=model if not path.is_dir() else str(folder),
        folder=folder,
        transformer_folder=transformer,
        is_sentence_transformer=is_st,
    )
