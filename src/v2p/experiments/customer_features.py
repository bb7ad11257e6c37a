"""Features of a customer's data that the platform computes without retraining: the data-value estimator's input.

Everything comes from what the platform holds: the bags (the observable policy input
`POLICY_INPUTS["observable_state"]`, the recorded actions and /sim/events) and the platform's SAC checkpoint;
never a site's config file. `FEATURE_NAMES`, in order:

- `novelty`: mean kNN novelty (the SAC's `NoveltyEstimator`) of the customer's (observation, action) pairs
  against the platform's, in the platform's standardised coordinates;
- `novelty_ratio`: log of that over the platform's own novelty (every other platform transition against the rest):
  how much further the customer's data lies than the platform's data lies from itself;
- `dish_mix_tv`, `outcome_mix_tv`: total variation between the customer's and the platform's dish-type mix (over
  attempts, from the events' dish types) and outcome mix (unit or each error kind, per attempt);
- `error_rate_gap`: the customer's share of attempts that ended in an error minus the platform's;
- `log_transitions`, `log_transition_ratio`: log of the customer's transitions, and of their ratio to the
  platform's (the with arm's buffer share);
- `critic_error_ratio`: log of the platform critic's mean absolute error on the customer's transitions over its
  error on the platform's own (the critic regresses the cycle's reward: the preset's γ = 0);
- `action_gap`: mean Q(s, π(s)) − Q(s, a) on the customer's transitions minus the same on the platform's, over
  the platform's reward spread: how much better the platform policy thinks it would have done there.

The two policy features are always required (FEATURE_NAMES is fixed): `customer_features` without a checkpoint
is a V2PError, never a row with a feature silently missing. The critic reads the bags through the policy input
the checkpoint was trained on (its metadata's topics and observation size), so the demo's video-latent learner
and the corpus' observable-state platform policy both give reward-unit ratios of the same meaning.

`load_shipped_estimator` reads the fitted estimator that ships in config/data_value/estimator.json.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from v2p.config import REPO_ROOT, EconomicsConfig
from v2p.economics.data_value import DataValueEstimator
from v2p.errors import V2PError
from v2p.task import topics
from v2p.task.dishwashing import DISH_TYPES, EVENTS, POLICY_INPUTS
from v2p.task.observation import PolicyInput

FEATURE_NAMES: tuple[str, ...] = ("novelty", "novelty_ratio", "dish_mix_tv", "outcome_mix_tv", "error_rate_gap",
                                  "log_transitions", "log_transition_ratio", "critic_error_ratio", "action_gap")
FEATURE_INPUT = POLICY_INPUTS["observable_state"]  # what the bag features read: what a robot can sense
SHIPPED_ESTIMATOR = REPO_ROOT / "config" / "data_value" / "estimator.json"
TARGETS = ("s_cust", "delta_mpl_cust")
NOVELTY_SEED = 0  # the reservoir's sampling seed: the features are deterministic


@dataclass
class BagData:
    """The transitions and attempt outcomes of some recording folders, read through one policy input."""

    obs: np.ndarray
    action: np.ndarray
    parts: np.ndarray
    outcomes: list[tuple[str, str]]  # per attempt: (dish type, unit or error kind)


def read_bag_data(folders: Sequence[Path | str], econ: EconomicsConfig, policy_input: PolicyInput) -> BagData:
    """Every closed bag under `folders` (each folder's splits one stream, as the learner reads them)."""
    from v2p.bags import find_bags
    from v2p.learning import TransitionStream, bag_records
    from v2p.task.events import SimEvent
    from v2p.task.errors import MessageError

    obs, action, parts, outcomes = [], [], [], []
    for folder in folders:
        if not Path(folder).is_dir():
            raise V2PError(f"{folder}: not a folder of bags")
        stream = TransitionStream(econ, policy_input)
        for bag in find_bags(folder, complete_only=True):
            for rec in bag_records(bag, policy_input):
                stream.feed(rec)
                if rec.topic == topics.SIM_EVENTS:
                    try:
                        ev = SimEvent.from_array(rec.values, EVENTS)
                    except MessageError:
                        continue
                    if ev.kind in EVENTS.work_kinds:
                        outcomes.append((ev.dish_type, ev.kind))
        tr = stream.finish()
        if len(tr):
            obs.append(tr.obs), action.append(tr.action), parts.append(tr.parts)
    if not obs:
        raise V2PError(f"no transitions on {', '.join(policy_input.topics)} in the bags under "
                       f"{', '.join(map(str, folders))}")
    return BagData(np.concatenate(obs), np.concatenate(action), np.concatenate(parts), outcomes)


def _mix(outcomes: list[tuple[str, str]], index: int, labels: Sequence[str]) -> np.ndarray:
    counts = np.array([sum(1 for o in outcomes if o[index] == k) for k in labels], dtype=np.float64)
    return counts / counts.sum() if counts.sum() > 0 else np.full(len(labels), 1.0 / len(labels))


def _tv(p: np.ndarray, q: np.ndarray) -> float:
    return 0.5 * float(np.abs(p - q).sum())


def _novelty(reference: np.ndarray, data: np.ndarray) -> float:
    from v2p.rl import NoveltyEstimator

    est = NoveltyEstimator(reference.shape[1], seed=NOVELTY_SEED)
    est.observe(reference)
    return float(np.mean(est.score(data)))


def _checkpoint_input(meta: dict, obs_dim: int, path: Path) -> PolicyInput:
    """The policy input a checkpoint was trained on: its recorded topics, told apart by the observation size."""
    recorded = tuple((meta.get("extra") or {}).get("policy_input") or ())
    for p in POLICY_INPUTS.values():
        if recorded and tuple(p.topics) != recorded:
            continue
        if p.fields is not None and p.dim(0) != obs_dim:
            continue
        if p.topic == topics.SIM_STATE and p.fields is None:
            from v2p.task.dishwashing import STATE

            if STATE.dim != obs_dim:
                continue
        return p
    raise V2PError(f"{path}: the checkpoint's policy input (topics {list(recorded)}, {obs_dim} values) is none of "
                   f"{', '.join(POLICY_INPUTS)}")


def _policy_features(checkpoint: Path | str, platform_bags: Sequence[Path | str],
                     customer_bags: Sequence[Path | str], econ: EconomicsConfig) -> tuple[float, float]:
    """(critic_error_ratio, action_gap) of the platform's checkpoint on the customer's data (see the docstring)."""
    import torch

    from v2p.learning import resolve_checkpoint
    from v2p.rl import SAC

    path = resolve_checkpoint(checkpoint)
    model = SAC.load(path, device="cpu", threads=1)
    agent = model.agent
    policy_input = _checkpoint_input(model.metadata, agent.obs_dim, path)
    platform = read_bag_data(platform_bags, econ, policy_input)
    customer = read_bag_data(customer_bags, econ, policy_input)
    weights = (model.metadata.get("extra") or {}).get("reward_weights")
    if not weights:
        from v2p.experiments.pair import platform_weights

        weights = platform_weights(platform_bags, econ, policy_input)
    w = np.asarray(weights, dtype=np.float32)

    def q(obs: torch.Tensor, unit_action: np.ndarray) -> np.ndarray:
        values = agent.critic(obs, torch.as_tensor(unit_action))  # (critics, N)
        return (values.min(0).values if agent.config.critic_aggregate == "min" else values.mean(0)).numpy()

    def q_stats(d: BagData) -> tuple[float, float, np.ndarray]:
        obs = torch.as_tensor(d.obs, dtype=torch.float32)
        with torch.inference_mode():
            q_data = q(obs, agent.unit_action(d.action))
            q_pi = q(obs, agent.unit_action(agent.act(d.obs)))
        reward = d.parts @ w
        return float(np.abs(q_data - reward).mean()), float((q_pi - q_data).mean()), reward

    err_p, gap_p, reward_p = q_stats(platform)
    err_c, gap_c, _ = q_stats(customer)
    spread = max(float(reward_p.std()), 1e-9)
    return math.log(max(err_c, 1e-12) / max(err_p, 1e-12)), (gap_c - gap_p) / spread


def customer_features(platform_bags: Sequence[Path | str], customer_bags: Sequence[Path | str],
                      econ: EconomicsConfig, platform_checkpoint: Path | str | None = None) -> dict[str, float]:
    """The features of the customer's bags against the platform's (keys == FEATURE_NAMES; see the docstring)."""
    if platform_checkpoint is None:
        raise V2PError("the data-value features include the platform critic's error and action gap on the "
                       "customer's data: pass the platform's SAC checkpoint")
    platform = read_bag_data(platform_bags, econ, FEATURE_INPUT)
    customer = read_bag_data(customer_bags, econ, FEATURE_INPUT)
    ref = np.hstack([platform.obs, platform.action])
    data = np.hstack([customer.obs, customer.action])
    novelty = _novelty(ref, data)
    self_novelty = _novelty(ref[0::2], ref[1::2]) if len(ref) > 1 else novelty
    kinds = EVENTS.work_kinds
    err = [sum(1 for o in d.outcomes if o[1] != kinds[0]) / max(len(d.outcomes), 1) for d in (platform, customer)]
    critic_error, gap = _policy_features(platform_checkpoint, platform_bags, customer_bags, econ)
    out = {
        "novelty": novelty,
        "novelty_ratio": math.log(max(novelty, 1e-9) / max(self_novelty, 1e-9)),
        "dish_mix_tv": _tv(_mix(platform.outcomes, 0, DISH_TYPES), _mix(customer.outcomes, 0, DISH_TYPES)),
        "outcome_mix_tv": _tv(_mix(platform.outcomes, 1, kinds), _mix(customer.outcomes, 1, kinds)),
        "error_rate_gap": err[1] - err[0],
        "log_transitions": math.log(len(data)),
        "log_transition_ratio": math.log(len(data) / len(ref)),
        "critic_error_ratio": critic_error,
        "action_gap": gap,
    }
    assert tuple(out) == FEATURE_NAMES
    return {k: float(v) for k, v in out.items()}


def load_shipped_estimator(target: str = "s_cust", path: Path | None = None) -> DataValueEstimator | None:
    """The fitted estimator of `target` in config/data_value/estimator.json (or `path`); None when the file is
    absent; V2PError naming the file when it is malformed or was fitted on other features."""
    path = Path(path) if path is not None else SHIPPED_ESTIMATOR
    if target not in TARGETS:
        raise V2PError(f"unknown data-value target {target!r}: one of {', '.join(TARGETS)}")
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        saved = data["estimators"][target]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise V2PError(f"{path}: not a data-value estimator file (no estimators.{target}: {exc})") from None
    if not isinstance(saved, dict) or tuple(saved.get("feature_names") or ()) != FEATURE_NAMES:
        names = saved.get("feature_names") if isinstance(saved, dict) else None
        raise V2PError(f"{path}: the {target} estimator was fitted on features {names}, this code computes "
                       f"{list(FEATURE_NAMES)}; refit it with `v2p data-value fit`")
    try:
        return DataValueEstimator.from_dict(saved)
    except ValueError as exc:
        raise V2PError(f"{path}: {exc}") from None
