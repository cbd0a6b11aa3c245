"""Importing this module registers every built-in operator."""
from . import color, filters, geometric, solarize  # noqa: F401
