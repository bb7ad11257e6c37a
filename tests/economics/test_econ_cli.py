import json
import subprocess
import sys

import pytest

from v2p.cli import main

KEYS = {"mp", "err_rate", "implied_wage", "wage_parity", "profit", "spread", "spread_value", "s_cust", "s_plat",
        "rebate", "captured_spread", "customer_net_cost_per_hour", "customer_savings",
        "platform_revenue_per_robot_year", "gross_margin", "fleet_revenue", "fleet_gross_profit"}


def test_econ_json_at_the_seed_operating_point():
    out = subprocess.run([sys.executable, "-m", "v2p.cli", "econ", "--mp", "109", "--err", "0.027", "--json"],
                         capture_output=True, text=True, check=True).stdout
    figures = json.loads(out)
    assert set(figures) == KEYS
    assert figures["implied_wage"] == pytest.approx(29.757, abs=1e-3)
    assert figures["wage_parity"] == pytest.approx(1.653, abs=1e-3)


def test_econ_text_report_has_the_seed_sections(capsys):
    assert main(["econ", "--mp", "109", "--err", "0.027", "--s-cust", "0.35", "--hours", "2"]) == 0
    out = capsys.readouterr().out
    for section in ("Performance", "Economics", "Spread allocation", "Platform revenue", "Customer economics",
                    "Unit economics"):
        assert section in out
    assert "$29.76/h" in out and "35.0%" in out


@pytest.mark.parametrize("argv,needle", [
    (["--mp", "109", "--err", "1.5"], "--err"),
    (["--mp", "-3", "--err", "0.1"], "--mp"),
    (["--mp", "109", "--err", "0.1", "--s-cust", "2"], "--s-cust"),
])
def test_bad_arguments_are_named(capsys, argv, needle):
    with pytest.raises(SystemExit) as info:
        main(["econ", *argv])
    assert info.value.code == 2
    assert needle in capsys.readouterr().err


def test_bad_config_file_is_a_one_line_error(tmp_path, capsys):
    bad = tmp_path / "e.yaml"
    bad.write_text("human_wage: -1\n")
    assert main(["econ", "--mp", "100", "--err", "0.05", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "human_wage" in err and str(bad) in err and "Traceback" not in err
