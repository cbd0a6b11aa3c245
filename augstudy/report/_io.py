"""Atomic file writing for the report: every file is written to a temp file, then renamed into place."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Iterable

from matplotlib.figure import Figure

from ..atomic import atomic_write

#: PNG resolution; small enough that figures can be committed next to the results.
DPI = 150


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)

    return atomic_write(path, write)


def _write_png(fig: Figure, tmp: str, dpi: int, bbox="tight") -> None:
    """PNG quantized to a 256-color palette: heatmaps and line plots lose nothing visible, bytes drop ~3x."""
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches=bbox, facecolor="white")
    buf.seek(0)
    with Image.open(buf) as im:
        im.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(tmp, format="png", optimize=True)


def save_figure(fig: Figure, stem: Path, formats: Iterable[str] = ("png", "pdf"), dpi: int = DPI) -> list[Path]:
    """Save ``fig`` as ``stem.<fmt>`` for each format, atomically and without timestamps; close it."""
    import matplotlib.pyplot as plt

    meta = {"pdf": {"Creator": None, "Producer": None, "CreationDate": None}}
    paths = []
    try:
        # Lay the figure out and find its tight bounding box once for all formats, then freeze the layout:
        # savefig would rerun the (constrained) layout and measure every artist again for each file.
        fig.draw_without_rendering()
        bbox = fig.get_tightbbox(fig.canvas.get_renderer()).padded(plt.rcParams["savefig.pad_inches"])
        fig.set_layout_engine("none")
        for fmt in formats:
            target = Path(stem).with_name(Path(stem).name + "." + fmt)
            if fmt == "png":
                paths.append(atomic_write(target, lambda tmp: _write_png(fig, tmp, dpi, bbox)))
            else:
                paths.append(atomic_write(target, lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt, dpi=dpi, metadata=meta.get(fmt),
                                                                                bbox_inches=bbox)))
    finally:
        plt.close(fig)
    return paths
