"""Importing this module registers every built-in operator."""
from . import color, filters, geometric  # noqa: F401
