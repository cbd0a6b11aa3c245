"""``imagefolder``: a folder of class subfolders, decoded in parallel and cached as uint8 ``.npy``.

Layouts: ``root/train/<class>/*`` and ``root/test/<class>/*``, or ``root/<class>/*`` split into train and
test by ``test_fraction`` (seeded, stratified per class). Images of any mode are converted to 8-bit RGB:
grayscale and palette are expanded, alpha is dropped, 16-bit is scaled to 8 bits. ``size`` resizes each
image so its shorter side is ``size`` (area interpolation when shrinking, bicubic when growing) and then
center-crops a ``size`` x ``size`` square.
"""
from __future__ import annotations

import errno
import hashlib
import os
import warnings
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Optional

import cv2
import numpy as np
import torch

from ..errors import AugstudyError, ParamsError, PathError
from .base import Dataset, Split, per_class_subset
from .cache import cache_key, cache_root, cached
from .registry import dataset
from .streaming import FileSplit, StreamPlan, stream_source

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
#: Bump when decoding or resizing changes (invalidates cached folders).
DECODER_VERSION = "1"


@dataclass(frozen=True)
class FolderIndex:
    """The files of an image folder: paths and labels per split, class names in label order.

    ``stamp`` hashes every file's path (relative to the root), size and modification time: the cache key.
    """

    train_files: list[str]
    train_labels: np.ndarray
    test_files: list[str]
    test_labels: np.ndarray
    classes: list[str]
    layout: str  # "train/test" or "split"
    stamp: str
    #: entries passed over while listing (``skip_corrupt``): (path, kind), kind "symlink loop", "over-long path", ...
    skipped: tuple = ()


def _show(path: str) -> str:
    """A path for a one-line message: whole, or its ends around the length when it is very long."""
    return path if len(path) <= 200 else f"{path[:80]}...{path[-80:]} ({len(path)} characters)"


def _unreadable(path: str, err: OSError) -> tuple[str, str]:
    """(kind, message) for an entry that cannot be listed: a symlink loop, a path too long, or else."""
    if err.errno == errno.ELOOP:
        return "symlink loop", f"image folder: '{_show(path)}' is a symlink loop; remove the link"
    if err.errno == errno.ENAMETOOLONG:
        return "over-long path", (f"image folder: '{_show(path)}' is too long for the file system "
                                  f"({err.strerror}); shorten or flatten the folders")
    return "unreadable entry", f"image folder: '{_show(path)}' cannot be read ({err.strerror or err}; a broken link?)"


def _images_under(folder: str, stamps: list, skipped: Optional[list] = None) -> list[str]:
    """Sorted image paths below ``folder`` (recursive, hidden entries skipped); appends (path, size, mtime).

    An entry that cannot be listed (a symlink loop, a path beyond the file system's limits) raises one
    line naming it, or, when ``skipped`` is a list (``skip_corrupt``), is appended to it as (path, kind).
    """
    found = []
    stack = [folder]
    seen = {os.path.realpath(folder)}  # a symlink back to a folder already listed is a loop

    def skip(path: str, kind: str, message: str) -> None:
        if skipped is None:
            raise PathError(f"{message} (or pass skip_corrupt: true to skip it)")
        skipped.append((path, kind))

    while stack:
        top = stack.pop()
        try:
            entries = list(os.scandir(top))
        except OSError as err:
            skip(top, *_unreadable(top, err))
            continue
        for e in entries:
            if e.name.startswith("."):
                continue
            try:
                is_dir = e.is_dir()
                if is_dir:
                    real = os.path.realpath(e.path)
                    if e.is_symlink() and (real in seen or folder.startswith(real + os.sep)):
                        skip(e.path, "symlink loop", f"image folder: '{_show(e.path)}' is a symlink loop (it points "
                             f"back to '{_show(real)}'); remove the link or make it point outside the folder")
                        continue
                    seen.add(real)
                    stack.append(e.path)
                elif os.path.splitext(e.name)[1].lower() in IMAGE_EXTENSIONS and e.is_file():
                    st = e.stat()
                    found.append((e.path, st.st_size, st.st_mtime_ns))
            except OSError as err:
                skip(e.path, *_unreadable(e.path, err))
    found.sort()
    stamps += found
    return [f[0] for f in found]


def _class_files(folder: Path, stamps: list, skipped: Optional[list] = None) -> dict[str, list[str]]:
    """``{class: sorted image paths}`` for the class subfolders of ``folder``; errors name the path."""
    if not folder.exists():
        raise PathError(f"image folder '{folder}' does not exist")
    if not folder.is_dir():
        raise PathError(f"image folder '{folder}' is not a directory")
    subdirs = sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not subdirs:
        raise AugstudyError(f"image folder '{folder}' has no class subfolders; expected {folder}/<class>/<image>"
                            f" (or {folder}/train/<class>/ and {folder}/test/<class>/)")
    out = {}
    for d in subdirs:
        files = _images_under(str(d), stamps, skipped)
        if not files:
            raise AugstudyError(f"class folder '{d}' has no images ({', '.join(IMAGE_EXTENSIONS)})")
        out[d.name] = files
    if len(out) < 2:
        raise AugstudyError(f"image folder '{folder}' has a single class {next(iter(out))!r}; "
                            "a study needs at least 2 class subfolders")
    return out


def scan(root: str | os.PathLike, test_fraction: float = 0.2, seed: int = 0, skip_corrupt: bool = False) -> FolderIndex:
    """List an image folder's files and labels (both layouts); no decoding.

    A symlink loop or a path too long for the file system is one line naming it, or with ``skip_corrupt``
    is passed over and listed in ``FolderIndex.skipped`` (counted in the summary line of the skipped files).
    """
    root = Path(root).expanduser()
    try:
        return _scan(root, test_fraction, seed, [] if skip_corrupt else None)
    except OSError as err:  # the root or a class folder itself cannot be listed
        raise PathError(_unreadable(err.filename if isinstance(err.filename, str) else str(root), err)[1]) from None


def _scan(root: Path, test_fraction: float, seed: int, skipped: Optional[list]) -> FolderIndex:
    if not root.exists():
        raise PathError(f"imagefolder root '{root}' does not exist")
    stamps: list = []
    if (root / "train").is_dir() and (root / "test").is_dir():
        train, test = _class_files(root / "train", stamps, skipped), _class_files(root / "test", stamps, skipped)
        if set(train) != set(test):
            odd = sorted(set(train) ^ set(test))
            raise AugstudyError(f"imagefolder root '{root}': train/ and test/ have different classes (e.g. {odd[0]!r})")
        classes = sorted(train)
        tf, tl = _flatten(train, classes)
        sf, sl = _flatten(test, classes)
        return FolderIndex(tf, tl, sf, sl, classes, "train/test", _stamp(root, stamps), tuple(skipped or ()))
    if not 0 < test_fraction < 1:
        raise ParamsError(f"imagefolder test_fraction={test_fraction!r} must be in (0, 1)")
    by_class = _class_files(root, stamps, skipped)
    classes = sorted(by_class)
    rng = np.random.default_rng(seed)
    tf, tl, sf, sl = [], [], [], []
    for c, name in enumerate(classes):
        files = by_class[name]
        order = rng.permutation(len(files))
        n_test = int(round(test_fraction * len(files)))
        if len(files) >= 2:
            n_test = min(max(n_test, 1), len(files) - 1)
        for j, k in enumerate(order):
            (sf if j < n_test else tf).append(files[k])
            (sl if j < n_test else tl).append(c)
    return FolderIndex(tf, np.array(tl, np.int64), sf, np.array(sl, np.int64), classes, "split",
                       _stamp(root, stamps), tuple(skipped or ()))


def _stamp(root: Path, stamps: list) -> str:
    skip = len(str(root))  # paths relative to root: a moved folder keeps its cache
    text = "\n".join(f"{p[skip:]}\t{size}\t{mtime}" for p, size, mtime in stamps)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]  # non-UTF-8 names are fine


def _flatten(by_class: dict[str, list[str]], classes: list[str]) -> tuple[list[str], np.ndarray]:
    files, labels = [], []
    for c, name in enumerate(classes):
        files += by_class[name]
        labels += [c] * len(by_class[name])
    return files, np.array(labels, np.int64)


# --------------------------------------------------------------------------------------------------
# Decoding
def to_rgb8(img) -> np.ndarray:
    """A PIL image of any mode as uint8 RGB [H, W, 3] (16-bit scaled, alpha dropped, gray expanded)."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        a = np.asarray(img).astype(np.float64)
        top = 65535.0 if mode.startswith("I;16") or a.max() > 255 else 255.0
        a = np.clip(a / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(a[..., None], 3, axis=2)
    if mode != "RGB":
        img = img.convert("RGBA" if "A" in mode or mode == "P" and "transparency" in img.info else "RGB")
        img = img.convert("RGB")
    return np.asarray(img, dtype=np.uint8)


def resize_square(a: np.ndarray, size: int) -> np.ndarray:
    """Resize so the shorter side is ``size``, then center-crop ``size`` x ``size``."""
    h, w = a.shape[:2]
    if (h, w) == (size, size):
        return a
    s = size / min(h, w)
    nh, nw = max(size, round(h * s)), max(size, round(w * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
    a = cv2.resize(a, (nw, nh), interpolation=interp)
    y, x = (nh - size) // 2, (nw - size) // 2
    return np.ascontiguousarray(a[y:y + size, x:x + size])


def decode(path: str | Path, size: Optional[int] = None) -> np.ndarray:
    """Decode one image file to uint8 RGB [H, W, 3] (resized to a square if ``size``); errors name the file."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            img.load()
            a = to_rgb8(img)
    except Exception as e:  # PIL raises many types for bad files
        raise AugstudyError(f"cannot decode image '{path}': {e}") from None
    return resize_square(a, size) if size else a


def decoder(size: Optional[int]) -> "partial":
    """``decode`` with ``size`` bound: the one decode-and-resize of both the in-memory and the streamed path
    (a picklable callable, for DataLoader worker processes)."""
    return partial(decode, size=size)


def _header_shape(path: str) -> tuple[int, int]:
    """``(H, W)`` from an image file's header (no decoding); errors name the file."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            w, h = img.size
    except Exception as e:  # PIL raises many types for bad files
        raise AugstudyError(f"cannot decode image '{path}': {e}") from None
    return h, w


def _shape_of(path: str, size: Optional[int], full: bool):
    """The decoded shape of one file: by decoding it (``full``) or from its header."""
    return decode(path, size).shape[:2] if full else _header_shape(path)


def _decode_many(paths: list[str], size: Optional[int], skip_corrupt: bool, fn=decode) -> list:
    out = []
    for p in paths:
        try:
            out.append(fn(p, size) if fn is decode else fn(p, size, skip_corrupt))
        except AugstudyError as e:
            if not skip_corrupt:
                raise AugstudyError(f"{e}; pass skip_corrupt: true to skip unreadable files") from None
            out.append(None)
    return out


def decode_all(paths: list[str], size: Optional[int], skip_corrupt: bool = False,
               n_jobs: Optional[int] = None, fn=decode) -> list:
    """Decode ``paths`` in parallel (joblib, chunks of files); ``None`` for skipped corrupt files.

    ``fn``: :func:`decode` (the arrays), or :func:`_shape_of` (only the decoded shapes: by decoding
    when ``skip_corrupt``, which must find every unreadable file, else from the headers)."""
    chunk = 512
    groups = [paths[i:i + chunk] for i in range(0, len(paths), chunk)]
    if n_jobs is None:
        n_jobs = 1 if len(paths) < 2000 else -1
    if n_jobs == 1 or len(groups) <= 1:
        parts = [_decode_many(g, size, skip_corrupt, fn) for g in groups]
    else:
        from joblib import Parallel, delayed

        parts = Parallel(n_jobs=n_jobs, batch_size=1)(delayed(_decode_many)(g, size, skip_corrupt, fn) for g in groups)
    return [a for part in parts for a in part]


def common_side(shapes: list[tuple[int, int]]) -> Optional[int]:
    """With ``size`` unset: None when every image has one shape (kept as it is), else the most common
    shorter side (ties: the smaller), to which every image is resized."""
    if len(set(shapes)) <= 1:
        return None
    sides = [min(s) for s in shapes]
    return max(set(sides), key=lambda s: (sides.count(s), -s))


def _warn_skipped(root, bad: list[str], listed: tuple = ()) -> None:
    """The one summary line of ``skip_corrupt``: how many files were skipped, by kind, and an example."""
    kinds = {"corrupt image": len(bad)}
    for _, kind in listed:
        kinds[kind] = kinds.get(kind, 0) + 1
    parts = [f"{n} {kind}(s)" for kind, n in kinds.items() if n]
    if parts:
        example = bad[0] if bad else listed[0][0]
        counts = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        warnings.warn(f"imagefolder '{root}': skipped {counts}, e.g. '{_show(str(example))}'", stacklevel=4)


def _stack(arrays: list[np.ndarray], labels: np.ndarray, size: Optional[int]) -> Split:
    if size is None:
        side = common_side([a.shape[:2] for a in arrays])
        if side is not None:  # mixed sizes: square of the most common shorter side
            arrays = [resize_square(a, side) for a in arrays]
    images = np.stack(arrays).transpose(0, 3, 1, 2)
    return Split(torch.from_numpy(np.ascontiguousarray(images)), torch.from_numpy(labels))


@dataset("imagefolder")
def imagefolder(root: str, size: Optional[int] = None, test_fraction: float = 0.2, seed: int = 0,
                skip_corrupt: bool = False, cache: bool = True, cache_dir: Optional[str] = None,
                train_per_class: Optional[int] = None, test_per_class: Optional[int] = None) -> Dataset:
    """Images in class subfolders: root/train/<class>/ and root/test/<class>/, or root/<class>/ split by test_fraction.

    size: resize shorter side to ``size`` then center-crop a square (default: keep the images' size when they
    all share one, else the most common shorter side). test_fraction, seed: the stratified split when there is
    no train/ and test/. skip_corrupt: skip unreadable files with a warning (default: error naming the file).
    cache: keep decoded uint8 arrays in ``<root>/.augstudy-cache/`` (or ``cache_dir``; the user cache dir when
    ``root`` is read-only), so the next load skips decoding. train_per_class, test_per_class: keep at most
    this many images of each class (a seeded subset, drawn after the cache), for CPU-sized studies.
    """
    if size is not None and (not isinstance(size, int) or size < 1):
        raise ParamsError(f"imagefolder size={size!r} must be a positive integer (pixels)")
    index = scan(root, test_fraction, seed, skip_corrupt)
    root = Path(root).expanduser().resolve()
    payload = {"version": DECODER_VERSION, "size": size, "test_fraction": test_fraction, "seed": seed,
               "skip_corrupt": skip_corrupt, "files": index.stamp}

    def build() -> Dataset:
        arrays = decode_all(index.train_files + index.test_files, size, skip_corrupt)
        labels = np.concatenate([index.train_labels, index.test_labels])
        bad = [f for f, a in zip(index.train_files + index.test_files, arrays) if a is None]
        keep = np.array([a is not None for a in arrays], bool)
        _warn_skipped(root, bad, index.skipped)
        n_train = len(index.train_files)
        good = [a for a in arrays if a is not None]
        n_train_kept = int(keep[:n_train].sum())
        if n_train_kept == 0 or n_train_kept == len(good):
            raise AugstudyError(f"imagefolder '{root}': a split has no readable images left")
        both = _stack(good, labels[keep], size)
        train = Split(both.images[:n_train_kept], both.labels[:n_train_kept])
        test = Split(both.images[n_train_kept:], both.labels[n_train_kept:])
        return Dataset(train, test, index.classes,
                       info={"name": "imagefolder", "root": str(root), "layout": index.layout,
                             "skipped": len(bad) + len(index.skipped),
                             "skipped_files": ([str(b) for b in bad] + [p for p, _ in index.skipped])[:20],
                             "params": {"size": size, "test_fraction": test_fraction, "seed": seed}})

    full = cached("imagefolder", payload, build, root=_cache_root_for(root, cache_dir), use_cache=bool(cache))
    if train_per_class is None and test_per_class is None:
        return full
    return Dataset(per_class_subset(full.train, train_per_class, seed), per_class_subset(full.test, test_per_class, seed),
                   full.classes, info={**full.info, "train_per_class": train_per_class, "test_per_class": test_per_class})


def _cache_root_for(root: Path, cache_dir: Optional[str]) -> Path:
    """Next to the data when writable, else the user cache dir (keyed by the folder's path)."""
    if cache_dir:
        return Path(cache_dir).expanduser()
    if os.access(root, os.W_OK):
        return root / ".augstudy-cache"
    return cache_root() / "folders" / cache_key(str(root))


@stream_source("imagefolder")
def imagefolder_stream(root: str, size: Optional[int] = None, test_fraction: float = 0.2, seed: int = 0,
                       skip_corrupt: bool = False, cache: bool = True, cache_dir: Optional[str] = None,
                       train_per_class: Optional[int] = None, test_per_class: Optional[int] = None) -> StreamPlan:
    """``imagefolder`` streamed from disk: the same files, labels, split, subsets, decoding and resizing
    as :func:`imagefolder` (so the same numbers), without holding the decoded images (``cache`` and
    ``cache_dir`` do not apply: nothing is cached).

    Listing is all that happens before the plan; ``open`` then checks every file when ``skip_corrupt``
    (a decoding pass that keeps nothing) and, without ``size``, reads the headers for the common shape.
    """
    if size is not None and (not isinstance(size, int) or size < 1):
        raise ParamsError(f"imagefolder size={size!r} must be a positive integer (pixels)")
    index = scan(root, test_fraction, seed, skip_corrupt)
    root = Path(root).expanduser().resolve()
    files = index.train_files + index.test_files
    if size is not None:
        estimate = (size, size)
    else:  # an estimate from the first file (every file's header is read only when streaming)
        try:
            estimate = _header_shape(files[0])
        except AugstudyError:
            estimate = (0, 0)
    decoded_bytes = len(files) * 3 * estimate[0] * estimate[1]

    def open_(num_workers: int) -> Dataset:
        shapes = decode_all(files, size, skip_corrupt, fn=_shape_of) if (skip_corrupt or size is None) else None
        keep = [True] * len(files) if shapes is None else [s is not None for s in shapes]
        bad = [f for f, k in zip(files, keep) if not k]
        _warn_skipped(root, bad, index.skipped)
        n_train = len(index.train_files)
        n_train_kept, n_kept = sum(keep[:n_train]), sum(keep)
        if n_train_kept == 0 or n_train_kept == n_kept:
            raise AugstudyError(f"imagefolder '{root}': a split has no readable images left")
        if size is not None:
            side, shape = size, (size, size)
        else:
            good = [s for s in shapes if s is not None]
            side = common_side(good)
            shape = (side, side) if side is not None else good[0]
        labels = np.concatenate([index.train_labels, index.test_labels])
        kept = [f for f, k in zip(files, keep) if k]
        kept_labels = labels[np.array(keep, bool)]
        both = FileSplit(kept, kept_labels, decoder(size if size is not None else side), shape, num_workers)
        train = both.subset(torch.arange(n_train_kept))
        test = both.subset(torch.arange(n_train_kept, n_kept))
        info = {"name": "imagefolder", "root": str(root), "layout": index.layout,
                "skipped": len(bad) + len(index.skipped),
                "skipped_files": ([str(b) for b in bad] + [p for p, _ in index.skipped])[:20],
                "params": {"size": size, "test_fraction": test_fraction, "seed": seed}}
        if train_per_class is not None or test_per_class is not None:
            train, test = per_class_subset(train, train_per_class, seed), per_class_subset(test, test_per_class, seed)
            info.update(train_per_class=train_per_class, test_per_class=test_per_class)
        return Dataset(train, test, index.classes, info)

    return StreamPlan(decoded_bytes, open_)
