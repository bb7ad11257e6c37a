"""Each error type provoked by a scripted scenario: the outcome follows from the physics of that scenario.

A scenario edits the plan of a careful cycle (plan_cycle(0.5, 1.0)), which on its own racks the dish cleanly.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from v2p_sim import Workcell, plan_cycle

from sim_helpers import one_kind_site

CAREFUL = plan_cycle(0.5, 1.0)


def _outcome(kind: str, plan, seed: int = 11) -> str:
    wc = Workcell(one_kind_site(kind), seed=seed)
    try:
        (event,) = wc.run_cycle(0.5, 1.0, plan=plan).events
        assert event.dish_type == kind
        return event.kind
    finally:
        wc.close()


@pytest.mark.parametrize("kind", ["plate", "glass"])
def test_careful_cycle_racks_a_clean_dish(kind: str) -> None:
    assert _outcome(kind, CAREFUL) == "unit"


def test_plate_released_from_height_breaks() -> None:
    assert _outcome("plate", replace(CAREFUL, release_height_m=0.30)) == "broken"
    assert _outcome("plate", replace(CAREFUL, release_height_m=0.10)) == "unit"  # a short drop it survives


def test_no_scrub_leaves_it_dirty() -> None:
    assert _outcome("plate", replace(CAREFUL, scrub_strokes=0)) == "dirty"


def test_weak_grip_drops_at_speed_but_holds_when_slow() -> None:
    weak = 6.0  # N of suction: less than a plate's weight plus a fast lift's inertia
    assert _outcome("plate", replace(plan_cycle(1.0, 1.0), vacuum_setpoint_n=weak)) == "dropped"
    assert _outcome("plate", replace(plan_cycle(0.0, 1.0), vacuum_setpoint_n=weak)) == "unit"


def test_bad_aim_misplaces() -> None:
    assert _outcome("plate", replace(CAREFUL, aim_offset_xy=(0.03, 0.0))) == "misplaced"
