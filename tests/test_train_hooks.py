"""The loop's method hooks (as solo-learn's BaseMomentumMethod): on_epoch_start per epoch, on_after_step
after every optimizer step, outside autograd; and the public ``@augstudy.method`` decorator."""
import torch

import augstudy
from augstudy import data, ops
from augstudy.train import CellConfig, build_encoder, get_method
from augstudy.train.loop import train
from augstudy.train.simclr import SimCLR
from test_train_cell import _cfg, _tiny_dataset


@augstudy.method("hook_probe")
class HookProbe(SimCLR):
    """SimCLR that records the hook calls and takes one EMA-like step on a buffer after each step."""

    def __init__(self, encoder, config, num_classes):
        super().__init__(encoder, config, num_classes)
        self.calls = []
        self.register_buffer("ema", torch.zeros(()))

    def on_epoch_start(self, epoch, epochs):
        self.calls.append(("epoch", epoch, epochs))

    def on_after_step(self, step, total_steps):
        assert not torch.is_grad_enabled()
        self.ema.mul_(0.5).add_(1.0)
        self.calls.append(("step", step, total_steps))


def test_loop_calls_epoch_and_step_hooks_in_order():
    assert get_method("hook_probe") is HookProbe and HookProbe.name == "hook_probe"
    ds = _tiny_dataset(n_train=128, n_test=32)
    cfg = CellConfig.model_validate(_cfg(training={"epochs": 2, "batch_size": 32, "threads": 1}))
    model = HookProbe(build_encoder("resnet-tiny", 16, widths=[8, 16], blocks=[1, 1]), cfg, ds.num_classes)
    batcher = data.DeviceBatcher(ds.train, 32, generator=torch.Generator().manual_seed(0),
                                 device=torch.device("cpu"), drop_last=True)
    out = train(model, batcher, cfg, torch.device("cpu"), ops.build(["crop"]), None, torch.Generator().manual_seed(1))
    assert not out.diverged and len(out.loss_per_epoch) == 2
    steps = len(batcher)
    expected = []
    for e in (1, 2):
        expected.append(("epoch", e, 2))
        expected += [("step", (e - 1) * steps + s, 2 * steps) for s in range(1, steps + 1)]
    assert model.calls == expected
    assert abs(float(model.ema) - (2 - 0.5 ** (2 * steps - 1))) < 1e-6
