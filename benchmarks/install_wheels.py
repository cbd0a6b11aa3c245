"""Unpack, into ``.whl/site``, each wheel of ``.whl/`` whose distribution this Python lacks (no pip, no network).

    python benchmarks/install_wheels.py [--wheels .whl] [--site DIR]    # then: PYTHONPATH=DIR:$PYTHONPATH

A wheel is a zip laid out for site-packages, so unpacking it is installing it (these wheels have no
scripts or data that need more). A distribution that is already installed is left alone, whatever its
version, so nothing of the device's own environment is shadowed. Prints one line per wheel.
"""
from __future__ import annotations

import argparse
import importlib.metadata as md
import re
import sys
import zipfile
from pathlib import Path


def dist_name(wheel: Path) -> str:
    return re.sub(r"[-_.]+", "-", wheel.name.split("-")[0]).lower()


def installed(name: str, site: Path) -> str | None:
    for candidate in (name, name.replace("-", "_")):
        try:
            return md.version(candidate)
        except md.PackageNotFoundError:
            continue
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheels", default=".whl")
    ap.add_argument("--site", default=None, help="where to unpack (default: WHEELS/site)")
    args = ap.parse_args()
    root = Path(args.wheels)
    site = Path(args.site) if args.site else root / "site"
    wheels = sorted(root.glob("*.whl"))
    if not wheels:
        print(f"no wheels in {root}/ (run benchmarks/fetch_wheels.sh on a machine that reaches PyPI)")
        return
    site.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(site))  # what earlier runs unpacked counts as installed
    for wheel in wheels:
        name = dist_name(wheel)
        have = installed(name, site)
        if have is not None:
            print(f"  have    {name} {have}")
            continue
        with zipfile.ZipFile(wheel) as z:
            z.extractall(site)
        print(f"  unpack  {wheel.name}")


if __name__ == "__main__":
    main()
