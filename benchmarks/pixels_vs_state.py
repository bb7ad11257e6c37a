"""SAC from camera pixels against SAC from the simulator's state, same site, episode budget and seed, in one run.

For each training seed both train with `v2p train` (the SLA constraint on, the task's SAC settings), side by side
as two processes with one torch thread each, so that they share the machine's load. Then each final policy works
the same evaluation shifts (common seeds, deterministic actions): the pixel policy sees only the camera image,
through the frozen video encoder (a checkpoint from `v2p train-encoder`); the state policy also reads what no
camera shows (each dish's mass and wet friction, the shift's clock and tallies). It prints both implied wages per
seed, their means and the ratio of the means.
Target (issue #5): the pixel policy earns >= 85% of the state policy's implied wage.

  .venv/bin/python benchmarks/pixels_vs_state.py --encoder-checkpoint runs/encoder-default.safetensors
  (train the encoder first: v2p train-encoder --site default --episodes 30 --encoder streaming \\
                              --out runs/encoder-default.safetensors)
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVAL_SEED = 50_000  # evaluation shifts are seeded apart from any training shift


def train(site: str, encoder: str, episodes: int, seed: int, out: Path, encoder_checkpoint: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "v2p.cli", "train", "--site", site, "--episodes", str(episodes), "--seed", str(seed),
           "--threads", "1", "--encoder", encoder, "--out", str(out), "--json"]
    if encoder == "video":
        cmd += ["--encoder-checkpoint", str(encoder_checkpoint)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def evaluate(checkpoint: Path, site: str, encoder: str, encoder_checkpoint: Path, episodes: int) -> dict[str, float]:
    """Deterministic shifts seeded EVAL_SEED…: MP, error rate and implied wage over all of them."""
    from v2p.commands.train import make_env
    from v2p.config import load_economics_config
    from v2p.economics.labor import error_rate, implied_wage, marginal_product
    from v2p.rl import SAC

    econ = load_economics_config()
    env = make_env(site, encoder, encoder_checkpoint, econ, "cpu")
    model = SAC.load(checkpoint, threads=1)
    units = attempts = errors = 0
    hours = 0.0
    try:
        for i in range(episodes):
            obs, info = env.reset(seed=EVAL_SEED + i)
            done = False
            while not done:
                action, _ = model.predict(obs, deterministic=True)
                obs, _, terminated, truncated, info = env.step(action)
                done = terminated or truncated
            units, attempts, errors = units + info["units"], attempts + info["attempts"], errors + info["errors"]
            hours += info["sim_time_s"] / 3600.0
    finally:
        env.close()
    mp, err = marginal_product(units, hours), error_rate(errors, attempts)
    return {"mp": mp, "err_rate": err, "implied_wage": implied_wage(mp, err, econ), "dishes": attempts}


def run_seed(args: argparse.Namespace, seed: int, out: Path) -> dict[str, dict[str, float]]:
    """Both policies trained from `seed` (two processes side by side), then evaluated on the same shifts."""
    runs = {kind: train(args.site, kind, args.episodes, seed, out / f"{kind}-seed{seed}", args.encoder_checkpoint)
            for kind in ("mlp", "video")}
    trained = {}
    for kind, proc in runs.items():
        stdout, stderr = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"pixels_vs_state: `v2p train --encoder {kind} --seed {seed}` failed:\n{stderr}")
        trained[kind] = json.loads(stdout.strip().splitlines()[-1])
    result = {}
    for kind, name in (("mlp", "state"), ("video", "pixels")):
        figures = evaluate(Path(trained[kind]["checkpoint"]), args.site, kind, args.encoder_checkpoint,
                           args.eval_episodes)
        result[name] = figures | {"train_seconds": trained[kind]["train_seconds"]}
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--site", default="default")
    p.add_argument("--episodes", type=int, default=80, help="training shifts for each policy")
    p.add_argument("--seeds", type=int, default=3, help="training seeds 0..N-1 (a pair per seed)")
    p.add_argument("--eval-episodes", type=int, default=10, help="evaluation shifts for each policy")
    p.add_argument("--encoder-checkpoint", type=Path, default=ROOT / "runs" / "encoder-default.safetensors")
    p.add_argument("--out", type=Path, default=None, help="keep the runs here (default: a temporary folder)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args()
    if args.episodes < 1 or args.eval_episodes < 1 or args.seeds < 1:
        p.error("--episodes, --seeds and --eval-episodes must be >= 1")
    if not args.encoder_checkpoint.is_file():
        p.error(f"--encoder-checkpoint {args.encoder_checkpoint}: no such file; train one with `v2p train-encoder "
                "--site default --episodes 30 --encoder streaming --out runs/encoder-default.safetensors`")

    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        seeds = [run_seed(args, seed, out) for seed in range(args.seeds)]
    wages = {name: [s[name]["implied_wage"] for s in seeds] for name in ("state", "pixels")}
    mean = {name: statistics.fmean(w) for name, w in wages.items()}
    ratio = mean["pixels"] / mean["state"] if mean["state"] > 0 else float("nan")
    result = {"site": args.site, "episodes": args.episodes, "eval_episodes": args.eval_episodes, "seeds": seeds,
              "mean_implied_wage": mean, "wage_ratio": ratio}
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"SAC from pixels vs SAC from state at {args.site}: {args.episodes} training shifts each, seeds "
          f"0..{args.seeds - 1}, then {args.eval_episodes} deterministic evaluation shifts per policy")
    for seed, pair in enumerate(seeds):
        for name in ("state", "pixels"):
            r = pair[name]
            print(f"  seed {seed} {name:<6}  MP {r['mp']:6.1f} units/h  errors {r['err_rate']:6.1%} of {r['dishes']:3d} "
                  f"dishes  implied wage ${r['implied_wage']:6.2f}/h  (trained in {r['train_seconds']:.0f} s)")
    spread = {n: statistics.stdev(w) if len(w) > 1 else 0.0 for n, w in wages.items()}
    print(f"  mean implied wage: state ${mean['state']:.2f}/h (sd {spread['state']:.2f}), pixels "
          f"${mean['pixels']:.2f}/h (sd {spread['pixels']:.2f})")
    print(f"  pixels / state implied wage: {ratio:.1%} (target >= 85%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
