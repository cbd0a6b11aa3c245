"""The fixed trainer: encoders, heads, the training loop, the methods (``methods/``: SimCLR, supervised, BYOL, MoCo v2, VICReg, Barlow Twins), frozen-encoder probes.

``run_cell(config) -> CellResult`` is the one entry point the study runner needs.
"""
from .cell import CellResult, run_cell
from .config import TRAIN_CODE_VERSION, CellConfig
from .encoders import available_encoders, build_encoder, encoder
from .evaluate import evaluate, knn_top1, linear_probe
from .method import Method, get_method, method
from .nt_xent import nt_xent
from .views import make_view, make_views

__all__ = ["CellConfig", "CellResult", "TRAIN_CODE_VERSION", "run_cell", "nt_xent", "encoder",
           "available_encoders", "build_encoder", "evaluate", "linear_probe", "knn_top1", "make_views",
           "make_view", "Method", "method", "get_method"]
