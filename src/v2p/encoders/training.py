"""Train a video encoder with auxiliary heads that predict simulator state, plus temporal consistency.

Heads read the 128-D latent of the window ending at frame t and predict the state at frame t: dish dirt, current
speed and care (regression, standardised), dish held (binary) and arm phase (4 classes). Temporal consistency is
SimSiam-style next-latent prediction: a small predictor maps z_t to z_{t+1} of the window one frame later, with a
stop-gradient on the target, so latents change smoothly and carry what predicts the next frame without collapsing.

Held-out metrics are computed on whole episodes the encoder never trained on. R² for a classification target is
computed on its predicted probabilities (1 - Brier score / variance), so every target reports one comparable R².
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from v2p.encoders.base import LATENT_DIM, VideoEncoder
from v2p.encoders.dataset import AUX_TARGETS, AuxTarget, DatasetError, FrameDataset
from v2p.errors import V2PError


class AuxHeads(nn.Module):
    """Latent -> one small MLP head per auxiliary target."""

    def __init__(self, targets: tuple[AuxTarget, ...] = AUX_TARGETS, hidden: int = 64) -> None:
        super().__init__()
        self.targets = targets
        self.heads = nn.ModuleDict({
            t.name: nn.Sequential(nn.Linear(LATENT_DIM, hidden), nn.GELU(), nn.Linear(hidden, t.classes))
            for t in targets
        })
        # Standardisation of regression targets (set from the training split, saved with the heads).
        self.register_buffer("reg_mean", torch.zeros(len(targets)))
        self.register_buffer("reg_std", torch.ones(len(targets)))

    def fit_standardisation(self, targets: dict[str, np.ndarray]) -> None:
        for i, t in enumerate(self.targets):
            if t.kind == "regression":
                v = targets[t.name].astype(np.float64)
                self.reg_mean[i] = float(v.mean())
                self.reg_std[i] = float(max(v.std(), 1e-6))

    def forward(self, latent: Tensor) -> dict[str, Tensor]:
        return {name: head(latent) for name, head in self.heads.items()}

    def loss(self, latent: Tensor, targets: dict[str, Tensor], weights: dict[str, float] | None = None,
             ) -> tuple[Tensor, dict[str, float]]:
        """Weighted sum of per-target losses (each O(1) at chance; weight 1 unless given), and each part."""
        out = self(latent)
        parts: dict[str, Tensor] = {}
        for i, t in enumerate(self.targets):
            y, pred = targets[t.name], out[t.name]
            if t.kind == "regression":
                parts[t.name] = F.mse_loss(pred.squeeze(-1), (y.float() - self.reg_mean[i]) / self.reg_std[i])
            elif t.kind == "binary":
                parts[t.name] = F.binary_cross_entropy_with_logits(pred.squeeze(-1), y.float())
            else:
                parts[t.name] = F.cross_entropy(pred, y.long())
        weights = weights or {}
        total = torch.stack([weights.get(n, 1.0) * v for n, v in parts.items()]).sum()
        return total, {k: float(v.detach()) for k, v in parts.items()}

    @torch.no_grad()
    def predict(self, latent: Tensor) -> dict[str, Tensor]:
        """Predictions in target units: regression values, P(held), class probabilities [N, classes]."""
        out = self(latent)
        pred: dict[str, Tensor] = {}
        for i, t in enumerate(self.targets):
            if t.kind == "regression":
                pred[t.name] = out[t.name].squeeze(-1) * self.reg_std[i] + self.reg_mean[i]
            elif t.kind == "binary":
                pred[t.name] = torch.sigmoid(out[t.name].squeeze(-1))
            else:
                pred[t.name] = torch.softmax(out[t.name], dim=-1)
        return pred


class LatentPredictor(nn.Module):
    """z_t -> predicted z_{t+1} (the temporal-consistency head)."""

    def __init__(self, hidden: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(LATENT_DIM, hidden), nn.GELU(), nn.Linear(hidden, LATENT_DIM))

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


def temporal_consistency_loss(predictor: LatentPredictor, latents: Tensor) -> Tensor:
    """latents [B, K, D] of consecutive windows -> mean (1 - cos(pred(z_t), stopgrad(z_{t+1}))), in [0, 2]."""
    if latents.shape[1] < 2:
        raise ValueError("temporal consistency needs at least 2 consecutive windows")
    pred = predictor(latents[:, :-1])
    target = latents[:, 1:].detach()  # stop-gradient: the SimSiam trick that prevents collapse
    return (1.0 - F.cosine_similarity(pred, target, dim=-1)).mean()


def r2_score(pred: np.ndarray, true: np.ndarray) -> float:
    """1 - SSE/SST over all entries (multi-column arrays are pooled). NaN when the target is constant."""
    pred = np.asarray(pred, dtype=np.float64)
    true = np.asarray(true, dtype=np.float64)
    sst = float(((true - true.mean(axis=0)) ** 2).sum())
    if sst <= 0.0:
        return math.nan
    return 1.0 - float(((pred - true) ** 2).sum()) / sst


@dataclass
class TrainConfig:
    steps: int = 400
    batch_sequences: int = 16  # sequences per gradient step
    windows_per_sequence: int = 4  # consecutive windows per sequence (their targets all train the heads)
    lr: float = 1e-3
    weight_decay: float = 1e-4
    consistency_weight: float = 0.5
    # Current speed and care show only while the arm travels, so most frames cannot tell them: their losses stay
    # near chance and, at full weight, their gradient noise drowns the targets the frames do show.
    aux_weights: dict[str, float] = field(default_factory=lambda: {"speed": 0.25, "care": 0.25})
    val_fraction: float = 0.2
    seed: int = 0
    log_every: int = 50


@dataclass
class TrainResult:
    heads: AuxHeads
    metrics: dict[str, dict[str, float]]  # target -> {"r2": ..., ["accuracy": ...]}
    train_episodes: list[int]
    val_episodes: list[int]
    history: list[dict[str, float]]


def split_episodes(n_episodes: int, val_fraction: float) -> tuple[list[int], list[int]]:
    """Last episodes are held out (at least one), so no held-out frame shares an episode with training."""
    if n_episodes < 2:
        raise DatasetError(f"need at least 2 episodes to hold one out, got {n_episodes}")
    n_val = min(n_episodes - 1, max(1, round(n_episodes * val_fraction)))
    return list(range(n_episodes - n_val)), list(range(n_episodes - n_val, n_episodes))


def window_frames(data: FrameDataset, episode: tuple[int, int], first: int, last: int, clip_len: int) -> np.ndarray:
    """Frames for the windows ending at episode frames first..last: [last - first + clip_len, H, W, 3].

    Windows that reach back before the episode start repeat its first frame, the padding VideoEncoder.push uses.
    """
    start, _ = episode
    idx = np.clip(np.arange(first - clip_len + 1, last + 1), 0, None) + start
    return data.frames[idx]


def train_encoder(
    encoder: VideoEncoder,
    data: FrameDataset,
    cfg: TrainConfig,
    log: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train `encoder` (in place) with auxiliary heads + temporal consistency; evaluate on held-out episodes."""
    rng = np.random.default_rng(cfg.seed)
    torch.manual_seed(cfg.seed)
    ranges = data.episode_ranges()
    train_eps, val_eps = split_episodes(len(ranges), cfg.val_fraction)
    t, k = encoder.clip_len, cfg.windows_per_sequence
    if k < 2:
        raise V2PError("windows_per_sequence must be >= 2 (temporal consistency pairs consecutive windows)")
    too_short = [i for i in train_eps if ranges[i][1] - ranges[i][0] < k]
    if too_short:
        raise DatasetError(f"episodes {too_short[:5]} have fewer than {k} frames (windows_per_sequence)")

    heads = AuxHeads(data.aux).to(encoder.pixel_mean.device)
    train_idx = np.concatenate([np.arange(*ranges[i]) for i in train_eps])
    heads.fit_standardisation({n: v[train_idx] for n, v in data.targets.items()})
    predictor = LatentPredictor().to(heads.reg_mean.device)
    params = [*encoder.parameters(), *heads.parameters(), *predictor.parameters()]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.steps, pct_start=0.1)
    device = heads.reg_mean.device
    history: list[dict[str, float]] = []

    encoder.train()
    for step in range(1, cfg.steps + 1):
        clips, targets = [], {t.name: [] for t in data.aux}
        for _ in range(cfg.batch_sequences):
            s, e = ranges[train_eps[int(rng.integers(len(train_eps)))]]
            last = int(rng.integers(k - 1, e - s))  # episode frame index of the last window's end
            first = last - k + 1
            clips.append(window_frames(data, (s, e), first, last, t))
            for n in targets:
                targets[n].append(data.targets[n][s + first : s + last + 1])
        seq = torch.from_numpy(np.stack(clips)).to(device)
        y = {n: torch.from_numpy(np.concatenate(v)).to(device) for n, v in targets.items()}
        z = encoder.encode_sequence(seq)  # [B, k, D]
        aux, parts = heads.loss(z.reshape(-1, LATENT_DIM), y, cfg.aux_weights)
        cons = temporal_consistency_loss(predictor, z) if cfg.consistency_weight else torch.zeros((), device=device)
        loss = aux + cfg.consistency_weight * cons
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        sched.step()
        row = {"step": step, "loss": float(loss.detach()), "consistency": float(cons.detach()), **parts}
        history.append(row)
        if log and (step % cfg.log_every == 0 or step == cfg.steps):
            log(f"step {step}/{cfg.steps} loss {row['loss']:.3f} consistency {row['consistency']:.3f} "
                + " ".join(f"{n} {v:.3f}" for n, v in parts.items()))

    metrics = evaluate(encoder, heads, data, val_eps)
    return TrainResult(heads, metrics, train_eps, val_eps, history)


@torch.no_grad()
def encode_episodes(encoder: VideoEncoder, data: FrameDataset, episodes: list[int], chunk: int = 64) -> Tensor:
    """Latent at every frame of the given episodes (front-padded like push), concatenated: [N, LATENT_DIM]."""
    encoder.eval()
    ranges = data.episode_ranges()
    t = encoder.clip_len
    out = []
    device = encoder.pixel_mean.device
    for i in episodes:
        s, e = ranges[i]
        for first in range(0, e - s, chunk):
            last = min(first + chunk, e - s) - 1
            part = torch.from_numpy(window_frames(data, (s, e), first, last, t)).unsqueeze(0).to(device)
            out.append(encoder.encode_sequence(part)[0])
    return torch.cat(out)


@torch.no_grad()
def evaluate(encoder: VideoEncoder, heads: AuxHeads, data: FrameDataset, episodes: list[int]) -> dict[str, dict[str, float]]:
    """Held-out R² per target (and accuracy for classification targets)."""
    heads.eval()
    z = encode_episodes(encoder, data, episodes)
    ranges = data.episode_ranges()
    idx = np.concatenate([np.arange(*ranges[i]) for i in episodes])
    pred = {n: v.cpu().numpy() for n, v in heads.predict(z).items()}
    metrics: dict[str, dict[str, float]] = {}
    for t in heads.targets:
        y = data.targets[t.name][idx]
        p = pred[t.name]
        if t.kind == "regression":
            metrics[t.name] = {"r2": r2_score(p, y)}
        elif t.kind == "binary":
            metrics[t.name] = {"r2": r2_score(p, y), "accuracy": float(((p > 0.5) == (y > 0.5)).mean())}
        else:
            onehot = np.eye(t.classes)[y.astype(np.int64)]
            metrics[t.name] = {"r2": r2_score(p, onehot), "accuracy": float((p.argmax(-1) == y).mean())}
    return metrics
