"""The SimCLR paper's numbers (Figure 5 and Table 1), shipped as package data, with the citation.

Chen, Kornblith, Norouzi, Hinton. A Simple Framework for Contrastive Learning of Visual
Representations. ICML 2020 (arXiv:2002.05709). ImageNet, ResNet-50, linear evaluation top-1 (%).
"""
from __future__ import annotations

import functools
import json
import math
import re
from importlib import resources
from typing import Any, Optional

import pandas as pd

#: The seven operators of the paper's Figure 5, in its order.
PAPER_OPERATORS = ("crop", "cutout", "color", "sobel", "noise", "blur", "rotate")

#: Color strengths as Table 1 labels them, by value.
_STRENGTH_BY_VALUE = {0.125: "1/8", 0.25: "1/4", 0.5: "1/2", 1.0: "1"}


@functools.cache
def load_paper() -> dict[str, Any]:
    """The raw paper record (``augstudy/reference/simclr_paper.json``)."""
    text = resources.files("augstudy").joinpath("reference/simclr_paper.json").read_text(encoding="utf-8")
    return json.loads(text)


def citation() -> str:
    """The paper's citation, one line."""
    return load_paper()["source"]


def figure5() -> pd.DataFrame:
    """Figure 5 as a DataFrame: index = 1st transformation, columns = 2nd, values = top-1 (%)."""
    f5 = load_paper()["figure5"]
    return pd.DataFrame(f5["top1"], index=f5["operators"], columns=f5["operators"], dtype=float)


def table1() -> pd.DataFrame:
    """Table 1 as a DataFrame: index = method (``simclr``, ``supervised``), columns = strength labels."""
    t1 = load_paper()["table1"]
    return pd.DataFrame({m: t1[m] for m in ("simclr", "supervised")}, index=t1["strengths"], dtype=float).T


def paper_operator(name: str) -> Optional[str]:
    """The paper operator a study operator stands for (``"color(strength=0.5)"`` -> ``"color"``), or None."""
    base = re.split(r"[(\s]", str(name).strip(), maxsplit=1)[0].lower()
    return base if base in PAPER_OPERATORS else None


def paper_strength(label: str, value: Any = None) -> Optional[str]:
    """The Table 1 column a sweep column stands for, by label (``"1/2"``) or by value (0.5), or None."""
    label = str(label).strip()
    if label in load_paper()["table1"]["strengths"]:
        return label
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(v):
        return None
    return next((lab for val, lab in _STRENGTH_BY_VALUE.items() if math.isclose(v, val)), None)
