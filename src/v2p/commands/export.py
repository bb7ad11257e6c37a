"""`v2p export`: a SAC checkpoint (and its encoder) as one file for a robot's runtime, a torch.export program
(`.pt2`) or an ONNX model (`.onnx`); see `v2p.export`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from v2p.commands._options import add_json


def register(subparsers: argparse._SubParsersAction) -> None:
    from v2p.export import FORMATS

    p = subparsers.add_parser("export", help="encoder + actor (deterministic [speed, care]) as torch.export or ONNX")
    p.add_argument("--checkpoint", type=Path, required=True, help="SAC checkpoint directory")
    p.add_argument("--encoder-checkpoint", type=Path, default=None,
                   help="encoder weights (.safetensors) to put in front of the actor; without it the exported "
                        "policy takes the actor's own observation")
    p.add_argument("--format", choices=FORMATS, default="torch-export",
                   help="torch-export: an ExportedProgram .pt2 (torch); onnx: an ONNX model (the onnx extra, "
                        "requirements-onnx.txt; checked in onnxruntime when it is installed)")
    p.add_argument("--out", type=Path, required=True, help="file to write, e.g. policy.pt2 or policy.onnx")
    add_json(p, "the exported policy's description")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v2p.errors import V2PError
    from v2p.export import SUFFIX, export_policy

    if args.out.suffix != SUFFIX[args.format]:
        raise V2PError(f"--out {args.out}: a {args.format} export is a {SUFFIX[args.format]} file")
    info = export_policy(args.checkpoint, args.out, args.encoder_checkpoint, args.format)
    size = args.out.stat().st_size
    if args.json:
        print(json.dumps({"out": str(args.out), "bytes": size, **info}))
        return 0
    encoder = info["sources"].get("encoder_checkpoint")
    source = f"{encoder['kind']} encoder + actor" if encoder else "actor (no encoder)"
    print(f"wrote {args.out} ({size / 1e6:.2f} MB, {args.format}): {source}")
    for spec in info["inputs"]:
        print(f"  input  {spec['name']} {spec['dtype']} {spec['shape']}: {spec['description']}")
    out = info["output"]
    print(f"  output {out['name']} float32 [B, {len(out['fields'])}] = {out['fields']}: {out['description']}")
    check = info["check"]
    print(f"  check  {check.get('runtime', 'the export')} against the eager policy: " +
          (f"max |difference| {check['max_abs_diff']:.2g}" if "max_abs_diff" in check else check["skipped"]))
    return 0
