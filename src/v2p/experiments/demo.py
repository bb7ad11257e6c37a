"""The main job: learn a wage-parity policy from video through the ROS 2 graph, price the data, report the economics.

The story the product sells, in phases, all on simulated time:
  1. encoder    the streaming video encoder, trained on decision frames of both sites (`train_task_encoder`),
                cached under the shared cache folder by sites, budget, seed and code (`--encoder mlp`: a frozen MLP
                over /sim/state instead, privileged, for comparison).
  2. frontier   the coarse fixed-action (speed, care) sweep of the customer's site (cached): the second yardstick.
  3. platform   the sim stack (`launch/sim.launch.yaml`) at the platform's own site: camera → encoder → policy,
                episodes recorded to bags, the learner node trains SAC from each closed bag, the policy hot-reloads.
  4. customer   the same stack at the customer's site, from the platform's policy, in two launches. Its data's
                value can only be predicted from data, so the first `probe` shifts (no customer data exists yet)
                are priced at the contract's default share, the reason recorded; then the shipped data-value
                estimator predicts s_cust from the features of the platform's bags and the probe's closed bag, and
                that prediction, through the contract's wide-interval rule, prices the remaining shifts.
  5. learn      the learner node alone (`train_from_bags.launch.yaml once:=true`) pays the updates still owed.
  6. attribute  the powered counterfactual pair (`measure_attribution`, `PairBudget` × scale, local processes):
                measured s_cust with its Fieller interval, priced by the contract's rule; the estimator's
                prediction from all the customer's bags is put beside it and a run-local copy is updated with it.
  7. deploy     the learned policy (mean action) works shifts at the customer's site, priced by the measured share.
  8. oracle     the best SLA-feasible per-dish-type operating point of the customer's site (`cached_oracle`).
  9. yardstick  the oracle works the same shifts (same seeds): optimality = policy ŵ / oracle ŵ, paired bootstrap.
Every episode's allocation goes to the run's ledger (SQLite, integer cents) and episode CSV as it ends. Each
phase's wall time is kept in run_dir/state.json and reported (`phase_seconds`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from v2p.config import EconomicsConfig
from v2p.economics.accounts import CSV_NAME, read_episode_csv
from v2p.economics.pricing import PLATFORM_SITE as PLATFORM_SITE_SHARE
from v2p.economics.pricing import ShareEvidence, write_share_file
from v2p.encoders.task_encoder import TaskEncoderBudget
from v2p.errors import V2PError
from v2p.experiments.demo_phases import DEFAULT_CACHE, ENCODERS
from v2p.experiments.oracle import Oracle, OracleBudget
from v2p.experiments.pair import PairBudget

PLATFORM_SITE = "default"
CUSTOMER_SITE = "customer_bistro"
PHASES = ("encoder", "frontier", "platform", "customer", "learn", "attribute", "deploy", "oracle", "yardstick")
# Episode numbers of each phase start here, so the ledger's (site, episode) keys never collide across launches.
FIRST_EPISODE = {"platform": 0, "customer": 1000, "deploy": 2000}


@dataclass(frozen=True)
class DemoBudget:
    """How much work each phase does. Measured with the defaults (warm cache, 2 cores at load 11-18): 40 min, of
    which the pair 28 min; the 10-minute target needs a smaller pair (README, "What make demo does")."""

    platform_episodes: int = 26
    customer_episodes: int = 16
    customer_probe: int = 2  # customer shifts before the estimator has customer data to price from
    deploy_episodes: int = 8  # ~120 dishes: the SLA's 6% is judged on enough of them to mean something
    updates_per_transition: float = 4.0  # the learner node's replay ratio
    split_s: float = 12.0  # wall seconds per bag (the learner reads a bag when it closes)
    sweep_grid: int = 6
    sweep_episodes: int = 1
    workers: int = 2
    pair: PairBudget = field(default_factory=PairBudget)
    encoder: TaskEncoderBudget = field(default_factory=TaskEncoderBudget)
    oracle: OracleBudget = field(default_factory=OracleBudget)

    def scaled(self, factor: float) -> DemoBudget:
        """Every episode count and step budget × factor (at least the minimum that still tells the story)."""
        def n(x: int, low: int) -> int:
            return max(low, round(x * factor))

        customer = n(self.customer_episodes, 2)
        pair = replace(self.pair, seeds=n(self.pair.seeds, 2), platform_updates=n(self.pair.platform_updates, 50),
                       finetune_updates=n(self.pair.finetune_updates, 50), eval_shifts=n(self.pair.eval_shifts, 1))
        return replace(self, platform_episodes=n(self.platform_episodes, 2), customer_episodes=customer,
                       customer_probe=min(customer - 1, n(self.customer_probe, 1)),
                       deploy_episodes=n(self.deploy_episodes, 2),  # two shifts at least: intervals over shifts
                       sweep_grid=max(3, min(self.sweep_grid, n(self.sweep_grid, 3))), pair=pair,
                       encoder=self.encoder.scaled(factor), oracle=self.oracle.scaled(factor))


@dataclass
class RunState:
    """run_dir/state.json: which phases finished and what they found, so a killed demo resumes where it stopped
    and a finished one reports the same figures again."""

    done: list[str]
    encoder: dict[str, object] = field(default_factory=dict)  # kind, checkpoint, metrics
    fixed_action: dict[str, float] = field(default_factory=dict)  # the sweep's best SLA-feasible fixed action
    oracle: dict[str, object] = field(default_factory=dict)  # the cached oracle's table and prediction
    pricing: dict[str, object] = field(default_factory=dict)  # how the customer phase's shifts were priced
    attribution: dict[str, object] | None = None
    predicted: dict[str, object] = field(default_factory=dict)  # the estimator beside the measurement
    yardstick: dict[str, object] = field(default_factory=dict)
    phase_seconds: dict[str, float] = field(default_factory=dict)
    config: dict[str, object] = field(default_factory=dict)  # encoder, seed, cache of the run that made it
    warnings: list[str] = field(default_factory=list)  # what went wrong but did not stop the run

    @classmethod
    def load(cls, run_dir: Path) -> RunState:
        path = run_dir / "state.json"
        if not path.exists():
            return cls([])
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


def _platform_checkpoint(run_dir: Path) -> Path | None:
    """The platform's policy saved as the platform phase ended (None: it had not trained one yet)."""
    from v2p.learning import CheckpointVersions

    versions = CheckpointVersions(run_dir / "checkpoints" / "platform").versions()
    return versions[0] if versions else None


def run_demo(run_dir: Path, budget: DemoBudget, cfg: EconomicsConfig, seed: int = 0,
             progress: Callable[[str, int, int], None] = lambda *_: None, encoder: str = "video",
             cache_dir: Path = DEFAULT_CACHE) -> dict[str, object]:
    """Run (or resume) the main job in `run_dir`; returns the summary figures (also in run_dir/summary.json)."""
    from v2p.experiments import demo_phases as ph

    if encoder not in ENCODERS:
        raise V2PError(f"encoder must be one of {', '.join(ENCODERS)}, got {encoder!r}")
    run_dir.mkdir(parents=True, exist_ok=True)
    cache_dir = Path(cache_dir)
    state = RunState.load(run_dir)
    if state.config and state.config.get("encoder") != encoder:
        raise V2PError(f"{run_dir} was started with --encoder {state.config.get('encoder')}; resume it with that "
                       "or use a new --run folder")
    state.config = {"encoder": encoder, "seed": seed, "cache_dir": str(cache_dir)}
    bags = run_dir / "bags"
    kind, observation = ENCODERS[encoder]
    os.environ.setdefault("ROS_LOG_DIR", str(run_dir / "logs" / "ros"))
    os.environ.setdefault("FASTDDS_BUILTIN_TRANSPORTS", "LARGE_DATA")
    os.environ.setdefault("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")  # the demo's graph stays on this machine

    def phase(name: str, total: int, work: Callable[[], None]) -> None:
        if name in state.done:
            return
        progress(name, 0, total)
        t0 = time.perf_counter()
        work()
        state.phase_seconds[name] = round(time.perf_counter() - t0, 1)
        state.done.append(name)
        state.save(run_dir)
        progress(name, total, total)

    def encoder_phase() -> None:
        if kind == "streaming":
            path, metrics = ph_encoder(cache_dir, budget, seed)
            state.encoder = {"kind": kind, "checkpoint": str(path), "metrics": metrics}
        else:  # one frozen MLP encoder over /sim/state for the whole run, shared by every launch
            import torch

            from v2p.encoders import make_encoder, save_encoder
            from v2p.task.dishwashing import STATE

            torch.manual_seed(seed)
            save_encoder(make_encoder("mlp", state_dim=STATE.dim), run_dir / "encoder")
            state.encoder = {"kind": kind, "checkpoint": str(run_dir / "encoder"), "metrics": {}}

    def frontier_phase() -> None:
        from v2p.experiments.frontier import save_csv, save_npz

        result = ph.cached_sweep(CUSTOMER_SITE, budget.sweep_grid, budget.sweep_episodes, budget.workers, seed, cfg,
                                 cache_dir)
        save_npz(result, run_dir / f"frontier_{CUSTOMER_SITE}.npz")
        save_csv(result, run_dir / f"frontier_{CUSTOMER_SITE}.csv")
        best = result.best_feasible(cfg.sla.error_target)
        if best is None:
            raise V2PError(f"no SLA-feasible (speed, care) point at {CUSTOMER_SITE}: the frontier sweep found none")
        state.fixed_action = best.as_dict()

    def oracle_phase() -> None:
        oracle = _oracle(cache_dir, budget, cfg)
        state.oracle = {"key": oracle.key, "table": {k: list(v) for k, v in oracle.table.items()},
                        "predicted_wage": oracle.predicted_wage, "predicted_err": oracle.predicted_err,
                        "dishes_per_point": oracle.dishes_per_point}

    def stack(name: str, site: str, episodes: int, first: int, bag: str, learn: bool, total: int,
              before: int = 0) -> None:
        args = ph.stack_args(run_dir, site, episodes, first, seed + first, bag, encoder,
                             Path(str(state.encoder["checkpoint"])), learn, budget.updates_per_transition,
                             budget.split_s)
        warning = ph.run_stack(run_dir, bag, args, lambda n: progress(name, before + n, total))
        if warning:
            state.warnings.append(f"{bag}: {warning}")

    def platform_phase() -> None:
        from v2p.learning import CheckpointVersions

        write_s_cust(run_dir, PLATFORM_SITE_SHARE)
        stack("platform", PLATFORM_SITE, budget.platform_episodes, FIRST_EPISODE["platform"], "platform", True,
              budget.platform_episodes)
        # the platform's policy as it leaves its own site: what the estimator's policy features read (as the
        # corpus measured them), however the learner goes on at the customer's
        learner, keep = CheckpointVersions(run_dir / "checkpoints" / "learner"), run_dir / "checkpoints" / "platform"
        if learner.latest() is not None and not keep.exists():
            keep.mkdir(parents=True)
            learner.copy_latest_to(keep)

    def customer_phase() -> None:
        from v2p.experiments.customer_features import load_shipped_estimator

        first, probe = FIRST_EPISODE["customer"], budget.customer_probe
        if "customer_probe" not in state.pricing:
            write_s_cust(run_dir, ShareEvidence(cfg.contract.default_customer_share, "estimator", None,
                                                "no customer data recorded yet: the estimator's features need "
                                                "the customer's first closed bag"))
            stack("customer", CUSTOMER_SITE, probe, first, "customer_probe", True, budget.customer_episodes)
            state.pricing["customer_probe"] = {"episodes": probe, "rule": "contract_default"}
            state.save(run_dir)
        evidence, info = ph.estimator_price([bags / "platform"], [bags / "customer_probe"], cfg,
                                            _platform_checkpoint(run_dir), load_shipped_estimator("s_cust"))
        if evidence is None:  # no estimator ships: the contract's default share, and the ledger says why
            evidence = ShareEvidence(cfg.contract.default_customer_share, "estimator", None, info["why"])
        state.pricing["customer"] = info | {"episodes": budget.customer_episodes - probe}
        write_s_cust(run_dir, evidence)
        stack("customer", CUSTOMER_SITE, budget.customer_episodes - probe, first + probe, "customer", True,
              budget.customer_episodes, probe)

    def learn_phase() -> None:
        ph.run_learner_once(run_dir, budget.updates_per_transition, observation, seed)

    customer_bags = [bags / "customer_probe", bags / "customer"]

    def attribute_phase() -> None:
        from v2p.experiments.attribution import measure_attribution
        from v2p.experiments.executor import LocalExecutor

        attribution = measure_attribution(CUSTOMER_SITE, [bags / "platform"], customer_bags, run_dir / "attribution",
                                          cfg, budget.pair, LocalExecutor(budget.workers))
        state.attribution = attribution.as_dict()
        ci = attribution.s_cust_ci
        write_s_cust(run_dir, ShareEvidence(float(attribution.s_cust), "measured",
                                            None if ci is None else (float(ci[0]), float(ci[1])),
                                            attribution.ci_method))
        state.predicted = _predicted_beside_measured(run_dir, cfg, customer_bags, attribution.s_cust)
        (run_dir / "attribution.json").write_text(json.dumps(state.attribution, indent=1))

    def deploy_phase() -> None:
        stack("deploy", CUSTOMER_SITE, budget.deploy_episodes, FIRST_EPISODE["deploy"], "deploy", False,
              budget.deploy_episodes)

    def yardstick_phase() -> None:
        state.yardstick = ph.judge_deploy(run_dir, CUSTOMER_SITE, FIRST_EPISODE["deploy"], seed,
                                          _oracle(cache_dir, budget, cfg), cfg, budget.workers)

    phase("encoder", 1, encoder_phase)
    phase("frontier", 1, frontier_phase)
    phase("platform", budget.platform_episodes, platform_phase)
    phase("customer", budget.customer_episodes, customer_phase)
    phase("learn", 1, learn_phase)
    phase("attribute", budget.pair.seeds, attribute_phase)
    phase("deploy", budget.deploy_episodes, deploy_phase)
    phase("oracle", 1, oracle_phase)  # cached: a second run, or any run at the same site and economics, reads it
    phase("yardstick", 1, yardstick_phase)
    return summarize_run(run_dir, cfg)


def ph_encoder(cache_dir: Path, budget: DemoBudget, seed: int) -> tuple[Path, dict[str, object]]:
    """The demo's streaming encoder for both sites, from the shared cache when one was trained alike."""
    from v2p.encoders.task_encoder import train_task_encoder

    path, metrics = train_task_encoder([PLATFORM_SITE, CUSTOMER_SITE], seed, cache_dir / "encoders", budget.encoder)
    return path, {k: metrics.get(k) for k in ("key", "frames", "held_out_shifts", "targets", "render_s", "train_s",
                                              "cached")}


def _oracle(cache_dir: Path, budget: DemoBudget, cfg: EconomicsConfig) -> Oracle:
    from v2p.experiments.executor import LocalExecutor
    from v2p.experiments.oracle import cached_oracle

    return cached_oracle(CUSTOMER_SITE, cfg, cache_dir / "oracle", budget.oracle, LocalExecutor(budget.workers))


def _predicted_beside_measured(run_dir: Path, cfg: EconomicsConfig, customer_bags: list[Path],
                               measured: float) -> dict[str, object]:
    """The shipped estimator's prediction from all the customer's bags, next to the measurement; a run-local copy
    of the estimator (run_dir/estimator.json) is updated with the measurement."""
    from v2p.experiments.customer_features import load_shipped_estimator
    from v2p.experiments.demo_phases import estimator_price

    estimator = load_shipped_estimator("s_cust")
    evidence, info = estimator_price([run_dir / "bags" / "platform"], customer_bags, cfg,
                                     _platform_checkpoint(run_dir), estimator)
    if evidence is None:
        return info
    estimator.update(list(info["features"].values()), measured)
    tmp = run_dir / "estimator.json.tmp"
    tmp.write_text(json.dumps(estimator.to_dict()))
    os.replace(tmp, run_dir / "estimator.json")
    return info | {"measured": measured, "updated_samples": estimator.samples}


def summarize_run(run_dir: Path, cfg: EconomicsConfig) -> dict[str, object]:
    """The summary figures of a run folder, read from its ledger: the deployed policy's shifts at the customer's
    site (also written to run_dir/summary.json, which `books_balanced` holds to the ledger)."""
    from v2p.economics.accounts import LEDGER_NAME, SUMMARY_NAME, books_balanced
    from v2p.economics.ledger import open_existing_ledger
    from v2p.economics.report import investor_figures
    from v2p.experiments.summary import summary_figures

    state = RunState.load(run_dir)
    if "deploy" not in state.done:
        raise V2PError(f"{run_dir}: the demo has not reached its deploy phase yet (done: {state.done}); "
                       "run `v2p demo --run` on it again to resume")
    with open_existing_ledger(run_dir / LEDGER_NAME) as ledger:
        books = investor_figures(ledger, cfg, CUSTOMER_SITE, FIRST_EPISODE["deploy"])
    figures = summary_figures(books, read_episode_csv(run_dir / CSV_NAME), asdict(state), cfg)
    (run_dir / SUMMARY_NAME).write_text(json.dumps(figures, indent=1))
    check = books_balanced(run_dir)
    figures["books_balanced"] = check.books_balanced
    figures["books_problems"] = check.problems
    (run_dir / SUMMARY_NAME).write_text(json.dumps(figures, indent=1))
    return figures
