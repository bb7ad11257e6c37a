import pytest

from v2p.config import EconomicsConfig
from v2p.experiments.elasticity import elasticity_analysis, format_elasticity_table


def test_elasticities_match_the_closed_forms():
    cfg = EconomicsConfig()
    mp, err = 109.0, 0.027
    r = elasticity_analysis(mp, err, 0.3, cfg)
    errors_per_hour = err * mp / (1 - err)  # err is per attempt
    wage = cfg.unit_price * mp - cfg.error_cost * errors_per_hour
    # parity = ŵ/w_h: elasticity to p is p·MP/ŵ, to c −c·errors/h/ŵ, to the human wage exactly −1
    assert r.elasticities["unit_price"]["wage_parity"] == pytest.approx(cfg.unit_price * mp / wage, rel=1e-3)
    assert r.elasticities["human_wage"]["wage_parity"] == pytest.approx(-1.0, rel=1e-3)
    assert r.elasticities["error_cost"]["wage_parity"] == pytest.approx(-cfg.error_cost * errors_per_hour / wage,
                                                                        rel=1e-3)
    # spread = ŵ − w_h: to the human wage −w_h/(ŵ − w_h)
    assert r.elasticities["human_wage"]["spread"] == pytest.approx(-18.0 / (wage - 18.0), rel=1e-3)
    # revenue per robot-year = ŵ − s_cust·(ŵ − w_h) per hour × H: to p it is p·MP·(1 − s_cust)/(revenue per hour)
    revenue = wage - 0.3 * (wage - 18.0)
    assert r.elasticities["unit_price"]["platform_revenue_per_robot_year"] == pytest.approx(
        cfg.unit_price * mp * 0.7 / revenue, rel=1e-3)
    assert "unit_price" in format_elasticity_table(r)
    assert r.curves["unit_price"]["wage_parity"][0] < r.curves["unit_price"]["wage_parity"][-1]


def test_revenue_elasticity_undefined_where_the_price_is_floored():
    r = elasticity_analysis(10.0, 0.5, 0.3, EconomicsConfig())  # ŵ = 3 − 10 < 0: billed nothing
    assert r.elasticities["unit_price"]["platform_revenue_per_robot_year"] is None
    below = elasticity_analysis(30.0, 0.05, 0.3, EconomicsConfig())  # below parity the value is still billed
    assert below.elasticities["unit_price"]["platform_revenue_per_robot_year"] is not None
