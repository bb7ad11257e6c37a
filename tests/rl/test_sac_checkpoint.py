"""Checkpoints: round trip, atomic writes, and clear errors for corrupt, truncated and mismatched ones."""

import json

import gymnasium as gym
import numpy as np
import pytest
import torch
from rl_helpers import MoveToTarget

from v2p.errors import V2PError
from v2p.rl import SAC, CheckpointError, load_actor


@pytest.fixture
def trained(tmp_path):
    model = SAC(MoveToTarget(), net_arch=(16, 16), batch_size=16, learning_starts=20, seed=0, device="cpu",
                threads=1)
    model.learn(60, progress_bar=False)
    path = model.save(tmp_path / "ckpt", extra={"lambda": 1.5})
    return model, path


def observations(n=32):
    return np.random.default_rng(7).uniform(-1, 1, (n, 2)).astype(np.float32)


def test_round_trip_gives_identical_deterministic_actions(trained):
    model, path = trained
    loaded = SAC.load(path, env=MoveToTarget())
    a, _ = model.predict(observations())
    b, _ = loaded.predict(observations())
    np.testing.assert_array_equal(a, b)
    assert loaded.num_timesteps == 60 and loaded.agent.updates == model.agent.updates
    assert loaded.metadata["extra"] == {"lambda": 1.5}
    assert loaded.agent.alpha == model.agent.alpha
    # optimizer moments come back too, so training resumes where it stopped
    for p, q in zip(model.agent.optimizer.param_groups[0]["params"], loaded.agent.optimizer.param_groups[0]["params"]):
        torch.testing.assert_close(model.agent.optimizer.state[p]["exp_avg"], loaded.agent.optimizer.state[q]["exp_avg"])


def test_load_without_env_predicts_and_single_obs_shape(trained):
    model, path = trained
    loaded = SAC.load(path)
    action, state = loaded.predict(observations(1)[0])
    assert action.shape == (1,) and state is None
    np.testing.assert_array_equal(action, model.predict(observations(1)[0])[0])


def test_load_actor_alone_matches_full_model(trained):
    model, path = trained
    actor, meta = load_actor(path)
    assert not any(p.requires_grad for p in actor.parameters())
    with torch.no_grad():
        a = actor.act(torch.from_numpy(observations())).numpy()
    np.testing.assert_array_equal(a, model.predict(observations())[0])
    assert meta["step"] == 60 and meta["versions"]["torch"] == torch.__version__
    assert meta["spaces"]["action"] == {"shape": [1], "low": -1.0, "high": 1.0}


def test_checkpoint_files_and_no_temp_left(trained):
    _, path = trained
    assert sorted(p.name for p in path.iterdir()) == ["metadata.json", "model.safetensors"]
    meta = json.loads((path / "metadata.json").read_text())
    assert meta["config"]["net_arch"] == [16, 16] and meta["format"].startswith("v2p-sac-checkpoint")


def test_corrupt_weights_raise_checkpoint_error_naming_the_file(trained):
    _, path = trained
    blob = bytearray((path / "model.safetensors").read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (path / "model.safetensors").write_bytes(bytes(blob))
    with pytest.raises(CheckpointError, match=r"model\.safetensors: corrupt or truncated"):
        SAC.load(path)
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_actor(path)


def test_truncated_weights_raise(trained):
    _, path = trained
    blob = (path / "model.safetensors").read_bytes()
    (path / "model.safetensors").write_bytes(blob[: len(blob) // 3])
    with pytest.raises(CheckpointError, match=r"model\.safetensors.*truncated"):
        SAC.load(path)


def test_truncated_metadata_raises(trained):
    _, path = trained
    text = (path / "metadata.json").read_text()
    (path / "metadata.json").write_text(text[: len(text) // 2])
    with pytest.raises(CheckpointError, match=r"metadata\.json: corrupt or truncated JSON"):
        SAC.load(path)


def test_missing_files_and_non_checkpoints_raise(tmp_path, trained):
    _, path = trained
    with pytest.raises(CheckpointError, match="not a checkpoint directory"):
        SAC.load(tmp_path / "nothing-here")
    (path / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match=r"model\.safetensors: missing"):
        SAC.load(path)
    (path / "metadata.json").write_text('{"format": "something-else"}')
    with pytest.raises(CheckpointError, match="not a v2p-sac-checkpoint"):
        SAC.load(path)
    assert issubclass(CheckpointError, V2PError)


def test_garbage_with_matching_hash_is_still_rejected(trained):
    # a file that is not safetensors at all, with metadata updated to its hash: the parser must reject it
    import hashlib

    _, path = trained
    junk = b"\x08\x00\x00\x00\x00\x00\x00\x00{not json"
    (path / "model.safetensors").write_bytes(junk)
    meta = json.loads((path / "metadata.json").read_text())
    meta["weights_sha256"] = hashlib.sha256(junk).hexdigest()
    (path / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        SAC.load(path)


def test_mismatched_env_spaces_raise(trained):
    _, path = trained
    wider = MoveToTarget()
    wider.action_space = gym.spaces.Box(-2.0, 2.0, (1,), np.float32)
    with pytest.raises(CheckpointError, match="action space low bound mismatch"):
        SAC.load(path, env=wider)
    with pytest.raises(CheckpointError, match=r"observation space shape mismatch: checkpoint \(2,\), env \(3,\)"):
        SAC.load(path, env=gym.make("Pendulum-v1"))


def test_mismatched_network_shapes_raise(trained):
    # metadata says [32, 32] but the weights are [16, 16]: caught before any weight is copied
    import hashlib

    _, path = trained
    meta = json.loads((path / "metadata.json").read_text())
    meta["config"]["net_arch"] = [32, 32]
    (path / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match=r"tensor 'actor\.head\.weight' has shape \(2, 16\), the model needs \(2, 32\)"):
        SAC.load(path)
    with pytest.raises(CheckpointError, match="has shape"):
        load_actor(path)
    assert meta["weights_sha256"] == hashlib.sha256((path / "model.safetensors").read_bytes()).hexdigest()


def test_save_overwrites_atomically(trained, tmp_path):
    model, path = trained
    model.learn(30, progress_bar=False)
    model.save(path)
    assert SAC.load(path).num_timesteps == 90
    assert not [p for p in path.iterdir() if p.name.endswith(".tmp")]


def test_infinite_observation_bounds_survive_json(tmp_path):
    env = gym.make("Pendulum-v1")
    env.observation_space = gym.spaces.Box(-np.inf, np.inf, (3,), np.float32)
    model = SAC(env, net_arch=(8,), device="cpu", buffer_size=10, threads=1)
    path = model.save(tmp_path / "inf")
    assert json.loads((path / "metadata.json").read_text())["spaces"]["obs"]["low"] == "-inf"
    SAC.load(path, env=env)
