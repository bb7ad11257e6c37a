"""The data-value corpus: measured customers (features, counterfactual ΔMPL_cust and s_cust) to fit and score the
estimator on (`v2p data-value corpus|fit|eval`).

Layout of a corpus folder:
- `corpus.json`: the spec (the pair's budget, the platform's and the customers' recordings, the site seeds) and a
  list of the builds that added rows (command, start, end, rows, machine);
- `platform/`: the platform's bags (the reference kitchen, recorded like the demo's);
- `platform_policy/`: the platform's policy fitted like the pair's first seed: the checkpoint the features' critic
  terms read;
- `customers/c<seed>/`: a drawn site (`site.yaml`) and its recorded data (`data/`);
- `rows.jsonl`: one measured customer per line (see `measure_batch`);
- `work/`: the pair's fits of the batch in progress (each fit clears its own folder, so a kill leaves nothing that
  a rerun trusts).

Customers are measured a batch at a time (all customers of a batch share one platform fit and one "without" arm
per seed, as `measure_pair` does) and each row is appended as its batch ends, so a rerun after a kill skips the
rows present and redoes the batch that was cut; a data folder is renamed into place only once recorded, and a
torn last line (the write a kill cut) is dropped.

The estimator fitted and scored on a corpus (`EvidenceEstimator`) chooses its prior precision by the marginal
likelihood of the rows it is fitted on; `evaluate_corpus` scores it leaving one customer out, so each held-out
customer's estimator chose its prior without that customer.
"""

from __future__ import annotations

import json
import math
import os
import platform as host
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from v2p.config import EconomicsConfig
from v2p.economics.data_value import DataValueEstimator, HeldoutReport, heldout_report
from v2p.errors import V2PError
from v2p.experiments.customer_features import FEATURE_INPUT, FEATURE_NAMES, TARGETS, customer_features
from v2p.experiments.executor import Executor, LocalExecutor
from v2p.experiments.pair import PAIR_SAC, FitJob, PairBudget, measure_pair, platform_weights, run_job
from v2p.experiments.pair_data import DataSet, record_many

ROWS = "rows.jsonl"
SPEC = "corpus.json"
ESTIMATOR_FORMAT = "v2p-data-value-estimator/1"


@dataclass(frozen=True)
class CorpusSpec:
    """What a corpus measures; rows are comparable only under one spec (a rerun must match it)."""

    budget: PairBudget
    platform_site: str = "default"
    platform_shifts: int = 6
    platform_seed: int = 0
    customer_shifts: tuple[int, int] = (2, 5)  # each customer records a number of shifts drawn in this range
    first_site_seed: int = 1000  # customer i is random_site(first_site_seed + i)

    def __post_init__(self) -> None:
        lo, hi = self.customer_shifts
        if self.budget.seeds < 3:
            raise V2PError(f"a corpus row's interval needs at least 3 seeds of the pair, got {self.budget.seeds}")
        if not 1 <= lo <= hi or self.platform_shifts < 1:
            raise V2PError(f"shifts must be at least 1 (customer range {lo}..{hi}, platform {self.platform_shifts})")

    def as_dict(self) -> dict[str, object]:
        return asdict(self) | {"customer_shifts": list(self.customer_shifts)}

    def customer_shift_count(self, site_seed: int) -> int:
        lo, hi = self.customer_shifts
        return int(np.random.default_rng([site_seed, 7]).integers(lo, hi + 1))


@dataclass
class Corpus:
    folder: Path
    spec: dict[str, object]
    rows: list[dict[str, object]] = field(default_factory=list)
    builds: list[dict[str, object]] = field(default_factory=list)


# ---------------------------------------------------------------------------- rows
def _row_error(path: Path, line: int, problem: str) -> V2PError:
    return V2PError(f"{path}: line {line}: {problem}")


def read_rows(folder: Path | str, drop_torn: bool = False) -> list[dict[str, object]]:
    """The corpus' rows; V2PError naming the line of a malformed one. `drop_torn`: truncate a last line that a
    kill cut mid-write (no newline) instead of failing on it."""
    path = Path(folder) / ROWS
    if not path.exists():
        return []
    text = path.read_text()
    if text and not text.endswith("\n"):
        if not drop_torn:
            raise _row_error(path, text.count("\n") + 1, "cut short (no newline): a build was killed mid-write; "
                             "rerun `v2p data-value corpus` on this folder to drop it")
        text = text[: text.rfind("\n") + 1]
        path.write_text(text)
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise _row_error(path, number, f"not JSON ({exc})") from None
        if not isinstance(row, dict):
            raise _row_error(path, number, "not a JSON object")
        features = row.get("features")
        if not isinstance(features, dict) or set(features) != set(FEATURE_NAMES):
            raise _row_error(path, number, f"its features must be {list(FEATURE_NAMES)}")
        for key in (*TARGETS, "site_seed"):
            if not isinstance(row.get(key), (int, float)) or isinstance(row.get(key), bool):
                raise _row_error(path, number, f"{key!r} must be a number, got {row.get(key)!r}")
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in features.values()):
            raise _row_error(path, number, "its features must be finite numbers")
        rows.append(row)
    return rows


def append_row(folder: Path, row: dict[str, object]) -> None:
    """One line, written and synced at once (a kill leaves at most a torn last line, dropped on resume)."""
    with open(folder / ROWS, "a") as f:
        f.write(json.dumps(row) + "\n")
        f.flush()
        os.fsync(f.fileno())


def load_corpus(folder: Path | str) -> Corpus:
    folder = Path(folder)
    if not folder.is_dir():
        raise V2PError(f"{folder}: no such corpus folder (build one with `v2p data-value corpus`)")
    try:
        spec = json.loads((folder / SPEC).read_text())
    except FileNotFoundError:
        raise V2PError(f"{folder}: not a data-value corpus (no {SPEC})") from None
    except ValueError as exc:
        raise V2PError(f"{folder / SPEC}: not JSON ({exc})") from None
    return Corpus(folder, spec.get("spec", {}), read_rows(folder), spec.get("builds", []))


def corpus_matrix(rows: Sequence[dict[str, object]], target: str) -> tuple[np.ndarray, np.ndarray]:
    if target not in TARGETS:
        raise V2PError(f"unknown target {target!r}: one of {', '.join(TARGETS)}")
    x = np.array([[float(r["features"][k]) for k in FEATURE_NAMES] for r in rows], dtype=np.float64)
    return x.reshape(len(rows), len(FEATURE_NAMES)), np.array([float(r[target]) for r in rows], dtype=np.float64)


# ---------------------------------------------------------------------------- building
def _machine() -> dict[str, object]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    return {"host": host.node(), "cpus": os.cpu_count(), "processor": host.machine(), "python": host.python_version(),
            "loadavg": [round(v, 2) for v in load]}


def _record_once(target: Path, datasets: Callable[[Path], list[DataSet]], executor: Executor) -> Path:
    """Record into `target`.partial, then rename: a folder in place is complete; a partial one is redone."""
    if target.is_dir():
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    record_many(datasets(partial), executor)
    partial.rename(target)
    return target


def _prepare(folder: Path, spec: CorpusSpec, econ: EconomicsConfig, executor: Executor,
             command: str) -> dict[str, object]:
    folder.mkdir(parents=True, exist_ok=True)
    meta_path = folder / SPEC
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {"spec": spec.as_dict(), "builds": []}
    if meta.get("spec") != json.loads(json.dumps(spec.as_dict())):
        raise V2PError(f"{meta_path}: this corpus was built with {meta.get('spec')}; the rows of another budget or "
                       f"recording are not comparable: use another --out or the same options")
    meta["builds"].append({"command": command, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                           "machine": _machine()})
    meta_path.write_text(json.dumps(meta, indent=1))
    return meta


def _platform_policy(folder: Path, spec: CorpusSpec, econ: EconomicsConfig) -> Path:
    """The platform's policy fitted as the pair's first seed fits it: what the features' critic terms read."""
    from v2p.learning import CheckpointVersions

    out = folder / "platform_policy"
    if CheckpointVersions(out).latest() is None:
        bags = (str((folder / "platform").resolve()),)
        weights = platform_weights(bags, econ, FEATURE_INPUT)
        run_job(FitJob("platform", spec.budget.first_seed, bags, spec.budget.platform_updates, str(out), econ,
                       PAIR_SAC, FEATURE_INPUT, weights))
    return out


def measure_batch(folder: Path, seeds: Sequence[int], spec: CorpusSpec, econ: EconomicsConfig, executor: Executor,
                  log: Callable[[str], None]) -> list[dict[str, object]]:
    """Draw, record and measure the customers of `seeds` (one pair for all), and their features: their rows."""
    from v2p.experiments.attribution import summarize
    from v2p_sim.site_generator import random_site, save_site

    start = time.monotonic()
    customers, sets = {}, []
    for seed in seeds:
        home = folder / "customers" / f"c{seed}"
        home.mkdir(parents=True, exist_ok=True)
        site = save_site(random_site(seed), home / "site.yaml")
        customers[f"c{seed}"] = (str(site.resolve()), home / "data")
        if not (home / "data").is_dir():
            sets.append((home, site, spec.customer_shift_count(seed), seed))
    if sets:
        partial = [(home / "data.partial") for home, *_ in sets]
        for p in partial:
            shutil.rmtree(p, ignore_errors=True)
        record_many([DataSet(str(p), str(site), n, 100 * seed) for p, (_, site, n, seed) in zip(partial, sets)],
                    executor)
        for p in partial:
            p.rename(p.with_name("data"))
    log(f"corpus: {len(seeds)} customers recorded ({time.monotonic() - start:.0f} s); measuring the pair")
    platform = [folder / "platform"]
    measured, _ = measure_pair({k: (site, [bags]) for k, (site, bags) in customers.items()}, platform,
                               folder / "work", econ, spec.budget, executor, FEATURE_INPUT, log=log)
    checkpoint = folder / "platform_policy"
    seconds = (time.monotonic() - start) / len(seeds)  # the batch's wall time, shared out
    rows = []
    for seed in seeds:
        name = f"c{seed}"
        a = summarize(name, measured[name], econ)
        feats = customer_features(platform, [customers[name][1]], econ, checkpoint)
        rows.append({"customer": name, "site_seed": seed, "shifts": spec.customer_shift_count(seed),
                     "features": feats, "delta_mpl_cust": a.delta_mpl_cust,
                     "delta_mpl_cust_ci": list(a.delta_mpl_cust_ci), "s_cust": a.s_cust,
                     "s_cust_ci": None if a.s_cust_ci is None else list(a.s_cust_ci),
                     "delta_mpl_total": a.delta_mpl_total, "seeds": len(a.seeds),
                     "per_seed": [[s.mp_reference, s.mp_without, s.mp_with] for s in a.seeds],
                     "seconds": round(seconds, 1)})
    return rows


def build_corpus(folder: Path | str, customers: int, spec: CorpusSpec, econ: EconomicsConfig,
                 executor: Executor | None = None, batch: int = 4, command: str = "",
                 log: Callable[[str], None] = lambda _: None) -> Corpus:
    """Measure customers 0 .. customers − 1 of the spec that `folder` does not hold yet (see the docstring)."""
    if customers < 1 or batch < 1:
        raise V2PError(f"--customers and the batch must be at least 1, got {customers} and {batch}")
    folder = Path(folder)
    executor = executor or LocalExecutor(1)
    meta = _prepare(folder, spec, econ, executor, command)
    started = time.monotonic()
    done = {int(r["site_seed"]) for r in read_rows(folder, drop_torn=True)}
    _record_once(folder / "platform", lambda p: [DataSet(str(p), spec.platform_site, spec.platform_shifts,
                                                         spec.platform_seed)], executor)
    _platform_policy(folder, spec, econ)
    todo = [s for s in range(spec.first_site_seed, spec.first_site_seed + customers) if s not in done]
    log(f"corpus: {len(done)} customers already measured, {len(todo)} to go, {batch} a batch on {executor.name}")
    added = 0

    def note(finished: bool) -> None:  # after every batch: a build that is killed still says what it did
        meta["builds"][-1] |= {"rows_added": added, "wall_s": round(time.monotonic() - started, 1),
                               "finished" if finished else "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                    time.gmtime()),
                               "machine_end": _machine()}
        (folder / SPEC).write_text(json.dumps(meta, indent=1))

    for i in range(0, len(todo), batch):
        for row in measure_batch(folder, todo[i:i + batch], spec, econ, executor, log):
            append_row(folder, row)
            added += 1
            log(f"corpus: {row['customer']}: ΔMPL_cust {row['delta_mpl_cust']:.1f} units/h, s_cust "
                f"{row['s_cust']:.2f}")
        note(finished=False)
    note(finished=True)
    return load_corpus(folder)


# ---------------------------------------------------------------------------- fitting and scoring
PRIOR_GRID = tuple(float(v) for v in np.logspace(-2, 3, 21))  # prior precisions the evidence chooses among


def log_evidence(est: DataValueEstimator) -> float:
    """log p(y | x) of a fitted estimator's Normal-Inverse-Gamma model, in its standardised units."""
    from math import lgamma

    phi = est._design(est.x)
    _, _, y_mu, y_sd = est._scales()
    t = (est.y - y_mu) / y_sd
    prior = np.diag([1e-6] + [est.prior_precision] * len(est.feature_names))
    _, _, a_n, b_n = est._post
    return float(-0.5 * len(t) * math.log(2 * math.pi) + 0.5 * np.linalg.slogdet(prior)[1]
                 - 0.5 * np.linalg.slogdet(prior + phi.T @ phi)[1] + est.a0 * math.log(est.b0) - a_n * math.log(b_n)
                 + lgamma(a_n) - lgamma(est.a0))


class EvidenceEstimator(DataValueEstimator):
    """The estimator whose prior precision (how strongly the weights shrink to 0) is the one of `PRIOR_GRID` with
    the highest marginal likelihood on the rows it is fitted on (empirical Bayes: no held-out row is looked at).
    With few customers and many features, a fixed weak prior lets the fit chase the measurements' noise."""

    def fit(self, x: np.ndarray, y: np.ndarray) -> DataValueEstimator:
        best = max(PRIOR_GRID, key=lambda lam: log_evidence(DataValueEstimator(self.feature_names, lam, self.a0,
                                                                               self.b0).fit(x, y)))
        self.prior_precision = best
        return super().fit(x, y)


def evaluate_corpus(corpus: Corpus, target: str) -> HeldoutReport:
    """Leave-one-customer-out scores of the estimator on the corpus (`heldout_report`; each held-out customer's
    estimator chooses its prior on the others alone)."""
    x, y = corpus_matrix(corpus.rows, target)
    if len(y) < 4:
        raise V2PError(f"{corpus.folder}: {len(y)} customers; held-out scores need at least 4")
    return heldout_report(x, y, EvidenceEstimator, FEATURE_NAMES)


def fit_estimators(corpus: Corpus, targets: Sequence[str], command: str) -> dict[str, object]:
    """The estimator file: a fitted estimator per target and the corpus summary (its held-out figures, builds)."""
    out: dict[str, object] = {"format": ESTIMATOR_FORMAT, "estimators": {}, "heldout": {}}
    for target in targets:
        x, y = corpus_matrix(corpus.rows, target)
        if len(y) < 2:
            raise V2PError(f"{corpus.folder}: {len(y)} customers; a fit needs at least 2")
        out["estimators"][target] = EvidenceEstimator(FEATURE_NAMES).fit(x, y).to_dict()
        if len(y) >= 4:
            out["heldout"][target] = evaluate_corpus(corpus, target).as_dict()
    out["corpus"] = {"folder": str(corpus.folder), "customers": len(corpus.rows), "spec": corpus.spec,
                     "builds": corpus.builds,
                     "build_wall_s": round(sum(float(b.get("wall_s", 0.0)) for b in corpus.builds), 1),
                     "corpus_seconds": round(sum(float(r.get("seconds", 0.0)) for r in corpus.rows), 1),
                     "fit_command": command, "machine": _machine()}
    return out
