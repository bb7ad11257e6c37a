"""`v2p export`: the torch.export program and the ONNX model give the actions policy_node computes from the same
checkpoint (the eager encoder's latent, the robot state appended when the actor was trained on it, then
`actor.act(observation, deterministic=True)`) within 1e-5, and carry their description. The ONNX tests need the
optional onnx extra (requirements-onnx.txt) and skip without it."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import torch

from v2p.errors import V2PError

torch.set_num_threads(1)
HAVE_ONNX = all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxscript", "onnxruntime"))
FORMATS = [pytest.param("torch-export", id="torch-export"),
           pytest.param("onnx", id="onnx", marks=pytest.mark.skipif(
               not HAVE_ONNX, reason="the onnx extra (requirements-onnx.txt: onnx, onnxscript, onnxruntime) is not "
                                     "installed"))]
SUFFIX = {"torch-export": ".pt2", "onnx": ".onnx"}
LATENT, ROBOT = "/encoder/latent", "/robot/state"


def sac_checkpoint(path, obs_dim: int, seed: int = 0, policy_input: list[str] | None = None):
    """A real SAC checkpoint (fresh networks from `seed`) over obs_dim observations and [speed, care] in [0, 1];
    `policy_input` is what the learner records it was trained on (its metadata's extra.policy_input)."""
    import gymnasium as gym

    from v2p.rl import SAC

    obs_space = gym.spaces.Box(-np.inf, np.inf, shape=(obs_dim,), dtype=np.float32)
    action_space = gym.spaces.Box(np.zeros(2, np.float32), np.ones(2, np.float32), dtype=np.float32)
    model = SAC(None, observation_space=obs_space, action_space=action_space, seed=seed, net_arch=[64, 64],
                device="cpu", threads=1, tensorboard=False)
    with torch.no_grad():  # spread the head's outputs so actions cover [0, 1], not just tanh(≈0) = 0.5
        model.agent.actor.head.weight.mul_(8.0)
    return model.save(path, extra={"policy_input": policy_input} if policy_input else None)


def encoder_checkpoint(path, kind: str):
    from v2p.encoders import make_encoder, save_encoder

    torch.manual_seed(1)
    encoder = make_encoder("streaming", clip_len=4, frame_size=32, width=8) if kind == "streaming" \
        else make_encoder("mlp", state_dim=12, hidden=32)
    return save_encoder(encoder, path)


def policy_node_actions(checkpoint, encoder_path, inputs: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """What the encoder and policy nodes compute: the encoder's latent, the robot state appended (as
    PolicyInput.compose does), then the policy node's actor.act(deterministic=True)."""
    from v2p.encoders import load_encoder
    from v2p.rl import load_actor

    actor, _ = load_actor(checkpoint)
    with torch.no_grad():
        obs = inputs[0] if encoder_path is None else load_encoder(encoder_path)(inputs[0])
        if len(inputs) == 2:
            obs = torch.from_numpy(np.concatenate([obs.numpy(), inputs[1].numpy()], axis=1))
        return actor.act(obs, deterministic=True)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("encoder", ["streaming", "mlp", None])
def test_the_export_gives_the_policy_nodes_actions(tmp_path, fmt, encoder):
    from v2p.export import example_inputs, export_policy, load_exported
    from v2p.learning.versions import content_hash

    ckpt = sac_checkpoint(tmp_path / "sac", obs_dim=128, policy_input=[LATENT])
    enc = encoder_checkpoint(tmp_path / "encoder.safetensors", encoder) if encoder else None
    out = tmp_path / "robot" / f"policy{SUFFIX[fmt]}"
    written = export_policy(ckpt, out, enc, fmt)
    run, info = load_exported(out)
    assert info == written and info["check"]["max_abs_diff"] <= 1e-5
    assert info["output"]["fields"] == ["speed", "care"] and (info["output"]["low"], info["output"]["high"]) == (0, 1)
    assert info["sources"]["checkpoint"] == {"path": str(ckpt.resolve()), "sha256": content_hash(ckpt)}
    assert (info["sources"].get("encoder_checkpoint") or {}).get("kind") == encoder
    for batch, seed in ((1, 10), (5, 11)):  # batch sizes other than the one it was exported with
        inputs = example_inputs(info, batch, seed)
        with torch.no_grad():
            exported = run(*inputs)
        expected = policy_node_actions(ckpt, enc, inputs)
        assert exported.shape == (batch, 2)
        torch.testing.assert_close(exported, expected, rtol=0, atol=1e-5)
        assert bool(((exported >= 0) & (exported <= 1)).all())
    if encoder == "streaming":
        assert [(i["name"], i["shape"], i["dtype"]) for i in info["inputs"]] == [("clip", ["B", 4, 32, 32, 3],
                                                                                  "uint8")]
    if encoder is None:
        assert [(i["name"], i["shape"]) for i in info["inputs"]] == [("observation", ["B", 128])]


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_actor_trained_on_latent_and_robot_state_exports_with_both_inputs(tmp_path, fmt):
    from v2p.export import example_inputs, export_policy, load_exported

    ckpt = sac_checkpoint(tmp_path / "sac", obs_dim=128 + 7, seed=2, policy_input=[LATENT, ROBOT])
    enc = encoder_checkpoint(tmp_path / "encoder.safetensors", "streaming")
    export_policy(ckpt, tmp_path / f"policy{SUFFIX[fmt]}", enc, fmt)
    run, info = load_exported(tmp_path / f"policy{SUFFIX[fmt]}")
    assert [(i["name"], i["shape"]) for i in info["inputs"]] == [("clip", ["B", 4, 32, 32, 3]),
                                                                 ("robot_state", ["B", 7])]
    assert info["policy_input"] == [LATENT, ROBOT] and ROBOT in info["inputs"][1]["description"]
    clip, robot = example_inputs(info, 3, seed=5)
    torch.testing.assert_close(run(clip, robot), policy_node_actions(ckpt, enc, (clip, robot)), rtol=0, atol=1e-5)
    moved = run(clip, robot + 2.0)  # the robot state is an input, not a constant
    assert float((moved - run(clip, robot)).abs().max()) > 1e-3


def test_different_observations_give_different_actions(tmp_path):
    from v2p.export import example_inputs, export_policy, load_exported

    ckpt = sac_checkpoint(tmp_path / "sac", obs_dim=128)
    export_policy(ckpt, tmp_path / "policy.pt2")
    run, info = load_exported(tmp_path / "policy.pt2")
    actions = run(*example_inputs(info, 8, seed=3))
    assert actions.std(dim=0).min() > 0.01  # the export is a function of its input, not a constant


def test_an_actor_that_does_not_read_the_encoders_latent_is_refused(tmp_path):
    from v2p.export import export_policy

    enc = encoder_checkpoint(tmp_path / "encoder.safetensors", "streaming")
    for obs_dim, trained_on in ((12, None), (135, [LATENT]), (100, [LATENT, ROBOT])):
        ckpt = sac_checkpoint(tmp_path / f"sac{obs_dim}", obs_dim=obs_dim, policy_input=trained_on)
        with pytest.raises(V2PError, match=rf"shape \({obs_dim},\).*128-D latent"):
            export_policy(ckpt, tmp_path / "policy.pt2", enc)
    assert not (tmp_path / "policy.pt2").exists()


def test_a_file_that_is_not_an_exported_policy_is_refused(tmp_path):
    from v2p.export import load_exported

    plain = tmp_path / "plain.pt2"
    torch.export.save(torch.export.export(torch.nn.Linear(2, 2), (torch.zeros(1, 2),)), str(plain))
    with pytest.raises(V2PError, match="no v2p-exported-policy/1 description"):
        load_exported(plain)
    junk = tmp_path / "junk.pt2"
    junk.write_bytes(b"not a zip archive")
    with pytest.raises(V2PError, match="not a torch.export program"):
        load_exported(junk)


@pytest.mark.parametrize("fmt", FORMATS)
def test_cli_exports_and_reports_one_json_object(tmp_path, capsys, fmt):
    from v2p.cli import main

    ckpt = sac_checkpoint(tmp_path / "sac", obs_dim=128)
    enc = encoder_checkpoint(tmp_path / "encoder.safetensors", "streaming")
    out = tmp_path / f"policy{SUFFIX[fmt]}"
    code = main(["export", "--format", fmt, "--checkpoint", str(ckpt), "--encoder-checkpoint", str(enc),
                 "--out", str(out), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)  # exactly one JSON object on stdout
    assert report["out"] == str(out) and report["bytes"] == out.stat().st_size
    assert report["sources"]["encoder_checkpoint"]["kind"] == "streaming"
    assert report["sources"]["checkpoint"]["path"] == str(ckpt.resolve()) and report["check"]["max_abs_diff"] <= 1e-5


def test_cli_names_a_missing_checkpoint_and_a_wrong_suffix(tmp_path, capsys):
    from v2p.cli import main

    code = main(["export", "--checkpoint", str(tmp_path / "nope"), "--out", str(tmp_path / "policy.pt2")])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "nope" in err
    assert not (tmp_path / "policy.pt2").exists()
    ckpt = sac_checkpoint(tmp_path / "sac", obs_dim=128)
    code = main(["export", "--format", "onnx", "--checkpoint", str(ckpt), "--out", str(tmp_path / "policy.pt2")])
    assert code == 2 and ".onnx file" in capsys.readouterr().err
