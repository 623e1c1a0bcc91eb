"""Student's t, the noncentral t and the chi-squared quantile, by mpmath (already installed with
sympy). Not scipy: with scipy installed, transformers imports it at every model load, which adds
to every training and generation job's start-up."""

from __future__ import annotations

import functools
import math


def t_sf(x: float, df: float) -> float:
    """P(T > x) for Student's t with ``df`` degrees of freedom."""
    import mpmath

    tail = 0.5 * float(mpmath.betainc(df / 2, 0.5, 0, df / (df + x * x), regularized=True))
    return tail if x >= 0 else 1 - tail


@functools.cache
def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom."""
    import mpmath

    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1 - p, df)
    # t_sf falls from 0.5 at 0: bracket the root, then let mpmath's bisection-safe solver find it.
    high = 1.0
    while t_sf(high, df) > 1 - p:
        high *= 2
    return float(mpmath.findroot(lambda x: t_sf(float(x), df) - (1 - p), (0.0, high), solver="anderson"))


def nct_sf(x: float, df: float, noncentrality: float) -> float:
    """P(T > x) for the noncentral t: T = (Z + noncentrality) / sqrt(V / df), V chi-squared with
    ``df`` degrees of freedom; integrated over V."""
    import mpmath

    def integrand(v):
        density = mpmath.exp((df / 2 - 1) * mpmath.log(v) - v / 2 - (df / 2) * math.log(2) - mpmath.loggamma(df / 2))
        return density * mpmath.ncdf(noncentrality - x * mpmath.sqrt(v / df))

    return float(mpmath.quad(integrand, [0, df, mpmath.inf]))


@functools.cache
def chi2_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of the chi-squared distribution with ``df`` degrees of freedom."""
    import mpmath

    def cdf(x: float) -> float:
        return float(mpmath.gammainc(df / 2, 0, x / 2, regularized=True))

    high = float(df)
    while cdf(high) < p:
        high *= 2
    return float(mpmath.findroot(lambda x: cdf(float(x)) - p, (0.0, high), solver="anderson"))
