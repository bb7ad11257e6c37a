"""Launch errors: the message names the launch file, where in it, and what is wrong."""

from v2p.errors import V2PError


class LaunchError(V2PError):
    """A launch file cannot be parsed or run as written."""
