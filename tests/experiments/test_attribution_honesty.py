"""Honesty of attribution, on the real pair: the product's SAC fine-tuned from recorded bags, evaluated in the
simulator. Customer data from a site with another dish mix must get a ΔMPL_cust measurably above 0; more data from
the platform's own site must get an interval of ΔMPL_cust that contains 0 and an s_cust interval within the
contract's limit (±15 pp).

The default run checks the command end to end on a tiny budget (its verdicts must follow its intervals, whatever
they are); the slow tests run `v2p honesty` at its default budget, on the demo's sites and the clear-cut pair, as
the README reports it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from v2p.config import EconomicsConfig
from v2p.experiments.attribution import summarize
from v2p.experiments.honesty import ScenarioCheck
from v2p.experiments.pair import SeedMeasurement

V2P = [sys.executable, "-m", "v2p.cli"]
TINY = ["--platform-shifts", "3", "--customer-shifts", "2", "--seeds", "2", "--platform-updates", "40",
        "--finetune-updates", "20", "--eval-shifts", "1"]
ECON = EconomicsConfig()


def _honesty(out, *args: str) -> tuple[dict, int]:
    proc = subprocess.run(V2P + ["honesty", "--json", "--out", str(out), *args], capture_output=True, text=True,
                          timeout=3600)
    assert proc.stdout.strip(), proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.returncode


def test_the_check_runs_end_to_end_and_its_verdicts_follow_its_intervals(tmp_path):
    report, returncode = _honesty(tmp_path, "--scenarios", "clear_cut", *TINY)
    (scenario,) = report["scenarios"].values()
    assert (scenario["platform_site"], scenario["customer_site"]) == ("scullery", "glass_bar")
    mix, same = scenario["different_mix"], scenario["same_site"]
    assert mix["site"] == "glass_bar" and same["site"] == "scullery" and len(mix["seeds"]) == 2
    assert scenario["different_mix_detected"] == (mix["delta_mpl_cust_ci"][0] > 0)
    low, high = same["delta_mpl_cust_ci"]
    assert scenario["same_site_null"] == (low <= 0 <= high)
    width = None if same["s_cust_ci"] is None else same["s_cust_ci"][1] - same["s_cust_ci"][0]
    assert scenario["same_site_precise"] == (width is not None and width <= ECON.contract.max_share_interval)
    assert report["passed"] == scenario["passed"] and returncode == (0 if report["passed"] else 1)
    for result in (mix, same):
        assert "Fieller" in result["ci_method"] and result["s_cust_rule"] in ("measured", "contract_default")
    for name in ("platform", "same_site", "customer"):
        assert any((tmp_path / "bags" / "clear_cut" / name).glob("**/metadata.yaml")), name
    # per seed: one platform policy and one without arm, shared by both customers (evaluated at both sites)
    fits = sorted(p.name for p in (tmp_path / "pairs" / "clear_cut").iterdir())
    assert fits == sorted(f"seed{s}_{arm}" for s in (0, 1)
                          for arm in ("platform", "without", "with_different_mix", "with_same_site"))
    assert all((tmp_path / "pairs" / "clear_cut" / fit / "latest").exists() for fit in fits)


def _measured(site: str, deltas: list[float], spread: float = 1.0) -> object:
    return summarize(site, [SeedMeasurement(i, 60.0, 90.0 + spread * (-1) ** i, 90.0 + spread * (-1) ** i + d)
                            for i, d in enumerate(deltas)], ECON)


def test_the_verdicts_follow_the_intervals():
    taught, repeated = _measured("glass_bar", [12.0, 15.0, 13.0, 14.0]), _measured("scullery", [0.5, -0.4, 0.2, -0.3])
    assert ScenarioCheck("scullery", "glass_bar", taught, repeated).passed
    assert not ScenarioCheck("scullery", "glass_bar", repeated, repeated).different_mix_detected
    assert not ScenarioCheck("scullery", "glass_bar", taught, taught).same_site_null  # credited repeated data
    # a null too noisy to credit anything: the interval of ΔMPL_cust contains 0, s_cust's is wider than ±15 pp
    noisy = _measured("scullery", [12.0, -14.0, 9.0, -8.0], spread=10.0)
    check = ScenarioCheck("scullery", "glass_bar", taught, noisy)
    assert check.same_site_null and not check.same_site_precise and not check.passed


def test_honesty_rejects_a_single_seed_and_an_unknown_scenario():
    proc = subprocess.run(V2P + ["honesty", "--seeds", "1"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--seeds" in proc.stderr and "at least 2" in proc.stderr
    proc = subprocess.run(V2P + ["honesty", "--scenarios", "nowhere"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--scenarios" in proc.stderr


@pytest.mark.slow
def test_at_the_default_budget_the_demos_sites_and_the_clear_cut_pair_pass(tmp_path):
    report, returncode = _honesty(tmp_path)
    for name, scenario in report["scenarios"].items():
        assert scenario["different_mix_detected"], (name, scenario["different_mix"])
        assert scenario["same_site_null"] and scenario["same_site_precise"], (name, scenario["same_site"])
    assert report["passed"] and returncode == 0


@pytest.mark.slow
def test_null_replicates_are_calibrated():
    """benchmarks/attribution_calibration.py: of 8 null replicates (the platform's own shifts re-recorded), at
    least 7 intervals of ΔMPL_cust contain 0 and no s_cust interval is wider than ±15 pp."""
    from v2p.config import REPO_ROOT

    proc = subprocess.run([sys.executable, str(REPO_ROOT / "benchmarks" / "attribution_calibration.py"), "--json",
                           "--replicates", "8"], capture_output=True, text=True, timeout=7200)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["degenerate"] == 0, result  # identical arms would pass any check: none may be
    assert result["contains_0"] >= 7 and result["widest_s_cust_ci"] <= result["limit"], result
    assert proc.returncode == 0
