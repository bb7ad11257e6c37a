"""Online data-value estimator: novelty features → expected ΔMPL (units/h), Bayesian linear regression.

Each measured ΔMPL (from a counterfactual training pair, see `v2p attribute`) updates the posterior. Before an
update the estimator predicts the new point first, so its calibration error is prequential (honest: measured on
data it had not yet seen). It reports itself "uncalibrated" until it holds `min_samples` measurements.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Calibration:
    samples: int
    min_samples: int
    calibrated: bool
    mean_abs_error: float | None  # prequential, units/h
    coverage_90: float | None  # fraction of measurements inside the 90% predictive interval given before them
    r2: float | None  # in-sample R² of the posterior mean fit

    @property
    def status(self) -> str:
        return "calibrated" if self.calibrated else f"uncalibrated ({self.samples} of {self.min_samples} samples)"


class DataValueEstimator:
    """y = w·[1, x] + noise, conjugate Gaussian prior on w, noise variance from the residuals."""

    def __init__(self, n_features: int = 1, prior_precision: float = 1e-3, min_samples: int = 8) -> None:
        if n_features < 1:
            raise ValueError("n_features must be at least 1")
        self.n_features = n_features
        self.min_samples = min_samples
        dim = n_features + 1
        self._precision = np.eye(dim) * prior_precision  # A = λ0·I + Σ φφᵀ
        self._b = np.zeros(dim)  # Σ φ·y
        self._yy = 0.0
        self._y_sum = 0.0
        self._n = 0
        self._abs_errors: list[float] = []
        self._covered: list[bool] = []

    def _features(self, novelty: np.ndarray | float) -> np.ndarray:
        x = np.atleast_1d(np.asarray(novelty, dtype=np.float64))
        if x.shape != (self.n_features,) or not np.all(np.isfinite(x)):
            raise ValueError(f"novelty features must be {self.n_features} finite numbers, got {novelty!r}")
        return np.concatenate(([1.0], x))

    @property
    def weights(self) -> np.ndarray:
        return np.linalg.solve(self._precision, self._b)

    def _noise_variance(self) -> float:
        if self._n <= 2:
            return 1.0
        # With w = A⁻¹b: Σ(y − w·φ)² + λ0·|w|² = Σy² − w·b; the ridge term is negligible at λ0 ≈ 1e-3.
        sse = self._yy - float(self.weights @ self._b)
        return max(sse / (self._n - 2), 1e-12)

    def predict(self, novelty: np.ndarray | float) -> tuple[float, float]:
        """(mean, std) of the predicted ΔMPL for data with these novelty features."""
        phi = self._features(novelty)
        mean = float(phi @ self.weights)
        var = self._noise_variance() * (1.0 + phi @ np.linalg.solve(self._precision, phi))
        return mean, math.sqrt(var)

    def update(self, novelty: np.ndarray | float, delta_mpl: float) -> None:
        """Add one measured ΔMPL; scores the prediction made before seeing it."""
        if not math.isfinite(delta_mpl):
            raise ValueError(f"measured ΔMPL must be finite, got {delta_mpl}")
        phi = self._features(novelty)
        if self._n >= 2:
            mean, std = self.predict(novelty)
            self._abs_errors.append(abs(delta_mpl - mean))
            self._covered.append(abs(delta_mpl - mean) <= 1.645 * std)
        self._precision += np.outer(phi, phi)
        self._b += phi * delta_mpl
        self._yy += delta_mpl * delta_mpl
        self._y_sum += delta_mpl
        self._n += 1

    def calibration(self) -> Calibration:
        r2 = None
        if self._n >= 2:
            sst = self._yy - self._y_sum**2 / self._n
            sse = self._noise_variance() * (self._n - 2) if self._n > 2 else 0.0
            r2 = 1.0 - sse / sst if sst > 0 else None
        mae = float(np.mean(self._abs_errors)) if self._abs_errors else None
        cov = float(np.mean(self._covered)) if self._covered else None
        return Calibration(self._n, self.min_samples, self._n >= self.min_samples, mae, cov, r2)

    def to_dict(self) -> dict[str, object]:
        """Its whole state as JSON-ready numbers (a run folder keeps it in estimator.json)."""
        return {"n_features": self.n_features, "min_samples": self.min_samples,
                "precision": self._precision.tolist(), "b": self._b.tolist(), "yy": self._yy,
                "y_sum": self._y_sum, "n": self._n, "abs_errors": self._abs_errors, "covered": self._covered}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> DataValueEstimator:
        try:
            est = cls(int(data["n_features"]), min_samples=int(data["min_samples"]))
            est._precision = np.asarray(data["precision"], dtype=np.float64).reshape(est._precision.shape)
            est._b = np.asarray(data["b"], dtype=np.float64).reshape(est._b.shape)
            est._yy, est._y_sum, est._n = float(data["yy"]), float(data["y_sum"]), int(data["n"])
            est._abs_errors = [float(x) for x in data["abs_errors"]]
            est._covered = [bool(x) for x in data["covered"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a saved data-value estimator: {exc}") from None
        return est
