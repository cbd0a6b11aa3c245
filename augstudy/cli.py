"""The ``augstudy`` command: run, plot, ops, preview, data.

Each command is a thin shell over a library function; user errors are printed as one line
(no traceback) and exit with status 2.
"""
from __future__ import annotations

import functools
import sys
import traceback
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape

from .errors import USER_ERRORS, ParamsError, bug_line
from .signals import exit_code, handle_signals, signal_name

app = typer.Typer(
    help="augstudy: which augmentations, and which compositions of them, make good self-supervised representations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Datasets: inspect the registered datasets.", no_args_is_help=True)
app.add_typer(data_app, name="data")
console = Console(stderr=True)
#: typer's own exceptions (an exit status, an abort, a usage error): not bugs
_TYPER_FLOW = (typer.Exit, typer.Abort, *(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"))


def user_errors(fn):
    """Bad input: one red line, exit 2. An interrupt: one line, exit 130/143. A bug: its traceback and one line."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except USER_ERRORS as e:
            console.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False, soft_wrap=True)
            raise typer.Exit(2)
        except KeyboardInterrupt as e:
            if not getattr(e, "reported", False):
                console.print(f"[yellow]interrupted[/] ({signal_name(e)})", highlight=False)
            raise typer.Exit(exit_code(e))
        except _TYPER_FLOW:
            raise  # typer's own: an exit status, an abort, a usage error
        except Exception as e:
            traceback.print_exc()
            console.print(f"[bold red]bug:[/] {escape(bug_line(e))}", highlight=False, soft_wrap=True)
            raise typer.Exit(1)

    return wrapper


def _read_study_file(path: Path) -> None:
    """Parse the study file before the heavy imports: a file that is not acceptable YAML (duplicate keys, an
    alias bomb, not UTF-8, a directory) is one line within a second, not after torch has loaded."""
    from .study.yaml_loader import load_yaml

    load_yaml(path)


@app.command()
@user_errors
def run(
    study: Path = typer.Argument(..., help="Study file (YAML), e.g. studies/quick.yaml."),
    out: Optional[Path] = typer.Option(None, "--out", help="Results root (default: the spec's output, 'results'); writes OUT/<name>/."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Local worker processes (threads per cell = cores // workers)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Run on the Dask cluster at this address (tcp://host:port)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the cells, how many are done and a time estimate; run nothing."),
    force: bool = typer.Option(False, "--force", help="Recompute cells that are already done."),
    add_records: bool = typer.Option(False, "--add-records", help="Also rerun done cells that lack per-example records (predictions.npz; cells from before they existed), so their intervals use the test examples too."),
    only: Optional[List[str]] = typer.Option(None, "--only", help="Run only matching cells: an operator, pipeline, method, cell id, or key=value (op, op1, op2, pipeline, method, seed, id); a,b = either. Repeat to narrow."),
) -> None:
    """Run a study: every cell of its grid, skipping the ones already done."""
    _read_study_file(study)
    from .study import run_study

    try:
        df = run_study(study, out=out, workers=workers, scheduler=scheduler, dry_run=dry_run, force=force, only=only,
                       add_records=add_records)
    except KeyboardInterrupt as e:
        if getattr(e, "again", False):  # a second signal during the clean stop: stopped at once
            console.print(f"[yellow]interrupted again[/] ({signal_name(e)}): stopped at once; the cells that finished "
                          "are saved; rerun the same command to resume", highlight=False, soft_wrap=True)
        elif not getattr(e, "reported", False):
            console.print(f"[yellow]interrupted[/] ({signal_name(e)}) before any cell started; nothing was written",
                          highlight=False)
        raise typer.Exit(exit_code(e))
    if dry_run:
        return
    if len(df) and not (df["status"] == "done").any():
        counts = ", ".join(f"{n} {k}" for k, n in df["status"].value_counts().items())
        console.print(f"[bold red]no cell produced a usable result[/] ({counts}): see the errors above and "
                      "each cell's log.txt", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    if (df["status"] == "failed").any():
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
        raise ParamsError(f"--metric {metric!r}: expected linear_top1 or knn_top1")
    for written in plot_all(path, metric=metric):
        typer.echo(str(written))


@app.command()
@user_errors
def compare(
    results: Path = typer.Argument(..., help="A study's results directory (results/<study>/)."),
    a: str = typer.Argument(..., help="Policy A: a pipeline label ('crop + color'), a cell id (prefix) or op1=crop,op2=color."),
    b: str = typer.Argument(..., help="Policy B, named the same way."),
    metric: str = typer.Option("linear_top1", "--metric", help="Metric: linear_top1, knn_top1, linear_top1_z, knn_top1_z."),
    method: Optional[str] = typer.Option(None, "--method", help="The method whose cells are compared (needed when the study has several)."),
) -> None:
    """Paired comparison of two policies on the same seeds: mean difference, 95% interval, p-value."""
    from . import records
    from .report.results import load_study
    from .stats.compare import compare as compare_policies

    r = compare_policies(load_study(results).table, a, b, metric=metric, method=method, records=records.load(results))
    typer.echo(f"{metric}: {a} - {b} = {r.difference:+.2f} points, 95% interval [{r.lower:.2f}, {r.upper:.2f}], "
               f"p = {r.p_value:.3g}, {r.n_seeds} seed(s) ({r.how()})")
    typer.echo(r.sentence(a, b))


@app.command()
@user_errors
def check(
    results: Path = typer.Argument(..., help="A study's results directory (results/<study>/)."),
    repair: bool = typer.Option(False, "--repair", help="Repair what was found: set damaged cells and files aside, rewrite the table from the cells."),
) -> None:
    """Verify a results folder: every cell readable, ids matching folders and configs, the table matching the cells."""
    from .study.check import check_store

    report = check_store(results, repair=repair)
    for line in report.lines():
        typer.echo(line)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
@user_errors
def plan(
    study: Path = typer.Argument(..., help="Study file (YAML), e.g. studies/pairwise.yaml."),
    detect: float = typer.Option(..., "--detect", help="The difference to detect, in points of top-1 (e.g. 1.0)."),
    metric: str = typer.Option("linear_top1", "--metric", help="Metric: linear_top1, knn_top1, linear_top1_z, knn_top1_z."),
    power: float = typer.Option(0.8, "--power", min=0.05, max=0.999, help="Wanted power of the paired test."),
    pilot: bool = typer.Option(False, "--pilot", help="When the finished cells cannot tell (fewer than 2 seeds), run a pilot of the study's first 2 seeds first."),
    out: Optional[Path] = typer.Option(None, "--out", help="Results root (default: the spec's output)."),
) -> None:
    """How many seeds give POWER to detect a difference of DETECT points, and what they cost in cells and time."""
    _read_study_file(study)
    from .study import run_study
    from .study.planner import pilot_spec, plan_seeds

    result = plan_seeds(study, detect, metric, power, out)
    if result is None:
        p = pilot_spec(study)
        if not pilot:
            from .study.grid import expand
            from .study.store import StudyStore

            cells = {c.id for c in expand(p)}
            todo = [c for c in cells if not StudyStore(p.study_dir if out is None else out / p.name).is_done(c)]
            typer.echo(f"the finished cells of {study} cannot tell the seed-to-seed spread (no policy has 2 done seeds); "
                       f"a pilot of seeds {p.seeds} ({len(cells)} cells, {len(todo)} to run) would: rerun with --pilot "
                       "to run it")
            raise typer.Exit(1)
        run_study(p, out=out)
        result = plan_seeds(study, detect, metric, power, out)
        if result is None:
            raise typer.Exit(1)
    for line in result.lines():
        typer.echo(line)


def parse_key_values(pairs: Optional[List[str]], flag: str = "--param") -> dict:
    """``["size=64", "palette=false"]`` -> ``{"size": 64, "palette": False}`` (values parsed as YAML scalars)."""
    import yaml

    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ParamsError(f"{flag} {pair!r}: expected key=value, e.g. {flag} size=64")
        try:
            out[key.strip()] = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            raise ParamsError(f"{flag} {pair!r}: the value is not a valid YAML scalar or list") from None
    return out


@data_app.command("info")
@user_errors
def data_info(
    name: str = typer.Argument(..., help="A registered dataset: synthetic, cifar10, cifar100, stl10, imagefolder, ..."),
    param: Optional[List[str]] = typer.Option(None, "--param", "-p", help="Dataset param key=value (YAML value), repeatable, e.g. --param root=data/pets --param size=64."),
) -> None:
    """Load a dataset (generating or decoding it into the cache if needed) and print its splits, image size, classes and cache."""
    from .data import load

    ds = load(name, **parse_key_values(param))
    h, w = ds.train.image_size
    counts = ds.train.labels.bincount(minlength=ds.num_classes).tolist()
    typer.echo(f"dataset   {name}")
    typer.echo(f"train     {len(ds.train)} images")
    typer.echo(f"test      {len(ds.test)} images")
    typer.echo(f"image     3 x {h} x {w} uint8")
    typer.echo(f"classes   {ds.num_classes}: {', '.join(ds.classes[:20])}{' ...' if ds.num_classes > 20 else ''}")
    typer.echo(f"per class train {min(counts)}..{max(counts)}")
    if ds.info.get("skipped"):
        typer.echo(f"skipped   {ds.info['skipped']} corrupt file(s)")
    hit = " (cache hit)" if ds.info.get("cache_hit") else ""
    typer.echo(f"cache     {ds.info.get('cache') or 'not cached'}{hit}")


@app.command("ops")
@user_errors
def ops_list(
    plugin: Optional[List[str]] = typer.Option(None, "--plugin", help="Also import this module of operators (repeatable), as a study file's plugins: list."),
) -> None:
    """List every registered operator (built-ins and plugins) with its params, defaults, ranges and a one-line doc."""
    from rich.table import Table

    from .ops import describe, load_plugins

    load_plugins(plugin or [])
    table = Table(show_lines=False, box=None, pad_edge=False)
    for col in ("operator", "params (default, range)", "what it does"):
        table.add_column(col, overflow="fold")
    for row in describe():
        params = "\n".join(f"{p['name']}=" + (f"{p['default']:.4g}" if isinstance(p["default"], float) else repr(p["default"]))
                           + (f" {p['range']}" if p["range"] else "")
                           for p in row["params"]) or "-"
        table.add_row(row["name"], escape(params), escape(row["doc"]))
        table.add_row("", "", "")
    Console().print(table)


@app.command("methods")
@user_errors
def methods_list(
    plugin: Optional[List[str]] = typer.Option(None, "--plugin", help="Also import this module of methods (repeatable), as a study file's plugins: list."),
) -> None:
    """List every registered training method (built-ins and plugins) with its params and defaults."""
    from rich.table import Table

    from .registry import load_module
    from .train.method import REGISTRY

    for module in plugin or []:
        load_module(module)
    table = Table(show_lines=False, box=None, pad_edge=False)
    for col in ("method", "params (default)", "what it is"):
        table.add_column(col, overflow="fold")
    for name, cls in REGISTRY.items():
        params = "\n".join(f"{k}={f.default!r}" for k, f in cls.Params.model_fields.items()) or "-"
        builtin = cls.__module__.startswith("augstudy.train.methods.")
        doc = (sys.modules[cls.__module__].__doc__ if builtin else cls.__doc__) or ""
        what = " ".join(doc.strip().split("\n\n")[0].split())
        table.add_row(name, escape(params), escape(what.split(": ")[0] if builtin else what))
        table.add_row("", "", "")
    Console().print(table)


def _preview_images(source: Optional[str], size: int, count: int):
    """Images for ``augstudy preview``: an image file, a folder, a registered dataset name, or drawn samples."""
    from .ops.preview import load_images, sample_images

    if source is None:
        return sample_images(count, size)
    if not Path(source).exists():
        try:
            from . import data
            names = data.available()
        except ImportError:  # the data room is optional here
            names = []
        if source in names:
            split = data.load(source).train
            return split.images[:count].float().div_(255)
    return load_images(source, size=size, limit=count)


@app.command()
@user_errors
def preview(
    ops: str = typer.Option("crop,color,blur", "--ops", help="Comma-separated operator specs, e.g. 'crop,color(strength=0.5),blur'."),
    out: Path = typer.Option(Path("preview.png"), "--out", help="PNG file to write."),
    input: Optional[str] = typer.Option(None, "--input", help="An image file, a folder of images, or a registered dataset name (default: drawn sample images)."),
    draws: int = typer.Option(4, "--draws", min=1, max=16, help="Random draws per operator and image."),
    count: int = typer.Option(3, "--count", min=1, max=16, help="How many input images (from a folder or dataset)."),
    size: int = typer.Option(96, "--size", min=8, max=1024, help="Side (px) that file and folder images are resized to."),
    seed: int = typer.Option(0, "--seed", help="Seed of the generator the draws come from."),
    plugin: Optional[List[str]] = typer.Option(None, "--plugin", help="Import this module of operators first (repeatable)."),
) -> None:
    """Write a sheet like the paper's Figure 4: the originals, then each operator applied, several random draws each."""
    from .ops import load_plugins
    from .ops.preview import save_preview

    load_plugins(plugin or [])
    specs = _split_specs(ops)
    if not specs:
        raise ParamsError("--ops is empty; give operator names, e.g. --ops crop,color,blur (see `augstudy ops`)")
    typer.echo(str(save_preview(out, specs, _preview_images(input, size, count), draws=draws, seed=seed)))


def _split_specs(text: str) -> list[str]:
    """Split ``"crop,color(strength=0.5, p=1),blur"`` at top-level commas."""
    specs, depth, cur = [], 0, ""
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            specs.append(cur.strip())
            cur = ""
        else:
            cur += ch
    specs.append(cur.strip())
    return [s for s in specs if s]


def main() -> None:
    """The ``augstudy`` entry point: every command runs under augstudy's SIGINT/SIGTERM handlers."""
    with handle_signals():
        app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
