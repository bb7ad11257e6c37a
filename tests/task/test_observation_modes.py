"""What the policy may see: in the default modes (the nodes' and commands' defaults, the launch files') the
observation holds no simulator-only quantity. Declared (every field's source) and checked on the simulator: two
workcells whose next dish differs only in its exact mass, wet friction and dirt (within what its tint shows) give
the same observation in every unprivileged mode, and a different one in `oracle_state`."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml

from v2p.task import topics
from v2p.task.dishwashing import DEFAULT_OBSERVATION, POLICY_INPUTS, ROBOT_STATE, STATE
from v2p.task.observation import OBSERVABLE_SOURCES, PolicyInput

REPO = Path(__file__).resolve().parents[2]


def launch_arg(path: Path, name: str) -> str:
    items = yaml.safe_load(path.read_text())["launch"]
    return next(i["arg"]["default"] for i in items if "arg" in i and i["arg"]["name"] == name)


def test_every_default_is_the_video_mode_and_it_carries_no_simulator_field():
    assert DEFAULT_OBSERVATION == "video"
    video = POLICY_INPUTS["video"]
    assert not video.privileged and set(video.sources) <= set(OBSERVABLE_SOURCES)
    assert video.topic == topics.LATENT and video.robot_state == topics.ROBOT_STATE
    assert video.robot_state_dim == ROBOT_STATE.dim and video.dim(128) == 128 + ROBOT_STATE.dim
    assert all(f.source in ("proprioception", "bookkeeping") for f in ROBOT_STATE.fields)
    for path in ("sim.launch.yaml", "robot.launch.yaml", "train_from_bags.launch.yaml"):
        assert launch_arg(REPO / "launch" / path, "observation") == DEFAULT_OBSERVATION, path
    for path in ("sim.launch.yaml", "robot.launch.yaml"):  # the latent comes from the camera, not /sim/state
        assert launch_arg(REPO / "launch" / path, "encoder") == "video", path
    for node in ("policy", "learner"):
        params = yaml.safe_load((REPO / "config" / "ros" / f"{node}.yaml").read_text())["/**"]["ros__parameters"]
        assert params["observation"] == DEFAULT_OBSERVATION, node
    from v2p.commands import learn

    sub = argparse.ArgumentParser().add_subparsers()
    learn.register(sub)
    assert sub.choices["learn"].parse_args(["--bags", "b", "--out", "o", "--steps", "1"]).observation == "video"


def test_each_mode_declares_what_it_draws_on():
    observable = POLICY_INPUTS["observable_state"]
    assert not observable.privileged
    assert [STATE.fields[i].source for i in observable.fields] and all(
        STATE.fields[i].source != "simulator" for i in observable.fields)
    assert {STATE.fields[i].name for i in range(STATE.dim)} - {STATE.fields[i].name for i in observable.fields} == {
        "dish_mass_kg", "dish_wet_friction", "dish_dirt"}
    assert POLICY_INPUTS["oracle_state"].privileged and POLICY_INPUTS["latent"].privileged  # (mlp: /sim/state)
    assert all(p.doc for p in POLICY_INPUTS.values())
    with pytest.raises(ValueError, match="robot_state_dim"):
        PolicyInput(topics.LATENT, robot_state=topics.ROBOT_STATE)
    with pytest.raises(ValueError, match="expected 6"):
        POLICY_INPUTS["video"].compose(np.zeros(128), np.zeros(ROBOT_STATE.dim + 1))


def observations(cell) -> dict[str, np.ndarray]:
    """Every mode's observation at this decision instant; the video mode as pixels + robot state."""
    state = cell.state_vector()
    robot = state[list(STATE.view("robot_state"))]
    out = {name: p.compose(state, robot if p.robot_state else None) for name, p in POLICY_INPUTS.items()
           if p.topic == topics.SIM_STATE}
    out["video"] = np.concatenate([cell.render_rgb().reshape(-1).astype(np.float32), robot])
    return out


def test_a_dish_that_differs_only_in_what_no_robot_senses_looks_the_same():
    v2p_sim = pytest.importorskip("v2p_sim")
    a, b = v2p_sim.Workcell("default", seed=6), v2p_sim.Workcell("default", seed=6)
    try:
        for cycle in range(3):
            for cell, sign in ((a, -1), (b, 1)):
                d = cell.in_play.dish
                shown = round(d.dirt, 2)  # the tint shows the dirt to two decimals: move it within that
                cell.in_play.dish = replace(d, mass_kg=d.mass_kg * (1 + 0.3 * sign),
                                            wet_friction=d.wet_friction * (1 + 0.2 * sign),
                                            dirt=shown + 0.004 * sign)
            seen_a, seen_b = observations(a), observations(b)
            for name, p in POLICY_INPUTS.items():
                if name in seen_a and not p.privileged:
                    np.testing.assert_array_equal(seen_a[name], seen_b[name], err_msg=f"{name}, cycle {cycle}")
            assert not np.array_equal(seen_a["oracle_state"], seen_b["oracle_state"])  # the check has teeth
            for cell in (a, b):  # then the same dish again in both, worked alike: the next instant is alike too
                cell.in_play.dish = replace(cell.in_play.dish, mass_kg=0.5, wet_friction=0.55,
                                            dirt=round(cell.in_play.dish.dirt, 2))
                cell.run_cycle(0.6, 0.9)
    finally:
        a.close()
        b.close()
