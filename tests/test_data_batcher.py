"""Device batching: every index once per epoch, reproducible by seed, float [0, 1] on the device."""
from __future__ import annotations

import pytest
import torch

from augstudy.data import DeviceBatcher, Split, StreamingBatcher

from data_fixtures import write_image


def _split(n: int = 50, size: int = 4) -> Split:
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=g)
    images[:, 0, 0, 0] = torch.arange(n, dtype=torch.uint8)  # pixel (0, 0) encodes the index
    return Split(images, torch.arange(n, dtype=torch.int64))


def test_every_index_exactly_once_per_epoch():
    split = _split(50)
    b = DeviceBatcher(split, 16, seed=3, drop_last=False)
    assert len(b) == 4
    for _ in range(2):
        seen = torch.cat([y for _, y in b])
        assert sorted(seen.tolist()) == list(range(50))
    d = DeviceBatcher(split, 16, seed=3)  # drop_last: 3 full batches, no index twice
    seen = [y for _, y in d]
    assert len(d) == 3 and [len(y) for y in seen] == [16, 16, 16]
    assert len(set(torch.cat(seen).tolist())) == 48


def test_batches_are_the_images_as_float01_matching_labels():
    split = _split(20)
    for x, y in DeviceBatcher(split, 5, seed=0):
        assert x.dtype == torch.float32 and x.shape == (5, 3, 4, 4) and 0 <= x.min() and x.max() <= 1
        assert torch.equal(x, split.images[y].float() / 255)
        assert torch.equal((x[:, 0, 0, 0] * 255).round().long(), y)


def test_reproducible_by_seed_and_shuffled_per_epoch():
    split = _split(40)

    def orders(batcher, epochs=3):
        return [torch.cat([y for _, y in batcher]).tolist() for _ in range(epochs)]

    a, b = orders(DeviceBatcher(split, 8, seed=7)), orders(DeviceBatcher(split, 8, seed=7))
    assert a == b
    assert a[0] != a[1] != a[2]
    assert orders(DeviceBatcher(split, 8, seed=8)) != a
    g = torch.Generator().manual_seed(7)
    assert orders(DeviceBatcher(split, 8, generator=g)) == a
    assert orders(DeviceBatcher(split, 8, shuffle=False), 1)[0] == list(range(40))


def test_bad_arguments():
    split = _split(10)
    with pytest.raises(ValueError, match="seed"):
        DeviceBatcher(split, 4)  # shuffling needs explicit randomness
    with pytest.raises(ValueError, match="batch_size=0"):
        DeviceBatcher(split, 0, seed=0)
    with pytest.raises(ValueError, match="larger than the split"):
        DeviceBatcher(split, 11, seed=0)
    with pytest.raises(ValueError, match="not both"):
        DeviceBatcher(split, 4, seed=0, generator=torch.Generator())


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_split_lives_on_the_cuda_device():
    b = DeviceBatcher(_split(32), 8, seed=0, device="cuda")
    assert b.images.is_cuda and b.images.dtype == torch.uint8
    x, y = next(iter(b))
    assert x.is_cuda and y.is_cuda and x.dtype == torch.float32


@pytest.mark.parametrize("workers", [0, 1])
def test_streaming_batcher_decodes_resizes_and_covers_every_file(tmp_path, workers):
    for c in ("a", "b"):
        for i in range(5):
            write_image(tmp_path / c / f"{i}.png", "gray" if i % 2 else "rgb", size=(9 + i, 7), seed=i)
    s = StreamingBatcher.from_folder(str(tmp_path), split="train", size=6, test_fraction=0.2, batch_size=3,
                                     seed=1, drop_last=False, num_workers=workers)
    assert s.classes == ["a", "b"] and len(s) == 3
    xs, ys = zip(*s)
    x = torch.cat(xs)
    assert x.shape == (8, 3, 6, 6) and x.dtype == torch.float32 and x.max() <= 1
    assert sorted(torch.cat(ys).tolist()) == [0] * 4 + [1] * 4
    again = torch.cat([y for _, y in StreamingBatcher.from_folder(
        str(tmp_path), size=6, batch_size=3, seed=1, drop_last=False, num_workers=0)])
    assert again.tolist() == torch.cat(ys).tolist()
