"""Experiments over the simulator and the learner: sweeps, frontiers, reports."""
