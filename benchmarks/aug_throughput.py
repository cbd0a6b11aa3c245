"""Throughput of the SimCLR view pipeline (crop + flip, color s = 1, blur p = 0.5), images/s.

augstudy (batched) against albumentations (per image, uint8 HWC numpy, OpenCV), torchvision v2
(per image, uint8 CHW tensor) and kornia (batched float), at 32 px and 224 px, on one CPU thread;
on CUDA too when a GPU is present (augstudy and kornia only: the per-image libraries are CPU code).

Each library starts from the same uint8 images ([N, 3, H, W] tensor; HWC numpy for albumentations)
and ends with augmented images in its own natural format. Timings of the libraries are interleaved
(round-robin, ``--rounds`` times) and the best round is reported, which is robust on a shared machine.

    python benchmarks/aug_throughput.py                 # full table, prints markdown
    python benchmarks/aug_throughput.py --sizes 32 --rounds 3
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import numpy as np
import torch


def simclr_albumentations(size: int):
    import albumentations as A

    k = _blur_kernel(size)
    return A.Compose([
        A.RandomResizedCrop(size=(size, size), scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)),
        A.HorizontalFlip(p=0.5),
        A.ColorJitter(brightness=0.8, contrast=0.8, saturation=0.8, hue=0.2, p=0.8),
        A.ToGray(p=0.2),
        A.GaussianBlur(blur_limit=(k, k), sigma_limit=(0.1, 2.0), p=0.5),
    ], seed=0)


def simclr_torchvision(size: int):
    from torchvision.transforms import v2 as T

    return T.Compose([
        T.RandomResizedCrop(size, scale=(0.08, 1.0), antialias=True),
        T.RandomHorizontalFlip(),
        T.RandomApply([T.ColorJitter(0.8, 0.8, 0.8, 0.2)], p=0.8),
        T.RandomGrayscale(p=0.2),
        T.RandomApply([T.GaussianBlur(_blur_kernel(size), sigma=(0.1, 2.0))], p=0.5),
    ])


def simclr_kornia(size: int):
    import kornia.augmentation as K

    k = _blur_kernel(size)
    return K.AugmentationSequential(
        K.RandomResizedCrop((size, size), scale=(0.08, 1.0)),
        K.RandomHorizontalFlip(),
        K.ColorJitter(0.8, 0.8, 0.8, 0.2, p=0.8),
        K.RandomGrayscale(p=0.2),
        K.RandomGaussianBlur((k, k), (0.1, 2.0), p=0.5),
    )


def _blur_kernel(size: int) -> int:
    from augstudy.ops.filters import blur_kernel_size

    return blur_kernel_size(size)


def runners(size: int, n: int, device: str, batch: int) -> dict[str, Callable[[], None]]:
    """One callable per library that augments the same ``n`` uint8 images once."""
    from augstudy.ops import build
    from augstudy.train.views import apply_op

    gen = torch.Generator(device=device).manual_seed(0)
    images = torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    images_dev = images.to(device)
    pipeline = build(["crop", "color", "blur(p=0.5)"])

    def augstudy_batched():
        for i in range(0, n, batch):
            x = images_dev[i:i + batch].float().div_(255)
            if device == "cpu":
                pipeline(x, gen)  # as measured since session 1 (with __call__'s input check)
            else:  # as the trainer calls it: no input check (a full pass and a host sync)
                apply_op(pipeline, x, gen)
        _sync(device)

    out = {"augstudy (batched)": augstudy_batched}
    try:
        kornia_pipe = simclr_kornia(size).to(device)

        def kornia_batched():
            with torch.no_grad():
                for i in range(0, n, batch):
                    kornia_pipe(images_dev[i:i + batch].float().div_(255))
            _sync(device)

        out["kornia (batched)"] = kornia_batched
    except ImportError:
        print(f"(kornia not installed: no kornia row at {size} px)")
    if device == "cpu":
        try:
            alb = simclr_albumentations(size)
            hwc = [np.ascontiguousarray(im.permute(1, 2, 0).numpy()) for im in images]
            out["albumentations (per image)"] = lambda: [alb(image=im)["image"] for im in hwc]
        except ImportError:
            print(f"(albumentations not installed: no albumentations row at {size} px)")
        try:
            tv = simclr_torchvision(size)
            out["torchvision v2 (per image)"] = lambda: [tv(im) for im in images]
        except ImportError:
            print(f"(torchvision v2 not available: no torchvision row at {size} px)")
    return out


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def measure(size: int, n: int, device: str, rounds: int, batch: int) -> dict[str, dict[str, float]]:
    """Best and median images/s over ``rounds`` interleaved rounds, per library."""
    fns = runners(size, n, device, batch)
    for fn in fns.values():  # warm-up
        fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {k: {"best": n / min(v), "median": n / statistics.median(v)} for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[32, 224], help="image sides (px)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds per library")
    ap.add_argument("--default-malloc", action="store_true",
                    help="leave glibc malloc as is (default: keep freed memory, as augstudy's trainer does)")
    ap.add_argument("--threads", type=int, default=1, help="torch / OpenCV CPU threads")
    ap.add_argument("--devices", nargs="+", default=None, help="default: cpu, plus cuda when available")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the number of images per round (e.g. 0.25 for a quick run)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    from augstudy.train.allocator import keep_freed_memory

    if args.default_malloc:
        malloc = "glibc default"
    else:
        malloc = "freed memory kept (as the trainer)" if keep_freed_memory() else "default (not glibc)"
    try:
        import cv2

        cv2.setNumThreads(args.threads)
    except ImportError:
        pass
    devices = args.devices or (["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
    print(f"torch {torch.__version__}, {args.threads} CPU thread(s), best of {args.rounds} interleaved rounds, "
          f"malloc: {malloc}\n")
    print("| device | size | library | images/s (best) | images/s (median) | augstudy / this |")
    print("|---|---|---|---:|---:|---:|")
    for device in devices:
        for size in args.sizes:
            small = size <= 64
            n = max(8, int((2048 if small else 256) * (8 if device != "cpu" else 1) * args.scale))
            batch = 256 if small else (256 if device != "cpu" else 64)
            res = measure(size, n, device, args.rounds, batch)
            ours = res["augstudy (batched)"]["best"]
            for name, r in res.items():
                print(f"| {device} | {size} | {name} | {r['best']:,.0f} | {r['median']:,.0f} | {ours / r['best']:.2f}x |",
                      flush=True)


if __name__ == "__main__":
    main()
