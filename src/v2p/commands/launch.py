"""`v2p launch FILE [name:=value ...]`: run a ROS 2 YAML launch file without `ros2 launch`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "launch",
        help="run a ROS 2 YAML launch file (the same files `ros2 launch` runs)",
        description="Run a ROS 2 YAML launch file: every node as its own process, output prefixed [name-N], "
        "clean shutdown on Ctrl-C. Exit code 0 when no process failed.",
    )
    parser.add_argument("file", type=Path, help="a .launch.yaml file")
    parser.add_argument("launch_args", nargs="*", metavar="name:=value", help="launch arguments")
    parser.add_argument("--show-args", action="store_true", help="list the file's arguments and exit")
    parser.add_argument("--print", dest="print_only", action="store_true",
                        help="print the processes (argv, one JSON object) instead of running them")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from v2p.launch import load_launch, parse_cli_args, run_launch

    launch_args = parse_cli_args(args.launch_args)
    if args.show_args or args.print_only:
        description = load_launch(args.file, launch_args)
        if args.show_args:
            for arg in description.arguments:
                default = "(required)" if arg.default is None else f"(default: {arg.default!r})"
                choices = f" one of: {', '.join(arg.choices)}" if arg.choices else ""
                print(f"{arg.name} {default}{choices}\n    {arg.description}")
        else:
            print(json.dumps({"file": str(description.path), "processes": [
                {"label": p.label, "argv": p.argv, "respawn": p.respawn, "on_exit_shutdown": p.shutdown_on_exit,
                 "output": p.output, "source": p.source} for p in description.processes]}))
        return 0
    return run_launch(args.file, launch_args)
