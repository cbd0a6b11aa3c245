"""Training throughput of every method: augstudy's loop against a reference built from lightly, in one run.

    python benchmarks/train_throughput.py                          # resnet-tiny, batch 256, 32 px, CPU, all methods
    python benchmarks/train_throughput.py --methods simclr byol --threads 1 --workers 0 --images 1024
    python benchmarks/train_throughput.py --encoder resnet18 --threads 2 --images 2048
    python benchmarks/train_throughput.py --gpu-epoch               # CUDA: one CIFAR-size epoch, ResNet-18, LARS
    python benchmarks/train_throughput.py --gpu-epoch --compile max-autotune --optimizer adamw
    python benchmarks/train_throughput.py --gpu-epoch --device cpu --images 512 --batch-size 128   # a dry run

Per method (simclr, byol, moco, vicreg, barlow_twins), both loops train the same encoder with the same
heads (widths as augstudy's methods: BYOL 2 x dim h hidden, MoCo v2 dim h, VICReg / Barlow Twins
4 x dim h; output 128) and AdamW, on the method's loss, with its momentum target and queue where it
has them, both views in one encoder pass: augstudy's method (``augstudy.train.methods``) in its loop;
the reference is lightly's heads (``BYOLProjectionHead`` ...), loss (``NegativeCosineSimilarity``,
``NTXentLoss`` with a memory bank, ``VICRegLoss``, ``BarlowTwinsLoss``), ``update_momentum`` and the
method's lightly transform (``BYOLTransform``, ``MoCoV2Transform``, ``VICRegTransform``) in a
DataLoader, with blur and solarization off at 32 px as for SimCLR (augstudy's views: ``crop`` + ``color``).

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


METHODS = ("simclr", "byol", "moco", "vicreg", "barlow_twins")


def config(args, device: str, method: str = "simclr") -> CellConfig:
    optimizer = getattr(args, "optimizer", "adamw")
    lars = {"lr": 0.3, "scale_lr": True, "weight_decay": 1e-6} if optimizer == "lars" else {}  # SimCLR's LARS
    return CellConfig.model_validate({
        "method": method, "pipeline": ["crop", "color"], "protocol": {"name": "symmetric", "base_crop": None},
        "model": {"encoder": args.encoder},
        "training": {"epochs": 1, "batch_size": args.batch_size, "device": device, "threads": args.threads,
                     "compile": args.compile, "channels_last": True, "bf16": True, "optimizer": optimizer, **lars},
    })


def augstudy_epoch(args, split: Split, device: torch.device, cpu_bf16: bool = False, method: str = "simclr"):
    """One epoch of augstudy's training loop (the one ``run_cell`` uses); returns a callable -> images."""
    cfg = config(args, str(device), method)
    cfg = cfg.model_copy(update={"training": cfg.training.model_copy(update={"cpu_bf16": cpu_bf16})})
    torch.manual_seed(0)
    model = get_method(method)(build_encoder(args.encoder, args.size), cfg, 10)
    pipeline = build(cfg.pipeline)
    gen = torch.Generator(device=device).manual_seed(0)
    batcher = DeviceBatcher(split, args.batch_size, seed=0, device=device)
    return lambda: train(model, batcher, cfg, device, pipeline, None, gen).images


def lightly_transform(method: str, size: int):
    """The method's lightly transform at ``size`` px, blur and solarization off (32 px; as augstudy's views)."""
    from lightly import transforms as T

    if method == "simclr":
        return T.SimCLRTransform(input_size=size, gaussian_blur=0.0, normalize=None)
    if method in ("byol", "barlow_twins"):  # lightly's Barlow Twins example uses BYOL's views
        return T.BYOLTransform(T.BYOLView1Transform(input_size=size, gaussian_blur=0.0, normalize=None),
                               T.BYOLView2Transform(input_size=size, gaussian_blur=0.0, solarization_prob=0.0,
                                                    normalize=None))
    if method == "moco":
        return T.MoCoV2Transform(input_size=size, gaussian_blur=0.0, normalize=None)
    if method == "vicreg":
        return T.VICRegTransform(input_size=size, gaussian_blur=0.0, solarize_prob=0.0, normalize=None)
    raise ValueError(f"no lightly reference for method {method!r}; one of {', '.join(METHODS)}")


def lightly_model(method: str, encoder: torch.nn.Module, out: int = 128):
    """The reference's trainable modules, ``loss(views [2N]) -> scalar`` and ``after_step(step)``, from lightly."""
    import copy

    from lightly import loss as L
    from lightly.models.modules import heads as H
    from lightly.models.utils import deactivate_requires_grad, update_momentum
    from lightly.utils.scheduler import cosine_schedule

    d = encoder.out_dim
    nothing = lambda step: None  # noqa: E731
    if method == "simclr":
        net = torch.nn.Sequential(encoder, ProjectionHead(d, out))
        crit = L.NTXentLoss(temperature=0.2)

        def loss(x):
            z = net(x)
            return crit(z[: len(z) // 2], z[len(z) // 2:])

        return [net], loss, nothing
    if method in ("byol", "moco"):
        head = H.BYOLProjectionHead(d, 2 * d, out) if method == "byol" else H.MoCoProjectionHead(d, d, out)
        online = torch.nn.Sequential(encoder, head)
        target = copy.deepcopy(online)
        deactivate_requires_grad(target)
        if method == "byol":
            pred, crit = H.BYOLPredictionHead(out, 2 * d, out), L.NegativeCosineSimilarity()

            def loss(x):
                p = pred(online(x))
                with torch.no_grad():
                    z = target(x)
                n = len(x) // 2
                return crit(p[:n], z[n:]) + crit(p[n:], z[:n])

            return [online, pred, target], loss, lambda step: update_momentum(online, target, cosine_schedule(step, 10_000, 0.996, 1.0))
        banks = [L.NTXentLoss(temperature=0.2, memory_bank_size=(4096, out)) for _ in range(2)]  # one queue a view

        def loss(x):
            q = online(x)
            with torch.no_grad():
                k = target(x)
            n = len(x) // 2
            return (banks[1](q[:n], k[n:]) + banks[0](q[n:], k[:n])) / 2

        return [online, target], loss, lambda step: update_momentum(online, target, 0.99)
    head = (H.VICRegProjectionHead(d, 4 * d, 4 * d, 3) if method == "vicreg"
            else H.BarlowTwinsProjectionHead(d, 4 * d, 4 * d))
    net = torch.nn.Sequential(encoder, head)
    crit = L.VICRegLoss() if method == "vicreg" else L.BarlowTwinsLoss()

    def loss(x):
        z = net(x)
        return crit(z[: len(z) // 2], z[len(z) // 2:])

    return [net], loss, nothing


def lightly_epoch(args, split: Split, workers: int, method: str = "simclr"):
    """One epoch of the reference: the method's lightly transform in a DataLoader, lightly's heads and loss (CPU)."""
    from torchvision.transforms.functional import to_pil_image

    transform = lightly_transform(method, args.size)

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
    modules, loss_fn, after_step = lightly_model(method, encoder)
    for m in modules:
        m.to(memory_format=torch.channels_last).train()
    opt = torch.optim.AdamW([p for m in modules for p in m.parameters() if p.requires_grad], lr=2e-3)
    steps = [0]

    def epoch() -> int:
        n = 0
        for (v1, v2), _ in loader:
            loss = loss_fn(torch.cat([v1, v2]).contiguous(memory_format=torch.channels_last))
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps[0] += 1
            with torch.no_grad():
                after_step(steps[0])
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
    p.add_argument("--methods", nargs="*", default=list(METHODS), choices=METHODS, help="methods to measure (a row each)")
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
    loops, pairs = {}, []
    for method in args.methods:
        ours = f"{method}: augstudy (batched ops on the batch, DeviceBatcher)"
        loops[ours] = augstudy_epoch(args, split, torch.device("cpu"), method=method)
        if args.cpu_bf16:
            loops[f"{method}: augstudy, training.cpu_bf16 (bf16 autocast: not like for like)"] = augstudy_epoch(
                args, split, torch.device("cpu"), cpu_bf16=True, method=method)
        refs = []
        for w in args.workers:
            refs.append(f"{method}: lightly transform + DataLoader({w} workers) + heads + loss")
            loops[refs[-1]] = lightly_epoch(args, split, w, method)
        pairs.append((method, ours, refs))
    ips = best_rounds(loops, args.rounds)
    print(f"CPU: {platform.processor() or platform.machine()}, {args.threads} threads, torch {torch.__version__}; "
          f"{args.encoder}, batch {args.batch_size}, {args.size} px, {args.images} images, best of {args.rounds} "
          f"interleaved epochs; malloc: {malloc}")
    print("| loop | images/s | vs best reference of the method |")
    print("|---|---:|---:|")
    for method, ours, refs in pairs:
        ref = max(ips[r] for r in refs)
        for name in [k for k in loops if k.startswith(f"{method}: ")]:
            print(f"| {name} | {ips[name]:,.0f} | {ips[name] / ref:.2f}x |")


if __name__ == "__main__":
    main()
