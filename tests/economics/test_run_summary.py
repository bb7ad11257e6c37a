"""A demo run folder's summary is read from its ledger, and `books_balanced` holds summary.json to it."""

import json

import pytest

from v2p.cli import main
from v2p.config import EconomicsConfig
from v2p.economics.accounts import CSV_NAME, SUMMARY_NAME, EpisodeAccounts, books_balanced, read_episode_csv
from v2p.economics.monitor import EconomicsMonitor
from v2p.economics.pricing import PLATFORM_SITE, ShareEvidence, price_share
from v2p.experiments.demo import CUSTOMER_SITE, FIRST_EPISODE, PHASES, RunState
from v2p.experiments.demo import PLATFORM_SITE as PLATFORM_SITE_NAME
from v2p.experiments.demo import summarize_run
from v2p.experiments.reporting import format_run_summary
from v2p.task.events import SimEvent

CFG = EconomicsConfig()


def _book(accounts, site, first, n, evidence):
    monitor = EconomicsMonitor(CFG, price_share(evidence, CFG.contract))
    for ep in range(first, first + n):
        t = 0.0
        monitor.on_event(SimEvent(ep, "episode_start", t))
        for i in range(15):
            t += 30.0
            monitor.on_event(SimEvent(ep, "unit" if (i + ep) % 11 else "dropped", t, i, "plate"))
        accounts.record(site, monitor.on_event(SimEvent(ep, "episode_end", t, episode_hours=t / 3600)))


@pytest.fixture
def run(tmp_path):
    accounts = EpisodeAccounts(tmp_path, CFG)
    _book(accounts, PLATFORM_SITE_NAME, FIRST_EPISODE["platform"], 3, PLATFORM_SITE)
    _book(accounts, CUSTOMER_SITE, FIRST_EPISODE["customer"], 2, ShareEvidence(0.1, "estimator", (0.0, 0.2), "est."))
    wide = ShareEvidence(0.326, "measured", (0.104, 0.547), "counterfactual pair over 2 seeds")  # the README run's
    _book(accounts, CUSTOMER_SITE, FIRST_EPISODE["deploy"], 4, wide)
    accounts.close()
    RunState(list(PHASES), encoder={"kind": "streaming", "checkpoint": "enc.safetensors", "metrics": {}},
             fixed_action={"speed": 0.4, "care": 1.0, "mp": 83.0, "err_rate": 0.0, "implied_wage": 24.89},
             attribution={"s_cust": 0.326, "s_cust_ci": [0.104, 0.547], "seeds": [{}, {}], "delta_mpl_cust": 9.7,
                          "delta_mpl_total": 29.6, "s_cust_rule": "contract_default", "ci_method": "Fieller"},
             yardstick={"oracle_implied_wage": 30.0, "optimality_ratio": 0.9, "optimality_ci": [0.8, 1.0],
                        "optimality_method": "paired bootstrap", "oracle_table": {"plate": [0.6, 0.8]}},
             phase_seconds={"platform": 100.0, "deploy": 20.5}).save(tmp_path)
    return tmp_path


def test_the_summary_is_the_deploy_shifts_books(run, capsys):
    figures = summarize_run(run, CFG)
    deploy = [r for r in read_episode_csv(run / CSV_NAME)
              if r["site"] == CUSTOMER_SITE and int(r["episode"]) >= FIRST_EPISODE["deploy"]]
    assert figures["episodes"] == len(deploy) == 4
    assert round(figures["billed"] * 100) == sum(round(float(r["billed"]) * 100) for r in deploy)
    # the measured interval (44 share points) is wider than the contract's 30: the default share priced them
    assert figures["s_cust_rules"] == {"contract_default": 4} and figures["rebate"] == 0
    assert figures["s_cust_measured"] == 0.326 and figures["s_cust_rule"] == "contract_default"
    assert figures["customer_phase_rules"] == {"estimator": 2}  # its 20-point interval may price
    # the headline intervals are Student t over the deploy shifts' own figures, and contain their mean
    mps = [float(r["mp_r"]) for r in deploy]
    low, high = figures["mp_ci"]
    assert figures["interval_shifts"] == 4 and low < sum(mps) / 4 < high
    assert figures["encoder"] == "streaming" and figures["phase_seconds"] == {"platform": 100.0, "deploy": 20.5}
    assert figures["total_seconds"] == 120.5 and figures["optimality_ci"] == [0.8, 1.0]
    assert figures["fixed_action_implied_wage"] == 24.89
    assert figures["fixed_action_ratio"] == pytest.approx(figures["implied_wage"] / 24.89)
    assert figures["books_balanced"] is True and figures["contract"] == "labor_value"
    check = books_balanced(run)
    assert check.books_balanced and check.summary_checked, check.problems
    text = format_run_summary(run, CFG)
    assert "contract_default ×4" in text and "never sets a rebate" in text and "Wall time: platform 100 s" in text
    assert main(["summary", "--run", str(run), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["platform_revenue"] == figures["platform_revenue"]


def test_a_summary_left_from_before_more_shifts_unbalances_the_books(run):
    summarize_run(run, CFG)
    accounts = EpisodeAccounts(run, CFG)
    _book(accounts, CUSTOMER_SITE, FIRST_EPISODE["deploy"] + 4, 1, PLATFORM_SITE)  # booked after the summary
    accounts.close()
    check = books_balanced(run)
    assert not check.books_balanced and all(SUMMARY_NAME in p for p in check.problems)
    summarize_run(run, CFG)
    assert books_balanced(run).books_balanced
