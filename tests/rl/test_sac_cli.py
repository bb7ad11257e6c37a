"""`v2p rl-bench`: one JSON object with the documented keys; bad input is one clear error line, exit 2."""

import json

from v2p.cli import main


def test_rl_bench_json(capsys, tmp_path):
    rc = main(["rl-bench", "--env", "Pendulum-v1", "--steps", "250", "--seed", "3", "--eval-episodes", "2",
               "--threads", "1", "--set", "net_arch=32,32", "--set", "batch_size=32", "--out", str(tmp_path), "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert {"mean_return", "std_return", "train_seconds", "updates_per_second"} <= set(out)
    assert out["updates"] == 150  # updates start after learning_starts=100 steps
    assert -2000 < out["mean_return"] < 0 and out["updates_per_second"] > 0
    assert (tmp_path / "episodes.csv").read_text().count("\n") == 2  # header + one 200-step episode
    assert (tmp_path / "checkpoint" / "metadata.json").is_file()


def test_rl_bench_bad_input(capsys):
    assert main(["rl-bench", "--env", "NoSuchEnv-v0", "--steps", "5"]) == 2
    assert "NoSuchEnv-v0" in capsys.readouterr().err
    assert main(["rl-bench", "--env", "Pendulum-v1", "--steps", "5", "--set", "gamma=2"]) == 2
    assert "'gamma'" in capsys.readouterr().err
    assert main(["rl-bench", "--env", "Pendulum-v1", "--steps", "5", "--set", "nope=1"]) == 2
    assert "unknown SAC setting" in capsys.readouterr().err
