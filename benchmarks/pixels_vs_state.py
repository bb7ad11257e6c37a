"""SAC from camera pixels against SAC from the simulator's state, same site, episode budget and seed, in one run.

Both train with `v2p train` (the SLA constraint on, the task's SAC settings), side by side as two processes with
one torch thread each, so that they share the machine's load. Then each final policy works the same evaluation
shifts (common seeds, deterministic actions): the pixel policy sees only the camera image, through the frozen video
encoder (a checkpoint from `v2p train-encoder`). It prints both implied wages and their ratio.
Target (issue #5): the pixel policy earns >= 85% of the state policy's implied wage.

  .venv/bin/python benchmarks/pixels_vs_state.py --encoder-checkpoint runs/encoder-default.safetensors
  (train the encoder first: v2p train-encoder --site default --episodes 30 --encoder streaming \\
                              --out runs/encoder-default.safetensors)
"""

from __future__ import annotations

import argparse
import json
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


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--site", default="default")
    p.add_argument("--episodes", type=int, default=80, help="training shifts for each policy")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-episodes", type=int, default=10, help="evaluation shifts for each policy")
    p.add_argument("--encoder-checkpoint", type=Path, default=ROOT / "runs" / "encoder-default.safetensors")
    p.add_argument("--out", type=Path, default=None, help="keep both runs here (default: a temporary folder)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args()
    if args.episodes < 1 or args.eval_episodes < 1:
        p.error("--episodes and --eval-episodes must be >= 1")
    if not args.encoder_checkpoint.is_file():
        p.error(f"--encoder-checkpoint {args.encoder_checkpoint}: no such file; train one with `v2p train-encoder "
                "--site default --episodes 30 --encoder streaming --out runs/encoder-default.safetensors`")

    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        runs = {kind: train(args.site, kind, args.episodes, args.seed, out / kind, args.encoder_checkpoint)
                for kind in ("mlp", "video")}
        trained = {}
        for kind, proc in runs.items():
            stdout, stderr = proc.communicate()
            if proc.returncode != 0:
                print(f"pixels_vs_state: `v2p train --encoder {kind}` failed:\n{stderr}", file=sys.stderr)
                return 1
            trained[kind] = json.loads(stdout.strip().splitlines()[-1])
        result = {"site": args.site, "episodes": args.episodes, "seed": args.seed, "eval_episodes": args.eval_episodes}
        for kind, name in (("mlp", "state"), ("video", "pixels")):
            figures = evaluate(Path(trained[kind]["checkpoint"]), args.site, kind, args.encoder_checkpoint,
                               args.eval_episodes)
            result[name] = figures | {"train_seconds": trained[kind]["train_seconds"]}
    ratio = result["pixels"]["implied_wage"] / result["state"]["implied_wage"] if result["state"]["implied_wage"] > 0 \
        else float("nan")
    result["wage_ratio"] = ratio
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"SAC from pixels vs SAC from state at {args.site}: {args.episodes} training shifts each (seed {args.seed}), "
          f"then {args.eval_episodes} deterministic evaluation shifts each")
    for name in ("state", "pixels"):
        r = result[name]
        print(f"  {name:<6}  MP {r['mp']:6.1f} units/h  errors {r['err_rate']:6.1%} of {r['dishes']} dishes  "
              f"implied wage ${r['implied_wage']:6.2f}/h  (trained in {r['train_seconds']:.0f} s)")
    print(f"  pixels / state implied wage: {ratio:.1%} (target >= 85%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
