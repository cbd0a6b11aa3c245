"""File-system edges of an image folder: symlink loops are one line naming the path; non-UTF-8 names load."""
from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from augstudy.data.imagefolder import scan
from augstudy.errors import AugstudyError


def _folder(root):
    for split in ("train", "test"):
        for c in "ab":
            (root / split / c).mkdir(parents=True)
            for i in range(2):
                Image.fromarray(np.full((4, 4, 3), 40 * i, np.uint8)).save(root / split / c / f"{i}.png")
    return root


@pytest.mark.parametrize("kind", ["loop_to_parent", "self_loop"])
def test_symlink_loop_is_one_line_naming_the_path(tmp_path, kind):
    root = _folder(tmp_path / "imgs")
    link = root / "train" / "a" / "loop"
    if kind == "loop_to_parent":
        os.symlink(root / "train" / "a", link)
    else:
        os.symlink("loop", link)
    with pytest.raises(AugstudyError) as e:
        scan(root)
    assert str(link) in str(e.value) and "\n" not in str(e.value)


def test_non_utf8_file_name_is_listed_and_stamped(tmp_path):
    root = _folder(tmp_path / "imgs")
    odd = os.path.join(os.fsencode(root / "train" / "a"), b"bad\xff.png")
    with open(odd, "wb") as f:
        f.write((root / "train" / "a" / "0.png").read_bytes())
    index = scan(root)
    assert len(index.train_files) == 5 and index.stamp


def _load_warned(root, **params):
    import warnings

    from augstudy.data import load

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = load("imagefolder", root=str(root), cache=False, skip_corrupt=True, **params)
    lines = [str(w.message) for w in caught if "skipped" in str(w.message)]
    assert len(lines) == 1 and "\n" not in lines[0], lines  # the one summary line of skip_corrupt
    return ds, lines[0]


@pytest.mark.parametrize("kind", ["loop_to_parent", "self_loop"])
def test_symlink_loop_is_skipped_with_a_count_under_skip_corrupt(tmp_path, kind):
    root = _folder(tmp_path / "imgs")
    link = root / "train" / "a" / "loop"
    os.symlink(root / "train" / "a" if kind == "loop_to_parent" else "loop", link)
    (root / "test" / "b" / "1.png").write_bytes(b"not a png")  # and a corrupt image: both kinds in the one line
    ds, line = _load_warned(root)
    assert "skipped 1 corrupt image(s) and 1 symlink loop(s)" in line and str(root) in line
    assert len(ds.train) == 4 and len(ds.test) == 3 and ds.info["skipped"] == 2
    assert str(link) in ds.info["skipped_files"]
    assert scan(root, skip_corrupt=True).skipped == ((str(link), "symlink loop"),)


def _deep_dir(top, depth: int, name_len: int = 250):
    """A chain of ``depth`` folders of ``name_len``-character names below ``top`` (built with dir_fd, so
    no call sees the whole path); returns an fd of the deepest and the whole path."""
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    path = str(top)
    for i in range(depth):
        name = f"{i:03d}" + "d" * (name_len - 3)
        os.mkdir(name, dir_fd=fd)
        new = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd, path = new, os.path.join(path, name)
    return fd, path


def test_a_path_beyond_path_max_is_one_line_or_skipped_with_a_count(tmp_path):
    root = _folder(tmp_path / "imgs")
    fd, deep = _deep_dir(root / "train" / "a", depth=17)  # > 4096 characters
    assert len(deep) > 4096
    png = (root / "train" / "a" / "0.png").read_bytes()
    out = os.open("deep.png", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.write(out, png)
    os.close(out)
    os.close(fd)
    with pytest.raises(AugstudyError) as e:
        scan(root)
    msg = str(e.value)
    assert "\n" not in msg and "too long" in msg and "skip_corrupt" in msg and str(root / "train" / "a") in msg
    assert len(msg) < 600  # the path is shown by its ends, not 4000 characters
    ds, line = _load_warned(root)
    assert "skipped 1 over-long path(s)" in line and len(ds.train) == 4


def test_a_file_name_longer_than_name_max_is_one_line(tmp_path):
    from augstudy.data import load

    long_root = tmp_path / ("r" * 300)  # longer than NAME_MAX (255): no such file can exist
    with pytest.raises(AugstudyError) as e:
        load("imagefolder", root=str(long_root))
    assert "\n" not in str(e.value) and "too long" in str(e.value) and "rrrr" in str(e.value)
    with pytest.raises(AugstudyError) as e:
        scan(long_root, skip_corrupt=True)
    assert "too long" in str(e.value)
