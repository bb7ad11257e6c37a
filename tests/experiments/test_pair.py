"""The counterfactual pair's machinery on tiny data: the same measurement through local processes and through Ray
(a local Ray), equal updates in both arms, the reference and the arms on the same shifts, policies that travel to
worker processes, and duplicated data that is the platform's own data action for action."""

import pickle

import numpy as np
import pytest

from v2p.config import EconomicsConfig
from v2p.errors import V2PError
from v2p.experiments.executor import LocalExecutor, RayExecutor
from v2p.experiments.pair import (PAIR_INPUT_NAME, ActorPolicy, FixedAction, PairBudget, eval_shift_seeds,
                                  measure_pair, platform_weights)
from v2p.experiments.pair_data import DataSet, record_many
from v2p.learning import transitions_from_bag
from v2p.bags import find_bags
from v2p.task.dishwashing import ACTION, POLICY_INPUTS, STATE

ECON = EconomicsConfig()
BUDGET = PairBudget(seeds=2, platform_updates=40, finetune_updates=20, eval_shifts=1)
STATE_INPUT = POLICY_INPUTS[PAIR_INPUT_NAME]  # what the pair acts on by default


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("pair_data")
    sets = [DataSet(str(root / "platform"), "default", 3, 0), DataSet(str(root / "customer"), "customer_bistro", 2, 50),
            DataSet(str(root / "replay"), "default", 3, 0)]  # the platform's shifts re-recorded: a null customer
    record_many(sets, LocalExecutor(2))
    return root


@pytest.fixture(scope="module")
def local_pair(data, tmp_path_factory):
    customers = {"bistro": ("customer_bistro", [data / "customer"])}
    return measure_pair(customers, [data / "platform"], tmp_path_factory.mktemp("local"), ECON, BUDGET,
                        LocalExecutor(2), STATE_INPUT)


def test_both_arms_get_equal_updates_from_the_same_platform_policy_and_the_with_arm_holds_more_data(local_pair):
    seeds, results = local_pair
    by = {(r.arm, r.seed): r for r in results}
    for s in BUDGET.seed_list:
        platform, without, with_ = by[("platform", s)], by[("without", s)], by[("with:bistro", s)]
        assert platform.updates == BUDGET.platform_updates
        assert without.updates == with_.updates == BUDGET.finetune_updates
        assert with_.transitions > without.transitions == platform.transitions > 0
        # every arm and the reference worked the seed's own evaluation shifts, at the customer's site
        for r in (without, with_, by[("reference", s)]):
            assert len(r.outcomes["customer_bistro"]) == BUDGET.eval_shifts
    assert [m.seed for m in seeds["bistro"]] == BUDGET.seed_list
    assert eval_shift_seeds(0, 2) != eval_shift_seeds(1, 2)  # seeds are independent replicates


def test_the_reference_is_the_safe_action_on_the_seeds_shifts(local_pair):
    from v2p.experiments.oracle import evaluate_shifts

    m = local_pair[0]["bistro"][0]
    (outcome,) = evaluate_shifts("customer_bistro", FixedAction(ACTION.safe), eval_shift_seeds(m.seed, 1))
    assert m.mp_reference == pytest.approx(outcome.units / outcome.hours)


def test_ray_runs_the_same_pair_as_local_processes(data, local_pair, tmp_path):
    import ray

    try:
        executor = RayExecutor("local", num_cpus=2)
        seeds, _ = measure_pair({"bistro": ("customer_bistro", [data / "customer"])}, [data / "platform"], tmp_path,
                                ECON, BUDGET, executor, STATE_INPUT)
    finally:
        ray.shutdown()
    assert executor.name == "ray (local)"
    for ray_seed, local_seed in zip(seeds["bistro"], local_pair[0]["bistro"]):
        assert ray_seed.mp_reference == pytest.approx(local_seed.mp_reference)
        assert ray_seed.mp_without == pytest.approx(local_seed.mp_without)
        assert ray_seed.mp_with == pytest.approx(local_seed.mp_with)


def test_a_fitted_policy_travels_to_another_process_and_acts_the_same(local_pair):
    from v2p.learning import resolve_checkpoint

    checkpoint = next(r.checkpoint for r in local_pair[1] if r.arm == "without")
    policy = ActorPolicy(resolve_checkpoint(checkpoint), STATE_INPUT)
    copy = pickle.loads(pickle.dumps(policy))
    rng = np.random.default_rng(0)
    for state in rng.uniform(0.0, 1.0, (5, STATE.dim)).astype(np.float32):
        assert copy(state) == pytest.approx(policy(state))
        assert all(lo <= a <= hi for a, lo, hi in zip(policy(state), ACTION.low, ACTION.high))


def test_shifts_re_recorded_from_the_platforms_seeds_are_the_platforms_transitions(data):
    def columns(folder):
        tr = [transitions_from_bag(b, ECON, STATE_INPUT) for b in find_bags(folder, complete_only=True)]
        return [np.concatenate([getattr(t, k) for t in tr]) for k in ("obs", "action", "parts", "done")]

    for mine, theirs in zip(columns(data / "replay"), columns(data / "platform")):
        np.testing.assert_array_equal(mine, theirs)
    assert platform_weights([data / "replay"], ECON, STATE_INPUT) == platform_weights([data / "platform"], ECON,
                                                                                       STATE_INPUT)


def test_the_budget_and_the_policy_input_are_checked():
    with pytest.raises(V2PError, match="two seeds"):
        PairBudget(seeds=1)
    with pytest.raises(V2PError, match="at least 1"):
        PairBudget(eval_shifts=0)
    with pytest.raises(V2PError, match="at least one customer"):
        measure_pair({}, [], "/nonexistent", ECON, BUDGET)
    with pytest.raises(V2PError, match="workcell state alone"):  # a policy that also needs a robot-state topic
        ActorPolicy("/nonexistent", POLICY_INPUTS["video"])
