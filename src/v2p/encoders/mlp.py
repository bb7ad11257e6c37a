"""MLP encoder for the simulator's state vector (the baseline the video encoders must match)."""

from __future__ import annotations

from torch import Tensor, nn

from v2p.encoders.base import LATENT_DIM, Encoder, EncoderInputError, InputSpec


class MLPEncoder(Encoder):
    """[B, state_dim] float state -> [B, LATENT_DIM]."""

    kind = "mlp"

    def __init__(self, state_dim: int, hidden: int = 256) -> None:
        super().__init__()
        if state_dim < 1:
            raise EncoderInputError(f"state_dim must be >= 1, got {state_dim}")
        self.state_dim = int(state_dim)
        self.hidden = int(hidden)
        self.input_spec = InputSpec(
            modality="state",
            shape=(self.state_dim,),
            dtypes=("float32",),
            layout="state vector",
            value_range="the simulator's state features, unnormalised",
        )
        self.net = nn.Sequential(
            nn.Linear(self.state_dim, hidden),
            nn.LayerNorm(hidden),  # state features mix metres, radians and counts: normalise early
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, LATENT_DIM),
        )

    def config(self) -> dict[str, object]:
        return {"state_dim": self.state_dim, "hidden": self.hidden}

    def forward(self, obs: Tensor) -> Tensor:
        if not isinstance(obs, Tensor) or obs.dim() != 2 or obs.shape[1] != self.state_dim:
            got = tuple(obs.shape) if isinstance(obs, Tensor) else type(obs).__name__
            raise EncoderInputError(f"mlp encoder expects state [B, {self.state_dim}], got {got}")
        if not obs.is_floating_point():
            raise EncoderInputError(f"mlp encoder expects a float state, got dtype {obs.dtype}")
        return self.net(obs.float())
