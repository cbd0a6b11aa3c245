"""The report room: a study's results table -> the paper's figures and tables, side by side with the paper.

``plot_study(study_dir, metric="linear_top1")`` writes ``<study_dir>/figures/`` (heatmaps, the
comparison with the paper's Figure 5, the color-strength table, training curves, ``summary.md``);
``plot_all(results_dir)`` does every study under a folder. Reads only the results files.
"""
from __future__ import annotations

from .plot import DEFAULT_METRIC, plot_all, plot_study
from .results import METRICS, StudyResults, load_study

__all__ = ["plot_study", "plot_all", "load_study", "StudyResults", "METRICS", "DEFAULT_METRIC"]
