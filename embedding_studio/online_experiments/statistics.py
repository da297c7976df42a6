"""Significance figures of an experiment's report (two-sided p-values).

- `sign_test_p_value`: exact binomial sign test of wins against losses (ties left out),
  the usual test of interleaving outcomes.
- `two_proportion_p_value`: pooled two-proportion z-test (e.g. the share of searches with
  a click under A and under B).
- `mean_difference_p_value`: Welch's z-test of two means (e.g. per-search reciprocal
  ranks), with the normal distribution: fine from a few dozen searches per variant.

None means "no figure": not a single observation on one side, or no variance at all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def normal_two_sided_p(z: float) -> float:
    """P(|Z| >= |z|) for a standard normal Z."""
    return math.erfc(abs(z) / math.sqrt(2.0))


def _log_binomial_pmf(n: int, k: int) -> float:
    """log P(X = k) for X ~ Binomial(n, 1/2)."""
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) - n * math.log(2.0)


def sign_test_p_value(wins: int, losses: int) -> float | None:
    """Two-sided exact p-value of `wins` against `losses` under "either is equally
    likely" (Binomial(wins + losses, 1/2)); None without any decided comparison."""
    if wins < 0 or losses < 0:
        raise ValueError(f"wins {wins} and losses {losses} must be >= 0")
    n = wins + losses
    if n == 0:
        return None
    smaller = min(wins, losses)
    if 2 * smaller == n:
        return 1.0
    tail = math.fsum(math.exp(_log_binomial_pmf(n, k)) for k in range(smaller + 1))
    return min(1.0, 2.0 * tail)


def two_proportion_p_value(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int
) -> float | None:
    """Two-sided p-value of "both proportions are equal" (pooled z-test)."""
    if trials_a <= 0 or trials_b <= 0:
        return None
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    variance = pooled * (1.0 - pooled) * (1.0 / trials_a + 1.0 / trials_b)
    if variance <= 0.0:
        return None
    z = (successes_b / trials_b - successes_a / trials_a) / math.sqrt(variance)
    return normal_two_sided_p(z)


def _mean_and_variance(values: Sequence[float]) -> tuple[float, float]:
    mean = math.fsum(values) / len(values)
    return mean, math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)


def mean_difference_p_value(values_a: Sequence[float], values_b: Sequence[float]) -> float | None:
    """Two-sided p-value of "both means are equal" (Welch's statistic, normal tail)."""
    if len(values_a) < 2 or len(values_b) < 2:
        return None
    mean_a, variance_a = _mean_and_variance(values_a)
    mean_b, variance_b = _mean_and_variance(values_b)
    spread = variance_a / len(values_a) + variance_b / len(values_b)
    if spread <= 0.0:
        return None
    return normal_two_sided_p((mean_b - mean_a) / math.sqrt(spread))
