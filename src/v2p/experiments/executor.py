"""One executor for the experiments' fan-out (oracle sweeps, counterfactual fits and evaluations, corpora).

Two backends behind one `map(fn, jobs)`:
- `LocalExecutor(workers)`: spawned local processes (spawn, not fork: a forked child would inherit the parent's
  torch and DDS threads mid-flight); `workers=1` runs in this process, which tests and debuggers like.
- `RayExecutor(address)`: Ray tasks, for a user with a cluster (`--ray auto` joins or starts one, `--ray
  ADDRESS` joins that head node). Ray is imported only when asked for.

Jobs are picklable tuples and `fn` a module-level function; results come back in job order. Each worker process
is long-lived, so a function may keep an expensive object (a physics client) in a module global between jobs.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Protocol

from v2p.errors import V2PError


class Executor(Protocol):
    name: str

    def map(self, fn: Callable[[Any], Any], jobs: Sequence[Any]) -> list[Any]: ...


class LocalExecutor:
    """Local worker processes (or this process with workers=1)."""

    def __init__(self, workers: int = 1) -> None:
        if int(workers) < 1:
            raise V2PError(f"workers must be at least 1, got {workers!r}")
        self.workers = int(workers)
        self.name = f"local ({self.workers} process{'es' if self.workers > 1 else ''})"

    def map(self, fn: Callable[[Any], Any], jobs: Sequence[Any]) -> list[Any]:
        jobs = list(jobs)
        if self.workers == 1 or len(jobs) <= 1:
            return [fn(job) for job in jobs]
        with ProcessPoolExecutor(max_workers=min(self.workers, len(jobs)), mp_context=mp.get_context("spawn")) as pool:
            return list(pool.map(fn, jobs))


class RayExecutor:
    """Ray tasks; `address` is "auto", a head node's "host:port", or "local" (a Ray started in this process)."""

    def __init__(self, address: str = "auto", num_cpus: int | None = None) -> None:
        try:
            import ray
        except ImportError as exc:
            raise V2PError(f"--ray needs the ray package ({exc}); pip install -r requirements.txt") from None
        self._ray = ray
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                      "configure_logging": False}
            if address == "local":
                ray.init(num_cpus=num_cpus or os.cpu_count(), **kwargs)
            else:
                try:
                    ray.init(address=None if address == "auto" else address, num_cpus=num_cpus, **kwargs)
                except (ConnectionError, ValueError, RuntimeError) as exc:
                    raise V2PError(f"cannot reach a Ray cluster at {address!r}: {exc}") from None
        self.name = f"ray ({address})"

    def map(self, fn: Callable[[Any], Any], jobs: Sequence[Any]) -> list[Any]:
        remote = self._ray.remote(num_cpus=1)(fn)
        return self._ray.get([remote.remote(job) for job in jobs])


def make_executor(workers: int = 1, ray: str | None = None) -> Executor:
    """The executor a command line asks for: Ray when `ray` names a cluster, else local processes."""
    return RayExecutor(ray) if ray else LocalExecutor(workers)

