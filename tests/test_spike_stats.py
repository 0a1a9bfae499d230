"""Tail probabilities of the spike detector against exact sums, on both number backends."""

from __future__ import annotations

import math

import numpy as np
import pytest

from monitor.detect.spike import stats
from monitor.detect.spike.ops import SCALAR, ArrayOps

LOG10 = math.log(10)


def exact_log10_tails(x: int, mu: float, alpha: float) -> tuple[float, float]:
    """log10 P(X <= x) and log10 P(X >= x) for a negative binomial (Poisson at alpha 0), by brute force."""

    def logpmf(k: int) -> float:
        if alpha == 0:
            return -mu + k * math.log(mu) - math.lgamma(k + 1)
        r = 1 / alpha
        return (math.lgamma(k + r) - math.lgamma(r) - math.lgamma(k + 1)
                + r * math.log(r / (r + mu)) + k * math.log(mu / (r + mu)))

    def logsum(values: list[float]) -> float:
        top = max(values)
        return top + math.log(sum(math.exp(v - top) for v in values))

    lower = logsum([logpmf(k) for k in range(0, x + 1)])
    upper = logsum([logpmf(k) for k in range(x, x + 20 * int(mu + 10 * math.sqrt(mu + alpha * mu * mu)) + 200)])
    return min(lower, 0.0) / LOG10, min(upper, 0.0) / LOG10


CASES = [
    (8, 1800.0, 0.27),  # a snowstorm: almost no taxis where 1800 are usual (skewed law, far lower tail)
    (100, 1800.0, 0.27),
    (1200, 1800.0, 0.27),
    (3000, 1800.0, 0.27),
    (4, 2.0, 1.0),
    (6, 2.0, 1.0),
    (15, 3.0, 0.0),
    (1, 3.0, 0.0),
    (30, 20.0, 0.01),
    (12, 20.0, 0.01),
    (45, 3.0, 0.2),
]


@pytest.mark.parametrize("x, mu, alpha", CASES)
def test_count_tails_match_exact_sums(x, mu, alpha):
    lower, upper = exact_log10_tails(x, mu, alpha)
    got_lower = stats.nb_log_lower(float(x), mu, alpha, SCALAR) / LOG10
    got_upper = stats.nb_log_upper(float(x), mu, alpha, SCALAR) / LOG10
    # summed exactly where p is small, approximated (gamma, Wilson-Hilferty) nearer the mean
    assert got_lower == pytest.approx(lower, abs=max(0.05, 0.1 * abs(lower)))
    assert got_upper == pytest.approx(upper, abs=max(0.05, 0.1 * abs(upper)))


def test_array_and_scalar_backends_agree():
    xs = np.array([float(c[0]) for c in CASES])
    mus = np.array([c[1] for c in CASES])
    alphas = np.array([c[2] for c in CASES])
    xp = ArrayOps(len(CASES))
    lower = stats.nb_log_lower(xs, mus, alphas, xp)
    upper = stats.nb_log_upper(xs, mus, alphas, xp)
    z = np.linspace(-5, 40, len(CASES))
    normal = stats.norm_logsf(z, xp)
    for i in range(len(CASES)):
        assert lower[i] == pytest.approx(stats.nb_log_lower(xs[i], mus[i], alphas[i], SCALAR), rel=1e-12, abs=1e-12)
        assert upper[i] == pytest.approx(stats.nb_log_upper(xs[i], mus[i], alphas[i], SCALAR), rel=1e-12, abs=1e-12)
        assert normal[i] == pytest.approx(stats.norm_logsf(float(z[i]), SCALAR), rel=1e-12, abs=1e-12)


def test_normal_tail_and_its_inverse():
    for z in (-3.0, 0.0, 1.0, 4.0, 10.0, 37.0):
        exact = math.log(0.5 * math.erfc(z / math.sqrt(2))) if z < 30 else None
        got = stats.norm_logsf(z, SCALAR)
        if exact is not None:
            assert got == pytest.approx(exact, rel=1e-6, abs=1e-7)
    for u in (0.5, 2.0, 5.0, 40.0, 1e4):
        assert -stats.norm_logsf(stats.z_of_surprise(u), SCALAR) / LOG10 == pytest.approx(u, rel=1e-6)
