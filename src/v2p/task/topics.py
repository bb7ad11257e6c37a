"""Every topic name of the V2P graph, in one place (nodes, the recorder's readers, dashboards import these).

Launch files (YAML) cannot import Python: their remaps name topics literally and a test checks them against
this module.
"""

from __future__ import annotations

CLOCK = "/clock"
SIM_STATE = "/sim/state"              # std_msgs/Float32MultiArray: the workcell's state vector (see observation)
ROBOT_STATE = "/robot/state"          # std_msgs/Float32MultiArray: the robot's own proprioception and bookkeeping
                                      # (the ROBOT_STATE layout), from sim_node or a robot's driver
SIM_EVENTS = "/sim/events"            # std_msgs/Float64MultiArray: one SimEvent per message (see events)
SIM_CAMERA = "/sim/camera/image"      # sensor_msgs/Image rgb8: the simulator's render
CAMERA_IMAGE = "/camera/image_raw"    # sensor_msgs/Image rgb8: what the encoder watches (sim relay or a camera)
CAMERA_INFO = "/camera/camera_info"
LATENT = "/encoder/latent"            # std_msgs/Float32MultiArray: the encoder's 128-D latent
ACTION = "/policy/action"             # std_msgs/Float32MultiArray: the action (see action)
POLICY_CHECKPOINT = "/policy/checkpoint"    # std_msgs/String, latched: the weights the policy node uses
LEARNER_CHECKPOINT = "/learner/checkpoint"  # std_msgs/String, latched: a new checkpoint version to load
ECON_PREFIX = "/econ/"
ECON_SUMMARY = "/econ/summary"        # diagnostic_msgs/DiagnosticArray: every figure as a KeyValue
VIZ_MARKERS = "/viz/markers"          # visualization_msgs/MarkerArray, latched
DIAGNOSTICS = "/diagnostics"

# /econ/<name> scalars (std_msgs/Float64) -> the EpisodeEconomics field each carries
ECON_SCALARS = {"mp": "mp", "error_rate": "err_rate", "lambda": "lam", "spread": "spread",
                "wage_parity": "wage_parity", "profit": "profit", "s_cust": "s_cust"}


def econ_topic(name: str) -> str:
    """/econ/<name> for one of ECON_SCALARS."""
    if name not in ECON_SCALARS:
        raise KeyError(f"no economics topic {name!r} (known: {', '.join(ECON_SCALARS)})")
    return ECON_PREFIX + name
