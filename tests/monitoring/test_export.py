"""`v2p export`: the TorchScript policy gives the actions the eager encoder + actor give (within 1e-5)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from v2p.errors import V2PError

torch.set_num_threads(1)


def sac_checkpoint(path, obs_dim: int, seed: int = 0):
    """A real SAC checkpoint (fresh networks from `seed`) over obs_dim observations and [speed, care] in [0, 1]."""
    import gymnasium as gym

    from v2p.rl import SAC

    obs_space = gym.spaces.Box(-np.inf, np.inf, shape=(obs_dim,), dtype=np.float32)
    action_space = gym.spaces.Box(np.zeros(2, np.float32), np.ones(2, np.float32), dtype=np.float32)
    model = SAC(None, observation_space=obs_space, action_space=action_space, seed=seed, net_arch=[64, 64],
                device="cpu", threads=1, tensorboard=False)
    with torch.no_grad():  # spread the head's outputs so actions cover [0, 1], not just tanh(≈0) = 0.5
        model.agent.actor.head.weight.mul_(8.0)
    return model.save(path)


def encoder_checkpoint(path, kind: str):
    from v2p.encoders import make_encoder, save_encoder

    torch.manual_seed(1)
    encoder = make_encoder("streaming", clip_len=4, frame_size=32, width=8) if kind == "streaming" \
        else make_encoder("mlp", state_dim=12, hidden=32)
    return save_encoder(encoder, path)


def eager_actions(checkpoint, encoder_path, obs: torch.Tensor) -> torch.Tensor:
    """What policy_node computes: the encoder's latent, then actor.act(deterministic=True)."""
    from v2p.encoders import load_encoder
    from v2p.rl import load_actor

    actor, _ = load_actor(checkpoint)
    with torch.no_grad():
        latent = obs if encoder_path is None else load_encoder(encoder_path)(obs)
        return actor.act(latent, deterministic=True)


@pytest.mark.parametrize("encoder", ["streaming", "mlp", None])
def test_torchscript_gives_the_eager_actions(tmp_path, encoder):
    from v2p.export import example_input, export_policy, load_exported

    ckpt = sac_checkpoint(tmp_path / "sac", obs_dim=128)
    enc = encoder_checkpoint(tmp_path / "encoder.safetensors", encoder) if encoder else None
    out = tmp_path / "robot" / "policy.pt"
    export_policy(ckpt, out, enc)
    module, info = load_exported(out)
    assert isinstance(module, torch.jit.ScriptModule)
    assert info["encoder"] == encoder and info["output"]["fields"] == ["speed", "care"]
    for batch, seed in ((1, 10), (5, 11)):  # a batch size other than the traced one, too
        obs = example_input(info, batch, seed)
        with torch.no_grad():
            scripted = module(obs)
        eager = eager_actions(ckpt, enc, obs)
        assert scripted.shape == (batch, 2)
        torch.testing.assert_close(scripted, eager, rtol=0, atol=1e-5)
        assert bool(((scripted >= 0) & (scripted <= 1)).all())
    if encoder == "streaming":
        assert info["input"]["shape"] == ["B", 4, 32, 32, 3] and info["input"]["dtype"] == "uint8"


def test_different_observations_give_different_actions(tmp_path):
    from v2p.export import example_input, export_policy, load_exported

    ckpt = sac_checkpoint(tmp_path / "sac", obs_dim=128)
    export_policy(ckpt, tmp_path / "policy.pt")
    module, info = load_exported(tmp_path / "policy.pt")
    actions = module(example_input(info, 8, seed=3))
    assert actions.std(dim=0).min() > 0.01  # the export is a function of its input, not a constant


def test_actor_that_does_not_read_the_encoders_latent_is_refused(tmp_path):
    from v2p.export import export_policy

    ckpt = sac_checkpoint(tmp_path / "sac", obs_dim=12)
    enc = encoder_checkpoint(tmp_path / "encoder.safetensors", "streaming")
    with pytest.raises(V2PError, match=r"shape \(12,\).*128-D latent"):
        export_policy(ckpt, tmp_path / "policy.pt", enc)
    assert not (tmp_path / "policy.pt").exists()


def test_a_file_that_is_not_an_exported_policy_is_refused(tmp_path):
    from v2p.export import load_exported

    plain = tmp_path / "plain.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(plain))
    with pytest.raises(V2PError, match="v2p_policy.json"):
        load_exported(plain)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a zip archive")
    with pytest.raises(V2PError, match="not a TorchScript file"):
        load_exported(junk)


def test_cli_exports_and_reports_one_json_object(tmp_path, capsys):
    from v2p.cli import main

    ckpt = sac_checkpoint(tmp_path / "sac", obs_dim=128)
    enc = encoder_checkpoint(tmp_path / "encoder.safetensors", "streaming")
    out = tmp_path / "policy.pt"
    code = main(["export", "--checkpoint", str(ckpt), "--encoder-checkpoint", str(enc), "--out", str(out), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)  # exactly one JSON object on stdout
    assert report["out"] == str(out) and report["bytes"] == out.stat().st_size
    assert report["encoder"] == "streaming" and report["checkpoint"] == str(ckpt)


def test_cli_names_a_missing_checkpoint(tmp_path, capsys):
    from v2p.cli import main

    code = main(["export", "--checkpoint", str(tmp_path / "nope"), "--out", str(tmp_path / "policy.pt")])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "nope" in err
    assert not (tmp_path / "policy.pt").exists()
