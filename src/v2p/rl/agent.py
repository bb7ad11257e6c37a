"""SACAgent: the networks, the optimizer and one fused SAC update. No env in here: the SAC trainer, the ROS
learner node and the offline bag learner all feed it batches they built themselves."""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import torch

from v2p.rl.config import SACConfig, _initial_alpha
from v2p.rl.networks import Actor, TwinQ
from v2p.rl.replay import Batch, ReplayBuffer

METRICS = ("critic_loss", "actor_loss", "alpha_loss", "alpha", "entropy", "q_mean")


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        from v2p.errors import V2PError

        raise V2PError(f"device '{name}' requested but torch sees no CUDA device")
    return device


class SACAgent:
    def __init__(self, obs_dim: int, action_dim: int, action_low: np.ndarray, action_high: np.ndarray,
                 config: SACConfig = SACConfig(), device: torch.device | str | None = None):
        self.config, self.obs_dim, self.action_dim = config, obs_dim, action_dim
        self.device = torch.device(device) if device is not None else resolve_device(config.device)
        low = torch.as_tensor(np.asarray(action_low, dtype=np.float32))
        high = torch.as_tensor(np.asarray(action_high, dtype=np.float32))
        self.actor = Actor(obs_dim, action_dim, config.net_arch, low, high).to(self.device)
        self.critic = TwinQ(obs_dim, action_dim, config.net_arch, n=config.critics).to(self.device)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.learn_alpha = isinstance(config.ent_coef, str)  # "auto" or "auto_<initial α>", as SB3
        init_alpha = _initial_alpha(config.ent_coef) if self.learn_alpha else float(config.ent_coef)
        self.log_alpha = torch.tensor(np.log(init_alpha), dtype=torch.float32, device=self.device,
                                      requires_grad=self.learn_alpha)
        self.target_entropy = float(-action_dim if config.target_entropy is None else config.target_entropy)
        params = [*self.actor.parameters(), *self.critic.parameters()] + ([self.log_alpha] if self.learn_alpha else [])
        # one Adam for all nets: Adam is elementwise, so this is the same arithmetic as three optimizers, in one
        # fused kernel per step. CUDA graphs need the step counter on the device (capturable).
        graphed = config.compile and self.device.type == "cuda"
        self.optimizer = torch.optim.Adam(params, lr=config.learning_rate, fused=True, capturable=graphed)
        self._online = list(self.critic.parameters())
        self._target = list(self.critic_target.parameters())
        self.updates = 0
        self._step: Callable[..., tuple[torch.Tensor, ...]] = self._update_step
        self._graphs: dict[bool, _GraphedStep] = {}
        if config.compile:
            self._step = torch.compile(self._update_step, fullgraph=False)

    # ---- the whole SAC update: read this one ----
    def _update_step(self, obs, action, reward, next_obs, done, weight):
        alpha = self.log_alpha.detach().exp()
        with torch.no_grad():
            next_action, next_log_prob = self.actor.sample(next_obs)
            next_q = self._aggregate(self.critic_target(next_obs, next_action)) - alpha * next_log_prob
            target_q = reward + self.config.gamma * (1.0 - done) * next_q
        q = self.critic(obs, action)  # (n, B): every critic in one batched forward
        td2 = (q - target_q).pow(2) if weight is None else weight * (q - target_q).pow(2)
        critic_loss = 0.5 * td2.mean(1).sum()  # sum over the critics of their MSE, as SB3
        pi_action, log_prob = self.actor.sample(obs)
        # frozen: the actor's loss reaches the critics' input only, never their weights
        actor_loss = (alpha * log_prob - self._aggregate(self.critic(obs, pi_action, frozen=True))).mean()
        loss = critic_loss + actor_loss
        alpha_loss = torch.zeros((), device=obs.device)
        if self.learn_alpha:  # α moves so that the policy's entropy −E[log π] tracks the target entropy
            alpha_loss = -(self.log_alpha * (log_prob.detach() + self.target_entropy)).mean()
            loss = loss + alpha_loss
        # one backward and one optimizer step update actor, critics and temperature together, each from the
        # same pre-update parameters (the original SAC's simultaneous update)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        torch._foreach_lerp_(self._target, self._online, self.config.tau)  # θ' ← (1−τ)θ' + τθ, in place
        return (critic_loss.detach(), actor_loss.detach(), alpha_loss.detach(), alpha, -log_prob.detach().mean(),
                q.detach().mean())

    def _aggregate(self, q: torch.Tensor) -> torch.Tensor:
        """The ensemble's (n, B) values as one (B,): the minimum (SAC's clipped double-Q, pessimistic where the
        critics disagree) or the mean (an ensemble's estimate, for a critic regressed without bootstrapping)."""
        return q.min(0).values if self.config.critic_aggregate == "min" else q.mean(0)

    def update(self, batch: Batch) -> dict[str, torch.Tensor]:
        """One gradient step on `batch`; metrics stay on the device (read them rarely: reading syncs)."""
        args = (batch.obs, batch.action, batch.reward, batch.next_obs, batch.done, batch.weight)
        if self.config.compile and self.device.type == "cuda":
            weighted = batch.weight is not None
            if weighted not in self._graphs:
                self._graphs[weighted] = _GraphedStep(self._step, args)
            out = self._graphs[weighted](args)
        else:
            out = self._step(*args)
        self.updates += 1
        if self.device.type == "cpu" and self.updates % 100 == 0:
            self._zero_tiny_moments()
        return dict(zip(METRICS, out))

    @torch.no_grad()
    def _zero_tiny_moments(self) -> None:
        """Zero Adam moments below 1e-30 before they decay into denormal floats.

        A dead ReLU unit gets zero gradients, so its first moment shrinks by β1 = 0.9 per update and reaches the
        denormal range (< 1.2e-38) within a few hundred updates; x86 arithmetic on denormals is several times
        slower (measured here: fused Adam 4x slower with 20% denormal moments). From 1e-30 a moment needs more
        than 100 updates to get there, so checking every 100 updates keeps every moment normal. The change to
        an update, m/(sqrt(v) + 1e-8) with |m| < 1e-30, is below 1e-22. Local to this optimizer, unlike a
        process-wide flush-to-zero mode.
        """
        moments = [t for st in self.optimizer.state.values() for k, t in st.items() if k in ("exp_avg", "exp_avg_sq")]
        for t in moments:
            t.masked_fill_(t.abs() < 1e-30, 0.0)

    def update_from(self, buffer: ReplayBuffer, steps: int, beta: float = 1.0) -> dict[str, float]:
        """`steps` updates on batches sampled from `buffer`; returns the metrics averaged over them."""
        if steps <= 0:
            return {}
        total = [torch.zeros((), device=self.device) for _ in METRICS]
        for _ in range(steps):
            # summed on the device (one foreach op, no host sync); the CUDA-graph step reuses its output tensors
            torch._foreach_add_(total, list(self.update(buffer.sample(self.config.batch_size, beta)).values()))
        return {k: float(v) / steps for k, v in zip(METRICS, total)}

    @property
    def alpha(self) -> float:
        return float(self.log_alpha.detach().exp())

    @torch.inference_mode()
    def act(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """Actions in env units for a batch of observations (N, obs_dim)."""
        x = torch.as_tensor(np.asarray(obs, dtype=np.float32), device=self.device).reshape(-1, self.obs_dim)
        return self.actor.act(x, deterministic).cpu().numpy()

    def unit_action(self, action: np.ndarray) -> np.ndarray:
        """Env-unit actions (N, action_dim) mapped into the unit box [-1, 1] the replay buffer stores.

        Learners that build transitions from executed actions (e.g. /policy/action in a bag) call this first."""
        scale = self.actor.action_scale.cpu().numpy()
        bias = self.actor.action_bias.cpu().numpy()
        a = np.asarray(action, dtype=np.float32).reshape(-1, self.action_dim)
        return np.clip((a - bias) / scale, -1.0, 1.0)

    @torch.inference_mode()
    def act_unit(self, obs: np.ndarray) -> np.ndarray:
        """A stochastic action in the unit box [-1, 1] for one observation (what exploration stores)."""
        x = torch.as_tensor(np.asarray(obs, dtype=np.float32), device=self.device).reshape(1, self.obs_dim)
        return self.actor.sample(x)[0][0].cpu().numpy()

    def tensors(self) -> dict[str, torch.Tensor]:
        """Everything needed to resume: weights, temperature, optimizer moments (for checkpoint.py)."""
        out = {f"actor.{k}": v for k, v in self.actor.state_dict().items()}
        out |= {f"critic.{k}": v for k, v in self.critic.state_dict().items()}
        out |= {f"critic_target.{k}": v for k, v in self.critic_target.state_dict().items()}
        out["log_alpha"] = self.log_alpha.detach()
        for i, p in enumerate(self.optimizer.param_groups[0]["params"]):
            state = self.optimizer.state.get(p, {})
            for key in ("exp_avg", "exp_avg_sq", "step"):
                if key in state:
                    out[f"optim.{i}.{key}"] = torch.as_tensor(state[key]).reshape(-1) if key == "step" else state[key]
        return {k: v.detach().contiguous().cpu() for k, v in out.items()}

    def load_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        """Inverse of `tensors`; the caller (checkpoint.py) has checked names and shapes."""
        def sub(prefix: str) -> dict[str, torch.Tensor]:
            return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}

        self.actor.load_state_dict(sub("actor."))
        self.critic.load_state_dict(sub("critic."))
        self.critic_target.load_state_dict(sub("critic_target."))
        with torch.no_grad():
            self.log_alpha.copy_(tensors["log_alpha"])
        for i, p in enumerate(self.optimizer.param_groups[0]["params"]):
            if f"optim.{i}.exp_avg" in tensors:
                step = tensors[f"optim.{i}.step"].reshape(()).to(torch.float32)
                self.optimizer.state[p] = {
                    "step": step.to(self.device) if self.optimizer.defaults["capturable"] else step,
                    "exp_avg": tensors[f"optim.{i}.exp_avg"].to(self.device),
                    "exp_avg_sq": tensors[f"optim.{i}.exp_avg_sq"].to(self.device),
                }


class _GraphedStep:
    """The whole update (forward, backward, Adam, Polyak) captured once in a CUDA graph and replayed.

    Why not torch.compile(mode="reduce-overhead") alone: it graphs each compiled region separately and the
    backward call splits the update into several; capturing the compiled step ourselves gives one graph launch
    per update. The first batch is used for three warm-up updates (compilation, optimizer state) before capture.

    Inputs are copied into static tensors; the graph's outputs are static too (consumers read them before the
    next replay). Warm-up runs on a side stream first, as CUDA graph capture requires.
    """

    def __init__(self, step: Callable[..., tuple[torch.Tensor, ...]], args: tuple):
        self.static_in = tuple(None if a is None else a.clone() for a in args)
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(3):  # compile + allocate optimizer state before capture
                step(*self.static_in)
        torch.cuda.current_stream().wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.static_out = step(*self.static_in)

    def __call__(self, args: tuple) -> tuple[torch.Tensor, ...]:
        for static, a in zip(self.static_in, args):
            if static is not None:
                static.copy_(a, non_blocking=True)
        self.graph.replay()
        return self.static_out
