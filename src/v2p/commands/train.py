"""`v2p train`: SAC on V2PDishwashing-v0 under the quality SLA, in one process without ROS.

The quick research loop: every episode is one shift; λ follows the dual ascent on the shift's error rate and the
env prices it into the reward. Writes RUN/episodes.csv (one row per shift) and RUN/checkpoint, and prints the
final MP, error rate, λ and implied wage (over the last shifts of training, which still explore).

Encoders: `mlp` trains on the simulator's state vector (the SAC's own MLPs encode it); `video` trains on the
128-D latent of a frozen video encoder (a checkpoint from `v2p train-encoder`) reading the env's camera images.
`--observation` picks what of it the policy sees (`v2p.task.dishwashing.POLICY_INPUTS`): with mlp the whole state
(`oracle_state`, privileged: the default) or what a robot could sense (`observable_state`); with video the latent
alone (`latent`, the default) or the latent followed by the robot's own state (`video`, what the ROS graph's
policy acts on).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from v2p.cli_types import positive_int
from v2p.commands._options import add_economics, add_json
from v2p.errors import V2PError
from v2p.task.dishwashing import DISHWASHING

ENV_ID = "V2PDishwashing-v0"
FINAL_WINDOW = 10  # shifts averaged for the final figures
# --observation by --encoder, the first the default; each name is one of POLICY_INPUTS
OBSERVATIONS = {"mlp": ("oracle_state", "observable_state"), "video": ("latent", "video")}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("train", help="train SAC on the dishwashing simulator under the quality SLA")
    p.add_argument("--site", default="default", help="site name (config/sites/NAME.yaml) or YAML path")
    p.add_argument("--episodes", type=positive_int, required=True, help="shifts (episodes) to train for")
    p.add_argument("--encoder", choices=("mlp", "video"), default="mlp",
                   help="mlp: state vector (default); video: camera images through a frozen video encoder")
    p.add_argument("--encoder-checkpoint", type=Path, default=None,
                   help="video encoder checkpoint (.safetensors from `v2p train-encoder`); needed by --encoder video")
    p.add_argument("--observation", choices=sorted({o for obs in OBSERVATIONS.values() for o in obs}), default=None,
                   help="what the policy sees: mlp: oracle_state (default) or observable_state; video: latent "
                   "(default) or video (latent + robot state)")
    p.add_argument("--out", type=Path, default=None, help="run directory (default runs/train-SITE-seedK)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=positive_int, default=None, help="torch threads (capped at free cores)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    add_economics(p)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="SAC setting, e.g. --set learning_starts=50 (repeatable)")
    add_json(p, "the final figures")
    p.set_defaults(func=run)


def make_env(site: str, encoder: str, encoder_checkpoint: Path | None, econ, device: str,
             observation: str | None = None):
    """The training env of `--encoder` and `--observation` (None: the encoder's default)."""
    import gymnasium as gym

    from v2p.task.dishwashing import POLICY_INPUTS

    observation = observation or OBSERVATIONS[encoder][0]
    if observation not in OBSERVATIONS[encoder]:
        raise V2PError(f"--observation {observation} does not go with --encoder {encoder} (choose from "
                       f"{', '.join(OBSERVATIONS[encoder])})")
    try:
        import v2p_sim  # noqa: F401  (registers V2PDishwashing-v0)
    except ImportError as exc:
        raise V2PError(f"the simulator package v2p_sim is not importable ({exc})") from None
    if encoder == "mlp":
        return gym.make(ENV_ID, site=site, econ_config=econ, observation=observation)
    if encoder_checkpoint is None:
        raise V2PError("--encoder video needs --encoder-checkpoint PATH (train one with `v2p train-encoder`)")
    from v2p.encoders import read_encoder_metadata
    from v2p.encoders.wrappers import LatentObservation

    meta = read_encoder_metadata(encoder_checkpoint)
    frame_size = int(meta["kwargs"]["frame_size"])
    with_robot = observation == "video"
    env = gym.make(ENV_ID, site=site, econ_config=econ, image_obs=True, image_size=frame_size,
                   observation="robot_state" if with_robot else "oracle_state")  # "state" unused without the robot's
    # one frame per dish cycle: encode the decision frame held still, as every training clip starts
    return LatentObservation(env, encoder_checkpoint, clip_span="step", device=device,
                             policy_input=POLICY_INPUTS["video"] if with_robot else None)


def run(args: argparse.Namespace) -> int:
    from v2p.config import load_economics_config
    from v2p.economics.labor import error_rate, implied_wage, marginal_product, profit_per_hour, wage_parity
    from v2p.rl import SAC, SLAConstraint
    from v2p.rl.callbacks import EpisodeLimit
    from v2p.rl.overrides import parse_overrides

    econ = load_economics_config(args.economics)
    overrides = parse_overrides(args.overrides)
    overrides.setdefault("seed", args.seed)
    overrides.setdefault("device", args.device)
    if args.threads is not None:
        overrides["threads"] = args.threads
    out = args.out or Path("runs") / f"train-{Path(str(args.site)).stem}-seed{args.seed}"
    env = make_env(args.site, args.encoder, args.encoder_checkpoint, econ, args.device, args.observation)
    model = SAC(env, config=DISHWASHING.sac, log_dir=out, econ_cfg=econ, **overrides)
    sla = SLAConstraint(econ)
    limit = EpisodeLimit(args.episodes)
    model.learn(10**12, callback=[sla, limit], progress_bar=not args.json and sys.stderr.isatty())
    env.close()
    rows = model.episode_rows
    if not rows or "units" not in rows[-1]:
        raise V2PError(f"{ENV_ID} did not report units/attempts/errors/sim_time_s in its info")
    last = rows[-FINAL_WINDOW:]
    units, attempts, errors = (sum(r[k] for r in last) for k in ("units", "attempts", "errors"))
    hours = sum(r["hours"] for r in last)
    mp = marginal_product(units, hours)
    err = error_rate(errors, attempts)
    wage = implied_wage(mp, errors_per_hour=errors / hours, cfg=econ)
    observation = args.observation or OBSERVATIONS[args.encoder][0]
    ckpt = model.save(out / "checkpoint", extra={"sla": sla.state(), "site": str(args.site),
                                                 "encoder": args.encoder, "observation": observation})
    result = {"mp": mp, "err_rate": err, "lambda": sla.lam, "err_target": sla.target, "implied_wage": wage,
              "wage_parity": wage_parity(wage, econ), "profit": profit_per_hour(wage, econ),
              "episodes": len(rows), "final_window": len(last), "steps": model.num_timesteps,
              "updates": model.agent.updates, "train_seconds": model.train_seconds, "site": str(args.site),
              "encoder": args.encoder, "observation": observation, "run_dir": str(out), "checkpoint": str(ckpt)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"trained {len(rows)} shifts ({model.num_timesteps} dish cycles) in {model.train_seconds:.0f} s -> {out}")
        print(f"  last {len(last)} shifts: MP {mp:.1f} units/h, error rate {err:.3f} (e* {sla.target:.3f}), "
              f"λ {sla.lam:.3f}, implied wage ${wage:.2f}/h, parity {result['wage_parity']:.2f}")
    return 0
