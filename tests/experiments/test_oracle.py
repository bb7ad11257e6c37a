"""The oracle yardstick (v2p.experiments.oracle): the exact best per-type combination, at least as good as every
fixed action on the same dishes, a policy that is the oracle scores exactly 1, cached per site and economics."""

from __future__ import annotations

import itertools
import json

import pytest
from v2p_sim import load_site

from v2p.cli import main
from v2p.config import EconomicsConfig, SLAConfig, load_economics_config
from v2p.economics.labor import implied_wage
from v2p.experiments import oracle as oracle_mod
from v2p.experiments.oracle import (OracleBudget, PointStats, best_combination, cached_oracle, evaluate_shifts,
                                    find_oracle, optimality, pooled_wage)

CFG = load_economics_config()
TINY = OracleBudget(coarse_speeds=(0.4, 0.8), coarse_cares=(0.6, 1.0), coarse_dishes=3, refine_top=1,
                    refine_dishes=4, fine_top=1, fine_dishes=6)


def point(kind, speed, dishes, units, errors, seconds):
    return PointStats(kind, speed, 1.0, dishes, units, errors, seconds)


def test_the_best_combination_is_the_best_feasible_one_of_every_combination():
    cfg = EconomicsConfig(sla=SLAConfig(error_target=0.1))
    cands = {"plate": [point("plate", 0.2, 10, 10, 0, 600.0), point("plate", 0.8, 10, 8, 2, 300.0),
                       point("plate", 0.5, 10, 10, 0, 450.0)],
             "bowl": [point("bowl", 0.2, 10, 10, 0, 700.0), point("bowl", 0.6, 10, 9, 1, 400.0)],
             "glass": [point("glass", 1.0, 10, 10, 0, 200.0)]}
    mix = {"plate": 0.5, "bowl": 0.3, "glass": 0.2}
    choice, wage, mp, err = best_combination(cands, mix, cfg)
    best = None
    for combo in itertools.product(*cands.values()):
        hours = sum(mix[p.kind] * p.hours_per_dish() for p in combo)
        e = sum(mix[p.kind] * p.err_rate for p in combo)
        w = implied_wage(sum(mix[p.kind] * p.units / p.dishes for p in combo) / hours,
                         errors_per_hour=e / hours, cfg=cfg)
        if e <= 0.1 and (best is None or w > best[0]):
            best = (w, combo)
    assert wage == pytest.approx(best[0]) and tuple(choice.values()) == best[1]
    assert err <= 0.1
    strict = EconomicsConfig(sla=SLAConfig(error_target=0.01))
    assert best_combination({"plate": [point("plate", 0.8, 10, 5, 5, 300.0)]}, {"plate": 1.0}, strict) is None


@pytest.fixture(scope="module")
def default_oracle():
    fixed = [(s, c) for s in TINY.coarse_speeds for c in TINY.coarse_cares]
    return find_oracle("default", CFG, TINY, extra_actions=fixed), fixed


def test_the_oracle_is_at_least_as_good_as_every_fixed_action_on_the_same_dishes(default_oracle):
    oracle, fixed = default_oracle
    fine = {(p.kind, p.speed, p.care): p for p in oracle.points if p.dishes == TINY.fine_dishes}
    beaten = 0
    for speed, care in fixed:
        same_everywhere = {k: [fine[(k, speed, care)]] for k in oracle.table}
        result = best_combination(same_everywhere, oracle.mix, CFG)
        if result is not None:  # an SLA-feasible fixed action
            assert oracle.predicted_wage >= result[1] - 1e-9
            beaten += 1
    assert beaten >= 1
    assert set(oracle.table) == {"plate", "bowl", "glass"}
    assert all(0 <= s <= 1 and 0 <= c <= 1 for s, c in oracle.table.values())


def test_a_policy_that_is_the_oracle_scores_exactly_one(default_oracle):
    oracle, _ = default_oracle
    seeds = [5, 6, 7]
    once = evaluate_shifts("default", oracle.act, seeds, shift_hours=0.03)
    again = evaluate_shifts("default", oracle.act, seeds, shift_hours=0.03)
    assert once == again  # the physics replays a shift exactly
    ratio, ci = optimality(again, once, CFG)
    assert ratio == 1.0 and ci == (1.0, 1.0)
    slower = evaluate_shifts("default", lambda state: (0.1, 1.0), seeds, shift_hours=0.03)
    ratio, (lo, hi) = optimality(slower, once, CFG)
    assert ratio == pytest.approx(pooled_wage(slower, CFG) / pooled_wage(once, CFG)) and lo <= ratio <= hi
    with pytest.raises(Exception, match="same shifts"):
        optimality(slower[:2], once, CFG)


def test_the_oracle_is_cached_per_site_economics_and_budget(tmp_path, monkeypatch, default_oracle):
    oracle, _ = default_oracle
    budget = TINY
    site = load_site("default")
    key = oracle_mod.oracle_key(site, CFG, budget)
    path = tmp_path / f"oracle-default-{key}.json"
    path.write_text(json.dumps(oracle.as_dict() | {"key": key}))
    monkeypatch.setattr(oracle_mod, "find_oracle", lambda *a, **k: pytest.fail("swept again despite the cache"))
    assert cached_oracle("default", CFG, tmp_path, budget).table == oracle.table
    other = EconomicsConfig(unit_price=0.5)
    assert oracle_mod.oracle_key(site, other, budget) != key


def test_v2p_sweep_oracle_prints_the_table_and_its_wage_on_shifts(tmp_path, capsys):
    code = main(["sweep", "--oracle", "--site", "glass_bar", "--out", str(tmp_path), "--workers", "1",
                 "--oracle-scale", "0.1", "--eval-shifts", "2", "--shift-hours", "0.02", "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["table"]) == {"plate", "bowl", "glass"} and data["mix"]["glass"] == 1.0
    assert len(data["eval_shifts"]) == 2 and data["dishes_per_point"] == 10
    assert list(tmp_path.glob("oracle-glass_bar-*.json"))
