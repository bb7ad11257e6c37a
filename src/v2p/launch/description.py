"""What a parsed launch file asks for: its arguments, the resolved processes to run, its log messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

OUTPUTS = ("screen", "log", "both")
DEFAULT_SIGTERM_TIMEOUT = 5.0  # launch's defaults, in seconds
DEFAULT_SIGKILL_TIMEOUT = 5.0


@dataclass(frozen=True)
class LaunchArgument:
    name: str
    default: str | None
    description: str
    choices: tuple[str, ...] = ()


@dataclass
class ProcessSpec:
    """One process to run, fully resolved."""

    label: str  # the output prefix, e.g. "talker-1"
    argv: list[str]
    env: dict[str, str]
    cwd: str | None = None
    output: str = "log"
    respawn: bool = False
    respawn_delay: float = 0.0
    respawn_max_retries: int = -1  # negative: no limit
    shutdown_on_exit: bool = False  # `on_exit: shutdown`: its exit ends the whole launch
    sigterm_timeout: float = DEFAULT_SIGTERM_TIMEOUT
    sigkill_timeout: float = DEFAULT_SIGKILL_TIMEOUT
    package: str | None = None
    executable: str = ""
    node_name: str | None = None
    namespace: str | None = None
    source: str = ""  # file:line of the action


@dataclass
class LaunchDescription:
    path: Path
    arguments: list[LaunchArgument] = field(default_factory=list)
    configurations: dict[str, str] = field(default_factory=dict)
    processes: list[ProcessSpec] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # `log` actions, in order
