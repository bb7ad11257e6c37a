"""The error a message (or a value meant for one) raises when it does not fit its layout."""

from __future__ import annotations


class MessageError(ValueError):
    """A message whose content does not fit its layout; nodes log it and drop the message."""
