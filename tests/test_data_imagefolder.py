"""``imagefolder``: layouts, conversions, resizing, the decode cache, and each bad input's one-line error."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from augstudy.data import load
from augstudy.data.imagefolder import resize_square
from augstudy.errors import AugstudyError

from data_fixtures import write_image


def _tree(root, layout="train/test", classes=("cat", "dog"), n=4, kinds=("rgb",), size=(12, 9)):
    """Write ``n`` images per class (cycling through ``kinds`` and PNG/JPEG) in the given layout."""
    splits = ("train", "test") if layout == "train/test" else ("",)
    k = 0
    for split in splits:
        for c in classes:
            for i in range(n):
                ext = ".png" if i % 2 == 0 else ".jpg"
                kind = kinds[k % len(kinds)]
                if ext == ".jpg" and kind in ("rgba", "gray16", "palette"):
                    ext = ".png"
                write_image(root / split / c / f"{i:03d}{ext}", kind, size, seed=k)
                k += 1
    return root


def test_train_test_layout_with_mixed_modes_and_sizes(tmp_path):
    root = _tree(tmp_path / "pets", kinds=("rgb", "gray", "rgba", "gray16", "palette"), size=(13, 7))
    write_image(root / "train" / "cat" / "odd.png", "rgb", size=(30, 21))  # a different size
    ds = load("imagefolder", root=str(root), size=16)
    assert ds.classes == ["cat", "dog"]
    assert ds.train.images.shape == (9, 3, 16, 16) and ds.test.images.shape == (8, 3, 16, 16)
    assert ds.train.labels.tolist() == [0] * 5 + [1] * 4 and ds.info["layout"] == "train/test"
    assert ds.train.images.dtype == torch.uint8


def test_mixed_sizes_without_size_use_the_most_common_side(tmp_path):
    root = _tree(tmp_path / "d", size=(10, 8))
    write_image(root / "test" / "dog" / "big.png", "rgb", size=(40, 30))
    ds = load("imagefolder", root=str(root))
    assert ds.train.image_size == (8, 8)
    same = _tree(tmp_path / "e", size=(10, 8))
    assert load("imagefolder", root=str(same)).train.image_size == (8, 10)  # uniform: kept as is


def test_sixteen_bit_and_grayscale_are_scaled_and_expanded(tmp_path):
    from PIL import Image

    root = tmp_path / "x"
    for c in ("a", "b"):
        (root / c).mkdir(parents=True)
        Image.fromarray(np.full((6, 6), 65535, np.uint16)).save(root / c / "w16.png")
        Image.fromarray(np.full((6, 6), 100, np.uint8), "L").save(root / c / "g.png")
    ds = load("imagefolder", root=str(root), test_fraction=0.5, cache=False)
    imgs = torch.cat([ds.train.images, ds.test.images])
    values = sorted({int(v) for v in imgs.flatten().tolist()})
    assert values == [100, 255]


def test_single_folder_is_split_stratified_and_seeded(tmp_path):
    root = _tree(tmp_path / "flat", layout="flat", classes=("a", "b", "c"), n=10)
    ds = load("imagefolder", root=str(root), test_fraction=0.3, seed=1, cache=False)
    assert ds.info["layout"] == "split"
    assert ds.test.labels.bincount().tolist() == [3, 3, 3] and ds.train.labels.bincount().tolist() == [7, 7, 7]
    again = load("imagefolder", root=str(root), test_fraction=0.3, seed=1, cache=False)
    assert torch.equal(ds.test.images, again.test.images)
    other = load("imagefolder", root=str(root), test_fraction=0.3, seed=2, cache=False)
    assert not torch.equal(ds.test.images, other.test.images)


def test_per_class_subsets_are_balanced_seeded_and_validated(tmp_path):
    root = _tree(tmp_path / "flat", layout="flat", classes=("a", "b", "c"), n=10)
    full = load("imagefolder", root=str(root), test_fraction=0.3, seed=1, cache=False)
    ds = load("imagefolder", root=str(root), test_fraction=0.3, seed=1, cache=False, train_per_class=4, test_per_class=2)
    assert ds.train.labels.bincount().tolist() == [4, 4, 4] and ds.test.labels.bincount().tolist() == [2, 2, 2]
    # every kept image is one of the full split's, in the split's order
    kept = [next(i for i in range(len(full.train)) if torch.equal(full.train.images[i], img)) for img in ds.train.images]
    assert kept == sorted(kept)
    again = load("imagefolder", root=str(root), test_fraction=0.3, seed=1, cache=False, train_per_class=4)
    assert torch.equal(again.train.images, ds.train.images) and len(again.test) == len(full.test)
    with pytest.raises(ValueError, match="per-class subset size 0"):
        load("imagefolder", root=str(root), test_fraction=0.3, cache=False, train_per_class=0)


def test_second_load_hits_the_cache_and_changes_invalidate_it(tmp_path):
    root = _tree(tmp_path / "c")
    a = load("imagefolder", root=str(root), size=8)
    assert a.info["cache_hit"] is False and a.info["cache"].startswith(str(root.resolve() / ".augstudy-cache"))
    b = load("imagefolder", root=str(root), size=8)
    assert b.info["cache_hit"] is True and torch.equal(a.train.images, b.train.images)
    write_image(root / "train" / "cat" / "new.png", "rgb")
    c = load("imagefolder", root=str(root), size=8)
    assert c.info["cache_hit"] is False and len(c.train) == len(a.train) + 1


def test_resize_square_is_shorter_side_then_center_crop():
    a = np.zeros((20, 40, 3), np.uint8)
    a[:, 10:30] = 200  # the center half
    out = resize_square(a, 10)
    assert out.shape == (10, 10, 3) and (out > 150).all()


# --- bad input: one clear line naming the path ----------------------------------------------------------
def test_missing_root(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load("imagefolder", root=str(tmp_path / "nope"))


def test_root_without_class_subfolders(tmp_path):
    write_image(tmp_path / "loose.png")
    with pytest.raises(AugstudyError, match="no class subfolders"):
        load("imagefolder", root=str(tmp_path))


def test_class_folder_without_images(tmp_path):
    root = _tree(tmp_path / "r", layout="flat")
    (root / "empty").mkdir()
    (root / "empty" / "notes.txt").write_text("x")
    with pytest.raises(AugstudyError, match=r"class folder '.*empty' has no images"):
        load("imagefolder", root=str(root))


def test_single_class(tmp_path):
    root = _tree(tmp_path / "one", layout="flat", classes=("only",))
    with pytest.raises(AugstudyError, match="single class 'only'"):
        load("imagefolder", root=str(root))


def test_missing_root_param_and_bad_size(tmp_path):
    with pytest.raises(ValueError, match="needs the param 'root'"):
        load("imagefolder")
    with pytest.raises(ValueError, match="size"):
        load("imagefolder", root=str(tmp_path), size=-3)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_image_names_the_file_or_is_skipped(tmp_path, damage):
    root = _tree(tmp_path / "bad", n=4)
    bad = root / "train" / "dog" / "001.jpg"
    if damage == "garbage":
        bad.write_bytes(b"not an image at all")
    else:
        bad.write_bytes(bad.read_bytes()[: len(bad.read_bytes()) // 2])
    with pytest.raises(AugstudyError, match=r"cannot decode image '.*001\.jpg'.*skip_corrupt") as e:
        load("imagefolder", root=str(root), cache=False)
    assert "\n" not in str(e.value)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = load("imagefolder", root=str(root), skip_corrupt=True, cache=False)
    assert ds.info["skipped"] == 1 and len(ds.train) == 7
    assert any("skipped 1 corrupt" in str(w.message) for w in caught)
