"""Exact steady-state queueing formulas: Erlang B, Erlang C (M/M/c) and Erlang A (M/M/c+M).

This module owns the project's *analytic reference values*: closed-form (or exactly summed)
steady-state KPIs of the classic call-centre queues, used to validate the simulator and to
give staffing first guesses. Everything here is a deterministic, pure function of floats and
ints (no randomness, no state).

Notation (per offered customer, steady state, FIFO, PASTA):

* ``c`` agents, arrival rate ``lambda = arrival_rate_per_s`` [1/s], mean handling time
  ``aht_s`` [s] (``mu = 1/aht_s``), offered load ``a = lambda * aht_s`` [Erlangs];
* Erlang A only: exponential patience with mean ``patience_mean_s`` [s]
  (abandonment rate ``theta = 1/patience_mean_s``);
* ``W`` is the time a customer spends in queue (until service start or until abandoning).

KPI definitions (the project's KPI definitions, identical for both models):

``p_wait``
    P(all ``c`` agents busy at arrival) = P(W > 0).
``asa_s``
    E[W | served] (customers answered immediately count with W = 0).
``mean_wait_s``
    E[W] over all offered customers, abandoned ones counted until they abandon.
``service_level``
    P(served and W <= threshold_s).
``service_level_answered``
    P(W <= threshold_s | served).
``service_level_excl_short_abandons``
    P(served, W <= t) / (1 - P(abandoned, W <= t)).
``abandon_rate``
    P(abandoned).
``occupancy``
    served throughput * aht_s / c = a (1 - P(abandoned)) / c.
``mean_queue_len``
    time-average number waiting, L_q (= lambda * mean_wait_s by Little's law).

Numerics: nothing computes ``a**c`` or factorials. Erlang B uses the recurrence
``B(k) = a B(k-1) / (k + a B(k-1))``; Erlang A uses the Palm/Mandelbaum-Zeltyn
representation through ``M_x(z) = 1F1(1; x+1; z)`` and the regularised incomplete gamma
function, evaluated in log space (scipy, or the convergent series of ``M_x`` in the lower tail
where scipy underflows or loses digits), plus exactly summed
mixtures over the number of customers waiting ahead, truncated where the remaining mass is
below ``exp(-40)`` (~4e-18) relative to the mode (so exact to double precision). Loads of
thousands of Erlangs with thousands of agents evaluate in milliseconds.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = [
    "ErlangAResult",
    "ErlangCResult",
    "erlang_a_measures",
    "erlang_b",
    "erlang_c",
    "erlang_c_measures",
    "erlang_c_staffing",
    "square_root_staffing",
]

#: Log of the relative mass below which a tail of a series / mixture is dropped (e^-40 ~ 4e-18).
_LOG_TAIL = -40.0


# --------------------------------------------------------------------------------------------
# result types
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ErlangCResult:
    """Steady-state KPIs of an offered customer (see the module docstring for definitions).

    Attributes
    ----------
    p_wait : float
        P(all agents busy at arrival) = P(W > 0).
    asa_s : float
        Mean wait of served customers [s].
    mean_wait_s : float
        Mean time in queue of all offered customers [s].
    service_level : float
        P(served and W <= threshold).
    service_level_answered : float
        P(W <= threshold | served).
    service_level_excl_short_abandons : float
        P(served, W <= t) / (1 - P(abandoned, W <= t)).
    abandon_rate : float
        P(abandoned).
    occupancy : float
        Fraction of agent time busy = a (1 - abandon_rate) / c.
    mean_queue_len : float
        Time-average number of customers waiting.
    """

    p_wait: float
    asa_s: float
    mean_wait_s: float
    service_level: float
    service_level_answered: float
    service_level_excl_short_abandons: float
    abandon_rate: float
    occupancy: float
    mean_queue_len: float


@dataclass(frozen=True)
class ErlangAResult(ErlangCResult):
    """Steady-state KPIs of the M/M/c+M (Erlang A) queue; same fields as :class:`ErlangCResult`."""


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------
def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def _check_real(name: str, value: object, *, positive: bool, allow_inf: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and not value > 0.0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if not positive and value < 0.0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


# --------------------------------------------------------------------------------------------
# Erlang B / C
# --------------------------------------------------------------------------------------------
def erlang_b(c: int, a: float) -> float:
    """Erlang B blocking probability of the M/M/c/c loss system.

    Uses the stable recurrence ``B(0) = 1``, ``B(k) = a B(k-1) / (k + a B(k-1))`` (O(c),
    no overflow for any ``c``).

    Parameters
    ----------
    c : int
        Number of servers (>= 0).
    a : float
        Offered load [Erlangs] (>= 0).

    Returns
    -------
    float
        P(an arrival finds all ``c`` servers busy), in [0, 1].
    """
    c = _check_int("c", c, 0)
    a = _check_real("a", a, positive=False)
    b = 1.0
    for k in range(1, c + 1):
        ab = a * b
        b = ab / (k + ab)
    return b


def _erlang_c_from_b(c: int, a: float, b: float) -> float:
    # C = B / (1 - rho (1 - B)) written without the cancellation in 1 - rho.
    return c * b / ((c - a) + a * b)


def erlang_c(c: int, a: float) -> float:
    """Erlang C probability of waiting in M/M/c.

    ``C = c B / (c - a + a B)`` with ``B = erlang_b(c, a)``; ``1.0`` if ``a >= c`` (unstable).

    Parameters
    ----------
    c : int
        Number of agents (>= 1).
    a : float
        Offered load [Erlangs] (>= 0).

    Returns
    -------
    float
        P(W > 0), in [0, 1].
    """
    c = _check_int("c", c, 1)
    a = _check_real("a", a, positive=False)
    if a >= c:
        return 1.0
    return _erlang_c_from_b(c, a, erlang_b(c, a))


def _erlang_c_service_level(c: int, a: float, b: float, aht_s: float, threshold_s: float):
    """(C, P(W <= t)) of a stable M/M/c with Erlang B value ``b``; ``W | W>0 ~ Exp(c mu - lam)``."""
    p_wait = _erlang_c_from_b(c, a, b)
    decay_rate_per_s = (c - a) / aht_s
    return p_wait, 1.0 - p_wait * math.exp(-decay_rate_per_s * threshold_s)


def erlang_c_measures(
    c: int, arrival_rate_per_s: float, aht_s: float, threshold_s: float
) -> ErlangCResult:
    """Steady-state KPIs of the M/M/c (Erlang C) queue.

    With ``a = lambda * aht_s < c`` and ``C = erlang_c(c, a)``: ``W | W > 0 ~ Exp(c mu - lambda)``,
    so ``E[W] = C / (c mu - lambda)``, ``P(W <= t) = 1 - C exp(-(c mu - lambda) t)``,
    ``L_q = C a / (c - a)``. Nobody abandons, so ``asa_s = mean_wait_s`` and all three
    service levels coincide.

    Parameters
    ----------
    c : int
        Number of agents (>= 1).
    arrival_rate_per_s : float
        Poisson arrival rate [1/s] (> 0).
    aht_s : float
        Mean (exponential) handling time [s] (> 0).
    threshold_s : float
        Service-level threshold [s] (>= 0; ``inf`` allowed).

    Returns
    -------
    ErlangCResult

    Raises
    ------
    ValueError
        If an input is out of range or the queue is unstable (``a >= c``).
    """
    c = _check_int("c", c, 1)
    lam = _check_real("arrival_rate_per_s", arrival_rate_per_s, positive=True)
    aht_s = _check_real("aht_s", aht_s, positive=True)
    threshold_s = _check_real("threshold_s", threshold_s, positive=False, allow_inf=True)
    a = lam * aht_s
    if a >= c:
        raise ValueError(
            f"unstable M/M/c queue: offered load a = arrival_rate_per_s * aht_s = {a:.6g} "
            f"Erlangs >= c = {c} agents; Erlang C needs a < c "
            "(use erlang_a_measures for an overloaded queue with abandonment)"
        )
    b = erlang_b(c, a)
    p_wait, sl = _erlang_c_service_level(c, a, b, aht_s, threshold_s)
    mean_wait_s = p_wait * aht_s / (c - a)
    return ErlangCResult(
        p_wait=p_wait,
        asa_s=mean_wait_s,
        mean_wait_s=mean_wait_s,
        service_level=sl,
        service_level_answered=sl,
        service_level_excl_short_abandons=sl,
        abandon_rate=0.0,
        occupancy=a / c,
        mean_queue_len=p_wait * a / (c - a),
    )


# --------------------------------------------------------------------------------------------
# Erlang A helpers
# --------------------------------------------------------------------------------------------
def _log1pmx_small(u: float) -> float:
    """``ln(1 + u) - u`` for ``|u| < 1/4``, by its series (no cancellation)."""
    # ln(1 + u) - u = -sum_{k>=2} v^k / k with v = -u; |v| < 1/4: 29 terms, error < 4^-28
    v = -u
    acc = 0.0
    for k in range(30, 1, -1):
        acc = acc * v + 1.0 / k
    return -v * v * acc


def _log_g(x: float, z: float) -> float:
    """``ln(e^z z^-x Gamma(x+1))``, accurate for large ``x`` (Stirling form, no cancellation)."""
    if x < 100.0:
        return z - x * math.log(z) + float(special.gammaln(x + 1.0))
    xi2 = 1.0 / (x * x)
    # ln Gamma(x+1) - (x ln x - x + ln(2 pi x)/2) = 1/(12x) - 1/(360x^3) + 1/(1260x^5) - ...
    stirling_corr = (1.0 / 12.0 - xi2 * (1.0 / 360.0 - xi2 * (1.0 / 1260.0 - xi2 / 1680.0))) / x
    # z - x ln z + x ln x - x = (z - x) - x ln(z / x) = -x (ln(1 + u) - u), u = (z - x) / x
    d = z - x
    if abs(d) < 0.25 * x:
        core = -x * _log1pmx_small(d / x)
    else:
        core = d - x * (math.log(z) - math.log(x))
    return core + 0.5 * math.log(2.0 * math.pi * x) + stirling_corr


def _log_kummer_series(x: float, z: float) -> float:
    """``ln M_x(z)``, ``M_x(z) = sum_j z^j / ((x+1)...(x+j)) = 1F1(1; x+1; z)``, summed directly.

    Requires ``z < x + 1`` (then term ratios are ``<= z/(x+1) < 1``); stops when the geometric
    bound of the remaining tail is below ``exp(-40)``.
    """
    parts = [np.zeros(1)]
    last, start, chunk = 0.0, 0, 256
    while True:
        k = start + np.arange(1, chunk + 1, dtype=np.float64)
        if z >= 1.0:  # ln(z / (x + k)) < 0, accurate when the ratio is close to 1
            inc = -np.log1p((x + k - z) / z)
        else:  # ratios <= z / (x + 1) < 1: terms fall fast, no overflow for tiny z
            inc = math.log(z) - np.log(x + k)
        logs = last + np.cumsum(inc)
        parts.append(logs)
        last, start = float(logs[-1]), start + chunk
        r = z / (x + start + 1.0)  # ratio of every later term to its predecessor is <= r < 1
        if r <= 0.0 or last + math.log(r) - math.log1p(-r) < _LOG_TAIL:  # tail <= term r/(1-r)
            break
        chunk *= 2
    return float(special.logsumexp(np.concatenate(parts)))


def _log_m_p(x: float, z: float) -> tuple[float, float, bool]:
    """``(ln M_x(z), ln P(x, z), by_series)``, each in its most accurate form.

    ``M_x(z) = e^z z^-x Gamma(x+1) P(x, z)`` with ``P`` the regularised lower incomplete gamma
    function. For ``z < x`` the series of :func:`_log_kummer_series` is summed (term ratios
    ``<= z/(x+1) < 1``), except within ``4 sqrt(x)`` of ``x`` when that would take more than
    ``2e5`` terms; there, and for ``z >= x``, ``P`` comes from scipy's ``gammainc`` /
    ``1 - gammaincc`` (Temme's uniform expansion there, accurate to ~1e-15; scipy's lower tail
    further below ``x`` loses digits for ``x >~ 1e5``, hence the series). ``by_series`` tells
    which: the other logarithm then carries the rounding of ``ln(e^z z^-x Gamma(x+1))``.
    """
    if z <= 0.0:
        return 0.0, -math.inf, True
    if z < x:
        ratio = z / (x + 1.0)
        cheap = ratio <= 0.0 or -math.log(ratio) * 2e5 >= -_LOG_TAIL
        if cheap or x - z > 4.0 * math.sqrt(x):
            log_m = _log_kummer_series(x, z)
            return log_m, log_m - _log_g(x, z), True
    p = float(special.gammainc(x, z))
    log_p = math.log(p) if p < 0.5 else math.log1p(-float(special.gammaincc(x, z)))
    return _log_g(x, z) + log_p, log_p, False


def _extend(log_inc, first: float, ratio_after, stop_at: float | None):
    """Cumulative log-weights along one direction, in doubling chunks, until the tail is negligible.

    ``log_inc(k)`` gives the log-ratio increments for the (float) indices ``k`` of the step,
    ``ratio_after(k_last)`` the bound on all later ratios (< 1 means geometric tail bound).
    """
    parts, last, pos, chunk = [], 0.0, first, 128
    while True:
        n = chunk if stop_at is None else int(min(chunk, stop_at - pos))
        if n <= 0:
            break
        k = pos + np.arange(n, dtype=np.float64)
        logs = last + np.cumsum(log_inc(k))
        parts.append(logs)
        last, pos = float(logs[-1]), pos + n
        r = ratio_after(pos)
        if r < 1.0 and last + math.log(r) - math.log1p(-r) < _LOG_TAIL:
            break
        chunk *= 2
    return np.concatenate(parts) if parts else np.zeros(0)


def _waiting_window(x: float, y: float) -> tuple[np.ndarray, np.ndarray]:
    """Law of ``J`` = number waiting ahead, seen by an arrival that must wait (Erlang A).

    ``P(J = j) = w_j / M_x(y)`` with ``w_j = y^j / ((x+1)...(x+j))``, ``x = c mu / theta``,
    ``y = lambda / theta`` (since ``pi_{c+j} = pi_c w_j``). ``w_j`` is unimodal with mode
    ``m = max(0, floor(y - x))``; the window is extended both ways from the mode until the
    geometric bound of the omitted tail is below ``exp(-40)`` times the mode weight.

    Returns
    -------
    j : ndarray of float
        Window of queue lengths ``j``.
    prob : ndarray
        Normalised weights P(J = j).
    """
    mode = max(0.0, math.floor(y - x))
    # upward: w_k / w_{k-1} = y / (x + k) < 1 for k > mode
    up = _extend(
        lambda k: -np.log1p((x + k - y) / y),
        mode + 1.0,
        lambda k_next: y / (x + k_next),
        None,
    )
    # downward: w_{k-1} / w_k = (x + k) / y <= 1 for k <= mode, k = mode, mode-1, ..., 1
    down = np.zeros(0)
    if mode > 0:
        down = _extend(
            lambda i: np.log1p((x + (mode - i) - y) / y),
            0.0,
            lambda i_next: (x + (mode - i_next)) / y,
            mode,
        )
    logs = np.concatenate([down[::-1], [0.0], up])
    j = mode - down.size + np.arange(logs.size, dtype=np.float64)
    weights = np.exp(logs)
    return j, weights / weights.sum()


def _digamma_diff(x: float, n: np.ndarray) -> np.ndarray:
    """``psi(x+n+1) - psi(x+1) = sum_{k=1}^{n} 1/(x+k)`` without cancellation for large ``x``."""
    z1 = x + 1.0
    if z1 < 100.0:
        return special.digamma(z1 + n) - special.digamma(z1)
    z2 = z1 + n

    def f(z):  # psi(z) - ln z + 1/(2z), asymptotic (error < 1/(240 z^8))
        zi2 = 1.0 / (z * z)
        return zi2 * (-1.0 / 12.0 + zi2 * (1.0 / 120.0 - zi2 / 252.0))

    return np.log1p(n / z1) + n / (2.0 * z1 * z2) + (f(z2) - f(z1))


# --------------------------------------------------------------------------------------------
# Erlang A
# --------------------------------------------------------------------------------------------
def erlang_a_measures(
    c: int,
    arrival_rate_per_s: float,
    aht_s: float,
    patience_mean_s: float,
    threshold_s: float,
) -> ErlangAResult:
    """Steady-state KPIs of the M/M/c+M (Palm / Erlang A) queue; stable for any load.

    Method (Palm; Mandelbaum & Zeltyn). Let ``x = c mu / theta``, ``y = lambda / theta``,
    ``B = erlang_b(c, a)`` and ``A = M_x(y)`` with ``M_x(z) = 1F1(1; x+1; z) =
    e^z z^-x Gamma(x+1) P(x, z)`` (``P`` = regularised lower incomplete gamma). The
    birth-death chain gives ``pi_{c+j} = pi_c y^j / ((x+1)...(x+j))``, hence

    * ``p_wait = A B / (1 + (A - 1) B)``.

    An arrival that finds ``j`` waiting reaches service after ``V``, a sum of exponentials with
    rates ``c mu + k theta``, ``k = j, ..., 0``, and abandons at its own ``tau ~ Exp(theta)``;
    ``W = min(V, tau)``. Per ``j`` (exact): ``P(served | j) = c mu / (c mu + (j+1) theta)``,
    ``E[W | j] = (j+1) / (c mu + (j+1) theta)`` and
    ``E[W 1{served} | j] = P(served | j) sum_{k=1}^{j+1} 1/(c mu + k theta)``; these are
    summed exactly over the law of ``j`` (see ``_waiting_window``; truncation below
    ``exp(-40)`` relative mass). Per ``j``, ``P(V <= s) = I_u(j+1, x)`` (regularised incomplete
    beta, ``u = 1 - exp(-theta s)``) and ``P(served, W <= s) = x/(x+j+1) I_u(j+1, x+1)``;
    summing these over the law of ``j`` in closed form gives, with ``q = exp(-theta t)``:

    * ``P(W > t | W > 0) = q P(x, y q) / P(x, y)``,
    * ``P(served, W > t | W > 0) = (x / y) P(x + 1, y q) / P(x, y)``,

    and ``P(abandoned, W > t) = P(W > t) - P(served, W > t)``. ``P`` is evaluated in log
    space (series of ``M_x`` where scipy's lower tail is inaccurate or underflows), and
    ``P(served, W <= t)`` as a difference of upper tails ``Q`` when ``y q >= x + 1``.

    Parameters
    ----------
    c : int
        Number of agents (>= 1).
    arrival_rate_per_s : float
        Poisson arrival rate [1/s] (> 0).
    aht_s : float
        Mean (exponential) handling time [s] (> 0).
    patience_mean_s : float
        Mean (exponential) patience [s] (> 0, finite).
    threshold_s : float
        Service-level threshold [s] (>= 0; ``inf`` allowed).

    Returns
    -------
    ErlangAResult
        KPIs as defined in the module docstring.

    Raises
    ------
    ValueError
        If an input is out of range.
    """
    c = _check_int("c", c, 1)
    lam = _check_real("arrival_rate_per_s", arrival_rate_per_s, positive=True)
    aht_s = _check_real("aht_s", aht_s, positive=True)
    patience_mean_s = _check_real("patience_mean_s", patience_mean_s, positive=True)
    threshold_s = _check_real("threshold_s", threshold_s, positive=False, allow_inf=True)

    a = lam * aht_s
    theta = 1.0 / patience_mean_s
    c_mu = c / aht_s
    x = c * patience_mean_s / aht_s  # c mu / theta
    y = lam * patience_mean_s  # lambda / theta

    b = erlang_b(c, a)
    log_a_kummer, log_p_xy, series_xy = _log_m_p(x, y)  # ln A = ln M_x(y), ln P(x, y)
    if b == 0.0:
        p_wait = 0.0
    else:  # p_wait = 1 / (1 + (1/B - 1) / A)
        p_wait = float(special.expit(-(math.log1p(-b) - math.log(b) - log_a_kummer)))

    # Exact mixtures over j (number waiting ahead) given that the arrival waits.
    j, prob = _waiting_window(x, y)
    n = j + 1.0
    denom = c_mu + n * theta
    served_j = c_mu / denom
    p_served_q = float(np.sum(prob * served_j))
    wait_q_s = float(np.sum(prob * (n / denom)))
    p_aband_q = theta * wait_q_s  # = sum prob * (j+1) theta / (c mu + (j+1) theta)
    wait_served_q_s = float(np.sum(prob * served_j * _digamma_diff(x, n))) / theta
    queue_len_q = float(np.sum(prob * j))

    # Waiting-time tails at the threshold, given W > 0 (closed forms above, written with the
    # regularised incomplete gamma: P(W > t) = q P(x, yq) / P(x, y),
    # P(served, W > t) = (x/y) P(x+1, yq) / P(x, y),
    # P(served, W <= t) = (x/y) (Q(x+1, yq) - Q(x+1, y)) / P(x, y)).
    if threshold_s == 0.0:
        tail_all_q, tail_served_q, served_within_q = 1.0, p_served_q, 0.0
    elif math.isinf(threshold_s) or math.exp(-theta * threshold_s) == 0.0:
        tail_all_q, tail_served_q, served_within_q = 0.0, 0.0, p_served_q
    else:
        theta_t = theta * threshold_s
        q = math.exp(-theta_t)
        z = y * q
        log_m_x, log_p_x, series_x = _log_m_p(x, z)
        log_m_x1, log_p_x1, series_x1 = _log_m_p(x + 1.0, z)
        if series_xy or series_x or series_x1:
            # ratios of P through M: ln P(x, z) - ln P(x, y) = ln M_x(z) - ln M_x(y) + D with
            # D = ln(e^y y^-x) - ln(e^z z^-x) = y (1 - q) - c mu t exactly (no large terms)
            d_log = y * -math.expm1(-theta_t) - c_mu * threshold_s
            log_ratio_x = log_m_x - log_a_kummer + d_log
            log_ratio_x1 = log_m_x1 - log_a_kummer + d_log + math.log(z / (x + 1.0))
        else:
            log_ratio_x, log_ratio_x1 = log_p_x - log_p_xy, log_p_x1 - log_p_xy
        tail_all_q = min(q * math.exp(log_ratio_x), 1.0)
        tail_served_q = min(x / y * math.exp(log_ratio_x1), p_served_q)
        if z >= x + 1.0:  # both upper tails small: difference of Q without cancellation
            q_diff = float(special.gammaincc(x + 1.0, z) - special.gammaincc(x + 1.0, y))
            served_within_q = x / y * q_diff / math.exp(log_p_xy)
        else:
            served_within_q = p_served_q - tail_served_q
        served_within_q = min(max(served_within_q, 0.0), p_served_q)
    tail_aband_q = min(max(tail_all_q - tail_served_q, 0.0), p_aband_q)
    aband_within_q = p_aband_q - tail_aband_q

    p_served = (1.0 - p_wait) + p_wait * p_served_q
    abandon_rate = p_wait * p_aband_q
    service_level = (1.0 - p_wait) + p_wait * served_within_q
    excl_denominator = 1.0 - p_wait * aband_within_q
    sl_excl = service_level / excl_denominator if excl_denominator > 0.0 else 0.0

    def unit(v: float) -> float:
        return min(max(v, 0.0), 1.0)

    return ErlangAResult(
        p_wait=unit(p_wait),
        asa_s=p_wait * wait_served_q_s / p_served,
        mean_wait_s=p_wait * wait_q_s,
        service_level=unit(service_level),
        service_level_answered=unit(service_level / p_served),
        service_level_excl_short_abandons=unit(sl_excl),
        abandon_rate=unit(abandon_rate),
        occupancy=unit(a * p_served / c),
        mean_queue_len=p_wait * queue_len_q,
    )


# --------------------------------------------------------------------------------------------
# staffing
# --------------------------------------------------------------------------------------------
def erlang_c_staffing(
    arrival_rate_per_s: float, aht_s: float, threshold_s: float, target_service_level: float
) -> int:
    """Smallest number of agents ``c > a`` whose Erlang C service level meets the target.

    Service level is ``P(W <= threshold_s)`` of :func:`erlang_c_measures`, which increases
    with ``c``; the search starts at ``floor(a) + 1`` and updates Erlang B incrementally.

    Parameters
    ----------
    arrival_rate_per_s : float
        Poisson arrival rate [1/s] (> 0).
    aht_s : float
        Mean handling time [s] (> 0).
    threshold_s : float
        Service-level threshold [s] (>= 0).
    target_service_level : float
        Target fraction in [0, 1).

    Returns
    -------
    int
        Minimal stable ``c`` with ``service_level >= target_service_level``.
    """
    lam = _check_real("arrival_rate_per_s", arrival_rate_per_s, positive=True)
    aht_s = _check_real("aht_s", aht_s, positive=True)
    threshold_s = _check_real("threshold_s", threshold_s, positive=False, allow_inf=True)
    target = _check_real("target_service_level", target_service_level, positive=False)
    if not target < 1.0:
        raise ValueError(f"target_service_level must be in [0, 1), got {target}")
    a = lam * aht_s
    c = math.floor(a) + 1
    b = erlang_b(c, a)
    while True:
        _, sl = _erlang_c_service_level(c, a, b, aht_s, threshold_s)
        if sl >= target:
            return c
        c += 1
        b = a * b / (c + a * b)


def square_root_staffing(arrival_rate_per_s: float, aht_s: float, beta: float) -> int:
    """Square-root staffing rule ``ceil(a + beta sqrt(a))`` with ``a = arrival_rate_per_s * aht_s``.

    A value within ``1e-9`` (relative) above an integer is taken as that integer, so float
    round-off in ``a`` cannot add an agent; the result is at least 1.

    Parameters
    ----------
    arrival_rate_per_s : float
        Arrival rate [1/s] (> 0).
    aht_s : float
        Mean handling time [s] (> 0).
    beta : float
        Quality-of-service parameter (any finite real; negative allowed for Erlang A).

    Returns
    -------
    int
        Number of agents.
    """
    lam = _check_real("arrival_rate_per_s", arrival_rate_per_s, positive=True)
    aht_s = _check_real("aht_s", aht_s, positive=True)
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not math.isfinite(beta):
        raise ValueError(f"beta must be a finite real number, got {beta!r}")
    a = lam * aht_s
    value = a + float(beta) * math.sqrt(a)
    n = math.ceil(value)
    if n - 1 >= value - 1e-9 * max(1.0, abs(value)):
        n -= 1
    return max(1, n)
