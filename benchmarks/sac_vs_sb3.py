"""This SAC against Stable-Baselines3's SAC on Pendulum-v1, same hyperparameters and seeds, in one run.

Hyperparameters: the rl-baselines3-zoo set for Pendulum-v1 (hyperparams/sac.yml: 20k steps, learning_rate 1e-3,
everything else SB3's SAC defaults: [256, 256] nets, batch 256, buffer 1e6, learning_starts 100, tau 0.005,
gamma 0.99, train_freq 1, gradient_steps 1, ent_coef "auto").

  full (default): train both for 20k steps, interleaved in chunks of 1000 steps so that both see the same load
                  on a shared machine; print gradient updates per second of each (over its whole learn loop),
                  their ratio, and each policy's deterministic return over 10 evaluation episodes.
  --quick:        the update rate alone, both agents updating from the same 5000 stored transitions, in
                  alternating rounds (median of the rounds); well under two minutes.
On a CUDA device it also measures this SAC's eager update rate against compiled + CUDA-graph updates.

Stable-Baselines3 is a benchmark-only dependency: pip install -r requirements-bench.txt
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

ZOO = dict(learning_rate=1e-3, buffer_size=1_000_000, learning_starts=100, batch_size=256, tau=0.005, gamma=0.99,
           train_freq=1, gradient_steps=1)
NET = [256, 256]
ENV_ID = "Pendulum-v1"


def need_sb3():
    try:
        import stable_baselines3
    except ImportError:
        print("sac_vs_sb3: Stable-Baselines3 is not installed; it is a benchmark-only dependency:\n"
              "  .venv/bin/pip install -r requirements-bench.txt   (stable-baselines3==2.9.2)", file=sys.stderr)
        sys.exit(2)
    return stable_baselines3


def make_models(seed: int, threads: int, device: str = "cpu"):
    import gymnasium as gym
    from stable_baselines3 import SAC as SB3SAC

    from v2p.rl import SAC

    sb3 = SB3SAC("MlpPolicy", gym.make(ENV_ID), policy_kwargs=dict(net_arch=NET), seed=seed, device=device,
                 verbose=0, **ZOO)
    ours = SAC(gym.make(ENV_ID), net_arch=tuple(NET), seed=seed, device=device, threads=threads, **ZOO)
    return sb3, ours


def quick(seed: int, threads: int, rounds: int, updates: int) -> dict:
    """Updates/s of each on identical stored data; alternating rounds, medians."""
    import numpy as np
    import torch

    sb3, ours = make_models(seed, threads)
    torch.set_num_threads(threads)
    # the same 5000 random-action transitions in both buffers
    import gymnasium as gym

    env, rng = gym.make(ENV_ID), np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    rows = []
    for _ in range(5000):
        unit = rng.uniform(-1, 1, 1).astype(np.float32)
        nxt, r, term, trunc, _ = env.step(2.0 * unit)
        rows.append((obs, unit, r, nxt, term))
        obs = nxt if not (term or trunc) else env.reset()[0]
    o, a, r, n, d = (np.array(x, dtype=np.float32) for x in zip(*rows))
    ours.replay_buffer.add_batch(o, a, r, n, d)
    for i in range(len(o)):
        sb3.replay_buffer.add(o[i][None], n[i][None], a[i][None], r[i:i + 1], d[i:i + 1], [{}])
    sb3._setup_learn(0)  # SB3 needs its logger before train()
    sb3.train(gradient_steps=20, batch_size=ZOO["batch_size"])
    ours.agent.update_from(ours.replay_buffer, 20)
    # "sb3_ftz": SB3 with the CPU's flush-to-zero mode set process-wide (for reference: SB3 as shipped suffers
    # denormal Adam moments that this SAC zeroes locally; FTZ shows how much of the gap that alone explains)
    rates = {"sb3": [], "ours": [], "sb3_ftz": []}
    for k in range(rounds):
        order = [("sb3", "ours", "sb3_ftz"), ("ours", "sb3_ftz", "sb3"), ("sb3_ftz", "sb3", "ours")][k % 3]
        for who in order:
            torch.set_flush_denormal(who == "sb3_ftz")
            t = time.perf_counter()
            if who == "ours":
                ours.agent.update_from(ours.replay_buffer, updates)
            else:
                sb3.train(gradient_steps=updates, batch_size=ZOO["batch_size"])
            rates[who].append(updates / (time.perf_counter() - t))
            torch.set_flush_denormal(False)
    sb3_ups, ours_ups = statistics.median(rates["sb3"]), statistics.median(rates["ours"])
    ftz = statistics.median(rates["sb3_ftz"])
    return {"mode": "quick", "threads": threads, "rounds": rounds, "updates_per_round": updates,
            "sb3_updates_per_second": sb3_ups, "ours_updates_per_second": ours_ups, "ratio": ours_ups / sb3_ups,
            "sb3_ftz_updates_per_second": ftz, "ratio_vs_sb3_ftz": ours_ups / ftz}


def full(seed: int, threads: int, steps: int, chunk: int, eval_episodes: int) -> dict:
    """Both train `steps` env steps, interleaved chunk by chunk; updates/s over each learn loop; eval returns."""
    import gymnasium as gym
    import numpy as np
    import torch

    from v2p.rl import evaluate

    sb3, ours = make_models(seed, threads)
    torch.set_num_threads(threads)
    seconds = {"sb3": 0.0, "ours": 0.0}
    done = 0
    while done < steps:
        n = min(chunk, steps - done)
        order = ("sb3", "ours") if (done // chunk) % 2 == 0 else ("ours", "sb3")
        for who in order:
            t = time.perf_counter()
            if who == "sb3":
                sb3.learn(n, reset_num_timesteps=done == 0, progress_bar=False)
            else:
                ours.learn(n, progress_bar=False)
            seconds[who] += time.perf_counter() - t
        done += n
        print(f"  {done}/{steps} steps: sb3 {seconds['sb3']:.0f} s, ours {seconds['ours']:.0f} s", file=sys.stderr)
    sb3_updates = sb3._n_updates
    ours_updates = ours.agent.updates

    def sb3_eval() -> tuple[float, float]:
        env, returns = gym.make(ENV_ID), []
        for i in range(eval_episodes):
            obs, _ = env.reset(seed=seed + 10_000 + i)
            total, end = 0.0, False
            while not end:
                action, _ = sb3.predict(obs, deterministic=True)
                obs, r, term, trunc, _ = env.step(action)
                total, end = total + float(r), term or trunc
            returns.append(total)
        return float(np.mean(returns)), float(np.std(returns))

    sb3_mean, sb3_std = sb3_eval()
    ours_mean, ours_std = evaluate(ours, gym.make(ENV_ID), eval_episodes, seed=seed + 10_000)
    sb3_ups, ours_ups = sb3_updates / seconds["sb3"], ours_updates / seconds["ours"]
    return {"mode": "full", "threads": threads, "steps": steps, "seed": seed,
            "sb3_updates": sb3_updates, "ours_updates": ours_updates,
            "sb3_train_seconds": seconds["sb3"], "ours_train_seconds": seconds["ours"],
            "sb3_updates_per_second": sb3_ups, "ours_updates_per_second": ours_ups, "ratio": ours_ups / sb3_ups,
            "sb3_return_mean": sb3_mean, "sb3_return_std": sb3_std,
            "ours_return_mean": ours_mean, "ours_return_std": ours_std, "eval_episodes": eval_episodes}


def gpu(seed: int, updates: int) -> dict | None:
    """Eager vs compiled + CUDA-graph update rate of this SAC on the GPU (None without CUDA)."""
    import numpy as np
    import torch

    if not torch.cuda.is_available():
        return None
    from v2p.rl import SACAgent, SACConfig

    out = {}
    rng = np.random.default_rng(seed)
    for name, compile_ in (("eager", False), ("compiled", True)):
        torch.manual_seed(seed)
        cfg = SACConfig(net_arch=tuple(NET), device="cuda", compile=compile_, **ZOO)
        agent = SACAgent(3, 1, np.array([-2.0]), np.array([2.0]), cfg)
        from v2p.rl import ReplayBuffer

        buf = ReplayBuffer(10_000, 3, 1, device="cuda", seed=seed)
        buf.add_batch(rng.normal(size=(10_000, 3)), rng.uniform(-1, 1, (10_000, 1)), rng.normal(size=10_000),
                      rng.normal(size=(10_000, 3)), np.zeros(10_000))
        for _ in range(50):  # compile, capture, warm up
            agent.update(buf.sample(cfg.batch_size))
        torch.cuda.synchronize()
        t = time.perf_counter()
        for _ in range(updates):
            agent.update(buf.sample(cfg.batch_size))
        torch.cuda.synchronize()
        out[f"{name}_updates_per_second"] = updates / (time.perf_counter() - t)
    out["ratio"] = out["compiled_updates_per_second"] / out["eager_updates_per_second"]
    out["device_name"] = torch.cuda.get_device_name()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="update rate only (< 2 min)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="torch threads for both (capped at free cores)")
    p.add_argument("--steps", type=int, default=20_000, help="full mode: env steps (zoo: 20000)")
    p.add_argument("--rounds", type=int, default=3, help="quick mode: rounds (each runs all three, order rotating)")
    p.add_argument("--updates", type=int, default=200, help="quick mode: updates per round")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    need_sb3()
    from v2p.rl.config import resolve_threads

    threads = resolve_threads(args.threads)
    if threads < args.threads:
        print(f"sac_vs_sb3: only {threads} free core(s): both run with {threads} thread(s)", file=sys.stderr)
    if args.quick:
        result = quick(args.seed, threads, args.rounds, args.updates)
    else:
        result = full(args.seed, threads, args.steps, 1000, 10)
    result["gpu"] = gpu(args.seed, 2000)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"SAC vs Stable-Baselines3 on {ENV_ID} (zoo settings), {threads} thread(s), mode {result['mode']}")
    print(f"  gradient updates/s: ours {result['ours_updates_per_second']:.1f}, "
          f"SB3 {result['sb3_updates_per_second']:.1f}, ratio {result['ratio']:.2f}x (target >= 1.5x)")
    if result["mode"] == "quick":
        print(f"  for reference, SB3 with process-wide flush-to-zero: {result['sb3_ftz_updates_per_second']:.1f} "
              f"updates/s (ratio {result['ratio_vs_sb3_ftz']:.2f}x)")
    if result["mode"] == "full":
        print(f"  eval return ({result['eval_episodes']} episodes, deterministic): "
              f"ours {result['ours_return_mean']:.1f} ± {result['ours_return_std']:.1f}, "
              f"SB3 {result['sb3_return_mean']:.1f} ± {result['sb3_return_std']:.1f} "
              f"(target: ours > -200 and not below SB3)")
    if result["gpu"]:
        g = result["gpu"]
        print(f"  GPU {g['device_name']}: eager {g['eager_updates_per_second']:.0f} updates/s, compiled + CUDA "
              f"graph {g['compiled_updates_per_second']:.0f} updates/s, ratio {g['ratio']:.2f}x (target >= 5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
