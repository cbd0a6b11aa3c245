"""Host syncs and torch ops of the augmentation step (and, on CUDA, of whole training steps).

    python benchmarks/sync_check.py --device cuda      # dispatch counts + torch.cuda.set_sync_debug_mode
    python benchmarks/sync_check.py --device cpu       # dispatch counts on the CPU's tensor path

Dispatch counts (``augstudy.ops.paths.OpCounter``): syncing aten ops (``.item()``, ``nonzero``, ...) and
all ops of ``make_views`` for two seeds (the same count whatever the draws). On CUDA the driver's own
view too: ``torch.cuda.set_sync_debug_mode("warn")`` counts the synchronising calls made during
augmentation steps and during a short training run (whose only expected sync is the epoch's mean loss).
Exits 1 if the augmentation step syncs.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import warnings

import torch

from augstudy import ops
from augstudy.ops.paths import OpCounter, tensor_path
from augstudy.train.views import make_views

PIPELINES = {"crop + color": (["color"], "crop"), "crop + color + blur(p=0.5)": (["color", "blur(p=0.5)"], "crop")}


def dispatch_counts(device: torch.device, size: int, batch: int) -> bool:
    x = torch.rand(batch, 3, size, size, generator=torch.Generator().manual_seed(0)).to(device)
    path = tensor_path if device.type == "cpu" else contextlib.nullcontext
    ok = True
    print("| step (symmetric views) | size | seed | host syncs | ops |\n|---|---:|---:|---:|---:|")
    for name, (pipe, crop) in PIPELINES.items():
        pipeline, base = ops.build(pipe), ops.build(crop)
        counts = set()
        for seed in (0, 1):
            gen = torch.Generator(device=device).manual_seed(seed)
            with path(), OpCounter() as c:
                make_views(x, pipeline, base, "symmetric", gen)
            counts.add(c.total_ops)
            ok &= c.total_syncs == 0
            print(f"| {name} | {size} | {seed} | {c.total_syncs} {dict(c.syncs) or ''} | {c.total_ops} |")
        ok &= len(counts) == 1
    return ok


def driver_syncs(fn) -> tuple[int, list[str]]:
    """Synchronising CUDA calls made by ``fn()``, as ``torch.cuda.set_sync_debug_mode('warn')`` reports them."""
    torch.cuda.synchronize()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            fn()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    msgs = [str(w.message).splitlines()[0] for w in caught if "synchroniz" in str(w.message).lower()]
    return len(msgs), msgs


def cuda_checks(size: int, batch: int, steps: int) -> bool:
    from augstudy.data import DeviceBatcher, Split
    from augstudy.train import CellConfig, build_encoder
    from augstudy.train.loop import train
    from augstudy.train.method import get_method

    device = torch.device("cuda")
    x = torch.rand(batch, 3, size, size, device=device)
    pipeline, base = ops.build(["color", "blur(p=0.5)"]), ops.build("crop")
    gen = torch.Generator(device=device).manual_seed(0)
    make_views(x, pipeline, base, "symmetric", gen)  # warm-up
    n_aug, msgs = driver_syncs(lambda: [make_views(x, pipeline, base, "symmetric", gen) for _ in range(steps)])
    print(f"\nCUDA sync debug mode, {steps} augmentation steps (crop + color + blur, batch {batch}, {size} px): "
          f"{n_aug} synchronising calls" + (f": {sorted(set(msgs))[:3]}" if msgs else ""))
    g = torch.Generator().manual_seed(0)
    split = Split((torch.rand(batch * steps, 3, 32, 32, generator=g) * 255).to(torch.uint8),
                  torch.randint(0, 10, (batch * steps,), generator=g))
    for optimizer in ("lars", "adamw"):
        cfg = CellConfig.model_validate({"pipeline": ["color"], "protocol": {"name": "symmetric", "base_crop": "crop"},
                                         "training": {"epochs": 1, "batch_size": batch, "device": "cuda",
                                                      "optimizer": optimizer, "warmup_epochs": 0}})
        model = get_method("simclr")(build_encoder("resnet18", 32), cfg, 10)
        batcher = DeviceBatcher(split, batch, seed=0, device=device)
        train(model, batcher, cfg, device, pipeline, base, gen)  # warm-up (cudnn autotune)
        n, msgs = driver_syncs(lambda: train(model, batcher, cfg, device, pipeline, base, gen))
        print(f"CUDA sync debug mode, one training epoch of {len(batcher)} steps (ResNet-18, {optimizer}): "
              f"{n} synchronising calls (expected: about one an epoch, the mean loss)"
              + (f": {sorted(set(msgs))[:4]}" if msgs else ""))
    return n_aug == 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=5)
    args = ap.parse_args()
    device = torch.device(args.device)
    ok = dispatch_counts(device, args.size, args.batch)
    if device.type == "cuda":
        ok &= cuda_checks(args.size, args.batch, args.steps)
    else:
        print("\n(no CUDA device: the driver's sync debug mode is not run; counts above are the tensor path on the CPU)")
    print("sync check:", "OK, the augmentation step is sync-free" if ok else "FAILED: the augmentation step syncs")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
