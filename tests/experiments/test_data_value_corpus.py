"""The data-value corpus and its features: features read only bags and are deterministic, a corpus build resumes
after a kill without redoing rows, `v2p data-value fit|eval` give their keys and figures, bad input is named."""

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest

from v2p.cli import main
from v2p.config import EconomicsConfig
from v2p.errors import V2PError
from v2p.experiments import data_value_corpus as dvc
from v2p.experiments.customer_features import (FEATURE_INPUT, FEATURE_NAMES, customer_features,
                                               load_shipped_estimator)
from v2p.experiments.pair import PairBudget

ECON = EconomicsConfig()
SPEC = dvc.CorpusSpec(PairBudget(seeds=3, platform_updates=20, finetune_updates=10, eval_shifts=1),
                      platform_shifts=1, customer_shifts=(1, 1))


# ---------------------------------------------------------------------------- features from bags
@pytest.fixture(scope="module")
def bags(tmp_path_factory):
    from v2p.experiments.pair import PAIR_SAC, platform_weights
    from v2p.experiments.recording import record_shifts, uniform_behaviour
    from v2p.learning import learn
    from v2p_sim.site_generator import random_site, save_site

    root = tmp_path_factory.mktemp("features")
    site = save_site(random_site(7), root / "site.yaml")
    record_shifts(root / "platform", "default", 2, seed=0, behaviour=uniform_behaviour, shift_hours=0.04)
    record_shifts(root / "customer", str(site), 1, seed=50, behaviour=uniform_behaviour, shift_hours=0.04)
    weights = platform_weights([root / "platform"], ECON, FEATURE_INPUT)
    learn([root / "platform"], root / "policy", 20, ECON, sac_config=replace(PAIR_SAC, seed=0),
          policy_input=FEATURE_INPUT, resume=False, reward_weights=weights)
    return root, site


def test_features_are_deterministic_named_and_read_only_what_a_robot_observes(bags):
    root, site = bags
    first = customer_features([root / "platform"], [root / "customer"], ECON, root / "policy")
    assert tuple(first) == FEATURE_NAMES and all(np.isfinite(list(first.values())))
    assert not FEATURE_INPUT.privileged  # the simulator's exact mass, friction and dirt are not read
    site.write_text("not: [a site")  # the site's config is gone: the bags alone must do
    moved = root / "elsewhere"
    shutil.copytree(root / "customer", moved)
    assert customer_features([root / "platform"], [moved], ECON, root / "policy") == first
    same = customer_features([root / "platform"], [root / "platform"], ECON, root / "policy")
    assert same["dish_mix_tv"] == same["outcome_mix_tv"] == same["log_transition_ratio"] == 0.0
    assert same["critic_error_ratio"] == pytest.approx(0.0) and same["action_gap"] == pytest.approx(0.0, abs=1e-6)
    assert first["novelty"] > 0 and first["log_transitions"] > 0


def test_the_features_need_the_platform_checkpoint_and_real_bags(bags, tmp_path):
    root, _ = bags
    with pytest.raises(V2PError, match="checkpoint"):
        customer_features([root / "platform"], [root / "customer"], ECON, None)
    with pytest.raises(V2PError, match="not a folder of bags"):
        customer_features([root / "platform"], [tmp_path / "missing"], ECON, root / "policy")


# ---------------------------------------------------------------------------- resume after a kill
def _fake_row(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {"customer": f"c{seed}", "site_seed": seed, "features": dict(zip(FEATURE_NAMES, rng.normal(size=9))),
            "delta_mpl_cust": float(rng.normal()), "s_cust": float(rng.uniform()), "seconds": 1.0}


def test_a_killed_build_resumes_without_redoing_rows(tmp_path, monkeypatch):
    asked: list[list[int]] = []
    kill = {"at": 2}

    def measure(folder, seeds, spec, econ, executor, log):
        asked.append(list(seeds))
        if len(asked) == kill["at"]:
            raise KeyboardInterrupt  # the kill, mid-way through the second batch
        return [_fake_row(s) for s in seeds]

    recorded = []

    def record(datasets, executor=None):
        recorded.extend(datasets)
        for d in datasets:
            (tmp_path / "out" / "platform.partial").mkdir(parents=True, exist_ok=True)

    monkeypatch.setattr(dvc, "measure_batch", measure)
    monkeypatch.setattr(dvc, "record_many", record)
    monkeypatch.setattr(dvc, "_platform_policy", lambda folder, spec, econ: folder / "platform_policy")
    out = tmp_path / "out"
    (out / "platform.partial").mkdir(parents=True)
    (out / "platform.partial" / "junk").write_text("a recording a kill cut")
    with pytest.raises(KeyboardInterrupt):
        dvc.build_corpus(out, 5, SPEC, ECON, batch=2)
    assert [r["site_seed"] for r in dvc.read_rows(out)] == [1000, 1001]
    assert not (out / "platform" / "junk").exists()  # the partial recording was redone, not trusted
    with open(out / dvc.ROWS, "a") as f:
        f.write('{"customer": "c1002", "site_se')  # a write the kill cut
    asked.clear()
    kill["at"] = 0  # no more kills
    corpus = dvc.build_corpus(out, 5, SPEC, ECON, batch=2)
    assert asked == [[1002, 1003], [1004]]
    assert [r["site_seed"] for r in corpus.rows] == [1000, 1001, 1002, 1003, 1004]
    assert len(recorded) == 1  # the platform's data was recorded once
    assert len(corpus.builds) == 2 and corpus.builds[-1]["rows_added"] == 3
    with pytest.raises(V2PError, match="not comparable"):
        dvc.build_corpus(out, 5, replace(SPEC, platform_shifts=2), ECON)


# ---------------------------------------------------------------------------- fit and eval
def _synthetic_corpus(folder, n=30, shuffle=False, noise=0.1):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(n, len(FEATURE_NAMES)))
    y = 0.3 + 0.2 * x[:, 0] - 0.1 * x[:, 2] + noise * rng.normal(size=n)
    if shuffle:
        y = rng.permutation(y)
    folder.mkdir(parents=True)
    (folder / dvc.SPEC).write_text(json.dumps({"spec": SPEC.as_dict(), "builds": []}))
    with open(folder / dvc.ROWS, "w") as f:
        for i in range(n):
            f.write(json.dumps({"customer": f"c{i}", "site_seed": i, "features": dict(zip(FEATURE_NAMES, x[i])),
                                "delta_mpl_cust": float(10 * y[i]), "s_cust": float(y[i]), "seconds": 1.0}) + "\n")
    return folder


def test_eval_json_scores_a_known_relation_and_shuffled_labels_score_no_better_than_a_constant(tmp_path, capsys):
    good = _synthetic_corpus(tmp_path / "good")
    assert main(["data-value", "eval", "--corpus", str(good), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"heldout_r2", "mae", "mae_constant", "coverage90", "customers"} <= set(report)
    assert report["customers"] == 30 and report["heldout_r2"] > 0.7 and report["mae"] < report["mae_constant"]
    assert 0.75 <= report["coverage90"] <= 1.0
    bad = _synthetic_corpus(tmp_path / "shuffled", shuffle=True)
    assert main(["data-value", "eval", "--corpus", str(bad), "--json", "--target", "delta_mpl_cust"]) == 0
    assert json.loads(capsys.readouterr().out)["heldout_r2"] <= 0.0
    # the prior is chosen by the evidence on the fitted rows: strong shrinkage for noise, little for a relation
    shrink = {name: dvc.EvidenceEstimator(FEATURE_NAMES).fit(*dvc.corpus_matrix(dvc.load_corpus(c).rows, "s_cust"))
              .prior_precision for name, c in (("good", good), ("shuffled", bad))}
    assert shrink["shuffled"] > 10 * shrink["good"]


def test_fit_writes_both_targets_with_the_corpus_summary_and_the_product_loads_it(tmp_path, capsys):
    corpus = _synthetic_corpus(tmp_path / "c")
    out = tmp_path / "estimator.json"
    assert main(["data-value", "fit", "--corpus", str(corpus), "--out", str(out)]) == 0
    saved = json.loads(out.read_text())
    assert set(saved["estimators"]) == {"s_cust", "delta_mpl_cust"} and set(saved["heldout"]) == set(saved["estimators"])
    assert saved["corpus"]["customers"] == 30 and saved["corpus"]["fit_command"].startswith("v2p data-value fit")
    est = load_shipped_estimator("s_cust", out)
    x = np.zeros(len(FEATURE_NAMES))
    x[0] = 1.0
    assert est.predict(x).mean == pytest.approx(0.5, abs=0.1)
    assert load_shipped_estimator("s_cust", tmp_path / "absent.json") is None


def test_bad_input_is_named(tmp_path, capsys):
    with pytest.raises(V2PError, match="no such corpus folder"):
        dvc.load_corpus(tmp_path / "missing")
    corpus = _synthetic_corpus(tmp_path / "c", n=5)
    lines = (corpus / dvc.ROWS).read_text().splitlines()
    lines[1] = lines[1].replace('"s_cust"', '"s_cus"')
    (corpus / dvc.ROWS).write_text("\n".join(lines) + "\n")
    with pytest.raises(V2PError, match=r"rows.jsonl: line 2: 's_cust' must be a number"):
        dvc.load_corpus(corpus)
    assert main(["data-value", "eval", "--corpus", str(corpus)]) == 2
    assert "line 2" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["data-value", "eval", "--corpus", str(corpus), "--target", "mp"])
    with pytest.raises(V2PError, match="unknown target"):
        dvc.corpus_matrix([], "mp")
    est = tmp_path / "estimator.json"
    est.write_text("{not json")
    with pytest.raises(V2PError, match="estimator.json"):
        load_shipped_estimator("s_cust", est)
    est.write_text(json.dumps({"estimators": {"s_cust": {"feature_names": ["novelty"], "x": [], "y": []}}}))
    with pytest.raises(V2PError, match="refit"):
        load_shipped_estimator("s_cust", est)
    with pytest.raises(V2PError, match="unknown data-value target"):
        load_shipped_estimator("mp", est)


@pytest.mark.slow
def test_a_tiny_real_corpus_measures_three_customers_and_fits(tmp_path, capsys):
    out = tmp_path / "corpus"
    assert main(["data-value", "corpus", "--customers", "3", "--out", str(out), "--seeds", "3",
                 "--platform-updates", "20", "--finetune-updates", "10", "--eval-shifts", "1",
                 "--platform-shifts", "1", "--customer-shifts", "1", "1", "--workers", "2", "--batch", "3"]) == 0
    rows = dvc.read_rows(out)
    assert [r["site_seed"] for r in rows] == [1000, 1001, 1002]
    for r in rows:
        lo, hi = r["delta_mpl_cust_ci"]
        assert lo <= r["delta_mpl_cust"] <= hi and 0.0 <= r["s_cust"] <= 1.0 and r["seeds"] == 3
    assert main(["data-value", "corpus", "--customers", "3", "--out", str(out), "--seeds", "3",
                 "--platform-updates", "20", "--finetune-updates", "10", "--eval-shifts", "1",
                 "--platform-shifts", "1", "--customer-shifts", "1", "1", "--workers", "2", "--batch", "3"]) == 0
    assert len(dvc.read_rows(out)) == 3  # a rerun redoes nothing
    assert main(["data-value", "fit", "--corpus", str(out), "--out", str(tmp_path / "e.json")]) == 0
