"""Bad files: random, truncated and mutated YAML for the economics config, site files and launch files always
raise a V2PError naming the file (never another exception); bags that are random bytes, empty or have a torn
metadata.yaml are skipped by the learner, named, and it trains on the rest; corrupted checkpoints are always a
V2PError for the policy node's loader (which the node catches to keep its current weights)."""

from __future__ import annotations

from dataclasses import replace

import json
import logging
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from v2p.config import CONFIG_DIR, load_economics_config
from v2p.errors import V2PError
from v2p.launch import load_launch
from v2p_sim.site import load_site

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[2]
SEED = 9


def variants(text: bytes, rng: np.random.Generator, cuts: int = 25, blobs: int = 15, flips: int = 25) -> list[bytes]:
    """Truncations at random offsets, random byte blobs, and the file with a few random bytes overwritten."""
    out = [text[: int(k)] for k in rng.integers(0, len(text), cuts)]
    out += [rng.integers(0, 256, int(n), dtype=np.uint8).tobytes() for n in rng.integers(1, 400, blobs)]
    for _ in range(flips):
        b = bytearray(text)
        for pos in rng.integers(0, len(b), 3):
            b[int(pos)] = int(rng.choice(list(b":{}[]-#&*!|>'\"%@`\t\n\x00\xff ")))
        out.append(bytes(b))
    return out


def fuzz(source: Path, load: Callable[[Path], object], tmp_path: Path) -> tuple[int, int]:
    """Feed every variant of `source` to `load`: a V2PError naming the file, or a load that succeeds."""
    rng = np.random.default_rng(SEED)
    failed = 0
    cases = variants(source.read_bytes(), rng)
    for i, data in enumerate(cases):
        path = tmp_path / f"case{i:03d}_{source.name}"
        path.write_bytes(data)
        try:
            load(path)
        except V2PError as exc:
            assert str(path) in str(exc), f"case {i}: the error does not name the file: {exc}"
            failed += 1
        # any other exception type propagates and fails the test with its traceback
    assert failed >= len(cases) // 2, "most corruptions must be refused"
    return len(cases), failed


def test_corrupt_economics_config_is_always_a_config_error_naming_the_file(tmp_path):
    fuzz(CONFIG_DIR / "economics.yaml", load_economics_config, tmp_path)


def test_corrupt_site_file_is_always_a_config_error_naming_the_file(tmp_path):
    fuzz(CONFIG_DIR / "sites" / "default.yaml", load_site, tmp_path)


def test_corrupt_launch_file_is_always_a_launch_error_naming_the_file(tmp_path):
    fuzz(ROOT / "launch" / "sim.launch.yaml", lambda p: load_launch(p, {}), tmp_path)


def test_learner_skips_random_empty_and_torn_bags_naming_each_and_trains_on_the_rest(tmp_path, caplog):
    sys.path.insert(0, str(ROOT / "tests" / "ros"))
    from node_harness import write_lockstep_recording

    from v2p.learning import learn
    from v2p.task.dishwashing import DISHWASHING

    rec = tmp_path / "rec"
    good = write_lockstep_recording(rec / "good", episodes=1, steps=6, seed=1)
    bad: list[Path] = []
    for name, damage in (("random", "mcap"), ("empty", "empty"), ("torn_meta", "meta")):
        bag = write_lockstep_recording(rec / name, episodes=1, steps=6, seed=2)
        mcap = next(bag.glob("*.mcap"))
        if damage == "mcap":
            mcap.write_bytes(np.random.default_rng(SEED).integers(0, 256, mcap.stat().st_size, np.uint8).tobytes())
        elif damage == "empty":
            mcap.write_bytes(b"")
        else:
            meta = bag / "metadata.yaml"
            meta.write_bytes(meta.read_bytes()[: meta.stat().st_size // 2])
        bad.append(bag.resolve())
    caplog.set_level(logging.INFO, logger="v2p.learning")
    sac = replace(DISHWASHING.sac, batch_size=4, buffer_size=500, net_arch=(16, 16), seed=0, device="cpu", threads=1)
    report = learn([rec], tmp_path / "ckpt", 3, load_economics_config(), sac_config=sac)
    logs = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert report.bags_used == [str(good.resolve())]
    assert sorted(report.bags_failed) == sorted(str(b) for b in bad)
    for b in bad:
        assert any(str(b) in line for line in logs), f"{b} not named in an error record: {logs}"
    assert report.updates == 3 and (tmp_path / "ckpt" / "latest" / "metadata.json").is_file()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    sys.path.insert(0, str(ROOT / "tests" / "ros"))
    from test_nodes_policy import write_checkpoint  # the real learner format, for 128-value latents

    return write_checkpoint(tmp_path_factory.mktemp("ckpt") / "good", 128, seed=1)


def test_corrupted_checkpoints_are_always_a_v2p_error_for_the_policy_loader(checkpoint, tmp_path):
    """The policy node keeps its weights only on V2PError (test_nodes_policy shows that): any other exception
    from a corrupted checkpoint would kill its callback instead."""
    from v2p_ros.policy_node import load_policy

    rng = np.random.default_rng(SEED)
    cases = 0
    for name in ("model.safetensors", "metadata.json"):
        text = (checkpoint / name).read_bytes()
        damaged = variants(text[:4096] if name == "model.safetensors" else text, rng, cuts=8, blobs=4, flips=8)
        if name == "model.safetensors":  # flips in the header, the data kept: hash or header checks must catch it
            damaged = [d + text[4096:] if len(d) == 4096 else d for d in damaged]
        for data in damaged:
            case = Path(shutil.copytree(checkpoint, tmp_path / f"case{cases:03d}"))
            (case / name).write_bytes(data)
            cases += 1
            try:
                load_policy(case, 128)
            except V2PError as exc:
                assert str(case) in str(exc), exc
            else:
                assert data == text or name == "metadata.json", f"case {cases}: damaged weights were loaded"
    nan = Path(shutil.copytree(checkpoint, tmp_path / "nan"))
    meta = json.loads((nan / "metadata.json").read_text())
    assert meta  # a real checkpoint
    from v2p.rl.checkpoint import load_checkpoint, save_checkpoint

    tensors, metadata = load_checkpoint(checkpoint)
    tensors = {k: (torch.full_like(v, float("nan")) if k.endswith("weight") else v) for k, v in tensors.items()}
    save_checkpoint(nan, tensors, metadata)
    with pytest.raises(V2PError, match="NaN|infinite|finite"):
        load_policy(nan, 128)
    with pytest.raises(V2PError, match=r"\(64,\)|128|shape|obs"):
        load_policy(checkpoint, 64)
