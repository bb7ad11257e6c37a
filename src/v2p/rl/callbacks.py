"""Hooks into SAC.learn. Subclass Callback and override what you need; pass one or a list as `callback=`."""

from __future__ import annotations

from typing import Any


class Callback:
    def on_training_start(self, model: Any) -> None:
        """Called once before the first env step."""

    def reward(self, reward: float, info: dict[str, Any]) -> float:
        """The reward the learner stores for this step (shape it here); called after every env step."""
        return reward

    def on_step(self, model: Any) -> bool:
        """Called after every env step; return False to stop training."""
        return True

    def on_episode_end(self, model: Any, record: dict[str, Any], info: dict[str, Any]) -> bool:
        """Called when an episode ends, with its CSV row (add columns to it) and the final info; False stops."""
        return True


def as_callbacks(callback: Callback | list[Callback] | tuple[Callback, ...] | None) -> list[Callback]:
    if callback is None:
        return []
    items = list(callback) if isinstance(callback, (list, tuple)) else [callback]
    for c in items:
        if not isinstance(c, Callback):
            raise TypeError(f"callback must be a v2p.rl.Callback (or a list of them), got {type(c).__name__}")
    return items


class EpisodeLimit(Callback):
    """Stop training after `episodes` more episodes (for envs whose episodes vary in length)."""

    def __init__(self, episodes: int):
        self.episodes = episodes
        self.seen = 0

    def on_episode_end(self, model: Any, record: dict[str, Any], info: dict[str, Any]) -> bool:
        self.seen += 1
        return self.seen < self.episodes
