"""``augstudy check RESULTS [--repair]``: verify a study folder against its cells, and repair what can be.

Checks: every cell folder is readable and its recorded id matches its folder and the hash of its
config; ``study.json`` is a JSON object; ``.lock`` is a live run's, stale or garbage; no temp files
of cut-short writes are left; ``results.csv`` and ``results.parquet`` hold exactly the table the cells
give. ``repair`` (under the study's lock) sets damaged cells and files aside (kept as
``<name>.damaged-<UTC time>``; the next ``augstudy run`` recomputes the cells), drops stale locks and
temp files, and rewrites the table files (and a damaged ``study.json``) from the cells.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .. import results_table as rt
from ..atomic import atomic_write_json
from ..errors import AugstudyError
from .lock import StudyLock, _owner_alive, _parse


@dataclass
class CheckReport:
    root: Path
    problems: list[tuple[str, str]] = field(default_factory=list)  # (what is wrong, what repair does / did)
    notes: list[str] = field(default_factory=list)  # facts that are not problems
    summary: str = ""
    repaired: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems or self.repaired

    def lines(self) -> list[str]:
        verb = "repaired" if self.repaired else "would repair"
        out = [f"{what} -> {verb}: {fix}" for what, fix in self.problems]
        out += self.notes
        out.append(self.summary)
        return out


def _lock_problem(root: Path) -> tuple[str | None, bool]:
    """(the lock's problem, whether a live run holds it)."""
    path = root / ".lock"
    if not path.exists():
        return None, False
    info = _parse(path)
    if not info:
        return f"damaged file {path}: not a lock written by augstudy", False
    if _owner_alive(info):
        return None, True
    return f"stale lock {path}: process {info.get('pid')} on {info.get('hostname')} is gone", False


def check_store(root: Path | str, repair: bool = False) -> CheckReport:
    root = Path(root)
    if not root.is_dir():
        raise AugstudyError(f"{root}: no such study directory; expected results/<study>/ written by `augstudy run`")
    if not rt.is_study_dir(root) and not (root / "cells").is_dir():
        raise AugstudyError(f"{root}: not a study directory (no cells/, results.csv or results.parquet); "
                            "expected results/<study>/ written by `augstudy run`")
    report = CheckReport(root)
    lock_why, live = _lock_problem(root)
    if live:
        info = _parse(root / ".lock")
        report.notes.append(f"a run is in progress (process {info.get('pid')} on {info.get('hostname')}): "
                            "the table files may lag the cells until it finishes; nothing repaired")
        repair = False
    if repair:
        if lock_why:
            (root / ".lock").unlink(missing_ok=True)
        with StudyLock(root):
            _inspect(root, report, repair=True, lock_why=lock_why)
        report.repaired = True
    else:
        _inspect(root, report, repair=False, lock_why=lock_why, live=live)
    return report


def _inspect(root: Path, report: CheckReport, repair: bool, lock_why: str | None, live: bool = False) -> None:
    if lock_why:
        report.problems.append((lock_why, "remove it"))
    temps = [p for p in root.rglob(".*.tmp") if p.is_file()]
    if temps and not live:
        report.problems.append((f"{len(temps)} temp file(s) of writes cut short (e.g. {temps[0]})", "delete them"))
        if repair:
            for p in temps:
                p.unlink(missing_ok=True)
    found = rt.derive(root)
    if found.meta_damage:
        fix = "set it aside and write one from the cells (the next run rewrites it in full)"
        report.problems.append((f"damaged file {found.meta_damage}", fix))
    for cid, why in found.damaged.items():
        report.problems.append((f"damaged cell {cid}: {why}", "set it aside (the next `augstudy run` recomputes it)"))
        if repair:
            rt.set_aside(root / "cells" / cid)
    if repair and (found.damaged or found.meta_damage):
        if found.meta_damage:
            rt.set_aside(root / "study.json")
        found = rt.derive(root)
        if found.meta_damage is None and not (root / "study.json").exists():
            entries = [c for c in (rt.read_cell(p) for p in rt.cell_folders(root)) if c.record is not None and c.config]
            t = found.table
            name = t["study"].dropna().iloc[0] if len(t) and t["study"].notna().any() else root.name
            kind = t["grid"].dropna().iloc[0] if len(t) and t["grid"].notna().any() else None
            atomic_write_json(root / "study.json", {"name": name, "state": "rebuilt by augstudy check",
                                                    "grid": {"kind": kind} if kind else {},
                                                    "cell_list": [c.config.get("labels") for c in entries
                                                                  if isinstance(c.config.get("labels"), dict)]})
            found = rt.derive(root)
    if found.source != "cells":
        report.notes.append(f"no self-describing cells here: the table ({found.source}) cannot be checked against cells")
        report.problems += [(p, "nothing (no cells to rebuild from)") for p in found.problems]
    elif not live:
        for name in found.stale_tables:
            report.problems.append((f"{root / name}: {found.tables[name]}", "rewrite it from the cells"))
        if found.stale_tables and repair:
            rt.write_tables(root, found.table)
    if found.outside:
        report.notes.append(f"{len(found.outside)} finished cell(s) not in the study's cell list (from an earlier "
                            f"spec; kept, not in the table), e.g. {found.outside[0]}")
    unverified = [c for c in (rt.read_cell(p) for p in rt.cell_folders(root))
                  if c.record is not None and c.config is not None and "id_basis" not in c.config]
    if unverified:
        report.notes.append(f"{len(unverified)} cell(s) written before ids were recorded with their hash basis: "
                            "their ids are checked against their folders only")
    t = found.table
    counts = ", ".join(f"{int((t['status'] == k).sum())} {k}" for k in ("done", "diverged", "pruned", "failed")
                       if len(t) and (t["status"] == k).any()) or "none finished"
    n_problems = len(report.problems)
    if not n_problems:
        state = "everything agrees"
    elif repair:
        state = f"{n_problems} problem(s) repaired"
    else:
        state = f"{n_problems} problem(s); `augstudy check {root} --repair` repairs them"
    report.summary = f"{root}: {len(t)} row(s) from the cells ({counts}); {state}"

