"""A cell's id distinguishes where it ran: CPU ids are unchanged, a CUDA run of the same config differs."""
import torch

from augstudy.train import device as device_mod
from augstudy.train.config import CellConfig, TrainingConfig


def test_cpu_id_is_device_free_and_cuda_id_differs(monkeypatch):
    auto = CellConfig(training=TrainingConfig(device="auto"))
    cpu = CellConfig(training=TrainingConfig(device="cpu"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    cpu_auto_id = auto.cell_id()
    cpu_id = cpu.cell_id()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # the same study resumed on a GPU host
    assert auto.cell_id() != cpu_auto_id
    assert cpu.cell_id() == cpu_id  # an explicit cpu cell stays a cpu cell


def test_explicit_cuda_and_precision_change_the_id(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert device_mod.device_kind("cuda:1") == "cuda"
    cuda_bf16 = CellConfig(training=TrainingConfig(device="cuda"))
    cuda_fp32 = CellConfig(training=TrainingConfig(device="cuda", bf16=False))
    cpu = CellConfig(training=TrainingConfig(device="cpu"))
    ids = {cuda_bf16.cell_id(), cuda_fp32.cell_id(), cpu.cell_id()}
    assert len(ids) == 3



def test_cpu_ids_match_the_device_free_hash(monkeypatch):
    """On the CPU the id is exactly the pre-device hash (config + code version), so stored CPU cells keep theirs."""
    import hashlib
    import json

    from augstudy.train.config import TRAIN_CODE_VERSION

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for config in (CellConfig(), CellConfig(pipeline=["crop", "color"], seed=3,
                                            training=TrainingConfig(device="cpu", threads=2))):
        body = config.canonical()
        body["training"].pop("threads", None)
        payload = json.dumps({"config": body, "code": TRAIN_CODE_VERSION}, sort_keys=True, separators=(",", ":"))
        assert config.cell_id() == hashlib.sha256(payload.encode()).hexdigest()[:16]


def test_new_training_fields_leave_ids_alone_at_their_defaults(monkeypatch):
    """training.deterministic and the compile modes: default cells keep their ids; set, they change them."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    base = CellConfig(training=TrainingConfig(device="cpu"))
    assert "deterministic" not in base.canonical()["training"]
    assert CellConfig(training=TrainingConfig(device="cpu", deterministic=False)).cell_id() == base.cell_id()
    assert CellConfig(training=TrainingConfig(device="cpu", compile="none")).cell_id() == base.cell_id()
    compiled = CellConfig(training=TrainingConfig(device="cpu", compile=True)).cell_id()
    assert CellConfig(training=TrainingConfig(device="cpu", compile="default")).cell_id() == compiled
    ids = {base.cell_id(), compiled,
           CellConfig(training=TrainingConfig(device="cpu", compile="max-autotune")).cell_id(),
           CellConfig(training=TrainingConfig(device="cpu", deterministic=True)).cell_id()}
    assert len(ids) == 4
    assert CellConfig(**CellConfig(training=TrainingConfig(deterministic=True)).canonical()).training.deterministic
