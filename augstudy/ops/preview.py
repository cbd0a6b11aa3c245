"""The preview sheet (like the paper's Figure 4): the original images, then each operator, several draws each."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import torch

from .base import Operator
from .registry import build
from .validation import check_images, checked_apply
from ..errors import DataError, ParamsError, PathError


def sample_images(n: int = 3, size: int = 96, seed: int = 0) -> torch.Tensor:
    """``n`` procedurally drawn float32 images ``[n, 3, size, size]``: a coloured disc and bar on a gradient."""
    gen = torch.Generator().manual_seed(seed)
    t = torch.linspace(0, 1, size)
    yy, xx = torch.meshgrid(t, t, indexing="ij")
    images = []
    for _ in range(n):
        c0, c1, c2, c3 = torch.rand(4, 3, 1, 1, generator=gen)
        img = c0 * (1 - xx) + c1 * xx  # horizontal colour gradient
        cy, cx, r = (torch.rand(3, generator=gen) * torch.tensor([0.5, 0.5, 0.2]) + torch.tensor([0.25, 0.25, 0.12])).tolist()
        disc = ((yy - cy) ** 2 + (xx - cx) ** 2 < r * r).float()
        bar = ((yy - (1 - cy)).abs() < 0.06).float() * (xx > 0.15).float() * (xx < 0.85).float()
        img = img * (1 - disc) + c2 * disc
        img = img * (1 - bar) + c3 * bar
        images.append(img)
    return torch.stack(images).clamp(0, 1)


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def load_images(path: str | Path, size: int = 96, limit: int = 4) -> torch.Tensor:
    """An image file, or up to ``limit`` images of a folder (sorted), centre-cropped square and resized to ``size``."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)[:limit]
        if not files:
            raise PathError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in folder {str(path)!r}")
    elif path.is_file():
        files = [path]
    else:
        raise PathError(f"--input {str(path)!r} is neither an image file, a folder nor a registered dataset")
    images = []
    for f in files:
        try:
            img = Image.open(f).convert("RGB")
        except (UnidentifiedImageError, OSError):
            raise DataError(f"cannot read image {str(f)!r} (not an image, or corrupt)") from None
        side = min(img.size)
        left, top = (img.width - side) // 2, (img.height - side) // 2
        img = img.crop((left, top, left + side, top + side)).resize((size, size), Image.BILINEAR)
        images.append(torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8).reshape(size, size, 3))
    return torch.stack(images).permute(0, 3, 1, 2).float().div_(255)


def preview_grid(ops: Sequence[str | dict | Operator], images: torch.Tensor, draws: int = 4,
                 seed: int = 0) -> tuple[list[str], list[torch.Tensor]]:
    """Row labels and rows: row 0 the originals, then per operator ``draws`` random draws of each image.

    Each row is ``[n_images * draws, 3, H, W]``; the original row repeats nothing (it has n_images).
    """
    check_images(images, "preview")
    gen = torch.Generator(device=images.device).manual_seed(seed)
    operators = [build(op) for op in ops]
    labels, rows = ["original"], [images]
    batch = images.repeat_interleave(draws, 0)
    for op in operators:
        labels.append(op.spec())
        rows.append(checked_apply(op, batch, gen))  # a broken operator is named, not drawn
    return labels, rows


def save_preview(path: str | Path, ops: Sequence[str | dict | Operator], images: torch.Tensor | None = None,
                 draws: int = 4, seed: int = 0) -> Path:
    """Write the preview sheet as a PNG: one row per operator, ``draws`` columns per image."""
    import matplotlib.pyplot as plt  # the user's backend is left alone (headless, matplotlib picks Agg itself)

    if draws < 1:
        raise ParamsError(f"preview: draws={draws} must be >= 1")
    images = sample_images() if images is None else images
    labels, rows = preview_grid(ops, images, draws, seed)
    n = images.shape[0]
    cols = n * draws
    cell = 1.2
    fig, axes = plt.subplots(len(rows), cols, figsize=(cols * cell + 1.2, len(rows) * cell + 0.3), squeeze=False)
    for r, (label, row) in enumerate(zip(labels, rows)):
        for c in range(cols):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:  # originals: one per image group, the rest of the group blank
                if c % draws:
                    ax.axis("off")
                    continue
                img = row[c // draws]
            else:
                img = row[c]
            ax.imshow(img.permute(1, 2, 0).clamp(0, 1).cpu().numpy(), interpolation="nearest")
            if c == 0:
                ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    fig.subplots_adjust(left=max(0.02, 1.2 / (cols * cell + 1.2)), right=0.99, top=0.99, bottom=0.01,
                        wspace=0.05, hspace=0.08)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=max(72, math.ceil(images.shape[-1] / cell)))
    plt.close(fig)
    tmp.replace(path)
    return path
