"""The data-value estimator: features of a customer's data → its predicted data value, with a calibrated interval.

Bayesian linear regression with a conjugate Normal-Inverse-Gamma prior: y = w·[1, z] + ε, ε ~ N(0, σ²), where z
are the features standardised on the data the estimator was fitted on and y the target standardised likewise
(so the prior means the same whatever the units). Prior w | σ² ~ N(0, σ²/λ0·I) (the intercept unpenalised),
σ² ~ Inv-Gamma(a0, b0), weak (a0 = 1, b0 = 0.05 in standardised units): the noise is learned from the residuals,
not fixed. Its predictive distribution is Student-t with 2·a_n
degrees of freedom and scale² = (b_n/a_n)(1 + φᵀV_nφ): wide with few measurements and far from the data it saw.

Calibration is measured, never assumed: `heldout_report` refits without each customer in turn (leave one
customer out) and scores the prediction made for it: R², mean absolute error against the constant predictor's,
90% interval coverage, and the prequential log score (each customer predicted from those before it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from v2p.economics.student_t import t_logpdf, t_quantile


@dataclass(frozen=True)
class Prediction:
    """A Student-t predictive distribution of the target."""

    mean: float
    scale: float
    dof: float

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        half = t_quantile(0.5 + level / 2.0, self.dof) * self.scale
        return self.mean - half, self.mean + half

    def log_density(self, y: float) -> float:
        return t_logpdf(y, self.mean, self.scale, self.dof)


class DataValueEstimator:
    """Fitted on (features, measured value) rows; `predict` gives a Student-t prediction for new features."""

    def __init__(self, feature_names: Sequence[str], prior_precision: float = 0.1, a0: float = 1.0,
                 b0: float = 0.05) -> None:
        if not feature_names or len(set(feature_names)) != len(feature_names):
            raise ValueError(f"feature names must be distinct and non-empty, got {list(feature_names)}")
        if prior_precision <= 0 or a0 <= 0 or b0 <= 0:
            raise ValueError("prior_precision, a0 and b0 must be positive")
        self.feature_names = tuple(feature_names)
        self.prior_precision, self.a0, self.b0 = float(prior_precision), float(a0), float(b0)
        self.x = np.zeros((0, len(self.feature_names)))
        self.y = np.zeros(0)
        self._post: tuple[np.ndarray, np.ndarray, float, float] | None = None

    @property
    def samples(self) -> int:
        return len(self.y)

    def _check(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.shape[-1] != len(self.feature_names) or not np.all(np.isfinite(x)):
            raise ValueError(f"features must be {len(self.feature_names)} finite numbers "
                             f"({', '.join(self.feature_names)}), got {x.tolist()}")
        return x

    def fit(self, x: np.ndarray, y: np.ndarray) -> DataValueEstimator:
        """Replace the data with these rows (x: (n, k), y: (n,)) and refit."""
        x, y = self._check(np.atleast_2d(x)), np.asarray(y, dtype=np.float64).reshape(-1)
        if len(x) != len(y) or not np.all(np.isfinite(y)):
            raise ValueError(f"need one finite measurement per row: {len(x)} rows, {len(y)} measurements")
        self.x, self.y = x, y
        self._refit()
        return self

    def update(self, x: Sequence[float], y: float) -> None:
        """Add one measured row and refit (the standardisation follows the data)."""
        self.fit(np.vstack([self.x, self._check(np.asarray(x))[None]]), np.append(self.y, float(y)))

    def _scales(self) -> tuple[np.ndarray, np.ndarray, float, float]:
        mu = self.x.mean(0) if len(self.x) else np.zeros(self.x.shape[1])
        sd = self.x.std(0) if len(self.x) > 1 else np.ones(self.x.shape[1])
        sd = np.where(sd > 1e-12, sd, 1.0)
        y_mu = float(self.y.mean()) if len(self.y) else 0.0
        y_sd = float(self.y.std()) if len(self.y) > 1 and self.y.std() > 1e-12 else 1.0
        return mu, sd, y_mu, y_sd

    def _design(self, x: np.ndarray) -> np.ndarray:
        mu, sd, _, _ = self._scales()
        z = (np.atleast_2d(x) - mu) / sd
        return np.hstack([np.ones((len(z), 1)), z])

    def _refit(self) -> None:
        phi = self._design(self.x)
        _, _, y_mu, y_sd = self._scales()
        t = (self.y - y_mu) / y_sd
        prior = np.diag([1e-6] + [self.prior_precision] * len(self.feature_names))  # intercept: nearly flat
        precision = prior + phi.T @ phi
        cov = np.linalg.inv(precision)
        mean = cov @ (phi.T @ t)
        a_n = self.a0 + len(t) / 2.0
        b_n = self.b0 + 0.5 * float(t @ t - mean @ precision @ mean)
        self._post = (mean, cov, a_n, max(b_n, 1e-12))

    def predict(self, x: Sequence[float]) -> Prediction:
        """The predictive distribution of the measurement for features `x` (the prior's before any data)."""
        x = self._check(np.asarray(x))
        if self._post is None:
            self._refit()
        mean, cov, a_n, b_n = self._post
        phi = self._design(x)[0]
        _, _, y_mu, y_sd = self._scales()
        scale = math.sqrt(b_n / a_n * (1.0 + float(phi @ cov @ phi)))
        return Prediction(y_mu + y_sd * float(phi @ mean), y_sd * scale, 2.0 * a_n)

    def to_dict(self) -> dict[str, object]:
        return {"feature_names": list(self.feature_names), "prior_precision": self.prior_precision, "a0": self.a0,
                "b0": self.b0, "x": self.x.tolist(), "y": self.y.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> DataValueEstimator:
        try:
            est = cls(list(data["feature_names"]), float(data["prior_precision"]), float(data["a0"]),
                      float(data["b0"]))
            x = np.asarray(data["x"], dtype=np.float64).reshape(-1, len(est.feature_names))
            est.fit(x, np.asarray(data["y"], dtype=np.float64))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a saved data-value estimator: {exc}") from None
        return est


@dataclass(frozen=True)
class HeldoutReport:
    """How the estimator does on customers it was not fitted on (leave one customer out)."""

    customers: int
    heldout_r2: float
    mae: float
    mae_constant: float  # the constant predictor's (the mean of the other customers)
    coverage90: float  # share of held-out measurements inside the 90% predictive interval
    log_score: float  # mean prequential log predictive density (each predicted from those before it)

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def heldout_report(x: np.ndarray, y: np.ndarray, make: type[DataValueEstimator] | object,
                   feature_names: Sequence[str], **kwargs: float) -> HeldoutReport:
    """Leave-one-customer-out scores of estimators built by `make(feature_names, **kwargs)` on rows (x, y)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n = len(y)
    if n < 4:
        raise ValueError(f"need at least 4 customers to score held-out predictions, got {n}")
    preds, const, covered = [], [], []
    for i in range(n):
        keep = np.arange(n) != i
        p = make(feature_names, **kwargs).fit(x[keep], y[keep]).predict(x[i])
        lo, hi = p.interval(0.90)
        preds.append(p.mean)
        const.append(float(y[keep].mean()))
        covered.append(lo <= y[i] <= hi)
    preds, const = np.asarray(preds), np.asarray(const)
    sst = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float(((y - preds) ** 2).sum()) / sst if sst > 0 else math.nan
    scores = []
    for i in range(2, n):
        scores.append(make(feature_names, **kwargs).fit(x[:i], y[:i]).predict(x[i]).log_density(float(y[i])))
    return HeldoutReport(n, r2, float(np.abs(y - preds).mean()), float(np.abs(y - const).mean()),
                         float(np.mean(covered)), float(np.mean(scores)))
