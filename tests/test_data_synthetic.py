"""The embedded ``synthetic`` dataset: determinism, balance, cache, and each shortcut factor and its switch."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import pytest
import torch

from augstudy.data import load
from augstudy.data.synthetic import GENERATOR_VERSION, class_names, generate_split, parse_params

from data_fixtures import cache_env, digest  # noqa: F401

SMALL = dict(n_train=96, n_test=32, cache=False)
#: sha256 of train+test arrays of ``load("synthetic", **SMALL)`` per (GENERATOR_VERSION, OpenCV major.minor):
#: anti-aliased drawing may differ between OpenCV builds, so other versions only check run-to-run equality.
#: If you change the generator on purpose, bump GENERATOR_VERSION and record the new hash here.
GOLDEN = {("1", "5.0"): "bd7875acd749e71d32a1b9af422cf62b03db1b319327f67d6988cdbb0e76f62f"}


def _small(**kw):
    return load("synthetic", **{**SMALL, **kw})


def _arrays(d):
    return d.train.images, d.train.labels, d.test.images, d.test.labels


def test_same_params_same_bytes_across_calls_and_processes():
    ds = _small()
    h = digest(*_arrays(ds))
    assert h == digest(*_arrays(_small()))
    assert digest(_small(seed=1).train.images) != digest(ds.train.images)
    golden = GOLDEN.get((GENERATOR_VERSION, ".".join(cv2.__version__.split(".")[:2])))
    if golden:  # recorded by another process, on another day
        assert h == golden, "synthetic output changed: bump GENERATOR_VERSION and record the new hash"
        return
    code = ("import sys; sys.path.insert(0, 'tests'); from augstudy.data import load; from data_fixtures import digest; "
            "d = load('synthetic', n_train=96, n_test=32, cache=False); "
            "print(digest(d.train.images, d.train.labels, d.test.images, d.test.labels))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == h


def test_independent_of_worker_count():
    from joblib import parallel_config

    p = parse_params(n_train=600)
    a = generate_split(p, 0, 600, n_jobs=1)
    with parallel_config(backend="threading"):  # the parallel code path, without process start-up
        b = generate_split(p, 0, 600, n_jobs=3)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)


def test_shapes_dtypes_and_class_balance():
    ds = _small(n_train=103, n_test=41, num_classes=7, size=24)
    assert ds.train.images.shape == (103, 3, 24, 24) and ds.train.images.dtype == torch.uint8
    assert ds.test.labels.dtype == torch.int64 and len(ds.classes) == 7
    for split in (ds.train, ds.test):
        counts = split.labels.bincount(minlength=7)
        assert counts.max() - counts.min() <= 1
    names = class_names(40)
    assert len(set(names)) == 40 and names[:7] == ds.classes


def test_cache_hit_returns_identical_arrays(cache_env):
    a = load("synthetic", n_train=64, n_test=16)
    assert a.info["cache_hit"] is False and str(cache_env) in a.info["cache"]
    b = load("synthetic", n_train=64, n_test=16)
    assert b.info["cache_hit"] is True and b.info["cache"] == a.info["cache"]
    assert torch.equal(a.train.images, b.train.images) and torch.equal(a.test.labels, b.test.labels)
    entries = list((cache_env / "synthetic").iterdir())
    assert len(entries) == 1 and not entries[0].name.startswith(".")  # no temp folders left behind
    assert load("synthetic", n_train=64, n_test=16, clutter=False).info["cache"] != a.info["cache"]


@pytest.mark.parametrize("bad, needle", [
    ({"palette_strength": 1.5}, "palette_strength"), ({"sizes": 32}, "'sizes'"),
    ({"object_scale": [0.9, 0.2]}, "object_scale"), ({"num_classes": 1}, "num_classes"),
])
def test_bad_params_name_the_param(bad, needle):
    with pytest.raises(ValueError, match=needle):
        _small(**bad)


# --- the shortcut factors ----------------------------------------------------------------------------
def _hist(x: torch.Tensor, bins: int = 4) -> torch.Tensor:
    q = x.long() * bins // 256
    idx = ((q[:, 0] * bins + q[:, 1]) * bins + q[:, 2]).flatten(1)
    h = torch.zeros(x.shape[0], bins ** 3).scatter_add_(1, idx, torch.ones(idx.shape))
    return h / idx.shape[1]


def _crops(x: torch.Tensor, seed: int) -> torch.Tensor:
    """A random half-area-or-more crop of each image, resized back (nearest)."""
    g = torch.Generator().manual_seed(seed)
    n, _, h, w = x.shape
    out = []
    for i in range(n):
        s = int(h * (0.55 + 0.45 * torch.rand(1, generator=g).item()))
        y0, x0 = (int(torch.randint(0, h - s + 1, (1,), generator=g)) for _ in range(2))
        out.append(torch.nn.functional.interpolate(x[i:i + 1, :, y0:y0 + s, x0:x0 + s].float(), size=(h, w)))
    return torch.cat(out).to(torch.uint8)


def _hist_match_rate(x: torch.Tensor) -> float:
    """How often a crop's color histogram is nearest to another crop of the same image."""
    a, b = _hist(_crops(x, 1)), _hist(_crops(x, 2))
    return (torch.cdist(a, b, p=1).argmin(1) == torch.arange(len(x))).float().mean().item()


def test_palette_makes_crops_of_one_image_match_by_color_histogram():
    on = _small(n_test=200, class_color=0.0).test.images
    off = _small(n_test=200, class_color=0.0, palette=False).test.images
    half = _small(n_test=200, class_color=0.0, palette_strength=0.3).test.images
    r_on, r_half, r_off = _hist_match_rate(on), _hist_match_rate(half), _hist_match_rate(off)
    # Off, only the proportions of one fixed palette are left to match on.
    assert r_on > 0.8 and r_off < 0.6 and r_on > r_half > r_off


def _color_probe_accuracy(ds) -> float:
    """A linear classifier on color histograms, test accuracy (how much color tells the label)."""
    ftr, fte = _hist(ds.train.images, 6), _hist(ds.test.images, 6)
    mu, sd = ftr.mean(0), ftr.std(0) + 1e-4
    ftr, fte = (ftr - mu) / sd, (fte - mu) / sd
    w = torch.zeros(ftr.shape[1], ds.num_classes, requires_grad=True)
    opt = torch.optim.LBFGS([w], max_iter=100, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(ftr @ w, ds.train.labels) + 1e-2 * (w ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return ((fte @ w).argmax(1) == ds.test.labels).float().mean().item()


def test_class_color_controls_how_much_color_tells_the_class():
    none = _color_probe_accuracy(_small(n_train=600, n_test=300, class_color=0.0))
    full = _color_probe_accuracy(_small(n_train=600, n_test=300, class_color=1.0))
    assert none < 0.2 and full > 0.4


def _plain(**kw):
    return _small(n_test=60, noise=0.0, palette=False, **kw).test.images.float()


def _grad_energy(x: torch.Tensor) -> torch.Tensor:
    g = x.mean(1)
    return (g[:, :, 1:] - g[:, :, :-1]).abs().mean((1, 2)) + (g[:, 1:] - g[:, :-1]).abs().mean((1, 2))


def test_clutter_adds_class_free_background_layout_and_leaves_the_object_alone():
    clean, busy = _plain(clutter=False), _plain(clutter=True)
    bg = torch.tensor([0.45 * 255] * 3).view(1, 3, 1, 1)
    obj = ((clean - bg).abs().amax(1) > 10)  # object pixels of the clean images
    # The object's interior is drawn identically on the cluttered image (its own random stream).
    interior = obj & torch.roll(obj, 1, 1) & torch.roll(obj, -1, 1) & torch.roll(obj, 1, 2) & torch.roll(obj, -1, 2)
    same = ((clean - busy).abs().amax(1) <= 1)[interior].float().mean()
    assert same > 0.95
    # Clutter: strong structure outside the object, none without it.
    outside = ~obj
    busy_bg_var = ((busy - busy.mean((2, 3), keepdim=True)).abs().amax(1))[outside].mean()
    clean_bg_var = ((clean - bg).abs().amax(1))[outside].mean()
    assert busy_bg_var > 20 and clean_bg_var < 1
    assert (_grad_energy(busy) > _grad_energy(clean)).float().mean() > 0.9
    amount = _plain(clutter=True, clutter_amount=3.0)
    assert _grad_energy(amount).mean() > _grad_energy(busy).mean()
    faint = _plain(clutter=True, clutter_contrast=0.2)
    assert _grad_energy(faint).mean() < _grad_energy(busy).mean()


def test_texture_switch_makes_objects_solid():
    kw = dict(clutter=False, noise=0.0, palette=False, class_color=0.0, n_test=60)
    tex, solid = _small(texture=True, **kw).test, _small(texture=False, **kw).test
    textured = [i for i, c in enumerate(class_names(10)) if "-" in c]
    mask = torch.isin(tex.labels, torch.tensor(textured))

    def n_colors(x):
        return torch.tensor([len(torch.unique(im.flatten(1), dim=1).T) for im in x])

    assert (n_colors(tex.images[mask]) > n_colors(solid.images[mask]) + 10).float().mean() > 0.9
    assert torch.equal(tex.images[~mask], solid.images[~mask])  # solid classes are untouched


def test_switching_palette_keeps_labels_and_layout():
    a, b = _small(palette=True), _small(palette=False)
    assert torch.equal(a.train.labels, b.train.labels)
    # Same pose and clutter layout: gradient maps correlate strongly image by image.
    ga = a.train.images.float().mean(1).flatten(1)
    gb = b.train.images.float().mean(1).flatten(1)
    assert not torch.equal(ga, gb)
    ea = torch.nn.functional.normalize(_grad_map(a.train.images), dim=1)
    eb = torch.nn.functional.normalize(_grad_map(b.train.images), dim=1)
    sim = ea @ eb.T
    assert (sim.argmax(1) == torch.arange(len(sim))).float().mean() > 0.8


def _grad_map(x):
    g = x.float().mean(1)
    return ((g[:, :-1, 1:] - g[:, :-1, :-1]).abs() + (g[:, 1:, :-1] - g[:, :-1, :-1]).abs()).flatten(1)


def test_object_scale_and_pose_knobs():
    kw = dict(clutter=False, noise=0.0, palette=False, class_color=0.0, texture=False, n_test=60)
    bg = torch.tensor([0.45 * 255] * 3).view(1, 3, 1, 1)

    def area(**k):
        x = _small(**kw, **k).test.images.float()
        return ((x - bg).abs().amax(1) > 10).float().mean((1, 2))

    assert area(object_scale=[0.3, 0.3]).mean() < area(object_scale=[0.8, 0.8]).mean() / 3
    fixed = _small(**kw, position_jitter=0.0, rotation=False, object_scale=[0.6, 0.6]).test
    discs = fixed.images[fixed.labels == 0]
    assert len(discs) > 2 and (discs == discs[0]).all()  # no pose randomness left: every disc is the same
