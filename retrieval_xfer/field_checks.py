"""One check of a value against an options dataclass's field: its type and the bounds and choices in its metadata.

The click options (``cli.dataclass_options``), experiment files (``experiment/spec.py``) and the dataclasses
themselves (their ``__post_init__``) all call ``check_field``, so ``--lr abc``, ``lr: abc`` in an experiment file
and ``TrainConfig(lr="abc")`` fail alike, in one line, before any model loads. Every float must be finite: a NaN
compares false with everything, so a NaN threshold would keep every pair.

Metadata keys read here: ``choices``; ``min``/``max`` (inclusive bounds); ``above`` (an exclusive lower bound);
``nested`` (the field holds another options dataclass, whose fields the user sets as if they were this one's);
``cli: False`` (set by the command from elsewhere, never a user's option or experiment key).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from retrieval_xfer.errors import RxError


def option_name(f: dataclasses.Field) -> str:
    """How a user names the field: its command-line flag."""
    flag = f.metadata.get("flag")
    return flag if isinstance(flag, str) else f"--{f.name.replace('_', '-')}"


def field_kind(f: dataclasses.Field) -> str | None:
    """``bool``, ``int``, ``float`` or ``str`` for a scalar field (its annotation, ``None`` allowed beside it);
    None for anything else (paths, lists, mappings), which is not checked here."""
    if f.metadata.get("path"):
        return None  # a path may be given as str or Path
    annotation = str(f.type).replace(" ", "")
    for kind in ("bool", "int", "float", "str"):
        if annotation in (kind, f"{kind}|None", f"None|{kind}"):
            return kind
    return None


def _number(value: Any, kind: str) -> int | float:
    if isinstance(value, bool):
        raise ValueError
    if kind == "int":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int):
            return value
        return int(str(value).strip())
    number = float(value) if isinstance(value, (int, float)) else float(str(value).strip())
    if not math.isfinite(number):
        raise OverflowError
    return number


def check_field(f: dataclasses.Field, value: Any) -> Any:
    """``value`` as field ``f`` holds it (a string of a number becomes the number); RxError naming the option and
    what it accepts when the value has the wrong type, is not finite, is out of bounds or is not a choice.
    ``None`` passes where the field's default is ``None``."""
    if value is None and f.default is None:
        return None
    kind = field_kind(f)
    meta = f.metadata
    name = option_name(f)
    if kind == "bool":
        if not isinstance(value, bool):
            raise RxError(f"{name} {value!r}: expected true or false")
        return value
    if kind in ("int", "float"):
        given = value
        try:
            value = _number(value, kind)
        except OverflowError:
            raise RxError(f"{name} {value!r}: must be a finite number") from None
        except (TypeError, ValueError):
            raise RxError(f"{name} {value!r}: expected {'an integer' if kind == 'int' else 'a number'}") from None
        low, high, above = meta.get("min"), meta.get("max"), meta.get("above")
        if (
            (low is not None and value < low)
            or (high is not None and value > high)
            or (above is not None and value <= above)
        ):
            raise RxError(f"{name} {given!r}: must be {bounds(f)}")
    elif kind == "str" and not isinstance(value, str):
        raise RxError(f"{name} {value!r}: expected a string")
    if "choices" in meta and value not in meta["choices"]:
        raise RxError(f"{name} {value!r}: choose one of {', '.join(map(str, meta['choices']))}")
    return value


def bounds(f: dataclasses.Field) -> str:
    """The field's bounds in words, e.g. ``> 0 and <= 1``; ``finite`` when it has none."""
    meta = f.metadata
    parts = [f">= {meta['min']}"] if meta.get("min") is not None else []
    parts += [f"> {meta['above']}"] if meta.get("above") is not None else []
    parts += [f"<= {meta['max']}"] if meta.get("max") is not None else []
    return " and ".join(parts) or "finite"


def check_fields(obj: Any) -> None:
    """``check_field`` on every scalar field of dataclass instance ``obj``, storing the coerced values (call it from
    ``__post_init__``; frozen dataclasses included)."""
    for f in dataclasses.fields(obj):
        if field_kind(f) is not None:
            object.__setattr__(obj, f.name, check_field(f, getattr(obj, f.name)))


def option_fields(cls: type) -> list[dataclasses.Field]:
    """The fields of options dataclass ``cls`` a user sets, in order, with a ``nested`` dataclass's fields in its
    place (recursively); fields marked ``cli: False`` are left out."""
    found: list[dataclasses.Field] = []
    for f in dataclasses.fields(cls):
        if f.metadata.get("nested"):
            found += option_fields(_nested_class(f))
        elif f.metadata.get("cli", True):
            found.append(f)
    return found


def option_names(cls: type) -> set[str]:
    """The names of ``option_fields(cls)``: a command's option destinations and an experiment file's keys."""
    return {f.name for f in option_fields(cls)}


def take_options(cls: type, values: dict[str, Any], **fixed: Any) -> Any:
    """Build options dataclass ``cls`` from flat ``values`` (a command's keyword arguments or an experiment file's
    keys), popping those it uses; ``nested`` fields are built the same way; ``fixed`` overrides."""
    built: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name in fixed:
            continue
        if f.metadata.get("nested"):
            built[f.name] = take_options(_nested_class(f), values)
        elif f.metadata.get("cli", True) and f.name in values:
            built[f.name] = values.pop(f.name)
    return cls(**built, **fixed)


def _nested_class(f: dataclasses.Field) -> type:
    return type(f.default_factory())  # a nested field's default is made by its class


_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "dict": dict,
    "list": list,
    "int": int,
    "float": (int, float),
    "str": str,
    "bool": bool,
}


def check_json_types(cls: type, data: dict[str, Any]) -> None:
    """TypeError naming the first key of ``data`` (a JSON object rx wrote, perhaps edited by hand) whose value does
    not have the type of dataclass ``cls``'s field of that name (``None`` allowed where the field allows it)."""
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        annotation = str(f.type).replace(" ", "")
        kinds = [part.split("[")[0] for part in annotation.split("|")]
        value = data[f.name]
        if value is None and "None" in kinds:
            continue
        expected = [_JSON_TYPES[kind] for kind in kinds if kind in _JSON_TYPES]
        wrong_bool = isinstance(value, bool) and "bool" not in kinds
        if expected and (wrong_bool or not isinstance(value, tuple(_flatten(expected)))):
            raise TypeError(f"{f.name!r} should be {' or '.join(k for k in kinds if k != 'None')}, found {value!r}")


def _flatten(types: list[type | tuple[type, ...]]) -> list[type]:
    return [t for item in types for t in (item if isinstance(item, tuple) else (item,))]
