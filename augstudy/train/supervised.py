"""Moved to :mod:`augstudy.train.methods.supervised` (kept so existing imports work)."""
from .methods.supervised import Supervised

__all__ = ["Supervised"]
