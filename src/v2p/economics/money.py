"""Exact money: amounts that are summed are integer cents, rounded half-up from $ floats once."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def to_cents(dollars: float) -> int:
    """Round a $ amount to integer cents (half away from zero), via Decimal so 0.125 → 13 exactly."""
    return int(Decimal(repr(float(dollars))).scaleb(2).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def cents_to_dollars(cents: int) -> float:
    return cents / 100.0


def split_cents(total_cents: int, share: float) -> tuple[int, int]:
    """Split `total_cents` into (share part, remainder) so the two always add up to the total exactly."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must lie in [0, 1], got {share}")
    part = int((Decimal(total_cents) * Decimal(repr(float(share)))).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return part, total_cents - part
