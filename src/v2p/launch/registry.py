"""A name -> implementation table (the launch actions, the substitutions) filled by a decorator.

Its keys are the one list of what v2p launch supports: lookups of anything else raise a LaunchError that names
the file and line and lists every registered name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from v2p.launch.errors import LaunchError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, describe: Callable[[str], str]) -> None:
        """`describe(name)` writes one entry in messages, e.g. "action 'node'" or "substitution $(var ...)"."""
        self._describe = describe
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T) -> T:
        if name in self._items:
            raise ValueError(f"{self._describe(name)} is registered twice")
        self._items[name] = item
        return item

    def names(self) -> list[str]:
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def get(self, name: object, where: str) -> T:
        if not isinstance(name, str) or name not in self._items:
            raise LaunchError(f"{where}: {self._describe(str(name))} is not supported by v2p launch "
                              f"(supported: {', '.join(self._items)})")
        return self._items[name]
