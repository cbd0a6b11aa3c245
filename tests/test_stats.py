"""Statistics on simulated studies with known truth (seeded, no training)."""
import numpy as np
import pandas as pd
import pytest

from augstudy.errors import AugstudyError

from augstudy import stats as st


def _simulate(rng, n_studies, n_seeds, true_acc, seed_sd=2.0, n_examples=500):
    """Per-example 0/1 records (studies, seeds, examples): a shared test set drawn per study (example
    difficulty around the true accuracy), a seed effect, Bernoulli correctness."""
    q = np.clip(rng.beta(2.0, 2.0 * (1 - true_acc) / true_acc, size=(n_studies, 1, n_examples)), 0, 1)
    e = rng.normal(0, seed_sd / 100, size=(n_studies, n_seeds, 1))
    return rng.random((n_studies, n_seeds, n_examples)) < np.clip(q + e, 0, 1)


def test_interval_covers_truth_93_to_97_percent():
    rng = np.random.default_rng(0)
    true = 0.6
    c = _simulate(rng, 600, 3, true)
    hits = 0
    for k in range(c.shape[0]):
        iv = st.interval(c[k].mean(axis=1) * 100, c[k])
        assert iv.kind == "seeds+examples"
        hits += iv.lower <= true * 100 <= iv.upper
    assert 0.93 <= hits / c.shape[0] <= 0.97


def test_one_seed_interval_from_examples_only():
    rng = np.random.default_rng(1)
    c = _simulate(rng, 1, 1, 0.6)[0]
    iv = st.interval(c.mean(axis=1) * 100, c)
    assert iv.kind == "examples" and iv.lower < iv.mean < iv.upper
    assert st.interval([55.0]).kind == "none"


def test_cell_without_records_gets_seed_only_interval():
    iv = st.interval([50.0, 52.0, 51.0])
    assert iv.kind == "seeds" and iv.lower < 51.0 < iv.upper


def test_identical_policies_rejected_at_most_6_percent():
    rng = np.random.default_rng(2)
    n, seeds = 1000, 5
    seed_effect = rng.normal(0, 3, size=(n, seeds))
    a = 60 + seed_effect + rng.normal(0, 1, size=(n, seeds))
    b = 60 + seed_effect + rng.normal(0, 1, size=(n, seeds))
    rejects = sum(st.paired(a[k], b[k]).p_value < 0.05 for k in range(n))
    assert rejects / n <= 0.06
    assert "no difference detected" in st.paired(a[0], a[0] + 0.0).sentence("A", "B")


def test_tied_set_contains_true_best():
    rng = np.random.default_rng(3)
    truth = np.array([60.0, 59.0, 57.0, 52.0])
    n, seeds = 500, 3
    contains = 0
    for _ in range(n):
        v = truth[:, None] + rng.normal(0, 2, size=(truth.size, seeds))
        contains += st.tied_with_best(v)[0]
    assert contains / n >= 0.95


def test_planner_seed_count_detects_planned_difference_70_to_90_percent():
    rng = np.random.default_rng(4)
    sd_diff, detect = 2.0, 1.5
    n_seeds = st.seeds_for_power(detect, sd_diff)
    sims = 2000
    d = detect + rng.normal(0, sd_diff, size=(sims, n_seeds))
    detected = sum(st.paired(d[k], np.zeros(n_seeds)).p_value < 0.05 for k in range(sims))
    assert 0.70 <= detected / sims <= 0.90


def test_summarize_table_columns_and_ties():
    rows = []
    rng = np.random.default_rng(5)
    for pipe, mu in [("crop + color", 70.0), ("crop", 60.0), ("blur", 40.0)]:
        for seed in range(3):
            rows.append({"method": "simclr", "pipeline": pipe, "seed": seed, "status": "done",
                         "linear_top1": mu + rng.normal(0, 0.5), "knn_top1": np.nan})
    s = st.summarize(pd.DataFrame(rows))
    assert set(s["metric"]) == {"linear_top1"}
    assert {"mean", "lower", "upper", "n_seeds", "interval_kind", "tied_with_best"} <= set(s.columns)
    assert s.set_index("pipeline")["tied_with_best"].to_dict() == {"crop + color": True, "crop": False, "blur": False}
    assert (s["interval_kind"] == "seeds").all()


def test_paired_rejects_misaligned():
    with pytest.raises(ValueError):
        st.paired([1.0, 2.0], [1.0])


def _table():
    rows = []
    for pipe, op1, op2, mu in [("crop + color", "crop", "color", 70.0), ("blur", "blur", "blur", 40.0)]:
        for seed in range(3):
            rows.append({"cell_id": f"{op1}{op2}{seed:04d}", "method": "simclr", "pipeline": pipe, "op1": op1,
                         "op2": op2, "seed": seed, "status": "done", "linear_top1": mu + seed * 0.7 + (mu == 40) * seed})
    return pd.DataFrame(rows)


def test_compare_by_label_and_ops():
    from augstudy.stats.compare import compare
    r = compare(_table(), "crop + color", "op1=blur,op2=blur")
    assert r.difference > 0 and r.p_value < 0.05 and r.n_seeds == 3
    assert "crop + color is better than blur" in r.sentence("crop + color", "blur")


def test_compare_name_matching_nothing_lists_close_names():
    from augstudy.errors import AugstudyError
    from augstudy.stats.compare import compare
    with pytest.raises(AugstudyError, match="close names: crop \\+ color"):
        compare(_table(), "crop + colour", "blur")


def test_cli_compare_prints_p_value(tmp_path):
    from typer.testing import CliRunner

    from augstudy.cli import app
    from augstudy.schema import conform

    study = tmp_path / "s"
    study.mkdir()
    t = _table()
    t["study"], t["grid"] = "s", "pairwise"
    conform(t).to_csv(study / "results.csv", index=False)
    r = CliRunner().invoke(app, ["compare", str(study), "crop + color", "blur"])
    assert r.exit_code == 0, r.output
    assert "p = " in r.output and "better than" in r.output


def test_compare_never_pools_methods():
    """With two methods in the table, compare needs --method and then uses only that method's cells."""
    from augstudy.stats.compare import compare
    sim = _table()
    sup = sim.assign(method="supervised", linear_top1=100 - sim["linear_top1"])  # the opposite order
    both = pd.concat([sim, sup], ignore_index=True)
    with pytest.raises(AugstudyError, match="several methods.*--method"):
        compare(both, "crop + color", "blur")
    assert compare(both, "crop + color", "blur", method="simclr").difference > 0
    assert compare(both, "crop + color", "blur", method="supervised").difference < 0
    with pytest.raises(AugstudyError, match="no method 'byol'"):
        compare(both, "crop + color", "blur", method="byol")


def test_compare_with_one_seed_says_it_cannot_test():
    from augstudy.stats.compare import compare
    one = _table().query("seed == 0")
    r = compare(one, "crop + color", "blur")
    assert r.n_seeds == 1 and "needs at least 2" in r.sentence("crop + color", "blur")
