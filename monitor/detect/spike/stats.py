"""Tail probabilities in log space, vectorised with numpy (no scipy in the core install).

Everything returns natural logs of probabilities so that a p-value of 1e-300 does not underflow:
the detector only ever needs -log10(p), its "surprise".
"""

from __future__ import annotations

import math

import numpy as np

LN10 = math.log(10.0)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT2 = math.sqrt(2.0)
# Below this overdispersion the negative binomial is treated as Poisson: lgamma(x + 1/alpha) -
# lgamma(1/alpha) loses all precision once 1/alpha is huge.
POISSON_ALPHA = 1e-8
# Terms of the tail sums taken explicitly; the rest is bounded by a geometric series with the last
# ratio (ratios fall past the mode, so this overestimates p slightly: within 0.03 in log10 units).
_TAIL_TERMS = 12


def lgamma(x: np.ndarray) -> np.ndarray:
    """log Γ(x) for x > 0: Stirling's series after shifting small arguments up by 8 (error < 1e-11)."""
    x = np.asarray(x, dtype=float)
    small = x < 8.0
    z = np.where(small, x + 8.0, x)
    shift = np.where(small, x * (x + 1) * (x + 2) * (x + 3) * (x + 4) * (x + 5) * (x + 6) * (x + 7), 1.0)
    inv = 1.0 / z
    inv2 = inv * inv
    series = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)))
    return (z - 0.5) * np.log(z) - z + _HALF_LOG_2PI + series - np.log(shift)


def _log_erfc_pos(x: np.ndarray) -> np.ndarray:
    """log erfc(x) for x >= 0 (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7)."""
    t = 1.0 / (1.0 + 0.5 * x)
    poly = -1.26551223 + t * (
        1.00002368
        + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (
            -1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
    return np.log(t) - x * x + poly


def norm_logsf(z: np.ndarray) -> np.ndarray:
    """log P(Z >= z) for a standard normal Z."""
    z = np.asarray(z, dtype=float)
    x = np.abs(z) / _SQRT2
    log_half_erfc = math.log(0.5) + _log_erfc_pos(x)
    # for z < 0 the tail is 1 - P(Z >= |z|), which is never small
    return np.where(z >= 0, log_half_erfc, np.log1p(-np.exp(log_half_erfc)))


def nb_logpmf(x: np.ndarray, mu: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """log P(X = x) for a negative binomial with mean mu and variance mu + alpha mu² (Poisson at alpha≈0)."""
    poisson = alpha < POISSON_ALPHA
    a = np.where(poisson, 1.0, alpha)
    r = 1.0 / a
    nb = lgamma(x + r) - lgamma(r) - lgamma(x + 1) - r * np.log1p(mu / r) + x * np.log(mu / (r + mu))
    po = -mu + x * np.log(mu) - lgamma(x + 1)
    return np.where(poisson, po, nb)


def _normal_approx(x: np.ndarray, mu: np.ndarray, var: np.ndarray, upper: bool) -> np.ndarray:
    # with a continuity correction; used only where the tail is not small (x on the near side of mu)
    sd = np.sqrt(np.maximum(var, 1e-300))
    z = (x - 0.5 - mu) / sd if upper else (mu - x - 0.5) / sd
    return norm_logsf(z)


def nb_log_upper(x: np.ndarray, mu: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """log P(X >= x) for integer-valued x (non-integers are rounded down)."""
    x = np.floor(np.asarray(x, dtype=float))
    mu = np.asarray(mu, dtype=float)
    alpha = np.asarray(alpha, dtype=float)
    var = mu + alpha * mu * mu
    # beyond two sd the tail is summed exactly (pmf(x) + pmf(x+1) + ...); nearer the mean, where
    # p > ~0.02 and no decision hangs on its digits, the normal approximation is enough
    far = x > mu + 2 * np.sqrt(var)
    out = _normal_approx(x, mu, var, upper=True)
    out = np.where(x <= 0, 0.0, out)
    if not far.any():
        return np.minimum(out, 0.0)
    xf, mf, af = x[far], mu[far], alpha[far]
    poisson = af < POISSON_ALPHA
    r = 1.0 / np.where(poisson, 1.0, af)
    q = mf / (r + mf)
    total = np.ones_like(xf)
    term = np.ones_like(xf)
    k = xf.copy()
    ratio = term
    for _ in range(_TAIL_TERMS):
        # pmf(k+1) / pmf(k): falls below 1 past the mode, so the sum converges
        ratio = np.where(poisson, mf / (k + 1), (k + r) / (k + 1) * q)
        term = term * ratio
        total += term
        k += 1
        if not (term >= 1e-12 * total).any():
            break
    else:
        total += np.where(ratio < 1, term * ratio / np.maximum(1 - ratio, 1e-12), 0.0)
    out[far] = nb_logpmf(xf, mf, af) + np.log(total)
    return np.minimum(out, 0.0)


def nb_log_lower(x: np.ndarray, mu: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """log P(X <= x) for integer-valued x."""
    x = np.floor(np.asarray(x, dtype=float))
    mu = np.asarray(mu, dtype=float)
    alpha = np.asarray(alpha, dtype=float)
    var = mu + alpha * mu * mu
    far = (x < mu - 2 * np.sqrt(var)) | ((x == 0) & (mu > 0))  # summed down to 0 exactly
    out = _normal_approx(x, mu, var, upper=False)
    if not far.any():
        return np.minimum(out, 0.0)
    xf, mf, af = x[far], mu[far], alpha[far]
    poisson = af < POISSON_ALPHA
    r = 1.0 / np.where(poisson, 1.0, af)
    q = mf / (r + mf)
    total = np.ones_like(xf)
    term = np.ones_like(xf)
    k = xf.copy()
    ratio = term
    for _ in range(_TAIL_TERMS):
        # pmf(k-1) / pmf(k), zero once k reaches 0
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(k <= 0, 0.0, np.where(poisson, k / mf, k / ((k - 1 + r) * q)))
        term = term * ratio
        total += term
        k -= 1
        if not (term >= 1e-12 * total).any():
            break
    else:
        total += np.where(ratio < 1, term * ratio / np.maximum(1 - ratio, 1e-12), 0.0)
    out[far] = nb_logpmf(xf, mf, af) + np.log(total)
    return np.minimum(out, 0.0)
