"""The task in one place: the vocabulary every layer of V2P speaks, and the seam for the next task.

- `v2p.task.topics`: every topic name of the graph.
- `v2p.task.action`: `ActionSpec` (fields, bounds, the unit-box conversion, the safe action).
- `v2p.task.events`: `SimEvent`, its wire layout and `EventVocabulary` (unit, error kinds, episode frame).
- `v2p.task.observation`: `ObservationLayout`, the documented list of observation fields and their sources.
- `v2p.task.base`: the `Task` and `Cell` protocols, `WorkEvent` and `CycleResult`.
- `v2p.task.dishwashing`: the dishwashing task (`DISHWASHING`): dish types, (speed, care), error kinds, the
  state layout, the SAC preset.

Importing it does not import torch or the simulator.
"""

from v2p.task.action import ActionSpec
from v2p.task.base import Cell, CycleResult, Task, WorkEvent
from v2p.task.dishwashing import DISHWASHING
from v2p.task.errors import MessageError
from v2p.task.events import EVENT_FIELDS, EVENT_LABEL, EventVocabulary, SimEvent
from v2p.task.observation import ObservationField, ObservationLayout

__all__ = ["ActionSpec", "Cell", "CycleResult", "DISHWASHING", "EVENT_FIELDS", "EVENT_LABEL", "EventVocabulary",
           "MessageError", "ObservationField", "ObservationLayout", "SimEvent", "Task", "WorkEvent"]
