"""The frozen-encoder probes: linear probe by L-BFGS and weighted kNN."""
import pytest
import torch

from augstudy.train import knn_top1, linear_probe


def _separable(n, d=16, classes=4, seed=0, margin=2.0):
    """Points labelled by a random linear map, kept only where the top score leads by ``margin``."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(d, classes, generator=g)
    x = torch.randn(4 * n, d, generator=g) * 3 + 1.0
    top2 = (x @ w).topk(2, dim=1).values
    x = x[top2[:, 0] - top2[:, 1] > margin][:n]
    assert len(x) == n
    return x, (x @ w).argmax(1)


def test_linear_probe_reaches_100_on_linearly_separable_features():
    x, y = _separable(1200)
    assert linear_probe(x[:1000], y[:1000], x[1000:], y[1000:], 4, l2=1e-6, max_iter=500) >= 99.0


def test_linear_probe_is_chance_on_noise():
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(600, 8, generator=g), torch.randint(0, 5, (600,), generator=g)
    assert linear_probe(x[:400], y[:400], x[400:], y[400:], 5) < 40.0


def test_knn_on_clusters_and_weighted_votes():
    g = torch.Generator().manual_seed(2)
    centres = torch.randn(3, 32, generator=g) * 5
    y = torch.arange(300) % 3
    x = centres[y] + torch.randn(300, 32, generator=g)
    assert knn_top1(x[:240], y[:240], x[240:], y[240:], 3, k=20) == pytest.approx(100.0)
    # one near neighbour of class 1 outvotes two far neighbours of class 0 at a low temperature
    train = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.05, 1.0]])
    labels = torch.tensor([1, 0, 0])
    test = torch.tensor([[1.0, 0.01]])
    assert knn_top1(train, labels, test, torch.tensor([1]), 2, k=3, temperature=0.05) == 100.0
    assert knn_top1(train, labels, test, torch.tensor([0]), 2, k=3, temperature=100.0) == 100.0  # ~ majority
