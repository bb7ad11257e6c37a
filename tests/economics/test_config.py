"""Each rule of config/economics.yaml: a bad file gets a ConfigError that names the file and the key."""

import pytest

from v2p.config import DEFAULT_ECONOMICS, load_economics_config
from v2p.errors import ConfigError


def test_defaults_file_matches_design():
    cfg = load_economics_config()
    assert (cfg.unit_price, cfg.error_cost, cfg.energy_cost_per_hour, cfg.human_wage) == (0.30, 1.00, 0.10, 18.00)
    assert cfg.sla.error_target == 0.06
    assert (cfg.platform.robot_hours_per_year, cfg.platform.cost_per_robot_year, cfg.platform.fleet_size) == (
        1000, 1700, 1000)
    assert (cfg.contract.kind, cfg.contract.price_per_unit, cfg.contract.default_customer_share,
            cfg.contract.max_share_interval) == ("labor_value", None, 0.0, 0.30)


def test_the_per_unit_contract_loads(tmp_path):
    path = tmp_path / "economics.yaml"
    path.write_text("contract: {kind: per_clean_unit, price_per_unit: 0.24}\n")
    cfg = load_economics_config(path)
    assert (cfg.contract.kind, cfg.contract.price_per_unit, cfg.contract.max_share_interval) == (
        "per_clean_unit", 0.24, 0.30)


BAD = [
    ("unit_price: -0.3\n", "unit_price", "negative"),
    ("error_cost: -1\n", "error_cost", "negative"),
    ("human_wage: -18\n", "human_wage", "positive"),
    ("human_wage: 0\n", "human_wage", "positive"),
    ("energy_cost_per_hour: -0.1\n", "energy_cost_per_hour", "negative"),
    ("unit_price: cheap\n", "unit_price", "number"),
    ("unit_price: .nan\n", "unit_price", "finite"),
    ("unit_price: true\n", "unit_price", "number"),
    ("sla: {error_target: 0}\n", "sla.error_target", "(0, 1)"),
    ("sla: {error_target: 1.5}\n", "sla.error_target", "(0, 1)"),
    ("sla: {start_target: 1.0}\n", "sla.start_target", "(0, 1)"),
    ("sla: {curriculum_episodes: 2.5}\n", "sla.curriculum_episodes", "integer"),
    ("sla: {dual_step_size: 0}\n", "sla.dual_step_size", "positive"),
    ("platform: {fleet_size: 0}\n", "platform.fleet_size", "at least 1"),
    ("platform: {robot_hours_per_year: -5}\n", "platform.robot_hours_per_year", "positive"),
    ("platform: {cost_per_robot_year: -1}\n", "platform.cost_per_robot_year", "negative"),
    ("platform: 7\n", "platform", "mapping"),
    ("unit_prize: 0.3\n", "unit_prize", "unknown key"),
    ("sla: {eror_target: 0.05}\n", "sla.eror_target", "unknown key"),
    ("contract: {kind: hourly}\n", "contract.kind", "labor_value, per_clean_unit"),
    ("contract: {kind: per_clean_unit}\n", "contract.price_per_unit", "positive"),
    ("contract: {kind: per_clean_unit, price_per_unit: 0}\n", "contract.price_per_unit", "positive"),
    ("contract: {price_per_unit: 0.25}\n", "contract.price_per_unit", "only to kind per_clean_unit"),
    ("contract: {default_customer_share: 1.5}\n", "contract.default_customer_share", "[0, 1]"),
    ("contract: {max_share_interval: -0.1}\n", "contract.max_share_interval", "negative"),
    ("contract: {max_share_interval: wide}\n", "contract.max_share_interval", "number"),
    ("contract: {kind: 3}\n", "contract.kind", "string"),
    ("contract: {knd: labor_value}\n", "contract.knd", "unknown key"),
]


@pytest.mark.parametrize("text,key,problem", BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_bad_value_names_file_and_key(tmp_path, text, key, problem):
    path = tmp_path / "economics.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_economics_config(path)
    message = str(info.value)
    assert str(path) in message and f"'{key}'" in message and problem in message


@pytest.mark.parametrize("text,problem", [("unit_price: [1, 2\n", "not valid YAML"), ("- 1\n- 2\n", "mapping")])
def test_unparsable_file(tmp_path, text, problem):
    path = tmp_path / "economics.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=problem):
        load_economics_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_economics_config(tmp_path / "nope.yaml")


def test_partial_file_keeps_other_defaults(tmp_path):
    path = tmp_path / "economics.yaml"
    path.write_text("human_wage: 20.0\nsla: {error_target: 0.05}\n")
    cfg = load_economics_config(path)
    assert cfg.human_wage == 20.0 and cfg.sla.error_target == 0.05 and cfg.unit_price == 0.30
    assert DEFAULT_ECONOMICS.exists()
