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


@app.command()
@user_errors
def run(
    study: Path = typer.Argument(..., help="Study file (YAML), e.g. studies/quick.yaml."),
    out: Optional[Path] = typer.Option(None, "--out", help="Results root (default: the spec's output, 'results'); writes OUT/<name>/."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Local worker processes (threads per cell = cores // workers)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Run on the Dask cluster at this address (tcp://host:port)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the cells, how many are done and a time estimate; run nothing."),
    force: bool = typer.Option(False, "--force", help="Recompute cells that are already done."),
    only: Optional[List[str]] = typer.Option(None, "--only", help="Run only matching cells: an operator, pipeline, method, cell id, or key=value (op, op1, op2, pipeline, method, seed, id); a,b = either. Repeat to narrow."),
) -> None:
    """Run a study: every cell of its grid, skipping the ones already done."""
    from .study import run_study

    try:
        df = run_study(study, out=out, workers=workers, scheduler=scheduler, dry_run=dry_run, force=force, only=only)
    except KeyboardInterrupt:
        raise typer.Exit(130)
    if not dry_run and (df["status"] == "failed").any():
        raise typer.Exit(1)


@app.command()
@user_errors
def plot(
    path: Path = typer.Argument(..., help="A study's results directory (results/<study>/), or a folder of them (results/)."),
    metric: str = typer.Option("linear_top1", "--metric", help="Metric to draw: linear_top1 or knn_top1."),
) -> None:
    """Draw a study's figures, tables and summary.md into results/<study>/figures/, beside the paper's numbers."""
    from .report import plot_all

    if metric not in ("linear_top1", "knn_top1"):
        raise ValueError(f"--metric {metric!r}: expected linear_top1 or knn_top1")
    for written in plot_all(path, metric=metric):
        typer.echo(str(written))


@app.command()
@user_errors
def plot(
    path: Path = typer.Argument(..., help="A study's results directory (results/<study>/), or a folder of them (results/)."),
    metric: str = typer.Option("linear_top1", "--metric", help="Metric to draw: linear_top1 or knn_top1."),
) -> None:
    """Draw a study's figures, tables and summary.md into results/<study>/figures/, beside the paper's numbers."""
    from .report import plot_all

    if metric not in ("linear_top1", "knn_top1"):
        raise ValueError(f"--metric {metric!r}: expected linear_top1 or knn_top1")
    for written in plot_all(path, metric=metric):
        typer.echo(str(written))


def main() -> None:  # pragma: no cover - entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
