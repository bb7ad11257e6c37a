"""`v2p train-encoder`: render simulator frames, train a video encoder with auxiliary heads, save a checkpoint."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

from v2p.commands._options import add_json
from v2p.errors import V2PError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train-encoder",
        help="train a video encoder on simulator frames (auxiliary state heads + temporal consistency)",
        description="Render frames of SITE in the simulator at random speed/care, train the encoder to predict dish "
        "dirt, dish held, arm phase, speed and care from its 128-D latent, save a safetensors checkpoint, and "
        "report held-out R² per target (the last 20%% of episodes are held out).",
    )
    p.add_argument("--site", default="default", help="simulator site name (default: default)")
    p.add_argument("--episodes", type=int, default=30, help="episodes to render (default: 30)")
    p.add_argument("--encoder", default="streaming", choices=["streaming", "video", "r3d18"],
                   help="video encoder to train (default: streaming; 'video' is its alias)")
    p.add_argument("--out", required=True, type=Path, help="checkpoint path to write (.safetensors)")
    p.add_argument("--cycles-per-episode", type=int, default=2, help="wash cycles per episode (default: 2)")
    p.add_argument("--steps", type=int, default=400, help="gradient steps (default: 400)")
    p.add_argument("--batch", type=int, default=16, help="sequences of 4 consecutive windows per step (default: 16)")
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (default: 1e-3)")
    p.add_argument("--clip-len", type=int, default=8, help="frames per clip (default: 8)")
    p.add_argument("--frame-size", type=int, default=64, help="square frame size in pixels (default: 64)")
    p.add_argument("--weights", type=Path, default=None,
                   help="r3d18 only: local Kinetics-400 r3d_18 state_dict to start from (never downloaded)")
    p.add_argument("--frames", type=Path, default=None,
                   help="frame-dataset cache (.npz): reused when it exists and matches, else written")
    p.add_argument("--seed", type=int, default=0, help="RNG seed for simulator episodes and training (default: 0)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1)")
    add_json(p, "the report")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    import torch

    from v2p.encoders import make_encoder, save_encoder
    from v2p.encoders.dataset import FrameDataset, collect_frames
    from v2p.encoders.training import TrainConfig, train_encoder

    if args.episodes < 2:
        raise V2PError(f"--episodes must be >= 2 (one episode is held out), got {args.episodes}")
    if args.steps < 1 or args.batch < 1 or args.threads < 1 or args.cycles_per_episode < 1:
        raise V2PError("--steps, --batch, --threads and --cycles-per-episode must be >= 1")
    if args.weights is not None and args.encoder != "r3d18":
        raise V2PError("--weights applies to --encoder r3d18 only")
    torch.set_num_threads(args.threads)
    log = (lambda msg: print(msg, file=sys.stderr)) if args.json else print

    kwargs: dict[str, object] = {"clip_len": args.clip_len, "frame_size": args.frame_size}
    if args.weights is not None:
        kwargs["weights_path"] = args.weights
    torch.manual_seed(args.seed)  # the encoder's initial weights, so a run replays from its arguments
    encoder = make_encoder(args.encoder, **kwargs)  # before rendering: bad arguments fail fast

    t0 = time.perf_counter()
    wanted = {"site": args.site, "episodes": args.episodes, "seed": args.seed, "frame_size": args.frame_size,
              "cycles_per_episode": args.cycles_per_episode}
    if args.frames is not None and args.frames.exists():
        data = FrameDataset.load(args.frames)
        differs = {k: data.meta.get(k) for k, v in wanted.items() if data.meta.get(k) != v}
        if differs:
            raise V2PError(f"{args.frames}: frame cache was made with {differs}, not {wanted}; delete it or "
                           "pass another --frames path")
        log(f"reusing {len(data.frames)} frames from {args.frames}")
    else:
        data = collect_frames(args.site, args.episodes, seed=args.seed, frame_size=args.frame_size,
                              cycles_per_episode=args.cycles_per_episode, log=log)
        if args.frames is not None:
            data.save(args.frames)
    render_s = time.perf_counter() - t0

    cfg = TrainConfig(steps=args.steps, batch_sequences=args.batch, lr=args.lr, seed=args.seed)
    t1 = time.perf_counter()
    result = train_encoder(encoder, data, cfg, log=log)
    train_s = time.perf_counter() - t1

    report = {
        "encoder": encoder.kind,
        "site": args.site,
        "episodes": args.episodes,
        "frames": int(len(data.frames)),
        "held_out_episodes": len(result.val_episodes),
        "held_out_frames": int(sum(e - s for s, e in (data.episode_ranges()[i] for i in result.val_episodes))),
        "metrics": {k: {m: _json_float(v) for m, v in d.items()} for k, d in result.metrics.items()},
        "render_s": round(render_s, 1),
        "train_s": round(train_s, 1),
        "checkpoint": str(args.out),
    }
    save_encoder(encoder, args.out, extra={"training": {**report, "steps": args.steps, "batch": args.batch,
                                                         "lr": args.lr, "seed": args.seed,
                                                         "weights": str(args.weights) if args.weights else None}})
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{encoder.kind} encoder: {report['frames']} frames from {args.episodes} episodes at site "
              f"'{args.site}' (render {render_s:.0f} s, train {train_s:.0f} s)")
        print(f"held-out ({report['held_out_episodes']} episodes, {report['held_out_frames']} frames):")
        for name, m in result.metrics.items():
            extra = f"  accuracy {m['accuracy']:.3f}" if "accuracy" in m else ""
            print(f"  {name:<10} R² {_fmt(m['r2'])}{extra}")
        print(f"checkpoint: {args.out}")
    return 0


def _json_float(v: float) -> float | None:
    return None if math.isnan(v) else round(float(v), 4)


def _fmt(v: float) -> str:
    return "n/a (constant in held-out set)" if math.isnan(v) else f"{v:.3f}"
