"""CLI subcommands. Each module defines `register(subparsers)`; `v2p.cli` discovers them. Modules whose names
start with `_` are helpers, not subcommands: `_options` adds the options they share (`--json`, `--economics`).

Modules import heavy libraries (torch, pybullet, rclpy) inside their handlers so that `v2p --help` stays fast.
"""
