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
