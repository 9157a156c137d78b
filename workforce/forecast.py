"""Interval forecasts chosen per queue by backtest on held-out weeks, with an AHT forecast and
an accuracy report (interval WAPE and bias) attached to every forecast."""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

import numpy as np

from workforce.history import History, SpecialDay
from workforce.methods import BASELINE, METHODS, Method, same_weekday_rows

SHORT_HISTORY_METHOD = "weekday_average"  # too little history to backtest: no model fitting
log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]  # (method, runs done, runs in all)


@dataclass(frozen=True)
class Accuracy:
    """Backtest error of one method: WAPE = Σ|a − f| / Σa; bias = Σ(f − a) / Σa."""

    method: str
    wape: float
    bias: float
    intervals: int
    actual_calls: float


@dataclass
class Forecast:
    """Calls (and AHT, seconds) per open interval of the next days, and how it was chosen."""

    method: str
    interval_minutes: int
    tz: tzinfo
    days: list[date]
    slots: list[time]
    calls: np.ndarray
    aht_s: np.ndarray | None
    accuracy: list[Accuracy] = field(default_factory=list)

    def rows(self) -> list[tuple[datetime, float, float | None]]:
        """(interval_start, calls, aht_s) for each open interval, in time order."""
        out = []
        for i, d in enumerate(self.days):
            for j, s in enumerate(self.slots):
                if np.isnan(self.calls[i, j]):
                    continue
                start = datetime.combine(d, s, tzinfo=self.tz)
                if start.astimezone(UTC).astimezone(self.tz).replace(tzinfo=None) != \
                        start.replace(tzinfo=None):
                    continue  # a wall-clock time skipped by a DST change
                aht = None if self.aht_s is None else float(self.aht_s[i, j])
                out.append((start, float(self.calls[i, j]), aht))
        return out

    def chosen_accuracy(self) -> Accuracy | None:
        return next((a for a in self.accuracy if a.method == self.method), None)


def wape_bias(actual: np.ndarray, forecast: np.ndarray) -> tuple[float, float, int, float]:
    """(WAPE, bias, intervals, Σactual) over cells where both are known."""
    ok = ~np.isnan(actual) & ~np.isnan(forecast)
    a, f = actual[ok], forecast[ok]
    total = float(a.sum())
    if total <= 0:
        return float("nan"), float("nan"), int(ok.sum()), total
    return float(np.abs(a - f).sum() / total), float((f - a).sum() / total), int(ok.sum()), total


def _closed(history: History, first_row: int, h: int) -> np.ndarray:
    """(h, slots) mask of closed cells for the h open days after row first_row - 1."""
    wd = history.weekdays
    rows = [wd[(wd.index(history.days[0].weekday()) + first_row + k) % len(wd)] for k in range(h)]
    return ~history.open_mask[rows]


def run_method(history: History, method: Method, rows: int, h: int) -> np.ndarray:
    """Forecast h open days after the first ``rows`` days of history; closed cells NaN."""
    y = history.calls[:rows]
    fc = np.maximum(np.nan_to_num(method(y, history.season, h)), 0.0)
    return np.where(_closed(history, rows, h), np.nan, fc)


def backtest(history: History, methods: dict[str, Method] | None = None, horizon_weeks: int = 4,
             origins: int = 3, progress: Progress | None = None) -> list[Accuracy]:
    """Rolling-origin backtest: forecast ``horizon_weeks`` ahead from ``origins`` cut points a
    week apart at the end of the history; pooled interval WAPE and bias per method."""
    methods = methods or METHODS
    m, n = history.season, len(history.days)
    h = horizon_weeks * m
    cuts = [n - h - k * m for k in range(origins)][::-1]
    cuts = [c for c in cuts if c >= 2 * m]
    if not cuts:
        raise ValueError(f"history too short to backtest {horizon_weeks} weeks ahead")
    out, done, total = [], 0, len(methods) * len(cuts)
    for name, method in methods.items():
        actual, predicted = [], []
        try:
            for cut in cuts:
                if progress:
                    progress(name, done, total)
                predicted.append(run_method(history, method, cut, h))
                actual.append(history.calls[cut:cut + h])
                done += 1
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
            log.warning("wfm: method %s failed in backtest, left out: %s", name, exc)
            done += len(cuts) - len(predicted)
            out.append(Accuracy(name, math.nan, math.nan, 0, 0.0))
            continue
        finally:
            if progress:
                progress(name, done, total)
        wape, bias, cells, actual_calls = wape_bias(np.concatenate(actual),
                                                    np.concatenate(predicted))
        out.append(Accuracy(name, wape, bias, cells, actual_calls))
    return out


def choose(accuracy: list[Accuracy]) -> str:
    """The method with the lowest backtest WAPE (the baseline when nothing else is known)."""
    known = [a for a in accuracy if not np.isnan(a.wape)]
    return min(known, key=lambda a: a.wape).method if known else BASELINE


def forecast_aht(history: History, h: int, weeks: int = 6) -> np.ndarray | None:
    """AHT (seconds) per horizon cell: handle time over handled calls, same weekday × slot,
    then the weekday, then the whole history; None when the history has no handle time."""
    m = history.season
    handle = same_weekday_rows(history.handle_s, m, h, weeks)
    count = same_weekday_rows(history.handled, m, h, weeks)
    overall_n = np.nansum(history.handled)
    if overall_n <= 0:
        return None
    overall = np.nansum(history.handle_s) / overall_n
    out = []
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for hs, hn in zip(handle, count, strict=True):
            slot_n, slot_s = np.nansum(hn, axis=0), np.nansum(hs, axis=0)
            day = np.nansum(slot_s) / np.nansum(slot_n) if np.nansum(slot_n) > 0 else overall
            out.append(np.where(slot_n > 0, slot_s / np.where(slot_n > 0, slot_n, 1), day))
    return np.array(out)


def horizon_days(history: History, days: int) -> list[date]:
    """The open days among the ``days`` calendar days after the history ends."""
    last = history.days[-1]
    every = [last + timedelta(days=i) for i in range(1, days + 1)]
    return [d for d in every if d.weekday() in history.weekdays]


def make_forecast(history: History, days: int, method: str = "auto",
                  special: list[SpecialDay] | None = None, origins: int = 3,
                  horizon_weeks: int = 4, progress: Progress | None = None) -> Forecast:
    """Forecast ``days`` calendar days; ``auto`` picks the method by backtest. Every forecast
    carries its backtest accuracy (a named method next to the seasonal-naive baseline);
    backtests reach fewer weeks ahead when the history is short, none under three weeks
    (then ``auto`` uses ``SHORT_HISTORY_METHOD``)."""
    if method != "auto" and method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose auto or one of {list(METHODS)}")
    methods = METHODS if method == "auto" else {method: METHODS[method],
                                                BASELINE: METHODS[BASELINE]}
    accuracy: list[Accuracy] = []
    for weeks_ahead in range(horizon_weeks, 0, -1):  # the longest backtest the history allows
        try:
            accuracy = backtest(history, methods, weeks_ahead, origins, progress)
            break
        except ValueError:
            continue
    if method == "auto":
        method = choose(accuracy) if accuracy else SHORT_HISTORY_METHOD
    future = horizon_days(history, days)
    n, h = len(history.days), len(future)
    calls = run_method(history, METHODS[method], n, h) if h else np.zeros((0, len(history.slots)))
    for sd in special or []:
        if sd.kind == "override" and sd.day in future:
            calls[future.index(sd.day)] *= sd.factor
    aht = forecast_aht(history, h) if h else None
    return Forecast(method, history.interval_minutes, history.tz, future, history.slots, calls,
                    aht, accuracy)
