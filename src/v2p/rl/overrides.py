"""`KEY=VALUE` overrides of SACConfig from the command line, parsed by each field's type."""

from __future__ import annotations

import dataclasses
from typing import Any, get_type_hints

from v2p.errors import V2PError
from v2p.rl.config import SACConfig


def parse_overrides(items: list[str]) -> dict[str, Any]:
    hints = get_type_hints(SACConfig)
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep:
            raise V2PError(f"--set {item!r}: expected KEY=VALUE")
        if key not in hints:
            known = ", ".join(f.name for f in dataclasses.fields(SACConfig))
            raise V2PError(f"--set {key}: unknown SAC setting (known: {known})")
        out[key] = _parse(key, hints[key], text.strip())
    return out


def _parse(key: str, hint: Any, text: str) -> Any:
    try:
        if text.lower() == "none" and type(None) in getattr(hint, "__args__", ()):
            return None
        if hint == tuple[int, ...]:
            return tuple(int(w) for w in text.split(",") if w)
        if hint is bool:
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError("expected true or false")
            return text.lower() in ("true", "1")
        if key == "ent_coef":
            return text if text.startswith("auto") else float(text)
        if hint in (int, int | None):
            return int(text)
        if hint in (float, float | None):
            return float(text)
        return text
    except ValueError as exc:
        raise V2PError(f"--set {key}={text}: {exc}") from None
