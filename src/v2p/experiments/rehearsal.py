"""Sim-to-robot rehearsal: a video file recorded from the simulator, for `camera_node source:=file` to replay into
`launch/robot.launch.yaml`, and the robot states a robot's driver would publish beside it.

    states = record_sim_video("runs/sim.avi", site="default", seed=0, shifts=2)
    v2p launch launch/robot.launch.yaml source:=file file:=runs/sim.avi loop:=true encoder_checkpoint:=...

The video holds the decision frames (one per dish cycle, the frame the policy acts on) of shifts worked with
`behaviour`; `states[i]` is the robot's own state (`v2p.task.dishwashing.ROBOT_STATE`) at frame i, what a
driver publishes on /robot/state.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from v2p.experiments.recording import Behaviour, uniform_behaviour
from v2p.task.dishwashing import ROBOT_STATE, STATE

FOURCC = "MJPG"  # in every OpenCV build, read back by VideoCapture


def record_sim_video(path: Path | str, site: str = "default", seed: int = 0, shifts: int = 1,
                     shift_hours: float | None = None, fps: float = 10.0, frame_size: int = 64,
                     behaviour: Behaviour = uniform_behaviour) -> np.ndarray:
    """Write the decision frames of `shifts` shifts (shift k seeded seed + k) to an MJPG AVI at `fps`; return the
    robot states at the frames, [frames, ROBOT_STATE.dim] float32."""
    import cv2

    from v2p_sim import Workcell

    if shifts < 1 or not fps > 0:
        raise ValueError(f"shifts must be >= 1 and fps > 0, got {shifts}, {fps}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*FOURCC), float(fps), (frame_size, frame_size))
    if not writer.isOpened():
        raise OSError(f"OpenCV cannot write {FOURCC} video to {path}")
    rng = np.random.default_rng(seed)
    cell = Workcell(site, seed=seed, render_size=frame_size)
    robot_fields = list(STATE.view("robot_state"))
    states: list[np.ndarray] = []
    try:
        if shift_hours is not None:
            cell.shift_hours = float(shift_hours)
        for k in range(shifts):
            cell.reset(seed + k)
            while not cell.shift_done:
                state = cell.state_vector()
                writer.write(cv2.cvtColor(np.asarray(cell.render_rgb(frame_size)), cv2.COLOR_RGB2BGR))
                states.append(state[robot_fields])
                cell.run_cycle(*behaviour(state, rng))
    finally:
        writer.release()
        cell.close()
    return np.asarray(states, np.float32).reshape(-1, ROBOT_STATE.dim)
