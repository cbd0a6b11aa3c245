"""Moved to :mod:`augstudy.train.methods.simclr` (kept so existing imports work)."""
from .methods.simclr import SimCLR

__all__ = ["SimCLR"]
