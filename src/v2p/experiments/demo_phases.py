"""The demo's phases that are not the launch loop itself: launching the stack, the cached encoder and yardsticks,
the oracle judged on the deploy shifts, and the data-value estimator's price for the customer's shifts.

Split from `v2p.experiments.demo` (the story and its run state) so each file stays readable.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from v2p.config import REPO_ROOT, EconomicsConfig
from v2p.economics.accounts import CSV_NAME, read_episode_csv
from v2p.economics.pricing import ShareEvidence
from v2p.errors import V2PError

SIM_LAUNCH = REPO_ROOT / "launch" / "sim.launch.yaml"
LEARN_LAUNCH = REPO_ROOT / "launch" / "train_from_bags.launch.yaml"
DEFAULT_CACHE = REPO_ROOT / "runs" / "cache"  # encoders, oracles and sweeps that every demo run shares
ENCODERS = {"video": ("streaming", "video"), "mlp": ("mlp", "latent")}  # --encoder -> (encoder kind, observation)


# ---------------------------------------------------------------------------- launching the graph
def episodes_recorded(run_dir: Path, site: str, first: int, last: int | None = None) -> int:
    path = run_dir / CSV_NAME
    if not path.exists():
        return 0
    return sum(1 for r in read_episode_csv(path)
               if r["site"] == site and first <= int(r["episode"]) and (last is None or int(r["episode"]) < last))


def launch(run_dir: Path, phase: str, path: Path, args: dict[str, str], on_tick: Callable[[], None]) -> int:
    """Run one launch file to its end, its output in run_dir/logs/<phase>.log; returns its exit code."""
    from v2p.launch import run_launch

    (run_dir / "logs").mkdir(exist_ok=True)
    stop = threading.Event()
    result: dict[str, int] = {}
    with open(run_dir / "logs" / f"{phase}.log", "a") as log:
        thread = threading.Thread(target=lambda: result.setdefault("rc", run_launch(path, args, stop, out=log)))
        thread.start()
        try:
            while thread.is_alive():
                thread.join(1.0)
                on_tick()
        except KeyboardInterrupt:
            stop.set()
            thread.join()
            raise
    return result.get("rc", 1)


def stack_args(run_dir: Path, site: str, episodes: int, first_episode: int, seed: int, bag_name: str,
               encoder: str, encoder_checkpoint: Path, learn: bool, updates_per_transition: float,
               split_s: float) -> dict[str, str]:
    """The sim launch's arguments for one phase. sim_node works shift k of the launch on seed `seed` + k, so the
    demo passes seed = demo seed + first_episode: every shift's seed is the demo seed + its episode number."""
    from v2p.learning import CheckpointVersions

    kind, observation = ENCODERS[encoder]
    checkpoint = run_dir / "checkpoints" / "learner"
    return {
        "site": site, "episodes": str(episodes), "seed": str(seed), "record_dir": str(run_dir / "bags"),
        "bag_name": bag_name, "split_s": str(split_s),
        "updates_per_transition": repr(float(updates_per_transition if learn else 0.0)),
        "checkpoint": str(checkpoint) if CheckpointVersions(checkpoint).latest() is not None else "",
        "learner_checkpoint": str(checkpoint), "run_dir": str(run_dir), "first_episode": str(first_episode),
        "s_cust_file": str(run_dir / "s_cust.yaml"), "encoder": "video" if kind == "streaming" else "mlp",
        "observation": observation, "encoder_checkpoint": str(encoder_checkpoint),
        # the mlp encoder reads /sim/state: no camera frames to render; video renders the decision frames only
        "render": "true" if kind == "streaming" else "false", "decision_frames_only": "true",
        "tick_period_s": "1.0",  # /clock once per sim second inside a cycle is plenty
        # SAC explores with its stochastic policy while it learns; the deployed policy acts with its mean
        "deterministic": "false" if learn else "true",
    }


def run_stack(run_dir: Path, phase: str, args: dict[str, str], on_progress: Callable[[int], None]) -> str | None:
    """One launch of the sim stack for args' shifts; V2PError when it ends before working them all. Returns a
    warning when every shift was worked and booked but the launch still exited nonzero (a node that outlived
    launch's shutdown timeout, e.g. a learner mid-round on a loaded machine)."""
    site, episodes, first = args["site"], int(args["episodes"]), int(args["first_episode"])

    def done() -> int:
        return episodes_recorded(run_dir, site, first, first + episodes)

    rc = launch(run_dir, phase, SIM_LAUNCH, args, lambda: on_progress(done()))
    n = done()
    on_progress(n)
    if n < episodes:
        raise V2PError(f"the {phase} phase ended after {n} of {episodes} episodes (launch exit code {rc}); "
                       f"see {run_dir / 'logs' / (phase + '.log')}")
    if rc != 0:
        return f"launch exit code {rc} after all {episodes} shifts were booked (see logs/{phase}.log)"
    return None


def run_learner_once(run_dir: Path, updates_per_transition: float, observation: str, seed: int) -> None:
    """The learner node over every closed bag of the run: pays the updates they are owed, announces, exits."""
    args = {"record_dir": str(run_dir / "bags"), "checkpoint": str(run_dir / "checkpoints" / "learner"),
            "updates_per_transition": repr(float(updates_per_transition)), "observation": observation,
            "seed": str(seed), "once": "true"}
    rc = launch(run_dir, "learn", LEARN_LAUNCH, args, lambda: None)
    if rc != 0:
        raise V2PError(f"the learner's last pass failed (launch exit code {rc}); see {run_dir / 'logs' / 'learn.log'}")


# ---------------------------------------------------------------------------- cached phases
def cached_sweep(site: str, grid: int, episodes: int, workers: int, seed: int, cfg: EconomicsConfig,
                 cache_dir: Path) -> Any:
    """The coarse fixed-action (speed, care) sweep of `site`, cached by the site's configuration, the economics,
    the grid, the episodes and the seed."""
    from v2p.experiments.frontier import load_npz, save_npz, sweep
    from v2p_sim import load_site

    text = json.dumps([repr(load_site(site)), repr(cfg), grid, episodes, seed])
    path = cache_dir / "sweeps" / f"sweep-{site}-{hashlib.sha256(text.encode()).hexdigest()[:16]}.npz"
    if path.is_file():
        return load_npz(path)
    result = sweep(site, grid, episodes, workers, seed=seed, econ_config=cfg)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npz")
    save_npz(result, tmp)
    tmp.replace(path)
    return result


def judge_deploy(run_dir: Path, site: str, first: int, seed: int, oracle: Any, cfg: EconomicsConfig,
                 workers: int) -> dict[str, object]:
    """The oracle worked on the very shifts the deployed policy worked (shift seed = demo seed + episode, as
    `stack_args` launches them), paired shift by shift with the policy's outcomes from episodes.csv."""
    from v2p.experiments.executor import LocalExecutor
    from v2p.experiments.oracle import ShiftOutcome, evaluate_shifts, optimality, pooled_wage
    from v2p.experiments.stats import BOOTSTRAP_METHOD

    rows = sorted((r for r in read_episode_csv(run_dir / CSV_NAME) if r["site"] == site
                   and int(r["episode"]) >= first), key=lambda r: int(r["episode"]))
    policy = [ShiftOutcome(seed + int(r["episode"]), int(r["units"]), int(r["errors"]), float(r["hours"]))
              for r in rows]
    oracle_shifts = evaluate_shifts(site, oracle.act, [p.seed for p in policy], executor=LocalExecutor(workers))
    ratio, ci = optimality(policy, oracle_shifts, cfg)
    return {"oracle_implied_wage": pooled_wage(oracle_shifts, cfg), "optimality_ratio": ratio,
            "optimality_ci": None if any(math.isnan(c) for c in ci) else list(ci),  # nan: a denominator ≤ 0 "optimality_method": f"{BOOTSTRAP_METHOD}, {len(policy)} deploy shifts",
            "oracle_table": {k: list(v) for k, v in oracle.table.items()}, "oracle_key": oracle.key,
            "oracle_shifts": [[o.seed, o.units, o.errors, o.hours] for o in oracle_shifts],
            "policy_shifts": [[o.seed, o.units, o.errors, o.hours] for o in policy]}


# ---------------------------------------------------------------------------- the predicted data value
def estimator_price(platform_bags: Sequence[Path], customer_bags: Sequence[Path], cfg: EconomicsConfig,
                    platform_checkpoint: Path | None, estimator: Any) -> tuple[ShareEvidence | None, dict]:
    """The shipped estimator's share on offer for the customer's data seen so far (its 95% Student-t interval: the
    contract's rule decides whether it may price), and what it was computed from; (None, why) without one."""
    from v2p.experiments.customer_features import customer_features

    if estimator is None:
        return None, {"source": "none", "why": "no data-value estimator ships (config/data_value/estimator.json)"}
    if platform_checkpoint is None:
        return None, {"source": "none", "why": "the platform phase trained no policy (too few shifts): the "
                      "estimator's policy features cannot be computed"}
    features = customer_features(platform_bags, customer_bags, cfg, platform_checkpoint=platform_checkpoint)
    x = [float(features[name]) for name in estimator.feature_names]
    pred = estimator.predict(x)
    lo, hi = (float(v) for v in pred.interval(0.95))
    lo90, hi90 = (float(v) for v in pred.interval(0.90))
    share = min(max(float(pred.mean), 0.0), 1.0)  # a share lies in [0, 1]; the interval says how sure
    method = (f"data-value estimator ({estimator.samples} measured customers), Student t 95% predictive, "
              f"features of {len(customer_bags)} customer bag folder(s)")
    info = {"source": "estimator", "predicted": float(pred.mean), "interval95": [lo, hi], "interval90": [lo90, hi90],
            "features": dict(zip(estimator.feature_names, x)), "samples": estimator.samples}
    return ShareEvidence(share, "estimator", (lo, hi), method), info
