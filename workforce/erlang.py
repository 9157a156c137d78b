"""Erlang B, C and A, computed stably (no factorials, no overflow) and exactly.

Conventions: a load ``a`` is in Erlangs, times are in seconds, rates are per second.
Service level with abandonment (Erlang A) is defined over *offered* calls: the share of all
arriving callers who are answered within the threshold (abandoners count as failures).
ASA with abandonment is the mean wait of *answered* callers only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction


def offered_load(calls: float, aht_s: float, interval_s: float) -> float:
    """Offered load in Erlangs: calls in the interval × aht_s / interval_s (seconds)."""
    return calls * aht_s / interval_s


def exact(value: float | int | str | Fraction) -> Fraction:
    """A float read as the decimal it prints as (0.3 -> 3/10), to dodge binary rounding."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        return Fraction(repr(round(float(value), 12)))
    return Fraction(value)


def ceil_exact(value: Fraction) -> int:
    """Smallest integer >= value, computed on an exact fraction."""
    return -((-value.numerator) // value.denominator)


def scheduled_heads(agents: int, shrinkage: float | str | Fraction) -> int:
    """Heads to schedule so that ``agents`` remain after shrinkage (fraction 0..1), exactly."""
    s = exact(shrinkage)
    if not 0 <= s < 1:
        raise ValueError("shrinkage must be in [0, 1)")
    return ceil_exact(Fraction(agents) / (1 - s))


def occupancy_floor(a: float, max_occupancy: float | str | Fraction) -> int:
    """Fewest agents keeping occupancy a/n at or under max_occupancy (fraction), exactly."""
    cap = exact(max_occupancy)
    if not 0 < cap <= 1:
        raise ValueError("max_occupancy must be in (0, 1]")
    return ceil_exact(exact(a) / cap)


def erlang_b(n: int, a: float) -> float:
    """Blocking probability of n servers (trunks) offered a Erlangs; stable recursion."""
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c_from_b(n: int, a: float, b: float) -> float:
    """Probability of waiting (Erlang C) from Erlang B of the same n, a; 1.0 if n <= a."""
    if n <= a:
        return 1.0
    return n * b / (n - a * (1.0 - b))


def erlang_c(n: int, a: float) -> float:
    """Probability an arriving call waits, n agents offered a Erlangs (M/M/n); 1.0 if n <= a."""
    return erlang_c_from_b(n, a, erlang_b(n, a))


def sl_from_c(n: int, a: float, c: float, aht_s: float, answer_s: float) -> float:
    """Share of calls answered within answer_s seconds given P(wait) c; 0.0 if n <= a."""
    if n <= a:
        return 0.0
    return 1.0 - c * math.exp(-(n - a) * answer_s / aht_s)


def service_level(n: int, a: float, aht_s: float, answer_s: float) -> float:
    """Erlang C share of calls answered within answer_s seconds (aht_s in seconds)."""
    return sl_from_c(n, a, erlang_c(n, a), aht_s, answer_s)


def asa_from_c(n: int, a: float, c: float, aht_s: float) -> float:
    """Average speed of answer in seconds given P(wait) c; infinite if n <= a."""
    if n <= a:
        return math.inf
    return c * aht_s / (n - a)


def asa(n: int, a: float, aht_s: float) -> float:
    """Erlang C average speed of answer in seconds (aht_s in seconds); infinite if n <= a."""
    return asa_from_c(n, a, erlang_c(n, a), aht_s)


def occupancy(n: int, a: float) -> float:
    """Share of agent time busy, a/n, capped at 1.0 (0.0 when n == 0)."""
    return 0.0 if n <= 0 else min(a / n, 1.0)


def trunks_for_blocking(a: float, max_blocking: float) -> int:
    """Fewest trunks whose Erlang B blocking for a Erlangs is at most max_blocking (fraction)."""
    n, b = 0, 1.0
    while b > max_blocking:
        n += 1
        b = a * b / (n + a * b)
    return n


@dataclass(frozen=True)
class Targets:
    """Staffing targets: SL share within answer_s seconds, ASA ceiling (s), occupancy cap."""

    service_level: float | None = 0.8
    answer_s: float = 20.0
    max_asa_s: float | None = None
    max_occupancy: float | str | Fraction | None = None

    def __post_init__(self) -> None:
        sl = self.service_level
        if sl is not None and not 0 < sl <= 1:
            raise ValueError("service-level target must be a share in (0, 1]")
        if not (math.isfinite(self.answer_s) and self.answer_s >= 0):
            raise ValueError("answer time must be a finite number of seconds >= 0")
        if self.max_asa_s is not None and not self.max_asa_s > 0:
            raise ValueError("ASA ceiling must be a number of seconds > 0")
        if self.max_occupancy is not None:
            occupancy_floor(1.0, self.max_occupancy)  # raises on a cap outside (0, 1]


def agents_erlang_c(a: float, aht_s: float, targets: Targets) -> int:
    """Fewest agents meeting every target for a Erlangs (Erlang C); 0 when a == 0."""
    if a <= 0:
        return 0
    n = math.floor(a) + 1
    if targets.max_occupancy is not None:
        n = max(n, occupancy_floor(a, targets.max_occupancy))
    b = erlang_b(n, a)
    while True:
        c = erlang_c_from_b(n, a, b)
        if meets(n, a, c, aht_s, targets):
            return n
        n += 1
        b = a * b / (n + a * b)


def meets(n: int, a: float, c: float, aht_s: float, targets: Targets) -> bool:
    """Whether n agents with P(wait) c meet the SL and ASA targets (Erlang C)."""
    sl = targets.service_level
    if sl is not None and sl_from_c(n, a, c, aht_s, targets.answer_s) < sl:
        return False
    return targets.max_asa_s is None or asa_from_c(n, a, c, aht_s) <= targets.max_asa_s


# ---- Erlang A (M/M/n+M: exponential patience) ---------------------------------------------


def _log_series(s: float, z: float) -> float:
    """log of sum_{k>=0} prod_{j=1..k} z/(s+j): the scaled incomplete gamma series."""
    if z <= 0:
        return 0.0
    log_t, peak, acc, k = 0.0, 0.0, 1.0, 0
    while True:
        k += 1
        log_t += math.log(z / (s + k))
        if log_t > peak:
            acc = acc * math.exp(peak - log_t) + 1.0
            peak = log_t
        else:
            acc += math.exp(log_t - peak)
        if k > z - s and log_t - peak - math.log(acc) < -40.0:
            return peak + math.log(acc)


def _answered_wait_ratio(x: float, y: float) -> float:
    """E[wait × 1{answered} | wait > 0] in units of mean patience (x = nμ/θ, y = λ/θ)."""
    log_w, peak, w_sum, q_sum, harmonic, j = 0.0, 0.0, 0.0, 0.0, 0.0, 0
    while True:
        harmonic += 1.0 / (x + j + 1)
        q = x / (x + j + 1) * harmonic  # P(answered | j ahead) × mean wait to answer
        if log_w > peak:
            scale = math.exp(peak - log_w)
            w_sum, q_sum, peak = w_sum * scale, q_sum * scale, log_w
        weight = math.exp(log_w - peak)
        w_sum += weight
        q_sum += weight * q
        j += 1
        log_w += math.log(y / (x + j))
        if j > y - x and log_w - peak - math.log(w_sum) < -40.0:
            return q_sum / w_sum


@dataclass(frozen=True)
class ErlangA:
    """Erlang A figures: SL over offered calls; ASA (s) over answered calls only."""

    p_wait: float
    p_abandon: float
    service_level: float
    asa_s: float
    occupancy: float


def erlang_a(n: int, rate_per_s: float, aht_s: float, patience_s: float,
             answer_s: float) -> ErlangA:
    """M/M/n+M: n agents, arrivals per second, aht_s and mean patience_s in seconds."""
    if rate_per_s <= 0:
        return ErlangA(0.0, 0.0, 1.0, 0.0, 0.0)
    if n <= 0:
        return ErlangA(1.0, 1.0, 0.0, math.inf, 0.0)
    a = rate_per_s * aht_s
    x, y = n * patience_s / aht_s, rate_per_s * patience_s
    e = erlang_b(n, a)
    log_big_a = _log_series(x, y)
    inv_a = math.exp(-log_big_a)
    p_wait = e / (inv_a + e * (1.0 - inv_a))
    pi_n = p_wait * inv_a
    rho = a / n
    p_ab = p_wait * (1.0 - (1.0 - inv_a) / rho)
    theta_t = answer_s / patience_s
    z = y * math.exp(-theta_t)
    late = 0.0
    if pi_n > 0:
        log_late = (math.log(x / (x + 1)) - theta_t * (x + 1) + y * -math.expm1(-theta_t)
                    + _log_series(x + 1, z) + math.log(pi_n))
        late = math.exp(log_late)
    served_after_wait = x / y * (p_wait - pi_n)
    sl = 1.0 - p_wait + served_after_wait - late
    answered = 1.0 - p_ab
    asa_s = math.inf
    if answered > 0:
        asa_s = p_wait * patience_s * _answered_wait_ratio(x, y) / answered
    return ErlangA(p_wait, p_ab, sl, asa_s, min(a * answered / n, 1.0))


def agents_erlang_a(rate_per_s: float, aht_s: float, patience_s: float, targets: Targets) -> int:
    """Fewest agents meeting every target with abandonment (SL over offered); 0 if no calls."""
    if rate_per_s <= 0:
        return 0
    cap = None if targets.max_occupancy is None else exact(targets.max_occupancy)

    def ok(n: int) -> bool:
        r = erlang_a(n, rate_per_s, aht_s, patience_s, targets.answer_s)
        if targets.service_level is not None and r.service_level < targets.service_level:
            return False
        if targets.max_asa_s is not None and r.asa_s > targets.max_asa_s:
            return False
        return cap is None or exact(r.occupancy) <= cap

    lo, hi = 0, max(1, math.ceil(rate_per_s * aht_s))
    while not ok(hi):
        lo, hi = hi, hi * 2
    while hi - lo > 1:  # service level rises monotonically with n: bisection is exact
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi
