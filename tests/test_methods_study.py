"""Every method through the whole pipeline: each protocol and evaluation (linear, kNN, on h and g(h)) in a
cell, and one-epoch studies on the embedded data, a plugin method named in a study file among them."""
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from augstudy.train import CellConfig, run_cell
from test_train_cell import _cfg, _tiny_dataset

ROOT = Path(__file__).resolve().parents[1]
METHODS = ["simclr", "supervised", "byol", "moco(queue_size=128)", "vicreg", "barlow_twins"]


@pytest.fixture(scope="module")
def tiny_data():
    return _tiny_dataset(n_train=128, n_test=64)


@pytest.mark.parametrize("protocol", ["asymmetric", "symmetric"])
@pytest.mark.parametrize("method", METHODS)
def test_each_method_and_protocol_gives_finite_metrics(method, protocol, tiny_data):
    cfg = CellConfig.model_validate(_cfg(method=method, protocol={"name": protocol, "base_crop": "crop"},
                                         training={"epochs": 1, "batch_size": 32},
                                         evaluation={"on_projection": True, "knn_k": 20, "linear_max_iter": 20}))
    r = run_cell(cfg, dataset=tiny_data)
    assert r.status == "done" and all(math.isfinite(v) for v in r.loss_per_epoch)
    keys = ["linear_top1", "knn_top1"] + (["linear_top1_z", "knn_top1_z"] if method != "supervised" else [])
    for key in keys:
        assert 0 <= getattr(r, key) <= 100, key


PLUGIN = '''
"""A plugin method: SimCLR's loss on the encoder's h directly (no projection head), own temperature."""
import augstudy
from augstudy.train.method import MethodParams
from augstudy.train.methods.base import TwoViewMethod
from augstudy.train.nt_xent import nt_xent


@augstudy.method("headless_simclr")
class HeadlessSimCLR(TwoViewMethod):
    class Params(MethodParams):
        temperature: float = 0.5

    def forward(self, views):
        h = self.encoder(views)
        n = h.shape[0] // 2
        return nt_xent(h[:n], h[n:], self.params.temperature)
'''

STUDY = """
name: all_methods
dataset: {name: synthetic, params: {n_train: 256, n_test: 128, size: 16}}
model: {encoder: resnet-tiny, encoder_params: {widths: [8, 16], blocks: [1, 1]}, projection_dim: 16}
training: {epochs: 1, batch_size: 64, threads: 1, device: cpu}
protocol: {name: asymmetric, base_crop: null}
evaluation: {linear_max_iter: 20, knn_k: 20, on_projection: true}
grid:
  kind: list
  pipelines:
    crop: [crop]
    crop + color: [crop, color]
methods: [simclr, byol, "moco(queue_size=256)", vicreg, barlow_twins, "headless_simclr(temperature=0.2)"]
seeds: [0]
plugins: [my_method_plugin_b]
executor: {kind: local, workers: 1}
"""


def test_one_epoch_list_study_with_every_method_and_a_plugin_method(tmp_path):
    """The integrator's check, through the CLI: every method's linear top-1 lands in results.csv."""
    (tmp_path / "my_method_plugin_b.py").write_text(textwrap.dedent(PLUGIN))
    (tmp_path / "study.yaml").write_text(STUDY)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    run = subprocess.run([sys.executable, "-m", "augstudy.cli", "run", str(tmp_path / "study.yaml"),
                          "--out", str(tmp_path / "results")], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    df = pd.read_csv(tmp_path / "results" / "all_methods" / "results.csv")
    assert (df["status"] == "done").all()
    methods = ["simclr", "byol", "moco(queue_size=256)", "vicreg", "barlow_twins", "headless_simclr(temperature=0.2)"]
    assert list(dict.fromkeys(df["method"])) == methods
    for method, sub in df.groupby("method"):
        assert len(sub) == 2 and sub["linear_top1"].between(0, 100).all(), method
        assert sub["linear_top1_z"].notna().all() == (method != "headless_simclr(temperature=0.2)")
