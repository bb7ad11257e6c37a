"""The networks of SAC: a tanh-squashed Gaussian actor and twin critics evaluated as one batched ensemble."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0  # the range Stable-Baselines3 clamps to; keeps exp(log_std) finite
LOG_2 = math.log(2.0)
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def mlp(in_dim: int, hidden: Sequence[int], out_dim: int | None) -> nn.Sequential:
    """Linear+ReLU layers; a last Linear to out_dim unless out_dim is None."""
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [nn.Linear(in_dim, width), nn.ReLU()]
        in_dim = width
    if out_dim is not None:
        layers.append(nn.Linear(in_dim, out_dim))
    return nn.Sequential(*layers)


class Actor(nn.Module):
    """π(a|s): a Gaussian in pre-squash space, squashed by tanh into [-1, 1] and scaled to the env's bounds.

    `sample` works in the unit box (what the critics and the replay buffer see); `act` returns env units (what
    an env or the ROS policy node executes). The bounds live in buffers so a checkpointed actor carries them.
    """

    def __init__(self, obs_dim: int, action_dim: int, hidden: Sequence[int], low: torch.Tensor, high: torch.Tensor):
        super().__init__()
        self.trunk = mlp(obs_dim, hidden, None)
        last = hidden[-1] if hidden else obs_dim
        # mean and log-std from one Linear: one matmul instead of two
        self.head = nn.Linear(last, 2 * action_dim)
        self.action_dim = action_dim
        self.register_buffer("action_scale", ((high - low) / 2).float().reshape(-1))
        self.register_buffer("action_bias", ((high + low) / 2).float().reshape(-1))

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_std = self.head(self.trunk(obs)).chunk(2, dim=-1)
        return mean, log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)

    def sample(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Reparameterised action in [-1, 1] and its log-probability (tanh change of variables included)."""
        mean, log_std = self(obs)
        noise = torch.randn_like(mean)
        u = mean + log_std.exp() * noise
        # log N(u; mean, std) is -noise²/2 - log_std - log(2π)/2 since (u - mean)/std = noise; minus
        # log|d tanh/du| = 2(log 2 - u - softplus(-2u)), the numerically stable form of log(1 - tanh(u)²)
        log_prob = -0.5 * noise.pow(2) - log_std - 2.0 * (LOG_2 - u - F.softplus(-2.0 * u))
        return torch.tanh(u), log_prob.sum(-1) - HALF_LOG_2PI * self.action_dim

    def act(self, obs: torch.Tensor, deterministic: bool = True) -> torch.Tensor:
        """Action in the env's units: tanh(mean) when deterministic, else a sample."""
        if deterministic:
            unit = torch.tanh(self(obs)[0])
        else:
            unit = self.sample(obs)[0]
        return unit * self.action_scale + self.action_bias


class EnsembleLinear(nn.Module):
    """`n` independent Linear layers applied in one batched matmul: x (n, B, in) -> (n, B, out)."""

    def __init__(self, n: int, in_dim: int, out_dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n, in_dim, out_dim))
        self.bias = nn.Parameter(torch.empty(n, 1, out_dim))
        # the init nn.Linear uses (kaiming-uniform with a=sqrt(5)): U(-1/sqrt(in), 1/sqrt(in)) for both
        bound = 1.0 / math.sqrt(in_dim)
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor, weight: torch.Tensor | None = None, bias: torch.Tensor | None = None):
        weight = self.weight if weight is None else weight
        bias = self.bias if bias is None else bias
        return torch.baddbmm(bias, x, weight)


class TwinQ(nn.Module):
    """Both critics Q1, Q2 of clipped double-Q as one ensemble: one forward computes both, shape (2, B).

    `forward(..., frozen=True)` uses detached weights: the actor's loss then differentiates through the
    critics' inputs only, so one backward pass over the summed losses updates each net with its own loss.
    """

    def __init__(self, obs_dim: int, action_dim: int, hidden: Sequence[int], n: int = 2):
        super().__init__()
        dims = [obs_dim + action_dim, *hidden, 1]
        self.layers = nn.ModuleList(EnsembleLinear(n, i, o) for i, o in zip(dims[:-1], dims[1:]))
        self.n = n

    def forward(self, obs: torch.Tensor, action: torch.Tensor, frozen: bool = False) -> torch.Tensor:
        x = torch.cat([obs, action], dim=-1)
        first = self.layers[0]
        w0 = first.weight.detach() if frozen else first.weight
        b0 = first.bias.detach() if frozen else first.bias
        # the input is shared by every member: one (B, in) @ (in, n*out) matmul instead of n copies of x
        n, in_dim, out = w0.shape
        h = (x @ w0.permute(1, 0, 2).reshape(in_dim, n * out)).reshape(-1, n, out).transpose(0, 1) + b0
        for layer in self.layers[1:]:
            h = F.relu(h)
            if frozen:
                h = layer(h, layer.weight.detach(), layer.bias.detach())
            else:
                h = layer(h)
        return h.squeeze(-1)
