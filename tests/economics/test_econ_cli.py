import json
import subprocess
import sys

import pytest

from v2p.cli import main

KEYS = {"mp", "err_rate", "errors_per_hour", "implied_wage", "wage_parity", "profit", "spread", "spread_value",
        "s_cust", "s_plat", "s_cust_rules", "contract", "billed", "rebate", "platform_revenue", "captured_spread",
        "energy_cost", "capital_cost", "gross_profit", "work_value", "labor_parity", "customer_gain",
        "customer_net_cost_per_hour", "human_cost_per_hour", "customer_gain_per_hour",
        "platform_revenue_per_robot_hour", "cost_per_robot_hour", "gross_profit_per_robot_hour",
        "platform_revenue_per_robot_year", "cost_per_robot_year", "gross_profit_per_robot_year", "gross_margin",
        "fleet_revenue", "fleet_cost", "fleet_gross_profit", "balances", "postings", "price_floored_episodes"}


def econ_json(*argv):
    out = subprocess.run([sys.executable, "-m", "v2p.cli", "econ", *argv, "--json"], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)


def test_econ_json_at_the_seed_operating_point():
    """MP 109/h at 2.7% errors per attempt: ŵ = 0.30·109 − 1.00·(0.027·109/0.973) = $29.675/h, parity 1.649."""
    figures = econ_json("--mp", "109", "--err", "0.027")
    assert KEYS <= set(figures)
    assert figures["implied_wage"] == pytest.approx(29.675, abs=1e-3)
    assert figures["wage_parity"] == pytest.approx(1.649, abs=1e-3)
    assert figures["profit"] == pytest.approx(29.675 - 0.10 - 1.70, abs=1e-3)
    assert figures["hours"] == 1000  # one robot-year by default
    # no share given: the contract's default (0) prices the rebate; the customer is billed ŵ_r per robot-hour
    assert figures["s_cust_rules"] == {"contract_default": 1} and figures["rebate"] == 0
    assert figures["billed"] == pytest.approx(29.675 * 1000, abs=1.0)
    assert sum(figures["balances"].values()) == pytest.approx(0.0, abs=1e-9)


def test_only_a_narrow_interval_sets_the_rebate():
    narrow = econ_json("--mp", "109", "--err", "0.027", "--s-cust", "0.35", "--s-cust-ci", "0.25", "0.45")
    wide = econ_json("--mp", "109", "--err", "0.027", "--s-cust", "0.35", "--s-cust-ci", "0.05", "0.65")
    bare = econ_json("--mp", "109", "--err", "0.027", "--s-cust", "0.35")
    assert narrow["s_cust_rules"] == {"measured": 1} and narrow["s_cust"] == 0.35
    assert narrow["rebate"] == pytest.approx(0.35 * narrow["spread_value"], abs=0.01)
    for other in (wide, bare):
        assert other["s_cust_rules"] == {"contract_default": 1} and other["rebate"] == 0


def test_econ_text_report_has_the_books(capsys):
    assert main(["econ", "--mp", "109", "--err", "0.027", "--s-cust", "0.35", "--s-cust-ci", "0.3", "0.4",
                 "--hours", "2"]) == 0
    out = capsys.readouterr().out
    for section in ("Performance", "Labor figures", "Contract labor_value", "Books", "Balances", "Platform",
                    "Customer", "Fleet", "rebate   platform → customer", "capital  platform → robot_capital"):
        assert section in out, section
    assert "$29.68/h" in out and "35.0%" in out


def test_a_negative_value_is_floored(capsys):
    assert main(["econ", "--mp", "10", "--err", "0.5", "--hours", "1"]) == 0
    out = capsys.readouterr().out
    assert "price floored at $0 in 1 of 1 episodes" in out and "labor    customer" not in out


@pytest.mark.parametrize("argv,needle", [
    (["--mp", "109", "--err", "1.5"], "--err"),
    (["--mp", "-3", "--err", "0.1"], "--mp"),
    (["--mp", "109", "--err", "0.1", "--s-cust", "2"], "--s-cust"),
    (["--mp", "109", "--err", "0.1", "--s-cust-source", "guess"], "--s-cust-source"),
])
def test_bad_arguments_are_named(capsys, argv, needle):
    with pytest.raises(SystemExit) as info:
        main(["econ", *argv])
    assert info.value.code == 2
    assert needle in capsys.readouterr().err


def test_bad_config_file_is_a_one_line_error(tmp_path, capsys):
    bad = tmp_path / "e.yaml"
    bad.write_text("human_wage: -1\n")
    assert main(["econ", "--mp", "100", "--err", "0.05", "--economics", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "human_wage" in err and str(bad) in err and "Traceback" not in err


@pytest.mark.parametrize("argv,needle", [
    (["--mp", "0", "--err", "1"], "error rate must lie in [0, 1)"),
    (["--mp", "109", "--err", "0.1", "--s-cust-ci", "0.1", "0.2"], "--s-cust-ci needs --s-cust"),
    (["--mp", "109", "--err", "0.1", "--s-cust", "0.3", "--s-cust-ci", "0.4", "0.2"], "interval"),
])
def test_impossible_operating_points_are_one_line_errors(capsys, argv, needle):
    assert main(["econ", *argv]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
