"""The demo's figures: learning curves, the spread allocation, the frontier with the policy's operating point."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from v2p.config import EconomicsConfig
from v2p.economics.accounts import CSV_NAME, LEDGER_NAME, read_episode_csv
from v2p.economics.ledger import open_existing_ledger
from v2p.errors import V2PError
from v2p.task import topics


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_learning_curves(run_dir: Path, cfg: EconomicsConfig, path: Path) -> Path:
    """MP, error rate (with the SLA) and wage parity per episode, in the order the episodes ran."""
    rows = read_episode_csv(run_dir / CSV_NAME)
    if not rows:
        raise V2PError(f"{run_dir / CSV_NAME}: no episodes to plot")
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), dpi=110)
    x = np.arange(len(rows))
    series = {"mp_r": "MP (units/h)", "err_rate": "error rate", "wage_parity": "wage parity ŵ/w_h"}
    for ax, (key, label) in zip(axes, series.items()):
        y = np.array([float(r[key]) for r in rows])
        for site in dict.fromkeys(r["site"] for r in rows):
            mask = np.array([r["site"] == site for r in rows])
            ax.plot(x[mask], y[mask], "o-", ms=3, lw=1, label=site)
        ax.set_title(label)
        ax.set_xlabel("episode (in run order)")
        ax.grid(alpha=0.3)
    axes[1].axhline(cfg.sla.error_target, color="crimson", ls="--", lw=1, label=f"SLA e* {cfg.sla.error_target:.0%}")
    axes[2].axhline(1.0, color="k", ls=":", lw=1, label="parity")
    axes[1].legend(fontsize=8)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_spread_allocation(run_dir: Path, path: Path) -> Path:
    """Per episode: rebate to the customer and spread captured by the platform (stacked), and cumulative totals."""
    ledger = open_existing_ledger(run_dir / LEDGER_NAME)
    try:
        rows = ledger.rows()
    finally:
        ledger.close()
    if not rows:
        raise V2PError(f"{run_dir / LEDGER_NAME}: no episodes to plot")
    rows.sort(key=lambda r: (r["episode"], r["site"]))
    plt = _pyplot()
    fig, (ax, cum) = plt.subplots(1, 2, figsize=(12, 3.8), dpi=110)
    x = np.arange(len(rows))
    rebate = np.array([r["rebate_cents"] for r in rows]) / 100
    captured = np.array([r["captured_spread_cents"] for r in rows]) / 100
    ax.bar(x, captured, color="tab:blue", label="captured by platform")
    ax.bar(x, rebate, bottom=captured, color="tab:orange", label="rebate to customer")
    for i, r in enumerate(rows):
        if r["s_cust"] > 0:
            ax.annotate(f"{r['s_cust']:.0%}", (i, captured[i] + rebate[i]), fontsize=6, ha="center", va="bottom")
    ax.set_xlabel("episode")
    ax.set_ylabel("$ per episode")
    ax.set_title("Spread allocation per episode (label: s_cust)")
    ax.legend(fontsize=8)
    cum.plot(x, np.cumsum(captured), label="platform, cumulative")
    cum.plot(x, np.cumsum(rebate), label="customer, cumulative")
    cum.set_xlabel("episode")
    cum.set_ylabel("$")
    cum.set_title("Cumulative split")
    cum.legend(fontsize=8)
    for a in (ax, cum):
        a.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def mean_action(bag_folder: Path) -> tuple[float, float]:
    """The policy's mean (speed, care) over a recording: its operating point on the frontier."""
    from v2p.bags import find_bags, read_bag

    actions = [tuple(m.data.data) for bag in find_bags(bag_folder, complete_only=True)
               for m in read_bag(bag, topics=[topics.ACTION])]
    if not actions:
        raise V2PError(f"{bag_folder}: no {topics.ACTION} messages recorded")
    speed, care = np.mean(np.array(actions, dtype=float), axis=0)
    return float(speed), float(care)
