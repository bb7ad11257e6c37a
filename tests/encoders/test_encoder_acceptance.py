"""Acceptance (slow, minutes): the streaming encoder trained on default-site frames reads dish dirt and dish held
from held-out episodes with R² >= 0.8."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from v2p.cli import main

pytest.importorskip("v2p_sim")


@pytest.mark.slow
def test_streaming_encoder_reads_dirt_and_held_on_held_out_episodes(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture) -> None:
    rc = main(["train-encoder", "--site", "default", "--episodes", "30", "--encoder", "streaming",
               "--out", str(tmp_path / "enc.safetensors"), "--threads", "2", "--json"])
    assert rc == 0
    metrics = json.loads(capsys.readouterr().out)["metrics"]
    assert metrics["dish_dirt"]["r2"] >= 0.8
    assert metrics["dish_held"]["r2"] >= 0.8
