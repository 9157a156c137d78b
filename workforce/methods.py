"""Interval forecasting methods on a day × slot grid (NaN = gap or special day).

Every method has the same shape: ``fn(y, m, h) -> (h, slots)`` where ``y`` is the training
grid (rows are consecutive open days, so rows m apart are the same weekday) and the result
holds the next h open days. Slot-level methods work per weekday × slot; the daily-total
models (Holt-Winters, seasonal ARIMA) forecast each day's total and spread it with the
weekday's intraday distribution.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

Method = Callable[[np.ndarray, int, int], np.ndarray]


def same_weekday_rows(y: np.ndarray, m: int, h: int, weeks: int) -> list[np.ndarray]:
    """For each horizon day, the last ``weeks`` complete-enough same-weekday rows of y."""
    n = len(y)
    out = []
    for k in range(h):
        rows: list[np.ndarray] = []
        r = n + k - m * ((k // m) + 1)
        while r >= 0 and len(rows) < weeks:
            if not np.all(np.isnan(y[r])):
                rows.append(y[r])
            r -= m
        out.append(np.array(rows) if rows else np.full((1, y.shape[1]), np.nan))
    return out


def _weighted(stack: np.ndarray, weights: np.ndarray) -> np.ndarray:
    w = np.broadcast_to(weights[: len(stack), None], stack.shape)
    ok = ~np.isnan(stack)
    total = np.where(ok, w, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore"):
        return np.where(total > 0, np.where(ok, stack * w, 0.0).sum(axis=0) / total, np.nan)


def seasonal_naive(y: np.ndarray, m: int, h: int) -> np.ndarray:
    """Same weekday last observed week (the baseline every method must beat)."""
    return np.array([rows[0] for rows in same_weekday_rows(y, m, h, 1)])


def weekday_average(weeks: int = 6, decay: float = 0.8) -> Method:
    """Weighted average of the last ``weeks`` same weekdays, weights decaying by ``decay``."""
    weights = decay ** np.arange(weeks)

    def forecast(y: np.ndarray, m: int, h: int) -> np.ndarray:
        return np.array([_weighted(rows, weights) for rows in same_weekday_rows(y, m, h, weeks)])

    return forecast


def profiles(y: np.ndarray, m: int, h: int, weeks: int = 8) -> np.ndarray:
    """Intraday distribution (shares summing to 1) of each horizon day's weekday."""
    out = []
    for rows in same_weekday_rows(y, m, h, weeks):
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = rows / np.nansum(rows, axis=1, keepdims=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            p = np.nanmean(shares, axis=0)
        p = np.nan_to_num(p)
        out.append(p / p.sum() if p.sum() > 0 else p)
    return np.array(out)


def daily_totals(y: np.ndarray, m: int) -> np.ndarray:
    """Each row's total, gaps filled from the mean of nearby same-weekday totals."""
    totals = np.nansum(y, axis=1)
    missing = np.all(np.isnan(y), axis=1)
    partial = np.any(np.isnan(y), axis=1) & ~missing
    filled = np.where(missing | partial, np.nan, totals)
    known = filled[~np.isnan(filled)]
    fallback = float(known.mean()) if len(known) else 0.0
    for i in np.flatnonzero(np.isnan(filled)):
        near = [filled[j] for j in range(i % m, len(y), m) if abs(j - i) <= 4 * m]
        near = [v for v in near if not np.isnan(v)]
        filled[i] = np.mean(near) if near else fallback
    return filled


def total_times_profile(weeks: int = 4, decay: float = 0.8) -> Method:
    """Weekday total (weighted average of recent same weekdays) × intraday distribution."""
    weights = decay ** np.arange(weeks)

    def forecast(y: np.ndarray, m: int, h: int) -> np.ndarray:
        totals = daily_totals(y, m)[:, None]
        day = np.array([_weighted(r, weights)[0] for r in same_weekday_rows(totals, m, h, weeks)])
        return np.asarray(day[:, None] * profiles(y, m, h))

    return forecast


def holt_winters(y: np.ndarray, m: int, h: int) -> np.ndarray:
    """Holt-Winters (damped trend, multiplicative weekly season) on daily totals × profile."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    totals = np.maximum(daily_totals(y, m), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ExponentialSmoothing(totals, trend="add", damped_trend=True, seasonal="mul",
                                   seasonal_periods=m, initialization_method="estimated").fit()
        day = np.maximum(fit.forecast(h), 0.0)
    return np.asarray(day[:, None] * profiles(y, m, h))


def seasonal_arima(y: np.ndarray, m: int, h: int) -> np.ndarray:
    """Seasonal ARIMA (1,0,1)(0,1,1) with a weekly season on log daily totals × profile."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    totals = np.log(np.maximum(daily_totals(y, m), 1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = SARIMAX(totals, order=(1, 0, 1), seasonal_order=(0, 1, 1, m)).fit(disp=False)
        day = np.exp(fit.forecast(h))
    return np.asarray(day[:, None] * profiles(y, m, h))


METHODS: dict[str, Method] = {
    "seasonal_naive": seasonal_naive,
    "weekday_average": weekday_average(),
    "total_x_profile": total_times_profile(),
    "holt_winters": holt_winters,
    "seasonal_arima": seasonal_arima,
}
BASELINE = "seasonal_naive"
