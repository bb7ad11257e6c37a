"""`v2p security`: the SROS2 governance and per-node permissions (DDS-Security XML) of launch files' nodes, for
`docker/sros2_setup.sh` to sign into a keystore; see `v2p.security`."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from v2p.commands._options import add_json

REPO = Path(__file__).resolve().parents[3]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("security", help="SROS2 governance + one permissions file per node of launch files")
    p.add_argument("--launch", action="append", metavar="'FILE [name:=value ...]'",
                   help="a launch file and its arguments, as it will run (repeat for several; default: the three "
                        "launch files, sim with foxglove:=true, robot with a recorder)")
    p.add_argument("--domain-id", type=int, default=int(os.environ.get("ROS_DOMAIN_ID", "0") or 0),
                   help="the ROS domain the permissions grant (default: $ROS_DOMAIN_ID, else 0)")
    p.add_argument("--out", type=Path, required=True, help="folder for governance.xml and enclaves/*/permissions.xml")
    add_json(p, "the files written")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v2p.security import parse_launch_spec, write_security_files

    specs = args.launch or [f"{REPO / 'launch' / 'sim.launch.yaml'} foxglove:=true",
                            f"{REPO / 'launch' / 'robot.launch.yaml'} record_dir:=runs/robot_bags",
                            str(REPO / "launch" / "train_from_bags.launch.yaml")]
    written = write_security_files([parse_launch_spec(s) for s in specs], args.out, args.domain_id)
    if args.json:
        print(json.dumps({"governance": str(args.out / "governance.xml"), "domain_id": args.domain_id,
                          "enclaves": {k: str(v) for k, v in written.items()}}))
        return 0
    print(f"wrote {args.out / 'governance.xml'} (domain {args.domain_id}) and the permissions of {len(written)} "
          f"enclaves:")
    for enclave, path in written.items():
        print(f"  {enclave}: {path}")
    return 0
