"""Evaluation of a frozen encoder: linear probe (logistic regression by L-BFGS) and weighted kNN.

Features are extracted in eval mode, without gradients and without augmentation. Both probes
return top-1 accuracy on the test split in percent.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import nn

from .config import EvaluationConfig
from .device import autocast_for


@torch.no_grad()
def extract_features(fn: Callable[[torch.Tensor], torch.Tensor], images, device: torch.device,
                     batch_size: int = 1024, bf16: bool = False, channels_last: bool = False) -> torch.Tensor:
    """``fn`` applied to uint8 ``images`` [N, 3, H, W] in batches (as float [0, 1]); float32 [N, d] on ``device``.

    ``images`` may be a split (``augstudy.data.Split``, or a streamed ``FileSplit``): its ``batches``
    then give the images in order, so a streamed split is never decoded whole (the same batches, the same features).
    """
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    if isinstance(images, torch.Tensor):
        batches = (images[i:i + batch_size] for i in range(0, images.shape[0], batch_size))
    else:
        batches = images.batches(batch_size)
    out = []
    for chunk in batches:
        x = chunk.to(device, non_blocking=True).float().div_(255).contiguous(memory_format=fmt)
        with autocast_for(device, bf16):
            out.append(fn(x).float())
    return torch.cat(out)


def linear_probe(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor,
                 num_classes: int, l2: float = 1e-4, max_iter: int = 200) -> float:
    """Multinomial logistic regression on standardised features, full batch, L-BFGS; test top-1 in %."""
    pred = linear_predict(train_x, train_y, test_x, num_classes, l2, max_iter)
    return 100.0 * (pred == test_y).float().mean().item()


def linear_predict(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor,
                   num_classes: int, l2: float = 1e-4, max_iter: int = 200) -> torch.Tensor:
    """The linear probe's predicted class of every test example (int64 [N_test]).

    Minimises mean cross-entropy + ``l2`` * ||W||^2 (bias unpenalised); standardised with the
    train split's mean and std.
    """
    mean, std = train_x.mean(0), train_x.std(0).clamp_min(1e-6)
    train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    w = torch.zeros(train_x.shape[1], num_classes, device=train_x.device, requires_grad=True)
    b = torch.zeros(num_classes, device=train_x.device, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=max_iter, history_size=20,
                            tolerance_grad=1e-6, tolerance_change=1e-9, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(train_x @ w + b, train_y) + l2 * w.square().sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    with torch.no_grad():
        return (test_x @ w + b).argmax(1)


@torch.no_grad()
def knn_top1(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor,
             num_classes: int, k: int = 200, temperature: float = 0.1, chunk: int = 1024) -> float:
    """Weighted kNN (InstDisc): cosine similarity, the ``k`` nearest vote with exp(sim / T); top-1 in %."""
    pred = knn_predict(train_x, train_y, test_x, num_classes, k, temperature, chunk)
    return 100.0 * int((pred == test_y).sum()) / test_x.shape[0]


@torch.no_grad()
def knn_predict(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, num_classes: int,
                k: int = 200, temperature: float = 0.1, chunk: int = 1024) -> torch.Tensor:
    """The weighted kNN's predicted class of every test example (int64 [N_test])."""
    train_x, test_x = F.normalize(train_x, dim=1), F.normalize(test_x, dim=1)
    k = min(k, train_x.shape[0])
    out = []
    for i in range(0, test_x.shape[0], chunk):
        sim, nn_idx = (test_x[i:i + chunk] @ train_x.t()).topk(k, dim=1)
        votes = torch.zeros(sim.shape[0], num_classes, device=sim.device)
        votes.scatter_add_(1, train_y[nn_idx], (sim / temperature).exp())
        out.append(votes.argmax(1))
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.long, device=test_x.device)


def probe(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor,
          num_classes: int, cfg: EvaluationConfig, predictions: Optional[dict] = None,
          suffix: str = "") -> dict[str, Optional[float]]:
    """Both probes on one pair of feature sets, as configured (None where switched off).

    ``predictions``: when given, each probe's predicted classes (a CPU int64 tensor) are stored in it
    under its metric name (``linear_top1``, ``knn_top1``, plus ``suffix``)."""
    out: dict[str, Optional[float]] = {"linear": None, "knn": None}
    for key, on, predict in (
            ("linear", cfg.linear, lambda: linear_predict(train_x, train_y, test_x, num_classes, cfg.linear_l2,
                                                          cfg.linear_max_iter)),
            ("knn", cfg.knn, lambda: knn_predict(train_x, train_y, test_x, num_classes, cfg.knn_k,
                                                 cfg.knn_temperature))):
        if not on:
            continue
        pred = predict()
        # the same arithmetic as linear_probe / knn_top1, so the metrics are unchanged to the last bit
        out[key] = (100.0 * (pred == test_y).float().mean().item() if key == "linear"
                    else 100.0 * int((pred == test_y).sum()) / test_x.shape[0])
        if predictions is not None:
            predictions[f"{key}_top1{suffix}"] = pred.cpu()
    return out


def evaluate(encoder: nn.Module, dataset, cfg: EvaluationConfig, device: torch.device,
             projector: Optional[nn.Module] = None, bf16: bool = False, channels_last: bool = False,
             predictions: Optional[dict] = None) -> dict[str, Optional[float]]:
    """Probe the frozen ``encoder`` (and z = projector(h) when ``cfg.on_projection``) on ``dataset``.

    Returns ``linear_top1, knn_top1, linear_top1_z, knn_top1_z`` in percent (None where not asked).
    ``predictions``: when given, filled with the per-example records: ``label`` (the test labels) and,
    per evaluated metric, the predicted class of every test example (CPU int64 tensors, test order).
    """
    encoder.eval()
    feats = {}
    for name, split in (("train", dataset.train), ("test", dataset.test)):
        feats[name] = extract_features(encoder, split, device, bf16=bf16, channels_last=channels_last)
    ys = [dataset.train.labels.to(device), dataset.test.labels.to(device)]
    if predictions is not None:
        predictions["label"] = dataset.test.labels.cpu()
    h = probe(feats["train"], ys[0], feats["test"], ys[1], dataset.num_classes, cfg, predictions)
    result = {"linear_top1": h["linear"], "knn_top1": h["knn"], "linear_top1_z": None, "knn_top1_z": None}
    if cfg.on_projection and projector is not None:
        projector.eval()
        with torch.no_grad(), autocast_for(device, bf16):
            zs = [projector(feats[s]).float() for s in ("train", "test")]
        z = probe(zs[0], ys[0], zs[1], ys[1], dataset.num_classes, cfg, predictions, suffix="_z")
        result.update(linear_top1_z=z["linear"], knn_top1_z=z["knn"])
    return result
