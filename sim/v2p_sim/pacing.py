"""How a simulator loop meets its controller: lockstep or realtime pacing (the sim node's two modes).

The loop asks its pacing for each cycle's action (`action`), and calls `on_tick` at every tick of the physics;
the controller's actions arrive from another thread through `on_action`. The loop publishes; a pacing only
decides when the state goes out (through the `publish_state` it is given), which action a cycle runs and, in
realtime, how long the loop sleeps. Every wait goes through the loop's `StopRequest`, so a stop ends it at once.

- `LockstepPacing`: after publishing a state the loop waits (wall time, sim time frozen) for the first valid
  action received after it, re-sends the state every `resend_period_s` and after `action_timeout_s` runs the
  safe action. Deterministic: one action per state.
- `RealtimePacing`: sim time follows wall time (`real_time_factor`), the state goes out every
  1/`control_rate_hz` sim seconds, and a cycle runs the latest action, or the safe action when it is older than
  `action_stale_s` sim seconds.

Between shifts, `LearnerSync` (sim_node `sync_learner`) holds the loop until the policy reports a checkpoint
trained through the shift just ended (`trained_through`), so each shift's actions come from weights that depend
on the seed and the shifts before it, never on how fast the learner happened to be.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from v2p.stopping import StopRequest

Action = tuple[float, ...]
_EPS_S = 1e-9  # sim times equal up to float round-off are due


class LockstepPacing:
    def __init__(self, stop: StopRequest, safe_action: Action, action_timeout_s: float, resend_period_s: float,
                 warn: Callable[[str], None]) -> None:
        self.stop = stop
        self.safe_action = safe_action
        self.action_timeout_s = action_timeout_s
        self.resend_period_s = resend_period_s
        self.warn = warn
        self.fallbacks = 0  # cycles that ran the safe action
        self._awaiting = False  # an action is wanted for the state just published
        self._answer: Action | None = None

    def on_action(self, action: Action, sim_time_s: float) -> None:
        """A valid action arrived (any thread): the answer to the state published last, if none came yet."""
        if self._awaiting and self._answer is None:
            self._answer = action
            self.stop.notify()

    def start_shift(self, sim_time_s: float) -> None:
        pass  # nothing is paced between cycles

    def on_tick(self, sim_time_s: float, publish_state: Callable[[], None]) -> None:
        pass  # the state goes out only between cycles; the physics runs as fast as it can

    def action(self, sim_time_s: float, publish_state: Callable[[], None]) -> Action | None:
        """Publish the state and return the first valid action received after it (the safe action after
        `action_timeout_s`); None when a stop is requested first."""
        self._answer = None  # what arrived before this state answered an earlier one
        self._awaiting = True
        try:
            deadline = time.monotonic() + self.action_timeout_s
            while True:
                publish_state()
                resend = min(deadline, time.monotonic() + self.resend_period_s)
                if self.stop.wait_for(lambda: self._answer is not None, resend - time.monotonic()):
                    return self._answer
                if self.stop.requested:
                    return None
                if time.monotonic() >= deadline:
                    self.fallbacks += 1
                    self.warn(f"no valid /policy/action within {self.action_timeout_s:g} s: "
                              f"using the safe action {list(self.safe_action)}")
                    return self.safe_action
        finally:
            self._awaiting = False


class RealtimePacing:
    def __init__(self, stop: StopRequest, safe_action: Action, control_rate_hz: float, real_time_factor: float,
                 action_stale_s: float, warn: Callable[[str], None]) -> None:
        self.stop = stop
        self.safe_action = safe_action
        self.state_period_s = 1.0 / control_rate_hz
        self.real_time_factor = real_time_factor
        self.action_stale_s = action_stale_s
        self.warn = warn
        self.fallbacks = 0
        self._latest: tuple[Action, float] | None = None  # (action, sim time it arrived)
        self._next_state_s = 0.0
        self._anchor = (time.monotonic(), 0.0)  # (wall, sim) at the shift's start

    def on_action(self, action: Action, sim_time_s: float) -> None:
        self._latest = (action, sim_time_s)  # one assignment: the loop reads a consistent pair

    def start_shift(self, sim_time_s: float) -> None:
        self._next_state_s = sim_time_s
        self._anchor = (time.monotonic(), sim_time_s)

    def on_tick(self, sim_time_s: float, publish_state: Callable[[], None]) -> None:
        """Publish the state when due, then sleep until wall time catches up with sim time."""
        self._publish_due(sim_time_s, publish_state)
        wall0, sim0 = self._anchor
        self.stop.sleep(wall0 + (sim_time_s - sim0) / self.real_time_factor - time.monotonic())

    def action(self, sim_time_s: float, publish_state: Callable[[], None]) -> Action:
        """Publish the state when due; the latest action unless stale, else the safe action."""
        self._publish_due(sim_time_s, publish_state)
        latest = self._latest
        if latest is not None and sim_time_s - latest[1] <= self.action_stale_s:
            return latest[0]
        self.fallbacks += 1
        self.warn(f"no /policy/action in the last {self.action_stale_s:g} sim s: using the safe "
                  f"action {list(self.safe_action)}")
        return self.safe_action

    def _publish_due(self, sim_time_s: float, publish_state: Callable[[], None]) -> None:
        if sim_time_s + _EPS_S >= self._next_state_s:
            publish_state()
            self._next_state_s += self.state_period_s


def trained_through(last_episode: int | None, episode: int) -> bool:
    """Whether a checkpoint announced through `last_episode` has been trained on shift `episode`'s bag (episode
    numbers grow through a run and across its phases: a later episode's checkpoint includes the earlier ones)."""
    return last_episode is not None and last_episode >= episode


class LearnerSync:
    """The sim's wait at each shift's end for the policy's checkpoint (see the module docstring)."""

    def __init__(self, stop: StopRequest, timeout_s: float) -> None:
        self.stop = stop
        self.timeout_s = timeout_s
        self.last_episode: int | None = None  # what the policy reported last (None: a fresh or untrained policy)
        self.waited_s = 0.0  # wall seconds spent waiting, over the run

    def on_checkpoint(self, last_episode: int | None) -> None:
        """The policy reported the checkpoint it acts with (any thread)."""
        self.last_episode = last_episode
        self.stop.notify()

    def wait(self, episode: int) -> bool | None:
        """Wait until the policy acts with a checkpoint trained through `episode`: True when it does, False after
        `timeout_s`, None when a stop is requested first."""
        start = time.monotonic()
        try:
            if self.stop.wait_for(lambda: trained_through(self.last_episode, episode), self.timeout_s):
                return True
            return None if self.stop.requested else False
        finally:
            self.waited_s += time.monotonic() - start
