"""Sanity check of the embedded dataset's shortcuts (CPU, about a minute).

For a setting of ``synthetic`` it reports:
- ``hist->class``: a linear classifier on per-image color histograms, test top-1 (chance = 100/K):
  near chance means color carries no label (``class_color=0``);
- ``pix->class``: a linear classifier on raw pixels (8x8 average-pooled), test top-1;
- ``hist crop match``: two random crops of each of 1,000 images, top-1 retrieval of the partner by
  color-histogram L1 distance: the color shortcut (high with ``palette`` on);
- ``layout match``: each image against a color-distorted copy of itself (channel shuffle, gray, brightness),
  top-1 retrieval by correlation of gradient-magnitude maps: the layout shortcut of uncropped views;
- ``bg edge share``: the share of gradient energy outside the object (object pixels found on the same
  images drawn without clutter and noise): how much of the layout is class-free background;
- ``cnn supervised``: a small convnet trained with labels for a few epochs (is the class learnable?).

    python benchmarks/synthetic_shortcuts.py                 # defaults and a few ablations
    python benchmarks/synthetic_shortcuts.py --quick         # fewer settings
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

from augstudy.data import load


def hist_features(x: torch.Tensor, bins: int = 4) -> torch.Tensor:
    """Joint RGB histograms, normalised: uint8 [N, 3, H, W] -> [N, bins^3]."""
    q = (x.long() * bins // 256)
    idx = (q[:, 0] * bins + q[:, 1]) * bins + q[:, 2]
    h = torch.zeros(x.shape[0], bins ** 3)
    h.scatter_add_(1, idx.flatten(1), torch.ones(idx.flatten(1).shape))
    return h / idx[0].numel()


def linear_probe(ftr, ytr, fte, yte, k, epochs=300) -> float:
    mu, sd = ftr.mean(0), ftr.std(0) + 1e-6
    ftr, fte = (ftr - mu) / sd, (fte - mu) / sd
    w = torch.zeros(ftr.shape[1], k, requires_grad=True)
    b = torch.zeros(k, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=epochs, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(ftr @ w + b, ytr) + 1e-3 * (w ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return 100.0 * ((fte @ w + b).argmax(1) == yte).float().mean().item()


def random_crops(x: torch.Tensor, g: torch.Generator, scale=(0.2, 1.0)) -> torch.Tensor:
    """Random resized crops (area fraction in ``scale``, square), back to the input size."""
    n, _, h, w = x.shape
    out = torch.empty_like(x, dtype=torch.float32)
    s = torch.empty(n).uniform_(*scale, generator=g).sqrt()
    for i in range(n):
        ch, cw = max(2, int(h * s[i])), max(2, int(w * s[i]))
        y0 = int(torch.randint(0, h - ch + 1, (1,), generator=g))
        x0 = int(torch.randint(0, w - cw + 1, (1,), generator=g))
        out[i] = F.interpolate(x[i:i + 1, :, y0:y0 + ch, x0:x0 + cw].float(), size=(h, w), mode="bilinear",
                               align_corners=False)[0]
    return out.clamp(0, 255).to(torch.uint8)


def retrieval(a: torch.Tensor, b: torch.Tensor, metric: str) -> float:
    if metric == "l1":
        d = torch.cdist(a, b, p=1)
    else:
        a = F.normalize(a - a.mean(1, keepdim=True), dim=1)
        b = F.normalize(b - b.mean(1, keepdim=True), dim=1)
        d = -a @ b.T
    return 100.0 * (d.argmin(1) == torch.arange(len(a))).float().mean().item()


def color_distort(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    n = x.shape[0]
    perm = torch.stack([torch.randperm(3, generator=g) for _ in range(n)])
    y = torch.stack([x[i, perm[i]] for i in range(n)]).float()
    gray = torch.rand(n, generator=g) < 0.3
    y[gray] = y[gray].mean(1, keepdim=True).expand(-1, 3, -1, -1)
    y = y * torch.empty(n, 1, 1, 1).uniform_(0.6, 1.4, generator=g)
    return y.clamp(0, 255)


def grad_map(x: torch.Tensor) -> torch.Tensor:
    g = x.float().mean(1, keepdim=True)
    gx, gy = g[..., :, 1:] - g[..., :, :-1], g[..., 1:, :] - g[..., :-1, :]
    return (gx[..., :-1, :].abs() + gy[..., :, :-1].abs()).flatten(1)


def background_edge_share(params: dict, n: int = 500) -> float:
    """Percent of the gradient energy of the images that lies outside their object."""
    kw = {**params, "n_train": 1, "n_test": n, "cache": False}
    busy = load("synthetic", **kw).test.images.float()
    clean = load("synthetic", **{**kw, "clutter": False, "noise": 0.0}).test.images
    bg = clean.flatten(2).mode(2).values[..., None, None]  # the flat background color of each clean image
    obj = (clean.float() - bg.float()).abs().amax(1) > 8
    obj = F.max_pool2d(obj[:, None].float(), 3, 1, 1)[:, 0] > 0  # include the object's edges
    g = busy.mean(1)
    e = F.pad((g[:, :, 1:] - g[:, :, :-1]).abs(), (0, 1)) + F.pad((g[:, 1:] - g[:, :-1]).abs(), (0, 0, 0, 1))
    return 100.0 * (e * ~obj).sum().item() / e.sum().item()


def supervised_cnn(ds, epochs: int = 4, seed: int = 0) -> float:
    torch.manual_seed(seed)
    k = ds.num_classes
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 32, 3, padding=1), torch.nn.BatchNorm2d(32), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.BatchNorm2d(64), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(64, 128, 3, padding=1), torch.nn.BatchNorm2d(128), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(128, k))
    opt = torch.optim.Adam(net.parameters(), 2e-3)
    from augstudy.data import DeviceBatcher

    batches = DeviceBatcher(ds.train, 128, seed=seed)
    for _ in range(epochs):
        for x, y in batches:
            opt.zero_grad()
            F.cross_entropy(net(x), y).backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        pred = net(ds.test.images.float() / 255).argmax(1)
    return 100.0 * (pred == ds.test.labels).float().mean().item()


def report(name: str, params: dict, cnn: bool) -> dict:
    t = time.time()
    ds = load("synthetic", n_train=4096, n_test=1000, **params)
    k = ds.num_classes
    g = torch.Generator().manual_seed(0)
    r = {"setting": name}
    r["hist->class"] = linear_probe(hist_features(ds.train.images), ds.train.labels,
                                    hist_features(ds.test.images), ds.test.labels, k)
    pool = lambda x: F.avg_pool2d(x.float() / 255, 4).flatten(1)  # noqa: E731
    r["pix->class"] = linear_probe(pool(ds.train.images), ds.train.labels, pool(ds.test.images), ds.test.labels, k)
    x = ds.test.images
    r["hist crop match"] = retrieval(hist_features(random_crops(x, g)), hist_features(random_crops(x, g)), "l1")
    r["layout match"] = retrieval(grad_map(x), grad_map(color_distort(x, g)), "corr")
    r["bg edge share"] = background_edge_share(params)
    if cnn:
        r["cnn supervised"] = supervised_cnn(ds)
    r["seconds"] = time.time() - t
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-cnn", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(2)
    settings = [("default", {}), ("class_color=0", {"class_color": 0.0}),
                ("palette off", {"palette": False, "class_color": 0.0}),
                ("clutter off", {"clutter": False}), ("clutter x2", {"clutter_amount": 2.0})]
    if not args.quick:
        settings += [("texture off", {"texture": False}), ("plain (palette, clutter off)",
                                                           {"palette": False, "clutter": False})]
    print(f"chance = {100 / 10:.1f}%")
    for name, params in settings:
        r = report(name, params, cnn=not args.no_cnn)
        print(" | ".join(f"{k}: {v:.1f}" if isinstance(v, float) else f"{k}: {v}" for k, v in r.items()), flush=True)


if __name__ == "__main__":
    main()
