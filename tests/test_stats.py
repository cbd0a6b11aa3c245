"""Statistics on simulated studies with known truth (seeded, no training)."""
import numpy as np
import pandas as pd
import pytest

from augstudy.errors import AugstudyError

from augstudy import stats as st


def _simulate(rng, n_studies, n_seeds, seed_sd, n_examples=500, mu=0.4, tau=1.5):
    """Per-example 0/1 records (studies, seeds, examples): per study a test set drawn from a population
    of examples (logit difficulty ~ N(mu, tau)), a seed effect on the logit scale, Bernoulli correctness.
    The truth (the population accuracy over seeds and examples, percent) by a large Monte Carlo."""
    from scipy.special import expit

    u = rng.normal(mu, tau, size=(n_studies, 1, n_examples))
    e = rng.normal(0, seed_sd, size=(n_studies, n_seeds, 1))
    big = rng.normal(mu, tau, 2_000_000) + rng.normal(0, seed_sd, 2_000_000)
    return rng.random((n_studies, n_seeds, n_examples)) < expit(u + e), 100 * float(expit(big).mean())


# seed sd on the logit scale: 0.08 ~ 2 points of top-1, 0.25 ~ 6, 0.5 ~ 12 (the embedded studies move 2-12)
@pytest.mark.parametrize("n_seeds", [3, 5])
@pytest.mark.parametrize("seed_sd", [0.0, 0.08, 0.25, 0.5])
def test_interval_covers_truth_93_to_97_percent(seed_sd, n_seeds):
    rng = np.random.default_rng(int(seed_sd * 100) + n_seeds)
    c, truth = _simulate(rng, 1000, n_seeds, seed_sd)
    hits = 0
    for k in range(c.shape[0]):
        iv = st.interval(c[k].mean(axis=1) * 100, c[k])
        assert iv.kind == "seeds+examples" and iv.n_examples == 500
        hits += iv.lower <= truth <= iv.upper
    assert 0.93 <= hits / c.shape[0] <= 0.97, hits / c.shape[0]


def test_one_seed_interval_from_examples_only():
    rng = np.random.default_rng(1)
    c = _simulate(rng, 1, 1, 0.0)[0][0]
    iv = st.interval(c.mean(axis=1) * 100, c)
    assert iv.kind == "examples" and iv.lower < iv.mean < iv.upper
    assert iv.half == pytest.approx(1.96 * np.sqrt(c.var(ddof=1) * 1e4 / c.shape[1]), rel=0.01)
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


def _two_policies(rng, n_sims, n_seeds, delta, seed_sd=0.25, n_examples=500):
    """Records of two policies on one shared test set per simulation; B = A shifted by ``delta`` logits;
    independent seed effects (different training runs)."""
    from scipy.special import expit

    u = rng.normal(0.4, 1.5, size=(n_sims, 1, n_examples))
    ea, eb = (rng.normal(0, seed_sd, size=(n_sims, n_seeds, 1)) for _ in range(2))
    a = rng.random((n_sims, n_seeds, n_examples)) < expit(u + ea)
    b = rng.random((n_sims, n_seeds, n_examples)) < expit(u + eb + delta)
    return a, b


@pytest.mark.parametrize("n_seeds", [1, 3])
def test_identical_policies_with_records_rejected_at_most_6_percent(n_seeds):
    rng = np.random.default_rng(10 + n_seeds)
    # one seed: the test is over test examples only, valid when seeds do not matter (seed_sd 0); with seed
    # noise it tests these two trained models, not the policies -- its sentence says so (next test)
    a, b = _two_policies(rng, 1000, n_seeds, 0.0, seed_sd=0.25 if n_seeds > 1 else 0.0)
    rejects = 0
    for k in range(a.shape[0]):
        r = st.paired(a[k].mean(1) * 100, b[k].mean(1) * 100, a[k], b[k])
        assert r.kind == ("examples" if n_seeds == 1 else "seeds+examples")
        rejects += r.p_value < 0.05
    assert rejects / a.shape[0] <= 0.06


def test_one_seed_compare_with_records_says_examples_only():
    rng = np.random.default_rng(12)
    a, b = _two_policies(rng, 1, 1, 0.0)
    r = st.paired(a[0].mean(1) * 100, b[0].mean(1) * 100, a[0], b[0])
    assert r.kind == "examples" and "test examples only" in r.how() and np.isfinite(r.p_value)
    assert "one seed" in r.sentence("A", "B")


def test_tied_set_with_records_contains_true_best():
    rng = np.random.default_rng(13)
    deltas = [0.0, -0.05, -0.15, -0.6]  # logit shifts: the first policy is the true best
    n, seeds, contains = 400, 3, 0
    for _ in range(n):
        recs = [_two_policies(rng, 1, seeds, d)[1][0] for d in deltas]
        v = np.array([r.mean(1) * 100 for r in recs])
        contains += st.tied_with_best(v, correct=recs)[0]
    assert contains / n >= 0.95


def test_planner_with_test_set_noise_detects_planned_difference_70_to_90_percent():
    """Seeds from the planner, given the seed spread and the test-set variance of a difference; then
    simulated studies with that many seeds detect the planned difference in 70-90%."""
    from scipy.special import expit

    from augstudy.stats.intervals import components

    rng = np.random.default_rng(14)
    delta, seed_sd = 0.2, 0.1  # logits: about 4.7 points of top-1, and a seed spread of about 2.4 points
    a, b = _two_policies(rng, 200, 4, delta, seed_sd)  # pilots of 4 seeds, their components averaged
    detect = float(np.mean(b.mean(axis=(1, 2)) - a.mean(axis=(1, 2)))) * 100
    parts = np.array([components((b[k].astype(float) - a[k]) * 100) for k in range(200)]).mean(axis=0)
    sd_diff, test_var = float(np.sqrt(parts[0])), float(parts[1])
    assert test_var > 0
    n_seeds = st.seeds_for_power(detect, sd_diff, test_var=test_var)
    assert n_seeds is not None and 2 <= n_seeds <= 30
    a, b = _two_policies(rng, 1000, n_seeds, delta, seed_sd)
    detected = sum(st.paired(b[k].mean(1) * 100, a[k].mean(1) * 100, b[k], a[k]).p_value < 0.05 for k in range(1000))
    assert 0.70 <= detected / 1000 <= 0.90, (n_seeds, detected)
    assert st.seeds_for_power(0.1, 1.0, test_var=4.0) is None  # the test set's noise alone is too large


def test_spearman_interval_covers_and_narrows_with_records():
    rng = np.random.default_rng(15)
    ref = np.linspace(0, 1, 8)
    deltas = np.linspace(-0.4, 0.4, 8)
    recs = np.stack([_two_policies(rng, 1, 3, d)[1][0] for d in deltas])  # (cells, seeds, examples)
    v = recs.mean(axis=2) * 100
    r = st.spearman_interval(v, ref, recs, n_boot=500)
    assert r.kind == "seeds+examples" and r.lower <= r.rho <= r.upper and r.n == 8
    assert "bootstrap interval" in r.describe()
    seeds_only = st.spearman_interval(v, ref, None, n_boot=500)
    assert seeds_only.kind == "seeds" and seeds_only.lower <= seeds_only.rho <= seeds_only.upper
    assert st.spearman_interval(v[:, :1], ref).kind == "none"
