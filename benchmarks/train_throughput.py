"""SimCLR training throughput: augstudy's loop against a reference built from lightly, in one run.

    python benchmarks/train_throughput.py                          # resnet-tiny, batch 256, 32 px, CPU
    python benchmarks/train_throughput.py --encoder resnet18 --threads 2 --images 2048
    python benchmarks/train_throughput.py --gpu-epoch               # CUDA: one CIFAR-size epoch, ResNet-18, LARS
    python benchmarks/train_throughput.py --gpu-epoch --compile max-autotune --optimizer adamw
    python benchmarks/train_throughput.py --gpu-epoch --device cpu --images 512 --batch-size 128   # a dry run

Both loops train the same encoder and projection head with AdamW on NT-Xent for the same number of
images at 32 px with SimCLR's views (random resized crop + flip, color jitter 0.8, grayscale 0.2, no
blur at 32 px): augstudy makes the views on the batch (``crop`` + ``color`` operators, on-device
batching); the reference is lightly's ``SimCLRTransform`` in a DataLoader over PIL images and lightly's
``NTXentLoss``. Images/s counts source images (two views each). Results go to BENCHMARKS.md by hand.
"""
from __future__ import annotations

import argparse
import platform
import time

import torch

from augstudy.data import Dataset, DeviceBatcher, Split
from augstudy.ops import build
from augstudy.train import CellConfig, build_encoder
from augstudy.train.heads import ProjectionHead
from augstudy.train.loop import train
from augstudy.train.method import get_method
from augstudy.train.views import make_views


def random_split(n: int, size: int, seed: int = 0) -> Split:
    """Smooth random uint8 images (content does not matter for throughput)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.nn.functional.interpolate(torch.rand(n, 3, size // 4, size // 4, generator=g), size=size, mode="bilinear")
    return Split((x * 255).to(torch.uint8), torch.randint(0, 10, (n,), generator=g))


def config(args, device: str) -> CellConfig:
    optimizer = getattr(args, "optimizer", "adamw")
    lars = {"lr": 0.3, "scale_lr": True, "weight_decay": 1e-6} if optimizer == "lars" else {}  # SimCLR's LARS
    return CellConfig.model_validate({
        "pipeline": ["crop", "color"], "protocol": {"name": "symmetric", "base_crop": None},
        "model": {"encoder": args.encoder},
        "training": {"epochs": 1, "batch_size": args.batch_size, "device": device, "threads": args.threads,
                     "compile": args.compile, "channels_last": True, "bf16": True, "optimizer": optimizer, **lars},
    })


def augstudy_epoch(args, split: Split, device: torch.device, cpu_bf16: bool = False):
    """One epoch of augstudy's training loop (the one ``run_cell`` uses); returns a callable -> images."""
    cfg = config(args, str(device))
    cfg = cfg.model_copy(update={"training": cfg.training.model_copy(update={"cpu_bf16": cpu_bf16})})
    torch.manual_seed(0)
    model = get_method("simclr")(build_encoder(args.encoder, args.size), cfg, 10)
    pipeline = build(cfg.pipeline)
    gen = torch.Generator(device=device).manual_seed(0)
    batcher = DeviceBatcher(split, args.batch_size, seed=0, device=device)
    return lambda: train(model, batcher, cfg, device, pipeline, None, gen).images


def lightly_epoch(args, split: Split, workers: int):
    """One epoch of the reference: lightly SimCLRTransform in a DataLoader + lightly NTXentLoss (CPU)."""
    from lightly.loss import NTXentLoss
    from lightly.transforms import SimCLRTransform
    from torchvision.transforms.functional import to_pil_image

    transform = SimCLRTransform(input_size=args.size, gaussian_blur=0.0, normalize=None)

    class Images(torch.utils.data.Dataset):
        def __init__(self) -> None:
            self.pil = [to_pil_image(img) for img in split.images]

        def __len__(self) -> int:
            return len(self.pil)

        def __getitem__(self, i: int):
            return transform(self.pil[i]), int(split.labels[i])

    loader = torch.utils.data.DataLoader(Images(), batch_size=args.batch_size, shuffle=True, drop_last=True,
                                         num_workers=workers, persistent_workers=workers > 0,
                                         generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    encoder = build_encoder(args.encoder, args.size)
    model = torch.nn.Sequential(encoder, ProjectionHead(encoder.out_dim))
    model = model.to(memory_format=torch.channels_last).train()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    loss_fn = NTXentLoss(temperature=0.2)

    def epoch() -> int:
        n = 0
        for (v1, v2), _ in loader:
            z = model(torch.cat([v1, v2]).contiguous(memory_format=torch.channels_last))
            loss = loss_fn(z[: len(v1)], z[len(v1):])
            opt.zero_grad()
            loss.backward()
            opt.step()
            n += len(v1)
        return n

    return epoch


def best_rounds(loops: dict, rounds: int) -> dict[str, float]:
    """Images/s of each loop: one warmup epoch, then ``rounds`` interleaved timed epochs, the best kept."""
    for run in loops.values():
        run()
    best = dict.fromkeys(loops, 0.0)
    for _ in range(rounds):
        for name, run in loops.items():
            start = time.perf_counter()
            n = run()
            best[name] = max(best[name], n / (time.perf_counter() - start))
    return best


def gpu_epoch(args) -> None:
    """One epoch of ``--images`` (50,000) 32 px images x 2 views, ResNet-18, SimCLR with ``--optimizer``
    (LARS, as the GPU studies), on ``--device`` (CUDA; ``cpu`` for a dry run); the share of time in augmentation."""
    device = torch.device(args.device)
    args.encoder = "resnet18"
    split = random_split(args.images, 32)
    cfg = config(args, args.device)
    pipeline = build(cfg.pipeline)
    model = get_method("simclr")(build_encoder("resnet18", 32), cfg, 10)
    gen = torch.Generator(device=device).manual_seed(0)
    batcher = DeviceBatcher(split, args.batch_size, seed=0, device=device)
    warm = train(model, batcher, cfg, device, pipeline, None, gen)  # warmup (cudnn autotune, compile)
    out = train(model, batcher, cfg, device, pipeline, None, gen)
    _sync(device)
    start = time.perf_counter()
    for x, _ in batcher:
        make_views(x, pipeline, None, "symmetric", gen)
    _sync(device)
    aug = time.perf_counter() - start
    name = torch.cuda.get_device_name() if device.type == "cuda" else platform.processor() or "cpu"
    print(f"| device | encoder | optimizer | batch | compile | epoch ({args.images:,} x 2 views) | first epoch "
          f"(warm-up) | images/s | time making views | final loss |")
    print("|---|---|---|---:|---|---:|---:|---:|---:|---:|")
    print(f"| {name} | resnet18 | {args.optimizer} | {args.batch_size} | {cfg.training.compile} | "
          f"{out.seconds:.2f} s | {warm.seconds:.2f} s | {out.images_per_second:,.0f} | "
          f"{100 * aug / out.seconds:.0f}% | {out.loss_per_epoch[-1]:.4f} |", flush=True)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--encoder", default="resnet-tiny")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--images", type=int, default=None,
                   help="training images per epoch (default: 2048 on the CPU, 50,000 with --gpu-epoch)")
    p.add_argument("--rounds", type=int, default=3, help="timed interleaved epochs per loop (best kept)")
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--default-malloc", action="store_true",
                    help="leave glibc malloc as is (default: keep freed memory, as augstudy's trainer does)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, nargs="*", default=[0, 2], help="DataLoader workers for the reference")
    p.add_argument("--compile", nargs="?", const=True, default=False,
                   help="torch.compile the loss: bare for the default mode, or a mode (reduce-overhead, max-autotune)")
    p.add_argument("--optimizer", default=None, choices=["lars", "sgd", "adamw"],
                   help="default: lars with --gpu-epoch (as the GPU studies), adamw for the CPU comparison")
    p.add_argument("--device", default="cuda", help="--gpu-epoch only: cuda, or cpu for a dry run of the same code")
    p.add_argument("--cpu-bf16", action="store_true", help="add a row for augstudy with bf16 autocast on the CPU")
    p.add_argument("--gpu-epoch", action="store_true", help="the CUDA benchmark instead of the CPU comparison")
    args = p.parse_args()
    if args.gpu_epoch:
        if args.device.startswith("cuda") and not torch.cuda.is_available():
            raise SystemExit("--gpu-epoch needs a CUDA device (or --device cpu for a dry run)")
        args.images = args.images or 50_000
        args.optimizer = args.optimizer or "lars"
        gpu_epoch(args)
        return
    args.images = args.images or 2048
    args.optimizer = args.optimizer or "adamw"
    torch.set_num_threads(args.threads)
    from augstudy.train.allocator import keep_freed_memory

    if args.default_malloc:
        malloc = "glibc default"
    else:
        malloc = "freed memory kept (as the trainer)" if keep_freed_memory() else "default (not glibc)"
    split = random_split(args.images, args.size)
    loops = {"augstudy (batched ops on the batch, DeviceBatcher)": augstudy_epoch(args, split, torch.device("cpu"))}
    if args.cpu_bf16:
        loops["augstudy, training.cpu_bf16 (bf16 autocast: not like for like)"] = augstudy_epoch(
            args, split, torch.device("cpu"), cpu_bf16=True)
    for w in args.workers:
        loops[f"lightly SimCLRTransform + DataLoader({w} workers) + NTXentLoss"] = lightly_epoch(args, split, w)
    ips = best_rounds(loops, args.rounds)
    ref = max(v for k, v in ips.items() if k.startswith("lightly"))
    print(f"CPU: {platform.processor() or platform.machine()}, {args.threads} threads, torch {torch.__version__}; "
          f"{args.encoder}, batch {args.batch_size}, {args.size} px, {args.images} images, best of {args.rounds} "
          f"interleaved epochs; malloc: {malloc}")
    print("| loop | images/s | vs best reference |")
    print("|---|---:|---:|")
    for name, v in ips.items():
        print(f"| {name} | {v:,.0f} | {v / ref:.2f}x |")


if __name__ == "__main__":
    main()
