"""The share pricing rule (a wide interval never sets a rebate), the s_cust file, and the two contracts."""

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from v2p.config import ContractConfig, EconomicsConfig
from v2p.economics.contract import episode_books
from v2p.economics.money import split_cents
from v2p.economics.pricing import (
    PLATFORM_SITE,
    PRICING_RULES,
    ShareEvidence,
    price_share,
    read_share_file,
    write_share_file,
)
from v2p.errors import ConfigError

CFG = EconomicsConfig()
contracts = st.builds(ContractConfig, default_customer_share=st.floats(0, 1), max_share_interval=st.floats(0, 1))
intervals = st.one_of(st.none(), st.tuples(st.floats(-2, 2), st.floats(0, 2)).map(lambda t: (t[0], t[0] + t[1])))


@settings(max_examples=3000, deadline=None)
@given(st.floats(0, 1), st.sampled_from(["measured", "estimator"]), intervals, contracts)
def test_a_wide_interval_never_sets_the_rebate(s_cust, source, interval, contract):
    evidence = ShareEvidence(s_cust, source, interval, "m")
    priced = price_share(evidence, contract)
    narrow = interval is not None and interval[1] - interval[0] <= contract.max_share_interval
    if narrow:
        assert (priced.share, priced.rule) == (s_cust, source)
    else:
        assert (priced.share, priced.rule) == (contract.default_customer_share, "contract_default")
    assert priced.interval == interval and priced.offered == s_cust and priced.rule in PRICING_RULES
    cfg = replace(CFG, contract=contract)
    books = episode_books(109, 3, 1.0, priced, cfg)  # above parity: a spread to share
    spread = books.cents("spread")
    assert spread > 0
    assert books.cents("rebate") == split_cents(spread, priced.share)[0]  # the priced share, never the offered one
    assert abs(books.cents("rebate") - spread * priced.share) <= 0.5 + 1e-6


def test_the_platform_site_and_no_offer():
    assert (price_share(PLATFORM_SITE, CFG.contract).share, price_share(PLATFORM_SITE, CFG.contract).rule) == (
        0.0, "platform_site")
    none = price_share(None, ContractConfig(default_customer_share=0.2))
    assert (none.share, none.rule, none.interval) == (0.2, "contract_default", None)


def test_the_default_contract_limits_the_interval_to_thirty_share_points():
    c = EconomicsConfig().contract
    assert (c.kind, c.max_share_interval, c.default_customer_share) == ("labor_value", 0.30, 0.0)
    assert price_share(ShareEvidence(0.326, "measured", (0.104, 0.547), "demo pair"), c).rule == "contract_default"
    assert price_share(ShareEvidence(0.326, "measured", (0.20, 0.45), "pair"), c).rule == "measured"


def test_per_clean_unit_bills_the_units_and_credits_no_rebate():
    cfg = replace(CFG, contract=ContractConfig(kind="per_clean_unit", price_per_unit=0.22))
    share = price_share(ShareEvidence(0.5, "measured", (0.45, 0.55), "pair"), cfg.contract)
    books = episode_books(100, 4, 1.0, share, cfg)
    assert {p.kind: p.cents for p in books.postings} == {"units": 2200, "energy": 10, "capital": 170}
    assert books.captured_spread_cents == 0 and books.net_cents("customer") == -2200


def test_share_file_round_trip_and_errors_name_the_key(tmp_path):
    path = tmp_path / "s_cust.yaml"
    evidence = ShareEvidence(0.25, "measured", (0.1, 0.35), "counterfactual pair over 4 seeds")
    write_share_file(path, evidence)
    assert read_share_file(path) == evidence
    for text, key in [("s_cust: 1.5\nsource: measured\n", "s_cust"),
                      ("s_cust: 0.2\nsource: counterfactual\n", "source"),
                      ("s_cust: 0.2\nsource: measured\ninterval: [0.3, 0.1]\n", "interval"),
                      ("s_cust: 0.2\nsource: measured\ninterval: [0.1]\n", "interval"),
                      ("s_cust: 0.2\nsource: measured\nmethod: 3\n", "method"),
                      ("s_cust: 0.2\nsource: measured\nci: [0.1, 0.2]\n", "ci")]:
        path.write_text(text)
        with pytest.raises(ConfigError) as info:
            read_share_file(path)
        assert str(path) in str(info.value) and f"'{key}'" in str(info.value)


@pytest.mark.parametrize("bad", [
    dict(share=1.2, source="measured"), dict(share=0.2, source="counterfactual"),
    dict(share=0.2, source="measured", interval=(0.3, 0.1)), dict(share=float("nan"), source="estimator"),
])
def test_bad_evidence_is_refused(bad):
    with pytest.raises(ValueError):
        ShareEvidence(**bad)
