"""Errors the user can act on. The CLI prints them as one line, without a traceback."""


class V2PError(Exception):
    """Base class: bad input that the user can fix (config, bag, checkpoint, argument)."""


class ConfigError(V2PError, ValueError):
    """A config file is missing, unparsable, or has a bad key or value. The message names file and key."""

    def __init__(self, path: object, key: str | None, problem: str) -> None:
        self.path = str(path)
        self.key = key
        where = f"{self.path}: key '{key}'" if key else self.path
        super().__init__(f"{where}: {problem}")
