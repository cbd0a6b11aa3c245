"""Two identical cells, run one after the other in one process: are their numbers bit-identical?

    python benchmarks/determinism_check.py --device cuda            # training.deterministic on and off
    python benchmarks/determinism_check.py --device cpu --images 256

Compares the per-epoch losses and the linear / kNN accuracies exactly. With ``training.deterministic``
they must agree (exit 1 otherwise); without it, on CUDA, they may not (cudnn.benchmark picks kernels).
"""
from __future__ import annotations

import argparse
import sys
import warnings

from augstudy import data
from augstudy.train.cell import run_cell


def cell(args, deterministic: bool) -> dict:
    return {"pipeline": ["crop", "color"], "protocol": {"name": "symmetric", "base_crop": None},
            "dataset": {"name": "synthetic", "params": {"n_train": args.images, "n_test": args.images // 2, "size": 32}},
            "model": {"encoder": args.encoder},
            "training": {"epochs": args.epochs, "batch_size": args.batch_size, "device": args.device,
                         "optimizer": "lars", "lr": 0.3, "scale_lr": True, "deterministic": deterministic},
            "evaluation": {"linear_max_iter": 50, "knn_k": 20}, "seed": 0}


def fingerprint(r) -> tuple:
    return tuple(r.loss_per_epoch), r.linear_top1, r.knn_top1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--images", type=int, default=2048)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--encoder", default="resnet18")
    args = ap.parse_args()
    ds = data.load("synthetic", n_train=args.images, n_test=args.images // 2, size=32)
    ok = True
    for deterministic in (True, False) if args.device.startswith("cuda") else (True,):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            a, b = (run_cell(cell(args, deterministic), ds) for _ in range(2))
        same = fingerprint(a) == fingerprint(b)
        notes = sorted({str(w.message).splitlines()[0][:120] for w in caught if "determinis" in str(w.message)})
        print(f"deterministic={deterministic}: bit-identical={same}; losses {a.loss_per_epoch} vs {b.loss_per_epoch}; "
              f"linear {a.linear_top1} vs {b.linear_top1}; knn {a.knn_top1} vs {b.knn_top1}; "
              f"{a.train_seconds:.1f} s / {b.train_seconds:.1f} s train")
        for n in notes[:5]:
            print(f"  warning: {n}")
        if deterministic:
            ok &= same
    print("determinism check:", "OK" if ok else "FAILED: two deterministic cells differ")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
