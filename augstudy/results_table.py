"""A study folder's results table, derived from its cells: the one loader every reader goes through.

``cells/`` is the truth. ``study.json`` lists the study's cells in spec order with their grid labels
(``cell_list``); ``cells/<id>/`` holds each cell's ``config.json`` (the resolved config, its id and the
basis of the id's hash), then ``metrics.json`` (done, diverged) or ``failed.json``. ``results.csv`` and
``results.parquet`` are derived copies, written together. :func:`load` rebuilds the table from the cells
and, when a copy is missing, unreadable or out of date (a row of no listed cell, a cell without its row,
a duplicated row, a value edited by hand), names it and rewrites both (not while a run holds the
study's lock: the run writes them itself). A damaged cell (unreadable, wrong shape, an id that matches
neither its folder nor the hash of its config) is named and left out; the next ``augstudy run`` sets it
aside and recomputes it, ``augstudy check --repair`` sets it aside now.

A listed cell whose folder is not there (results copied or pruned without all their cells) keeps its row
from the table file, said in one line: nothing computed is lost from the table; ``augstudy run`` recomputes it.

A folder whose cells do not describe themselves (no ``cell_list`` and no ``config.json``: results
copied without their cells, or written by hand) is read from its table files as they are.

Pure file reading (json, pandas): the report uses it without importing the study or training code.
"""
from __future__ import annotations

import io
import json
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pandas as pd

from . import schema
from .atomic import atomic_write_bytes, atomic_write_text
from .cellid import recorded_config_id
from .errors import AugstudyError

TABLE_FILES = ("results.csv", "results.parquet")
#: A damaged cell or side file is moved to ``<name>.damaged-<UTC time>``.
DAMAGED = ".damaged-"
#: The label columns a cell's grid position gives (``Cell.labels()``), the rest come from its result.
LABELS = ("cell_id", "method", "seed", "op1", "op2", "pipeline", "policy", "param", "value", "trial", "split")
_RECORD_KEYS = {"cell_id": str, "status": str}  # what a readable metrics.json / failed.json must hold


def note(line: str) -> None:
    """One line to stderr, for what a reader found wrong and did about it."""
    print(f"augstudy: {line}", file=sys.stderr, flush=True)


def read_object(path: Path) -> tuple[Optional[dict], Optional[str]]:
    """``(object, None)``; ``(None, None)`` when the file is missing; ``(None, why)`` when it is damaged."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError) as e:
        return None, f"{path} cannot be read ({type(e).__name__}: {e})"
    try:
        data = json.loads(text)
    except ValueError as e:
        return None, f"{path} is not valid JSON ({e})"
    if not isinstance(data, dict):
        return None, f"{path} holds a JSON {type(data).__name__}, not an object"
    return data, None


def aside_path(path: Path) -> Path:
    """A free ``<path>.damaged-<UTC time>[-n]`` beside ``path``."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target, n = path.with_name(f"{path.name}{DAMAGED}{stamp}"), 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}{DAMAGED}{stamp}-{n}")
    return target


def set_aside(path: Path) -> Path:
    """Move a damaged file or cell folder to ``<name>.damaged-<UTC time>`` (kept, never deleted)."""
    target = aside_path(Path(path))
    Path(path).rename(target)
    return target


@dataclass
class CellFiles:
    """What one cell folder holds."""

    id: str
    record: Optional[dict] = None  # metrics.json or failed.json; None while unfinished or when damaged
    kind: Optional[str] = None  # "metrics" | "failed"
    config: Optional[dict] = None  # config.json
    damage: Optional[str] = None  # why the folder cannot be used, or None


def read_cell(d: Path) -> CellFiles:
    """Read ``cells/<id>/`` once: its result, its config, and whether they agree with the folder."""
    d = Path(d)
    cid = d.name
    cell = CellFiles(cid)
    for name, kind in (("metrics.json", "metrics"), ("failed.json", "failed")):
        data, why = read_object(d / name)
        if why is not None:
            return CellFiles(cid, damage=why)
        if data is None:
            continue
        for key, typ in _RECORD_KEYS.items():
            if not isinstance(data.get(key), typ):
                return CellFiles(cid, damage=f"{d / name} has no valid {key!r}")
        if data["cell_id"] != cid:
            return CellFiles(cid, damage=f"{d / name} records cell_id {data['cell_id']!r}, not its folder's {cid!r}")
        if cell.record is None:
            cell.record, cell.kind = data, kind
    config, why = read_object(d / "config.json")
    if cell.record is None:
        cell.config = config
        return cell
    if why is not None:
        return CellFiles(cid, damage=why)
    if config is not None:
        if config.get("cell_id") != cid:
            return CellFiles(cid, damage=f"{d / 'config.json'} records cell_id {config.get('cell_id')!r}, not its folder's {cid!r}")
        hashed = recorded_config_id(config)
        if hashed is not None and hashed != cid:
            return CellFiles(cid, damage=f"{d / 'config.json'}: its config hashes to {hashed}, not to the cell's id {cid} "
                                         "(edited after the run?)")
    cell.config = config
    return cell


def make_row(labels: dict, record: dict, study: Optional[str], grid: Optional[str]) -> dict:
    """A table row: the cell's grid labels, then every schema column its result holds."""
    row = dict.fromkeys(schema.names())
    for key in row:
        if key in record:
            row[key] = record[key]
    losses = record.get("loss_per_epoch") or []
    if "final_loss" not in record:
        row["final_loss"] = losses[-1] if losses else None
    if "epochs" not in record:
        row["epochs"] = len(losses) if losses else None
    for key in LABELS:
        row[key] = labels.get(key)
    row["study"], row["grid"] = study, grid
    return row


def _csv_bytes(df: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")


def write_tables(root: Path, df: pd.DataFrame) -> pd.DataFrame:
    """Write the derived ``results.csv`` and ``results.parquet`` (atomically, both from the same table)."""
    df = schema.conform(df)
    atomic_write_bytes(Path(root) / "results.csv", _csv_bytes(df), durable=False)  # derived: rebuilt if lost
    pq = io.BytesIO()
    df.to_parquet(pq, index=False)
    atomic_write_bytes(Path(root) / "results.parquet", pq.getvalue(), durable=False)
    return df


def read_table_file(path: Path) -> tuple[Optional[pd.DataFrame], Optional[str]]:
    """``(table, None)``, ``(None, "missing")`` or ``(None, why it cannot be read)``."""
    path = Path(path)
    if not path.is_file():
        return None, "missing"
    try:
        if path.suffix == ".csv":
            df = pd.read_csv(path, dtype={c: "string" for c in schema.of_kind("text")})
        else:
            df = pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        return None, "the file is empty"
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:  # pyarrow's errors are ValueErrors
        return None, f"unreadable ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})"
    missing = [c for c in ("cell_id", "method", "seed", "status") if c not in df.columns]
    if missing:
        return None, f"missing column(s) {', '.join(missing)}"
    try:
        return schema.conform(df), None
    except (ValueError, TypeError, OverflowError) as e:
        return None, f"wrong column types ({e})"


def _same(a: Any, b: Any, kind: str) -> bool:
    na, nb = a is None or (isinstance(a, float) and math.isnan(a)) or a is pd.NA, \
        b is None or (isinstance(b, float) and math.isnan(b)) or b is pd.NA
    if na or nb:
        return na and nb
    if kind == "float":
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=0.0)
    if kind == "int":
        return int(a) == int(b)
    return str(a) == str(b)


def differences(truth: pd.DataFrame, copy: pd.DataFrame) -> Optional[str]:
    """How a table file differs from the table the cells give (one phrase), or None when they agree."""
    want, have = Counter(truth["cell_id"]), Counter(copy["cell_id"])
    found = []
    orphans = [c for c in have if c not in want]
    if orphans:
        found.append(f"{sum(have[c] for c in orphans)} row(s) without a finished cell (e.g. {orphans[0]})")
    lacking = [c for c in want if have[c] < want[c]]
    if lacking:
        found.append(f"{len(lacking)} finished cell(s) without a row (e.g. {lacking[0]})")
    dup = [c for c in have if c in want and have[c] > want[c]]
    if dup:
        found.append(f"{len(dup)} duplicated row(s) (e.g. {dup[0]})")
    if found:
        return ", ".join(found)
    extra = [c for c in copy.columns if c not in truth.columns]
    if extra:
        return f"column(s) {', '.join(map(str, extra))} that the cells do not give"
    if list(truth["cell_id"]) != list(copy["cell_id"]):
        return "rows not in the study's order"
    kinds = {c.name: c.kind for c in schema.COLUMNS}
    for col in truth.columns:
        kind = kinds.get(col, "text")
        for i, (a, b) in enumerate(zip(truth[col].tolist(), copy[col].tolist())):
            if not _same(a, b, kind):
                n = sum(not _same(x, y, kinds.get(c, "text")) for c in truth.columns
                        for x, y in zip(truth[c].tolist(), copy[c].tolist()))
                return (f"{n} value(s) that differ from the cells (e.g. cell {truth['cell_id'].iloc[i]} {col}: "
                        f"{b!r} in the file, {a!r} in the cell)")
    return None


@dataclass
class StudyTable:
    """What :func:`derive` found in a study folder."""

    root: Path
    table: pd.DataFrame
    meta: dict = field(default_factory=dict)  # study.json ({} when missing or damaged)
    source: str = "cells"  # "cells", or the table file read when the cells do not describe themselves
    problems: list[str] = field(default_factory=list)  # one line each: what is wrong
    damaged: dict[str, str] = field(default_factory=dict)  # cell id -> why
    meta_damage: Optional[str] = None
    tables: dict[str, Optional[str]] = field(default_factory=dict)  # table file -> how it is out of date (None: agrees)
    outside: list[str] = field(default_factory=list)  # finished cells that are not part of the study's cell list
    kept: list[str] = field(default_factory=list)  # listed cells without a folder whose rows the table file kept
    repaired: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.meta.get("name") or self.root.name)

    @property
    def stale_tables(self) -> list[str]:
        return [f for f, why in self.tables.items() if why is not None]


def cell_folders(root: Path) -> list[Path]:
    """The cell folders of a study (not the damaged copies set aside, not temp files)."""
    d = Path(root) / "cells"
    if not d.is_dir():
        return []
    return sorted(p for p in d.iterdir() if p.is_dir() and DAMAGED not in p.name and not p.name.startswith("."))


def _cell_list(meta: dict) -> Optional[list[dict]]:
    cl = meta.get("cell_list")
    if isinstance(cl, list) and all(isinstance(e, dict) and isinstance(e.get("cell_id"), str) for e in cl):
        return cl
    return None


def lock_held(root: Path) -> bool:
    """Whether a run holds (or a killed run left) the study's lock; the run then writes the table itself."""
    return (Path(root) / ".lock").exists()


def derive(root: Path | str) -> StudyTable:
    """The table the cells of ``root`` give, and how the table files and side files compare (writes nothing)."""
    root = Path(root)
    meta, meta_damage = read_object(root / "study.json")
    meta = meta or {}
    grid_meta = meta.get("grid") if isinstance(meta.get("grid"), dict) else {}
    study, kind = str(meta.get("name") or root.name), grid_meta.get("kind")
    found = StudyTable(root, schema.conform([]), meta=meta, meta_damage=meta_damage)
    if meta_damage:
        found.problems.append(f"damaged file {meta_damage}")
    if not (root / "cells").is_dir():  # results copied without their cells: the table files are all there is
        return _from_table_files(found)
    cells = {p.name: read_cell(p) for p in cell_folders(root)}
    entries = _cell_list(meta)
    if entries is None:
        usable = [c for c in cells.values() if c.record is not None]
        if not usable or not all(isinstance((c.config or {}).get("labels"), dict) for c in usable):
            return _from_table_files(found)
        entries, hints = _fallback_entries(root, usable, found)
        entries += [{"cell_id": c.id} for c in cells.values() if c.damage]  # named below
        study = str(meta.get("name") or hints.get("study") or root.name)
        kind = kind or hints.get("grid")
    else:
        listed = {e["cell_id"] for e in entries}
        found.outside = [c.id for c in cells.values() if c.record is not None and c.id not in listed]
    rows = []
    kept = rows_from_files(root) if any(e["cell_id"] not in cells for e in entries) else {}
    for e in entries:
        c = cells.get(e["cell_id"])
        if c is None:  # listed, but its folder is not here (results copied without all their cells): keep its row
            if e["cell_id"] in kept:
                rows.append(kept[e["cell_id"]])
                found.kept.append(e["cell_id"])
            continue
        if c.damage:
            if c.id not in found.damaged:
                found.damaged[c.id] = c.damage
                found.problems.append(f"damaged cell {c.id} ({e.get('pipeline', '?')}): {c.damage}; not in the table")
            continue
        if c.record is not None:
            rows.append(make_row(e, c.record, study, kind))
    found.table = schema.conform(rows) if rows else schema.conform(pd.DataFrame(columns=schema.names()))
    if found.kept:
        found.problems.append(f"{root}: {len(found.kept)} row(s) kept from the table file whose cells are not in cells/ "
                              f"(e.g. {found.kept[0]}); `augstudy run` recomputes them")
    for name in TABLE_FILES:
        copy, why = read_table_file(root / name)
        diff = None if copy is None else differences(found.table, copy)
        found.tables[name] = why if copy is None else (f"out of date: {diff}" if diff else None)
    return found


def rows_from_files(root: Path) -> dict[str, dict]:
    """The rows of the first readable table file, by cell id, for listed cells whose folders are gone.

    Not those of cells set aside as damaged (``<id>.damaged-*``): the next run recomputes them, and the
    table must not show a number their files could not back."""
    d = Path(root) / "cells"
    aside = {p.name.split(DAMAGED)[0] for p in d.iterdir() if DAMAGED in p.name} if d.is_dir() else set()
    for name in ("results.parquet", "results.csv"):
        df, _ = read_table_file(Path(root) / name)
        if df is not None and "cell_id" in df.columns:
            return {r["cell_id"]: r for r in df.to_dict("records") if r["cell_id"] not in aside}
    return {}


def _fallback_entries(root: Path, usable: list[CellFiles], found: StudyTable) -> tuple[list[dict], dict]:
    """No cell list in study.json: each cell's own labels, in the order of a readable table file, else its index."""
    found.problems.append(f"{root / 'study.json'} lists no cells: the table is rebuilt from each cell's config.json")
    order: dict[str, int] = {}
    hints: dict[str, Any] = {}
    for name in ("results.parquet", "results.csv"):
        df, _ = read_table_file(root / name)
        if df is not None and len(df):
            order = {cid: i for i, cid in reversed(list(enumerate(df["cell_id"])))}
            hints = {"study": df["study"].dropna().iloc[0] if df["study"].notna().any() else None,
                     "grid": df["grid"].dropna().iloc[0] if df["grid"].notna().any() else None}
            break
    cells = sorted(usable, key=lambda c: (order.get(c.id, len(order)), c.id))
    return [{**c.config["labels"], "cell_id": c.id} for c in cells], hints  # the folder names the cell


def _from_table_files(found: StudyTable) -> StudyTable:
    """No self-describing cells: the table files are all there is; read them, name a disagreement."""
    found.source = ""
    read = {}
    for name in TABLE_FILES:
        df, why = read_table_file(found.root / name)
        if df is not None:
            read[name] = df
        elif why != "missing":
            found.problems.append(f"{found.root / name}: {why}; no cells to rebuild it from")
    if not read and found.problems:
        raise AugstudyError(f"{found.problems[-1].split('; no cells')[0]}; expected a results table written by `augstudy run`")
    if not read:
        raise AugstudyError(
            f"{found.root}: no results.csv or results.parquet here (and no cells to rebuild them from); expected a study "
            "directory written by `augstudy run` (results/<study>/) or a folder of them")
    if len(read) == 2:
        why = differences(read["results.parquet"], read["results.csv"])
        if why:
            found.problems.append(f"{found.root / 'results.csv'} and results.parquet disagree (the csv has {why}); "
                                  "no cells to rebuild them from: reading results.parquet")
    found.source = "results.parquet" if "results.parquet" in read else "results.csv"
    found.table = read[found.source]
    return found


def load(root: Path | str, repair: bool = True, quiet: bool = False) -> StudyTable:
    """The study's table (see :func:`derive`); rewrite stale table files (``repair``, no run holding the lock).

    Each problem is one line on stderr (unless ``quiet``): damaged cells and side files are named,
    stale table files are named with what was wrong and that they were rebuilt.
    """
    root = Path(root)
    if not root.is_dir():
        raise AugstudyError(f"{root}: no such study directory; expected results/<study>/ written by `augstudy run`")
    found = derive(root)
    if found.source == "cells" and found.stale_tables and not lock_held(root):
        lines = [f"{root / f}: {found.tables[f]}" for f in found.stale_tables]
        if repair:
            try:
                write_tables(root, found.table)
                found.repaired.append("results.csv, results.parquet")
                lines = [f"{line}; rebuilt from cells/" for line in lines]
            except OSError as e:  # a read-only copy of the results: read it all the same
                lines = [f"{line}; not rebuilt ({e})" for line in lines]
        found.problems.extend(lines)
    if not quiet:
        for line in found.problems:
            note(line)
    return found


def is_study_dir(path: Path | str) -> bool:
    """Whether ``path`` holds a study's results (a table file, or study.json with its cells)."""
    p = Path(path)
    return any((p / f).is_file() for f in TABLE_FILES) or ((p / "study.json").is_file() and (p / "cells").is_dir())
