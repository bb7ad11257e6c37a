"""Errors about bags: the message always names the bag or file."""

from v2p.errors import V2PError


class BagError(V2PError):
    """A bag is missing, incomplete, corrupt, or cannot be written."""
