"""The built-in methods, one file each over the bases in :mod:`.base` (importing this registers them).

``simclr`` and ``supervised`` (the paper's), ``byol`` (momentum target, predictor), ``moco`` (v2:
momentum encoder, negative queue), ``vicreg`` and ``barlow_twins``. A plugin method is a
:class:`~augstudy.train.Method` subclass registered with ``@augstudy.method("name")``.
"""
from .base import MomentumMethod, TwoViewMethod, cosine_momentum, ema_update, target_copy
from .barlow_twins import BarlowTwins, barlow_twins_loss
from .byol import BYOL, byol_loss
from .moco import MoCo, enqueue, info_nce
from .simclr import SimCLR
from .supervised import Supervised
from .vicreg import VICReg, vicreg_loss

__all__ = ["TwoViewMethod", "MomentumMethod", "cosine_momentum", "ema_update", "target_copy",
           "SimCLR", "Supervised", "BYOL", "byol_loss", "MoCo", "info_nce", "enqueue", "VICReg", "vicreg_loss",
           "BarlowTwins", "barlow_twins_loss"]
