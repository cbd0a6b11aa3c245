"""Per-operator time of the CPU kernels against the tensor versions (which run on other devices).

    python benchmarks/op_paths.py            # 32 px (batch 256) and 224 px (batch 32), 1 thread

Times ``apply`` only (params sampled once), best of interleaved rounds, milliseconds per batch.
"""
from __future__ import annotations

import argparse
import time

import torch

from augstudy import ops
from augstudy.ops.color import color_drop, color_jitter
from augstudy.ops.geometric import crop_boxes, resized_crop_grid
from augstudy.train.allocator import keep_freed_memory


def paths(size: int, batch: int) -> dict[str, tuple]:
    """Per operator: (kernel callable, tensor callable), on the same images and params."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(batch, 3, size, size, generator=g)
    crop, color = ops.build("crop"), ops.build("color")
    pc, pk = (op.sample_params(batch, g, x.device) for op in (crop, color))
    return {
        "crop": (lambda: crop.apply(x, pc), lambda: resized_crop_grid(x, crop_boxes(pc, size, size), pc["flip"])),
        "color": (lambda: color.apply(x, pk), lambda: color_drop(color_jitter(x, pk), pk["drop"])),
    }


def best_ms(fn, rounds: int, reps: int) -> float:
    return min(_timed(fn, reps) for _ in range(rounds)) * 1e3


def _timed(fn, reps: int) -> float:
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    keep_freed_memory()
    torch.set_num_threads(1)
    print("| operator | size | batch | kernel (ms) | tensor ops (ms) | speed-up |")
    print("|---|---:|---:|---:|---:|---:|")
    for size, batch, reps in ((32, 256, 20), (224, 32, 3)):
        for name, (kernel, tensor) in paths(size, batch).items():
            kernel(), tensor()  # compile / warm up
            res = {"k": float("inf"), "t": float("inf")}
            for _ in range(args.rounds):  # interleaved rounds
                res["k"] = min(res["k"], best_ms(kernel, 1, reps))
                res["t"] = min(res["t"], best_ms(tensor, 1, reps))
            print(f"| `{name}` | {size} | {batch} | {res['k']:.2f} | {res['t']:.2f} | {res['t'] / res['k']:.1f}x |")


if __name__ == "__main__":
    main()
