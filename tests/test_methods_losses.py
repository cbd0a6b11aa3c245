"""The losses of moco (InfoNCE over a queue), vicreg and barlow_twins: values computed by hand on tiny
tensors, and the same tensors through lightly's losses (the reference implementations); the queue's
wrap-around; MoCo's queue after training."""
import math

import pytest
import torch

from augstudy.train.methods import barlow_twins_loss, enqueue, info_nce, vicreg_loss


def test_info_nce_by_hand():
    q, k = torch.tensor([[1.0, 0.0]]), torch.tensor([[2.0, 0.0]])
    queue = torch.tensor([[0.0, 3.0], [-1.0, 0.0]])
    # logits (1, 0, -1) / 0.5, positive first
    assert info_nce(q, k, queue, 0.5).item() == pytest.approx(math.log(1 + math.exp(-2) + math.exp(-4)), abs=1e-6)


def test_info_nce_matches_lightly_memory_bank():
    from lightly.loss import NTXentLoss

    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(8, 4, generator=g), torch.randn(8, 4, generator=g)
    queue = torch.nn.functional.normalize(torch.randn(32, 4, generator=g), dim=1)
    ref = NTXentLoss(temperature=0.2, memory_bank_size=(32, 4))
    ref.memory_bank.bank.copy_(queue)
    assert info_nce(q, k, queue, 0.2).item() == pytest.approx(ref(q, k).item(), abs=1e-5)


def test_vicreg_loss_by_hand():
    z1 = torch.tensor([[1.0, 1.0], [-1.0, -1.0]])
    # no invariance or variance term (var = 2 > 1); covariance [[2, 2], [2, 2]]: (2^2 + 2^2) / 2 per view
    assert vicreg_loss(z1, z1.clone()).item() == pytest.approx(8.0, abs=1e-5)
    a = torch.tensor([[0.5, 0.0], [-0.5, 0.0]])
    b = torch.tensor([[0.5, 0.0], [0.5, 0.0]])
    mse = 1 / 4
    v_a = ((1 - math.sqrt(0.5 + 1e-4)) + (1 - math.sqrt(1e-4))) / 2
    v_b = 1 - math.sqrt(1e-4)
    assert vicreg_loss(a, b).item() == pytest.approx(25 * mse + 25 * (v_a + v_b) / 2 + 0.0, abs=1e-5)


def test_vicreg_loss_matches_lightly():
    from lightly.loss import VICRegLoss

    g = torch.Generator().manual_seed(1)
    z1, z2 = torch.randn(16, 6, generator=g), torch.randn(16, 6, generator=g) * 0.3
    assert vicreg_loss(z1, z2).item() == pytest.approx(VICRegLoss()(z1, z2).item(), rel=1e-5)
    assert vicreg_loss(z1, z2, 1.0, 2.0, 3.0).item() == pytest.approx(
        VICRegLoss(lambda_param=1.0, mu_param=2.0, nu_param=3.0)(z1, z2).item(), rel=1e-5)


def test_barlow_twins_loss_by_hand():
    z1 = torch.tensor([[1.0, 2.0], [3.0, 0.0]])
    z2 = torch.tensor([[2.0, 0.0], [0.0, 2.0]])
    s2 = 1 + 1e-5  # every column has biased variance 1; standardised entries are +-1/s
    # C = [[-1, 1], [1, -1]] / s2: on-diagonal 2 (1 + 1/s2)^2, off-diagonal 2 / s2^2
    expected = 2 * (1 + 1 / s2) ** 2 + 5e-3 * 2 / s2 ** 2
    assert barlow_twins_loss(z1, z2).item() == pytest.approx(expected, abs=1e-5)


def test_barlow_twins_loss_matches_lightly():
    from lightly.loss import BarlowTwinsLoss

    g = torch.Generator().manual_seed(2)
    z1, z2 = torch.randn(32, 8, generator=g), torch.randn(32, 8, generator=g)
    assert barlow_twins_loss(z1, z2).item() == pytest.approx(BarlowTwinsLoss()(z1, z2).item(), rel=1e-5)
    assert barlow_twins_loss(z1, z2, 0.1).item() == pytest.approx(BarlowTwinsLoss(lambda_param=0.1)(z1, z2).item(), rel=1e-5)


def test_queue_wraps_around():
    queue = torch.arange(5.0).view(5, 1)
    ptr = torch.tensor(3)
    enqueue(queue, ptr, torch.tensor([[10.0], [11.0], [12.0], [13.0]]))
    assert queue.view(-1).tolist() == [12.0, 13.0, 2.0, 10.0, 11.0] and int(ptr) == 2
    enqueue(queue, ptr, torch.tensor([[20.0], [21.0], [22.0]]))  # ends exactly at the end: ptr back to 0
    assert queue.view(-1).tolist() == [12.0, 13.0, 20.0, 21.0, 22.0] and int(ptr) == 0
    with pytest.raises(ValueError, match="cannot enqueue 6 keys into a queue of 5"):
        enqueue(queue, ptr, torch.zeros(6, 1))


def test_queue_per_view():
    queue, ptr = torch.zeros(2, 3, 1), torch.tensor(2)
    enqueue(queue, ptr, torch.tensor([[[1.0], [2.0]], [[3.0], [4.0]]]))
    assert queue.view(2, 3).tolist() == [[2.0, 0.0, 1.0], [4.0, 0.0, 3.0]] and int(ptr) == 1


def test_moco_enqueues_the_keys_after_each_step():
    from augstudy import data, ops
    from augstudy.train import CellConfig, build_encoder
    from augstudy.train.loop import train
    from augstudy.train.methods import MoCo
    from test_train_cell import _cfg, _tiny_dataset

    ds = _tiny_dataset(n_train=96, n_test=32)
    cfg = CellConfig.model_validate(_cfg(method="moco(queue_size=40)", training={"epochs": 2, "batch_size": 32}))
    model = MoCo(build_encoder("resnet-tiny", 16, widths=[8, 16], blocks=[1, 1]), cfg, ds.num_classes)
    before = model.queue.clone()
    batcher = data.DeviceBatcher(ds.train, 32, generator=torch.Generator().manual_seed(0),
                                 device=torch.device("cpu"), drop_last=True)
    out = train(model, batcher, cfg, torch.device("cpu"), ops.build(["crop"]), None, torch.Generator().manual_seed(1))
    steps = cfg.training.epochs * len(batcher)
    assert not out.diverged and int(model.queue_ptr) == steps * 32 % 40
    assert not torch.equal(before, model.queue)
    assert torch.allclose(model.queue.norm(dim=-1), torch.ones(2, 40), atol=1e-5)
    assert model.current_momentum == pytest.approx(0.99)  # MoCo: constant momentum
