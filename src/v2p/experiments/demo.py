"""The main job: learn a wage-parity policy through the ROS 2 graph, price the data, report the economics.

The story the product sells, in phases, all on simulated time:
  1. frontier   the (speed, care) sweep of the customer's site: the best SLA-feasible implied wage to beat.
  2. platform   the sim stack (`launch/sim.launch.yaml`) at the platform's own site: episodes are recorded to
                bags, the learner node trains SAC from each closed bag and the policy node hot-reloads.
  3. customer   the same stack at the customer's site, starting from the platform's policy; the learner keeps
                training on the platform's and the customer's bags. Episodes are priced with the online
                estimator's s_cust (uncalibrated until it holds enough measurements).
  4. learn      the learner node alone (`launch/train_from_bags.launch.yaml once:=true`) pays the updates the last
                bags are still owed at its replay ratio: the bag a launch closes at shutdown, and any backlog a busy
                machine left.
  5. attribute  the counterfactual pair (trained with and without the customer's bags, same seeds and budget,
                evaluated on the customer's site): measured s_cust with a confidence interval; the estimator is
                updated with the measurement.
  6. deploy     the learned policy works shifts at the customer's site, priced with the measured s_cust.
Every episode's allocation goes to the run's ledger (SQLite, integer cents) and episode CSV as it ends.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from v2p.config import REPO_ROOT, EconomicsConfig
from v2p.economics.accounts import CSV_NAME, read_episode_csv
from v2p.economics.data_value import DataValueEstimator
from v2p.economics.pricing import PLATFORM_SITE as PLATFORM_SITE_SHARE
from v2p.economics.pricing import ShareEvidence, write_share_file
from v2p.errors import V2PError

SIM_LAUNCH = REPO_ROOT / "launch" / "sim.launch.yaml"
LEARN_LAUNCH = REPO_ROOT / "launch" / "train_from_bags.launch.yaml"
PLATFORM_SITE = "default"
CUSTOMER_SITE = "customer_bistro"


@dataclass(frozen=True)
class DemoBudget:
    """How much work each phase does. The defaults end within 10 minutes on a 2-core CPU."""

    platform_episodes: int = 26
    customer_episodes: int = 16
    deploy_episodes: int = 8  # ~120 dishes: the SLA's 6% is judged on enough of them to mean something
    updates_per_transition: float = 4.0  # the learner node's replay ratio
    split_s: float = 12.0  # wall seconds per bag (the learner reads a bag when it closes)
    attribution_seeds: int = 2
    attribution_steps: int = 1000  # per fit: the platform's policy, then each of its two fine-tunings
    attribution_eval_episodes: int = 2
    sweep_grid: int = 6
    sweep_episodes: int = 1
    workers: int = 2

    def scaled(self, factor: float) -> DemoBudget:
        """Every episode count and step budget × factor (at least the minimum that still tells the story)."""
        def n(x: int, low: int) -> int:
            return max(low, round(x * factor))

        return DemoBudget(n(self.platform_episodes, 2), n(self.customer_episodes, 2), n(self.deploy_episodes, 1),
                          self.updates_per_transition, self.split_s, max(2, self.attribution_seeds),
                          n(self.attribution_steps, 50), n(self.attribution_eval_episodes, 1),
                          max(3, min(self.sweep_grid, n(self.sweep_grid, 3))), self.sweep_episodes, self.workers)


@dataclass
class RunState:
    """run_dir/state.json: which phases finished, so a killed demo resumes where it stopped."""

    done: list[str]
    best_feasible: dict[str, dict[str, float]]
    attribution: dict[str, object] | None = None
    novelty: float | None = None

    @classmethod
    def load(cls, run_dir: Path) -> RunState:
        path = run_dir / "state.json"
        if not path.exists():
            return cls([], {})
        try:
            return cls(**json.loads(path.read_text()))
        except (ValueError, TypeError) as exc:
            raise V2PError(f"{path}: not a demo state file ({exc}); use a new --run folder") from None

    def save(self, run_dir: Path) -> None:
        tmp = run_dir / "state.json.tmp"
        tmp.write_text(json.dumps(asdict(self), indent=1))
        os.replace(tmp, run_dir / "state.json")


def write_s_cust(run_dir: Path, evidence: ShareEvidence) -> Path:
    """The file econ_monitor_node re-reads at each episode end: the share on offer, its interval and source; the
    node prices each episode from it by the contract's rule (`v2p.economics.pricing`)."""
    return write_share_file(run_dir / "s_cust.yaml", evidence)


def load_estimator(run_dir: Path, cfg: EconomicsConfig) -> DataValueEstimator:
    path = run_dir / "estimator.json"
    if path.exists():
        return DataValueEstimator.from_dict(json.loads(path.read_text()))
    return DataValueEstimator(1, cfg.data_value.prior_precision, cfg.data_value.min_samples)


def save_estimator(run_dir: Path, est: DataValueEstimator) -> None:
    tmp = run_dir / "estimator.json.tmp"
    tmp.write_text(json.dumps(est.to_dict()))
    os.replace(tmp, run_dir / "estimator.json")


def episodes_recorded(run_dir: Path, site: str, first: int) -> int:
    path = run_dir / CSV_NAME
    if not path.exists():
        return 0
    return sum(1 for r in read_episode_csv(path) if r["site"] == site and int(r["episode"]) >= first)


def _launch(run_dir: Path, phase: str, path: Path, args: dict[str, str], on_tick: Callable[[], None]) -> int:
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


def learner_args(run_dir: Path, budget: DemoBudget) -> dict[str, str]:
    return {"record_dir": str(run_dir / "bags"), "checkpoint": str(run_dir / "checkpoints" / "learner"),
            "updates_per_transition": repr(float(budget.updates_per_transition))}


def run_stack(run_dir: Path, phase: str, site: str, episodes: int, first_episode: int, seed: int,
              budget: DemoBudget, learn: bool, on_progress: Callable[[int], None]) -> None:
    """One launch of the sim stack for `episodes` shifts; its output goes to run_dir/logs/<phase>.log."""
    from v2p.learning import CheckpointVersions

    checkpoint = run_dir / "checkpoints" / "learner"
    args = {
        "site": site, "episodes": str(episodes), "seed": str(seed), "record_dir": str(run_dir / "bags"),
        "bag_name": phase, "split_s": str(budget.split_s),
        "updates_per_transition": repr(float(budget.updates_per_transition if learn else 0.0)),
        "checkpoint": str(checkpoint) if CheckpointVersions(checkpoint).latest() is not None else "",
        "learner_checkpoint": str(checkpoint), "run_dir": str(run_dir), "first_episode": str(first_episode),
        "s_cust_file": str(run_dir / "s_cust.yaml"), "encoder_checkpoint": str(run_dir / "encoder"),
        # the mlp encoder reads /sim/state: no camera frames to render, and /clock once per sim second is plenty
        "render": "false", "tick_period_s": "1.0",
        # SAC explores with its stochastic policy while it learns; the deployed policy acts with its mean
        "deterministic": "false" if learn else "true",
    }
    rc = _launch(run_dir, phase, SIM_LAUNCH, args,
                 lambda: on_progress(episodes_recorded(run_dir, site, first_episode)))
    done = episodes_recorded(run_dir, site, first_episode)
    on_progress(done)
    if rc != 0 or done < episodes:
        raise V2PError(f"the {phase} phase ended after {done} of {episodes} episodes (launch exit code "
                       f"{rc}); see {run_dir / 'logs' / (phase + '.log')}")


def run_learner_once(run_dir: Path, budget: DemoBudget) -> None:
    """The learner node over every closed bag of the run: pays the updates they are owed, announces, exits."""
    rc = _launch(run_dir, "learn", LEARN_LAUNCH, learner_args(run_dir, budget) | {"once": "true"}, lambda: None)
    if rc != 0:
        raise V2PError(f"the learner's last pass failed (launch exit code {rc}); see {run_dir / 'logs' / 'learn.log'}")


# Episode numbers of each phase start here, so the ledger's (site, episode) keys never collide across launches.
FIRST_EPISODE = {"platform": 0, "customer": 1000, "deploy": 2000}


def run_demo(run_dir: Path, budget: DemoBudget, cfg: EconomicsConfig, seed: int = 0,
             progress: Callable[[str, int, int], None] = lambda *_: None) -> dict[str, object]:
    """Run (or resume) the main job in `run_dir`; returns the summary figures (also in run_dir/summary.json)."""
    import torch

    from v2p.encoders import make_encoder, save_encoder
    from v2p.experiments.attribution import bag_folders_transitions, data_novelty, measure_attribution
    from v2p.experiments.frontier import save_csv, save_npz, sweep
    from v2p.task.dishwashing import POLICY_INPUTS, STATE

    run_dir.mkdir(parents=True, exist_ok=True)
    state = RunState.load(run_dir)
    bags = run_dir / "bags"
    os.environ.setdefault("ROS_LOG_DIR", str(run_dir / "logs" / "ros"))
    os.environ.setdefault("FASTDDS_BUILTIN_TRANSPORTS", "LARGE_DATA")
    os.environ.setdefault("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")  # the demo's graph stays on this machine

    if not (run_dir / "encoder").exists():  # one frozen MLP encoder for the whole run, shared by every launch
        torch.manual_seed(seed)
        save_encoder(make_encoder("mlp", state_dim=STATE.dim), run_dir / "encoder")
    estimator = load_estimator(run_dir, cfg)

    if "frontier" not in state.done:
        progress("frontier", 0, 1)
        for site in (CUSTOMER_SITE,):
            result = sweep(site, budget.sweep_grid, budget.sweep_episodes, budget.workers, seed=seed,
                           econ_config=cfg)
            save_npz(result, run_dir / f"frontier_{site}.npz")
            save_csv(result, run_dir / f"frontier_{site}.csv")
            best = result.best_feasible(cfg.sla.error_target)
            if best is None:
                raise V2PError(f"no SLA-feasible (speed, care) point at {site}: the frontier sweep found none")
            state.best_feasible[site] = best.as_dict()
        state.done.append("frontier")
        state.save(run_dir)
        progress("frontier", 1, 1)

    phases = [("platform", PLATFORM_SITE, budget.platform_episodes, True),
              ("customer", CUSTOMER_SITE, budget.customer_episodes, True)]
    for phase, site, episodes, learn in phases:
        if phase in state.done:
            continue
        if phase == "customer":
            pred, _ = estimator.predict(0.0 if state.novelty is None else state.novelty)
            cal = estimator.calibration()
            # the estimator predicts ΔMPL, not a share with its interval: the contract's rule prices these shifts
            write_s_cust(run_dir, ShareEvidence(0.0 if not cal.calibrated else min(max(pred, 0.0), 1.0), "estimator",
                                                None, f"online estimator, {cal.status}"))
        else:
            write_s_cust(run_dir, PLATFORM_SITE_SHARE)
        first = FIRST_EPISODE[phase]
        run_stack(run_dir, phase, site, episodes, first, seed + first, budget, learn,
                  lambda n, p=phase, e=episodes: progress(p, n, e))
        state.done.append(phase)
        state.save(run_dir)

    if "learn" not in state.done:
        progress("learn", 0, 1)
        run_learner_once(run_dir, budget)
        state.done.append("learn")
        state.save(run_dir)
        progress("learn", 1, 1)

    if "attribute" not in state.done:
        progress("attribute", 0, budget.attribution_seeds)
        platform_bags, customer_bags = [bags / "platform"], [bags / "customer"]
        reference = bag_folders_transitions(platform_bags, cfg, POLICY_INPUTS["oracle_state"])
        state.novelty = data_novelty(reference, bag_folders_transitions(customer_bags, cfg, POLICY_INPUTS["oracle_state"]), seed)
        attribution = measure_attribution(CUSTOMER_SITE, platform_bags, customer_bags,
                                          list(range(seed, seed + budget.attribution_seeds)),
                                          budget.attribution_steps, budget.attribution_eval_episodes,
                                          run_dir / "attribution", cfg)
        for m in attribution.seeds:
            estimator.update(state.novelty, m.delta_mpl_cust)
        save_estimator(run_dir, estimator)
        state.attribution = attribution.as_dict() | {"novelty": state.novelty}
        ci = attribution.s_cust_ci
        write_s_cust(run_dir, ShareEvidence(attribution.s_cust, "measured", None if ci is None else tuple(ci),
                                            f"counterfactual pair over {len(attribution.seeds)} seeds"))
        state.done.append("attribute")
        state.save(run_dir)
        (run_dir / "attribution.json").write_text(json.dumps(state.attribution, indent=1))

    if "deploy" not in state.done:
        first = FIRST_EPISODE["deploy"]
        run_stack(run_dir, "deploy", CUSTOMER_SITE, budget.deploy_episodes, first, seed + first, budget, False,
                  lambda n: progress("deploy", n, budget.deploy_episodes))
        state.done.append("deploy")
        state.save(run_dir)

    return summarize_run(run_dir, cfg)


def summarize_run(run_dir: Path, cfg: EconomicsConfig) -> dict[str, object]:
    """The summary figures of a run folder, read from its ledger: the deployed policy's shifts at the customer's
    site (also written to run_dir/summary.json, which `books_balanced` holds to the ledger)."""
    from v2p.economics.accounts import LEDGER_NAME, SUMMARY_NAME
    from v2p.economics.ledger import open_existing_ledger
    from v2p.economics.report import investor_figures
    from v2p.experiments.summary import summary_figures

    state = RunState.load(run_dir)
    if "deploy" not in state.done:
        raise V2PError(f"{run_dir}: the demo has not reached its deploy phase yet (done: {state.done}); "
                       "run `v2p demo --run` on it again to resume")
    best = state.best_feasible.get(CUSTOMER_SITE, {}).get("implied_wage")
    with open_existing_ledger(run_dir / LEDGER_NAME) as ledger:
        figures = summary_figures(investor_figures(ledger, cfg, CUSTOMER_SITE, FIRST_EPISODE["deploy"]), best, cfg)
    attribution = state.attribution or {}
    figures["s_cust_measured"] = attribution.get("s_cust")
    figures["s_cust_ci"] = attribution.get("s_cust_ci")
    calibration = load_estimator(run_dir, cfg).calibration()
    figures["estimator"] = {"status": calibration.status, "samples": calibration.samples,
                            "mean_abs_error": calibration.mean_abs_error}
    (run_dir / SUMMARY_NAME).write_text(json.dumps(figures, indent=1))
    return figures
