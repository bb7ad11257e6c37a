"""The evaluation scope of a launch file: launch configurations, environment, ROS namespace, global parameters and
remaps, and where in which file evaluation stands (for error messages).

Actions change a scope as `ros2 launch` changes its LaunchContext; a scoped group works on a copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from v2p.launch.packages import PackageFinder


@dataclass
class Scope:
    file: Path
    line: int
    configurations: dict[str, str]
    env: dict[str, str]
    packages: PackageFinder
    anonymous: dict[str, str]  # `$(anon base)` names, one per base for the whole launch
    global_params: list[tuple[str, Any]] = field(default_factory=list)
    remaps: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ros_namespace(self) -> str:
        # A launch configuration, as in launch_ros: scoped groups pop it with the other configurations.
        return self.configurations.get("ros_namespace", "")

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def at(self, line: int) -> Scope:
        """The same scope (shared state), reporting another line."""
        return replace(self, line=line)

    def copy(self) -> Scope:
        """A scope whose changes do not leak out (a scoped group)."""
        return replace(
            self,
            configurations=dict(self.configurations),
            env=dict(self.env),
            global_params=list(self.global_params),
            remaps=list(self.remaps),
        )
