"""CLI subcommands. Each module defines `register(subparsers)`; `v2p.cli` discovers them.

Modules import heavy libraries (torch, pybullet, rclpy) inside their handlers so that `v2p --help` stays fast.
"""
