import pytest

from v2p.config import EconomicsConfig
from v2p.economics.monitor import EconomicsMonitor
from v2p.economics.pricing import ShareEvidence, price_share
from v2p.task.dishwashing import ACTION, EVENTS
from v2p.task.errors import MessageError
from v2p.task.events import SimEvent


def _shift(monitor, episode, kinds, cycle_s=30.0):
    t = 0.0
    monitor.on_event(SimEvent(episode, "episode_start", t))
    for i, kind in enumerate(kinds):
        t += cycle_s
        assert monitor.on_event(SimEvent(episode, kind, t, i, "plate")) is None
    return monitor.on_event(SimEvent(episode, "episode_end", t, episode_hours=t / 3600))


def test_episode_figures_come_from_the_events():
    cfg = EconomicsConfig()
    share = price_share(ShareEvidence(0.25, "measured", (0.2, 0.3), "pair"), cfg.contract)
    monitor = EconomicsMonitor(cfg, share)
    result = _shift(monitor, 0, ["unit"] * 19 + ["dropped"], cycle_s=10.0)
    assert (result.units, result.errors, result.attempts) == (19, 1, 20)
    hours = 200 / 3600
    assert result.hours == pytest.approx(hours)
    assert result.mp == pytest.approx(19 / hours)
    assert result.err_rate == pytest.approx(0.05)
    assert result.implied_wage == pytest.approx(0.3 * 19 / hours - 1.0 * 1 / hours)  # $1 per error counted
    assert result.profit == pytest.approx(result.implied_wage - 0.1 - 1.7)  # ŵ − energy − K/H
    assert result.lam == 0.0  # 5% meets the 6% SLA
    assert result.s_cust == 0.25 and result.books.share.rule == "measured"
    assert result.rebate + result.captured_spread == pytest.approx(max(result.spread_value, 0), abs=1e-9)
    assert result.billed == pytest.approx(result.implied_wage * hours, abs=0.005)  # value pricing
    assert result.rebate == pytest.approx(0.25 * result.spread_value, abs=0.005 + 1e-9)  # to the cent


def test_lambda_rises_on_a_violation():
    monitor = EconomicsMonitor(EconomicsConfig())
    result = _shift(monitor, 0, ["unit"] * 9 + ["dropped"])
    assert result.lam == pytest.approx(5.0 * (0.1 - 0.06))  # one dual ascent step
    assert result.books.share.rule == "platform_site" and result.rebate == 0


def test_rolling_weights_by_hours_and_lambda_persists_across_episodes():
    monitor = EconomicsMonitor(EconomicsConfig(), window=2)
    first = _shift(monitor, 0, ["unit"] * 10)
    second = _shift(monitor, 1, ["unit"] * 5 + ["broken"] * 5)
    assert second.lam > first.lam == 0.0
    rolling = monitor.rolling()
    assert rolling["mp"] == pytest.approx(15 / (600 / 3600))
    assert rolling["err_rate"] == pytest.approx(5 / 20)
    _shift(monitor, 2, ["unit"] * 10)
    assert monitor.rolling()["episodes"] == 2.0  # the window drops the oldest


def test_event_round_trip_and_bad_arrays():
    event = SimEvent(3, "dirty", 123.5, 7, "bowl")
    assert SimEvent.from_array(event.to_array(EVENTS), EVENTS) == event
    for bad in ([1.0, 2.0], [0, 99, 1, 0, 0, 0], [0, 0, float("nan"), 0, 0, 0], [0, 0, 1, 0, 7, 0]):
        with pytest.raises(MessageError):
            SimEvent.from_array(bad, EVENTS)


@pytest.mark.parametrize("bad", [[0.5], [0.5, 1.5], [float("nan"), 0.5], [0.1, 0.2, 0.3]])
def test_parse_action_rejects_bad_actions(bad):
    with pytest.raises(MessageError):
        ACTION.parse(bad)
    assert ACTION.parse([0.25, 1.0]) == (0.25, 1.0)
