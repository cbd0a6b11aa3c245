"""The operator registry and the built-in operators (the SimCLR paper's Figure 4 set)."""
from .base import Compose, Operator, OperatorParams, Params
from .registry import available, build, get, load_plugins, operator, parse_spec
from .albumentations import from_albumentations
from .describe import describe
from .validation import check_images

__all__ = ["Operator", "OperatorParams", "Params", "Compose", "operator", "build", "get",
           "available", "load_plugins", "parse_spec", "check_images",
           "from_albumentations", "describe"]
