"""The click options of the ``rx`` commands, made from the options dataclasses the library takes: each option is
declared once, on its dataclass field (help, choices, bounds, flag), and ``field_checks`` checks its values the
same way an experiment file's are checked."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.errors import RxError
from retrieval_xfer.field_checks import check_field, field_kind


class _FieldChecked:
    """A click number type whose values go through ``field_checks.check_field`` (type, finite, bounds)."""

    field: dataclasses.Field

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return check_field(self.field, value)
        except RxError as err:
            self.fail(str(err), param, ctx)  # type: ignore[attr-defined]


class FieldType(_FieldChecked, click.ParamType):
    """A number option without bounds."""

    def __init__(self, f: dataclasses.Field) -> None:
        self.field = f
        self.name = "INTEGER" if field_kind(f) == "int" else "FLOAT"


class IntFieldRange(_FieldChecked, click.IntRange):
    """An integer option with bounds (shown in its help, as click does)."""

    def __init__(self, f: dataclasses.Field) -> None:
        self.field = f
        super().__init__(min=f.metadata.get("min"), max=f.metadata.get("max"))


class FloatFieldRange(_FieldChecked, click.FloatRange):
    """A float option with bounds (shown in its help, as click does)."""

    def __init__(self, f: dataclasses.Field) -> None:
        self.field = f
        above = f.metadata.get("above")
        low = above if above is not None else f.metadata.get("min")
        super().__init__(min=low, max=f.metadata.get("max"), min_open=above is not None)


def field_type(f: dataclasses.Field) -> click.ParamType:
    """The click type of a number field: bounded (its help shows the range) or not."""
    bounded = any(f.metadata.get(key) is not None for key in ("min", "max", "above"))
    if not bounded:
        return FieldType(f)
    return IntFieldRange(f) if field_kind(f) == "int" else FloatFieldRange(f)


def _option(f: dataclasses.Field, help_values: dict[str, str]) -> Callable[[Callable], Callable]:
    """The click option of one field, from its metadata."""
    meta = f.metadata
    names = [meta["flag"]] if isinstance(meta.get("flag"), str) else [f"--{f.name.replace('_', '-')}"]
    help_text = meta.get("help")
    for name, value in help_values.items():
        help_text = help_text and help_text.replace(f"{{{name}}}", value)
    kwargs: dict[str, Any] = {"help": help_text}
    if meta.get("flag") is True:
        kwargs["is_flag"] = True
    elif "flag_value" in meta:  # --ray [ADDRESS]: a value, or the flag alone
        kwargs.update(is_flag=False, flag_value=meta["flag_value"])
    elif "choices" in meta:
        kwargs["type"] = click.Choice(list(meta["choices"]))
    elif field_kind(f) in ("int", "float"):
        kwargs["type"] = field_type(f)
    elif meta.get("path"):
        kwargs["type"] = click.Path(path_type=Path)
    if meta.get("multiple"):
        kwargs["multiple"] = True
    if "metavar" in meta:
        kwargs["metavar"] = meta["metavar"]
    if meta.get("required"):
        kwargs["required"] = True
    elif f.default is not dataclasses.MISSING and not kwargs.get("is_flag") and not meta.get("multiple"):
        kwargs["default"] = f.default
        kwargs["show_default"] = f.default is not None and meta.get("show_default", True) and f.default != ""
    return click.option(*names, f.name, **kwargs)


def dataclass_options(
    cls: type,
    exclude: tuple[str, ...] = (),
    replace: dict[str, Callable] | None = None,
    help_values: dict[str, str] | None = None,
) -> Callable[[Callable], Callable]:
    """Click options made from a dataclass's fields (help, choices, minimum, flag from each field's metadata;
    ``nested`` dataclasses' fields in their place; ``cli: False`` fields left out). ``exclude`` leaves fields out;
    ``replace`` gives a field another option (e.g. a different default); ``help_values`` fill ``{name}`` in help
    texts (e.g. a card's file names). The same dataclasses define what an experiment file accepts, so ``rx eval``
    and ``rx experiment`` agree by construction.
    """
    from retrieval_xfer.field_checks import option_fields

    options = [
        (replace[f.name] if replace and f.name in replace else _option(f, help_values or {}))
        for f in option_fields(cls)
        if f.name not in exclude
    ]

    def decorate(func: Callable) -> Callable:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


encoder_options = dataclass_options(EncoderOptions)


def encoder_options_with_optional_model(needed_for: str) -> Callable[[Callable], Callable]:
    """The encoder options of a command that reads vectors too, so ``--model`` is needed only for ``needed_for``."""
    model = click.option("--model", default=None, help=f"Hub id or local folder: encodes {needed_for}.")
    return dataclass_options(EncoderOptions, replace={"model": model})


dry_run_option = click.option(
    "--dry-run",
    is_flag=True,
    help="Write nothing: predict the time and memory of this job here and on Ray clusters from the input sizes and "
    "this machine's measured speeds (measured first, in seconds, when not cached; see rx calibrate-speed).",
)


def ray_option(help_text: str) -> Callable[[Callable], Callable]:
    """``--ray [ADDRESS]`` (a cluster, or a local Ray without an address) of a command whose Ray use is not a
    mining job's (``MiningOptions.ray`` declares that one); ``help_text`` says what runs on it."""
    return click.option(
        "--ray", "ray_address", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]", help=help_text
    )


no_verify_option = click.option(
    "--no-verify",
    "no_verify",
    is_flag=True,
    help="Skip the SHA-256 check of export shards and index files (for very large data you trust; by default a "
    "damaged file is an error, never a wrong result).",
)

overwrite_result_option = click.option(
    "--overwrite", is_flag=True, help="Replace an existing --output (only a result file rx wrote)."
)

corpus_options = [
    click.option(
        "--input-format",
        type=click.Choice(["lines", "tsv"]),
        default="lines",
        show_default=True,
        help="lines: one sentence per line, id = line number. tsv: id<TAB>sentence (BUCC layout).",
    ),
    click.option(
        "--skip-blank",
        is_flag=True,
        help="Drop blank lines (default: a blank line is an error). Ids stay line numbers.",
    ),
]


def with_corpus_options(func: Callable) -> Callable:
    """The options that say how a corpus file is read."""
    for option in reversed(corpus_options):
        func = option(func)
    return func


class ThresholdType(click.ParamType):
    """A finite number, or ``auto``."""

    name = "FLOAT|auto"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float | str:
        if value == "auto":
            return value
        try:
            number = float(value)
        except ValueError:
            self.fail(f"{value!r} is neither a number nor auto", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r}: a threshold must be a finite number (a NaN would keep every pair)", param, ctx)
        return number
