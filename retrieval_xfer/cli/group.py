"""The root of the ``rx`` command line: the ``rx`` group, its error handling (one line and exit 1 for a library or
OS error; Ctrl-C and SIGTERM exit 130/143 with how to resume) and logging set-up. The commands are added by the
modules of this package."""

from __future__ import annotations

import logging
from typing import Any

import click

from retrieval_xfer.errors import RxError
from retrieval_xfer.logs import show_on_stderr
from retrieval_xfer.version import __version__

# What to do after Ctrl-C, for the commands that can pick up where they stopped.
RESUME_HINTS = {
    "export": "run the same command again to resume after the last complete shard",
    "mine": "run the same command again to resume after the last finished k-NN block",
    "experiment": "run the same command again: finished steps are skipped, training resumes from its checkpoint",
    "train": "add --resume to the same command to continue from the last checkpoint",
}


class Terminated(KeyboardInterrupt):
    """SIGTERM (what a cluster scheduler sends before it kills a job), raised where the program is, so every
    clean-up that Ctrl-C runs (temporary files removed, the last good state kept) runs for it too."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated()


class RxGroup(click.Group):
    """A click group that turns library errors and OS errors (a full disk, a permission) into one-line messages and
    exit code 1 (never a traceback), and Ctrl-C or SIGTERM into exit code 130 or 143 with how to resume."""

    def invoke(self, ctx: click.Context) -> Any:
        top = ctx.parent is None
        previous = _on_sigterm(_raise_terminated) if top else None
        try:
            return super().invoke(ctx)
        except RxError as err:
            raise click.ClickException(str(err)) from None
        except OSError as err:
            if not top:
                raise
            where = f"{err.filename}: " if err.filename else ""
            raise click.ClickException(f"{where}{err.strerror or err}") from None
        except KeyboardInterrupt as stop:
            if not top:
                raise
            hint = RESUME_HINTS.get(ctx.invoked_subcommand or "")
            terminated = isinstance(stop, Terminated)
            click.echo(f"{'terminated' if terminated else 'interrupted'}{'; ' + hint if hint else ''}", err=True)
            raise click.exceptions.Exit(143 if terminated else 130) from None
        finally:
            if top:
                _on_sigterm(previous)


def _on_sigterm(handler: Any) -> Any:
    """Install ``handler`` for SIGTERM (main thread only; elsewhere nothing changes); returns the previous one."""
    import signal
    import threading

    if handler is None or threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, handler)


@click.group(cls=RxGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="rx")
@click.option("-v", "--verbose", is_flag=True, help="Also show debug lines.")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors (no progress lines).")
def main(verbose: bool, quiet: bool) -> None:
    """retrieval_xfer: encode with a multilingual encoder at a chosen layer, index with FAISS, and evaluate
    zero-shot cross-lingual retrieval (BUCC, Tatoeba) as XTREME does.

    \b
    Typical use:
      rx eval tatoeba --model intfloat/multilingual-e5-small --langs xtreme --prompt "query: "
      rx eval bucc --model xlm-roberta-large --data-dir bucc2018 --pairs zh-en
      rx build-index --model MODEL --input corpus.txt --out indices/news
      rx search indices/news --model MODEL "a query sentence" -k 5
    """
    if verbose and quiet:
        raise click.UsageError("give -v/--verbose or -q/--quiet, not both")
    show_on_stderr(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
