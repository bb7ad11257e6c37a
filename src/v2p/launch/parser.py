"""Parse a ROS 2 YAML launch file (the `launch_yaml` frontend format) into the processes to run.

Entry points only: `load_launch` (a file and its `name:=value` arguments -> a LaunchDescription) and
`parse_cli_args`. The supported actions are the keys of `v2p.launch.evaluation.ACTIONS` (registered by
`v2p.launch.actions` and `v2p.launch.processes`), the substitutions those of
`v2p.launch.substitutions.SUBSTITUTIONS`, with `if`/`unless` on every action; anything else, and any attribute
of a type `ros2 launch` would refuse, is a LaunchError naming the file, the line and the construct. Actions are
evaluated in file order, as `ros2 launch` executes them.
"""

from __future__ import annotations

import os
from pathlib import Path

from v2p.launch import actions, processes  # noqa: F401 - they register the actions
from v2p.launch.description import LaunchDescription
from v2p.launch.errors import LaunchError
from v2p.launch.evaluation import Evaluation
from v2p.launch.packages import PackageFinder
from v2p.launch.scope import Scope


def load_launch(
    path: Path | str,
    args: dict[str, str] | None = None,
    *,
    env: dict[str, str] | None = None,
) -> LaunchDescription:
    """Parse a launch file with the given `name:=value` arguments into what to run."""
    path = Path(path)
    cli_args = dict(args or {})
    base_env = dict(os.environ if env is None else env)
    evaluation = Evaluation(LaunchDescription(path=path.resolve()), base_env)
    scope = Scope(
        file=path.resolve(),
        line=1,
        configurations=dict(cli_args),
        env=dict(base_env),
        packages=PackageFinder(base_env),
        anonymous={},
    )
    evaluation.run_file(path, scope)
    if unknown := sorted(set(cli_args) - evaluation.mentioned_args):
        declared = ", ".join(sorted(evaluation.mentioned_args)) or "none"
        raise LaunchError(f"{path}: unknown launch argument(s) {', '.join(unknown)} (declared: {declared})")
    evaluation.description.configurations = dict(scope.configurations)
    return evaluation.description


def parse_cli_args(items: list[str]) -> dict[str, str]:
    """`name:=value` words from the command line."""
    args: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition(":=")
        if not sep or not name:
            raise LaunchError(f"launch argument {item!r} must be written name:=value")
        args[name] = value
    return args
