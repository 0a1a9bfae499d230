"""Tail probabilities in log space, written once for numpy arrays and for plain floats (ops.py).

Everything returns natural logs of probabilities so that a p-value of 1e-300 does not underflow:
the detector only ever needs -log10(p), its "surprise". No scipy in the core install.
"""

from __future__ import annotations

import math

LN10 = math.log(10.0)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG_HALF = math.log(0.5)
_SQRT2 = math.sqrt(2.0)
# Below this overdispersion the negative binomial is treated as Poisson: lgamma(x + 1/alpha) -
# lgamma(1/alpha) loses all precision once 1/alpha is huge.
POISSON_ALPHA = 1e-8
# Terms of the tail sums taken explicitly; the rest is bounded by a geometric series with the last
# ratio (ratios fall past the mode, so this overestimates p slightly: within 0.03 in log10 units).
_TAIL_TERMS = 12


def lgamma(x, xp):
    """log Γ(x) for x > 0: Stirling's series after shifting small arguments up by 8 (error < 1e-11)."""
    small = x < 8.0
    z = xp.where(small, x + 8.0, x)
    shift = xp.where(small, x * (x + 1) * (x + 2) * (x + 3) * (x + 4) * (x + 5) * (x + 6) * (x + 7), 1.0)
    inv = 1.0 / z
    inv2 = inv * inv
    series = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)))
    return (z - 0.5) * xp.log(z) - z + _HALF_LOG_2PI + series - xp.log(shift)


def _log_erfc_pos(x, xp):
    """log erfc(x) for x >= 0 (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7)."""
    t = 1.0 / (1.0 + 0.5 * x)
    poly = -1.26551223 + t * (
        1.00002368
        + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (
            -1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
    return xp.log(t) - x * x + poly


def norm_logsf(z, xp):
    """log P(Z >= z) for a standard normal Z."""
    log_half_erfc = _LOG_HALF + _log_erfc_pos(xp.fabs(z) / _SQRT2, xp)
    # for z < 0 the tail is 1 - P(Z >= |z|), which is never small
    return xp.where(z >= 0, log_half_erfc, xp.log1p(-xp.exp(log_half_erfc)))


def nb_logpmf(x, mu, alpha, xp):
    """log P(X = x) for a negative binomial with mean mu > 0 and variance mu + alpha mu² (Poisson at alpha≈0)."""
    return xp.branch(alpha < POISSON_ALPHA, _poisson_logpmf, _nb_logpmf, x, mu, alpha, xp)


def _poisson_logpmf(x, mu, alpha, xp):
    return -mu + x * xp.log(mu) - lgamma(x + 1, xp)


def _nb_logpmf(x, mu, alpha, xp):
    r = 1.0 / alpha
    return lgamma(x + r, xp) - lgamma(r, xp) - lgamma(x + 1, xp) - r * xp.log1p(mu / r) + x * xp.log(mu / (r + mu))


def _gamma_approx(x, mu, var, upper, xp):
    """log tail of a count law with mean mu and variance var, by the gamma law with the same two
    moments (Wilson-Hilferty: its cube root is nearly normal) and a continuity correction.

    Used where no decision hangs on the last digits; unlike a normal approximation it keeps the
    skew of an overdispersed count, whose lower tail near 0 is far thinner than a normal's.
    """
    k = mu * mu / xp.maximum(var, 1e-300)  # shape
    m = 1 - 1 / (9 * k)
    s = xp.sqrt(1 / (9 * k))
    edge = x - 0.5 if upper else x + 0.5
    z = (xp.cbrt(xp.maximum(edge, 0.0) / mu) - m) / s
    return norm_logsf(z if upper else -z, xp)


def nb_log_upper(x, mu, alpha, xp):
    """log P(X >= x) for integer-valued x (non-integers are rounded down), mu > 0."""
    x = xp.floor(x)
    var = mu + alpha * mu * mu
    # beyond two sd the tail is summed exactly (pmf(x) + pmf(x+1) + ...); nearer the mean, where
    # p > ~0.02 and no decision hangs on its digits, a moment-matched approximation is enough
    far = x > mu + 2 * xp.sqrt(var)
    out = xp.branch(far, _upper_sum, _upper_near, x, mu, alpha, var, xp)
    return xp.minimum(out, 0.0)


def _upper_near(x, mu, alpha, var, xp):
    return xp.where(x <= 0, 0.0, _gamma_approx(x, mu, var, True, xp))


def _upper_sum(x, mu, alpha, var, xp):
    poisson = alpha < POISSON_ALPHA
    r = 1.0 / xp.where(poisson, 1.0, alpha)
    q = mu / (r + mu)
    total = 1.0
    term = 1.0
    k = x
    ratio = 1.0
    for _ in range(_TAIL_TERMS):
        # pmf(k+1) / pmf(k): falls below 1 past the mode, so the sum converges
        ratio = xp.where(poisson, mu / (k + 1), (k + r) / (k + 1) * q)
        term = term * ratio
        total = total + term
        k = k + 1
        if not xp.any(term >= 1e-12 * total):
            break
    else:
        total = total + xp.where(ratio < 1, term * ratio / xp.maximum(1 - ratio, 1e-12), 0.0)
    return nb_logpmf(x, mu, alpha, xp) + xp.log(total)


def nb_log_lower(x, mu, alpha, xp):
    """log P(X <= x) for integer-valued x, mu > 0."""
    x = xp.floor(x)
    var = mu + alpha * mu * mu
    # summed down to 0: exactly for small counts, with a geometric bound beyond two sd
    far = (x < mu - 2 * xp.sqrt(var)) | (x <= _TAIL_TERMS)
    out = xp.branch(far, _lower_sum, _lower_near, x, mu, alpha, var, xp)
    return xp.minimum(out, 0.0)


def _lower_near(x, mu, alpha, var, xp):
    return _gamma_approx(x, mu, var, False, xp)


def _lower_sum(x, mu, alpha, var, xp):
    poisson = alpha < POISSON_ALPHA
    r = 1.0 / xp.where(poisson, 1.0, alpha)
    q = mu / (r + mu)
    total = 1.0
    term = 1.0
    k = x
    ratio = 1.0
    for _ in range(_TAIL_TERMS):
        # pmf(k-1) / pmf(k), zero once k reaches 0
        ratio = xp.where(k <= 0, 0.0, xp.where(poisson, k / mu, k / (xp.maximum(k - 1 + r, 1e-300) * q)))
        term = term * ratio
        total = total + term
        k = k - 1
        if not xp.any(term >= 1e-12 * total):
            break
    else:
        total = total + xp.where(ratio < 1, term * ratio / xp.maximum(1 - ratio, 1e-12), 0.0)
    return nb_logpmf(x, mu, alpha, xp) + xp.log(total)


def z_of_surprise(u: float) -> float:
    """z with -log10 P(Z >= z) = u for a standard normal Z (bisection; for building small tables)."""
    from .ops import SCALAR

    lo, hi = -40.0, 1e4
    for _ in range(200):
        mid = (lo + hi) / 2
        if -norm_logsf(mid, SCALAR) / LN10 < u:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2
