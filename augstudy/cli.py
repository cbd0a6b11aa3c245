"""The ``augstudy`` command: run, plot, ops, preview, data.

Each command is a thin shell over a library function; user errors are printed as one line
(no traceback) and exit with status 2.
"""
from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape

from .errors import USER_ERRORS

app = typer.Typer(
    help="augstudy: which augmentations, and which compositions of them, make good self-supervised representations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Datasets: inspect the registered datasets.", no_args_is_help=True)
app.add_typer(data_app, name="data")
console = Console(stderr=True)


def user_errors(fn):
    """Print user errors as one red line and exit 2, instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except USER_ERRORS as e:
            msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
            console.print(f"[bold red]error:[/] {escape(msg)}", highlight=False, soft_wrap=True)
            raise typer.Exit(2)

    return wrapper


def main() -> None:  # pragma: no cover - entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
