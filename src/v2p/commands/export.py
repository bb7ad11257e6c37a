"""`v2p export`: a SAC checkpoint (and its encoder) as one TorchScript file for a robot's runtime."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from v2p.commands._options import add_json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("export", help="TorchScript of encoder + actor (deterministic [speed, care])")
    p.add_argument("--checkpoint", type=Path, required=True, help="SAC checkpoint directory")
    p.add_argument("--encoder-checkpoint", type=Path, default=None,
                   help="encoder weights (.safetensors) to put in front of the actor; without it the exported "
                        "policy takes the actor's own observation (the latent)")
    p.add_argument("--out", type=Path, required=True, help="TorchScript file to write, e.g. policy.pt")
    add_json(p, "the exported policy's description")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v2p.export import export_policy, load_exported

    export_policy(args.checkpoint, args.out, args.encoder_checkpoint)
    _, info = load_exported(args.out)  # what a robot will read back, not what we meant to write
    size = args.out.stat().st_size
    if args.json:
        print(json.dumps({"out": str(args.out), "bytes": size, **info}))
        return 0
    source = f"{info['encoder']} encoder + actor" if info["encoder"] else "actor (no encoder)"
    print(f"wrote {args.out} ({size / 1e6:.2f} MB): {source}")
    print(f"  input  {info['input']['dtype']} {info['input']['shape']}: {info['input']['description']}")
    print(f"  output float32 [B, {len(info['output']['fields'])}] = {info['output']['fields']}: "
          f"{info['output']['description']}")
    return 0
