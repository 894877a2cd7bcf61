"""Exact steady-state queueing formulas: Erlang B, Erlang C (M/M/c) and Erlang A (M/M/c+M).

This module owns the project's *analytic reference values*: closed-form (or exactly summed)
steady-state KPIs of the classic call-centre queues, used to validate the simulator and to
give staffing first guesses. Everything here is a deterministic, pure function of floats and
ints (no randomness, no state).

Staffing: :func:`required_agents` finds the fewest agents meeting a set of
:class:`StaffingTargets` together (service level at a threshold, ASA, abandonment, occupancy
ceiling) by Erlang C or Erlang A; the ``agents_for_*`` functions are its one-target forms.
:func:`blended_workload` converts chats and emails to call equivalents and
:func:`fte_from_agents` turns agents on the floor into paid full-time equivalents.

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
thousands of Erlangs with thousands of agents evaluate in milliseconds. Erlang A supports
``lambda * patience_mean_s`` and ``c * patience_mean_s / aht_s`` up to 1e9 (the work grows
like their square root).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = [
    "SERVICE_LEVEL_KPIS",
    "ErlangAResult",
    "ErlangCResult",
    "StaffingTargets",
    "agents_for_abandon_rate",
    "agents_for_asa",
    "agents_for_occupancy",
    "agents_for_service_level",
    "blended_workload",
    "erlang_a_measures",
    "erlang_a_staffing",
    "erlang_b",
    "erlang_c",
    "erlang_c_measures",
    "erlang_c_staffing",
    "fte_from_agent_hours",
    "fte_from_agents",
    "queue_measures",
    "required_agents",
    "square_root_staffing",
]

#: Log of the relative mass below which a tail of a series / mixture is dropped (e^-40 ~ 4e-18).
_LOG_TAIL = -40.0
#: Largest supported ``lambda / theta`` and ``c mu / theta`` (work grows like their square root).
_MAX_SCALED_RATE = 1e9


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
        Mean (exponential) patience [s] (> 0, finite). Supported while
        ``lambda * patience_mean_s`` and ``c * patience_mean_s / aht_s`` are at most 1e9
        (the work grows like their square root; beyond, abandonment is negligible).
    threshold_s : float
        Service-level threshold [s] (>= 0; ``inf`` allowed).

    Returns
    -------
    ErlangAResult
        KPIs as defined in the module docstring.

    Raises
    ------
    ValueError
        If an input is out of range (including the patience limit above).
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
    if max(x, y) > _MAX_SCALED_RATE:
        raise ValueError(
            "patience_mean_s too long for Erlang A: need arrival_rate_per_s * patience_mean_s "
            f"<= {_MAX_SCALED_RATE:g} and c * patience_mean_s / aht_s <= {_MAX_SCALED_RATE:g} "
            f"(got {y:.3g} and {x:.3g}); with such patience a stable queue hardly abandons "
            "(use erlang_c_measures)"
        )

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
            log_ratio_x1 = log_m_x1 - log_a_kummer + d_log + math.log(z) - math.log1p(x)
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


# --------------------------------------------------------------------------------------------
# staffing for targets (Erlang C and Erlang A), blended workload, FTE
# --------------------------------------------------------------------------------------------
#: Service-level definitions a staffing target may use (fields of :class:`ErlangCResult`).
SERVICE_LEVEL_KPIS = (
    "service_level",
    "service_level_answered",
    "service_level_excl_short_abandons",
)
#: Target names reported by :meth:`StaffingTargets.missed`, in this order.
TARGET_NAMES = ("service_level", "asa_s", "abandon_rate", "occupancy")


def _optional_fraction(name: str, value, *, low_open: bool, high_open: bool) -> float | None:
    if value is None:
        return None
    v = _check_real(name, value, positive=False)
    if (low_open and v <= 0.0) or (high_open and v >= 1.0) or v > 1.0:
        low, high = "(0" if low_open else "[0", "1)" if high_open else "1]"
        raise ValueError(f"{name} must be in {low}, {high}, got {v:g}")
    return v


@dataclass(frozen=True)
class StaffingTargets:
    """Targets a staffing level must meet together; ``None`` means no target on that measure.

    Attributes
    ----------
    service_level : float or None
        Minimum service level, a fraction in [0, 1), measured at ``threshold_s``.
    threshold_s : float or None
        Service-level threshold [s]; needed with ``service_level``, else only used to report
        the service level.
    max_asa_s : float or None
        Maximum ASA [s] (> 0).
    max_abandon_rate : float or None
        Maximum share abandoning, in (0, 1]; needs a patience (Erlang A).
    max_occupancy : float or None
        Occupancy ceiling, in (0, 1].
    service_level_kpi : str
        The service-level definition ``service_level`` applies to, one of
        :data:`SERVICE_LEVEL_KPIS` (see the module docstring).
    """

    service_level: float | None = None
    threshold_s: float | None = None
    max_asa_s: float | None = None
    max_abandon_rate: float | None = None
    max_occupancy: float | None = None
    service_level_kpi: str = "service_level"

    def __post_init__(self):
        _optional_fraction("service_level", self.service_level, low_open=False, high_open=True)
        _optional_fraction("max_abandon_rate", self.max_abandon_rate, low_open=True,
                           high_open=False)
        _optional_fraction("max_occupancy", self.max_occupancy, low_open=True, high_open=False)
        if self.threshold_s is not None:
            _check_real("threshold_s", self.threshold_s, positive=False, allow_inf=True)
        if self.max_asa_s is not None:
            _check_real("max_asa_s", self.max_asa_s, positive=True)
        if self.service_level is not None and self.threshold_s is None:
            raise ValueError("a service-level target needs threshold_s")
        if self.service_level_kpi not in SERVICE_LEVEL_KPIS:
            raise ValueError(f"service_level_kpi must be one of {', '.join(SERVICE_LEVEL_KPIS)}"
                             f", got {self.service_level_kpi!r}")

    @property
    def empty(self) -> bool:
        """True when no target is set."""
        return all(v is None for v in (self.service_level, self.max_asa_s,
                                       self.max_abandon_rate, self.max_occupancy))

    def missed(self, measures: ErlangCResult) -> tuple[str, ...]:
        """The targets ``measures`` misses, as names from :data:`TARGET_NAMES`.

        Parameters
        ----------
        measures : ErlangCResult
            Measured at this object's ``threshold_s``.

        Returns
        -------
        tuple of str
            Empty when every target is met.
        """
        out = []
        if self.service_level is not None and not (
                getattr(measures, self.service_level_kpi) >= self.service_level):
            out.append("service_level")
        if self.max_asa_s is not None and not measures.asa_s <= self.max_asa_s:
            out.append("asa_s")
        if self.max_abandon_rate is not None and not (
                measures.abandon_rate <= self.max_abandon_rate):
            out.append("abandon_rate")
        if self.max_occupancy is not None and not measures.occupancy <= self.max_occupancy:
            out.append("occupancy")
        return tuple(out)


def queue_measures(
    c: int,
    arrival_rate_per_s: float,
    aht_s: float,
    threshold_s: float,
    patience_mean_s: float | None = None,
) -> ErlangCResult:
    """Steady-state KPIs of Erlang C (no patience) or Erlang A (``patience_mean_s`` given).

    Unlike :func:`erlang_c_measures`, an unstable Erlang C queue (``a >= c``) is not an error:
    it returns the limit of a queue that grows without bound (``p_wait = occupancy = 1``,
    ``asa_s = mean_wait_s = mean_queue_len = inf``, service levels 0, no abandonment), so that
    staffing searches and reports can show "one agent fewer" at any load.

    Parameters
    ----------
    c : int
        Number of agents (>= 1).
    arrival_rate_per_s : float
        Poisson arrival rate [1/s] (> 0).
    aht_s : float
        Mean handling time [s] (> 0).
    threshold_s : float
        Service-level threshold [s] (>= 0; ``inf`` allowed).
    patience_mean_s : float, optional
        Mean (exponential) patience [s]; ``None`` for Erlang C (nobody abandons).

    Returns
    -------
    ErlangCResult or ErlangAResult
    """
    if patience_mean_s is not None:
        return erlang_a_measures(c, arrival_rate_per_s, aht_s, patience_mean_s, threshold_s)
    c = _check_int("c", c, 1)
    lam = _check_real("arrival_rate_per_s", arrival_rate_per_s, positive=True)
    aht_s = _check_real("aht_s", aht_s, positive=True)
    _check_real("threshold_s", threshold_s, positive=False, allow_inf=True)
    if lam * aht_s >= c:
        inf = math.inf
        return ErlangCResult(p_wait=1.0, asa_s=inf, mean_wait_s=inf, service_level=0.0,
                             service_level_answered=0.0, service_level_excl_short_abandons=0.0,
                             abandon_rate=0.0, occupancy=1.0, mean_queue_len=inf)
    return erlang_c_measures(c, lam, aht_s, threshold_s)


def _smallest(meets, lo: int, guess: int, cap: int) -> int:
    """Smallest ``c >= lo`` with ``meets(c)``, for ``meets`` monotone (False ... False True ...).

    Gallops from ``guess`` (doubling steps) to bracket the switch, then bisects; O(log) calls.
    """
    c = min(max(lo, guess), cap)
    if meets(c):
        good, step = c, 1
        while True:  # gallop down
            cand = good - step
            if cand < lo:
                bad = lo - 1
                break
            if not meets(cand):
                bad = cand
                break
            good, step = cand, 2 * step
    else:
        bad, step = c, 1
        while True:  # gallop up
            if bad >= cap:
                raise ValueError(f"target not reachable with up to {cap} agents")
            cand = min(bad + step, cap)
            if meets(cand):
                good = cand
                break
            bad, step = cand, 2 * step
    while good - bad > 1:  # meets(good), not meets(bad) (or bad = lo - 1)
        mid = (good + bad) // 2
        if meets(mid):
            good = mid
        else:
            bad = mid
    return good


def required_agents(
    arrival_rate_per_s: float,
    aht_s: float,
    targets: StaffingTargets,
    patience_mean_s: float | None = None,
) -> int:
    """Smallest number of agents meeting every target, by Erlang C or Erlang A.

    Every measure is monotone in the number of agents (service levels rise; ASA, abandonment
    and occupancy fall), so the answer is the largest of the per-target minima; it is found
    by galloping from the square-root staffing guess ``ceil(a + sqrt(a))`` and bisecting,
    with ``O(log c)`` evaluations. The result ``c`` meets every target and ``c - 1`` misses
    at least one (or is below the least allowed: ``floor(a) + 1`` for Erlang C, which must
    be stable, and 1 for Erlang A).

    Parameters
    ----------
    arrival_rate_per_s : float
        Poisson arrival rate [1/s] (> 0).
    aht_s : float
        Mean handling time [s] (> 0).
    targets : StaffingTargets
        At least one target; an abandonment target needs ``patience_mean_s``.
    patience_mean_s : float, optional
        Mean (exponential) patience [s]: Erlang A; ``None``: Erlang C.

    Returns
    -------
    int
        Minimal number of agents.

    Raises
    ------
    ValueError
        For bad inputs, no target, an abandonment target without patience, or a target no
        staffing up to ``a + 100 sqrt(a) + 1000`` agents meets.
    """
    lam = _check_real("arrival_rate_per_s", arrival_rate_per_s, positive=True)
    aht_s = _check_real("aht_s", aht_s, positive=True)
    if targets.empty:
        raise ValueError("give at least one target (service level, ASA, abandonment or "
                         "occupancy)")
    if targets.max_abandon_rate is not None and patience_mean_s is None:
        raise ValueError("an abandonment target needs a mean patience (Erlang A); in Erlang C "
                         "nobody abandons")
    if patience_mean_s is not None:
        _check_real("patience_mean_s", patience_mean_s, positive=True)
    a = lam * aht_s
    threshold_s = 0.0 if targets.threshold_s is None else targets.threshold_s
    lo = 1 if patience_mean_s is not None else math.floor(a) + 1
    cap = int(a + 100.0 * math.sqrt(a) + 1000.0)
    guess = math.ceil(a + math.sqrt(a))
    if targets.max_occupancy is not None and patience_mean_s is None:
        # Erlang C occupancy is a / c: the ceiling alone needs c >= a / max_occupancy
        guess = max(guess, math.ceil(a / targets.max_occupancy))

    def meets(c: int) -> bool:
        return not targets.missed(queue_measures(c, lam, aht_s, threshold_s, patience_mean_s))

    return _smallest(meets, lo, guess, cap)


def agents_for_service_level(
    arrival_rate_per_s: float,
    aht_s: float,
    threshold_s: float,
    target_service_level: float,
    patience_mean_s: float | None = None,
    service_level_kpi: str = "service_level",
) -> int:
    """Minimal agents whose service level at ``threshold_s`` is at least the target.

    Parameters
    ----------
    arrival_rate_per_s : float
        Poisson arrival rate [1/s].
    aht_s : float
        Mean handling time [s].
    threshold_s : float
        Service-level threshold [s].
    target_service_level : float
        Target fraction in [0, 1).
    patience_mean_s : float, optional
        Mean patience [s] for Erlang A; ``None`` for Erlang C.
    service_level_kpi : str
        One of :data:`SERVICE_LEVEL_KPIS` (they coincide in Erlang C).

    Returns
    -------
    int
    """
    targets = StaffingTargets(service_level=target_service_level, threshold_s=threshold_s,
                              service_level_kpi=service_level_kpi)
    return required_agents(arrival_rate_per_s, aht_s, targets, patience_mean_s)


def agents_for_asa(
    arrival_rate_per_s: float, aht_s: float, max_asa_s: float,
    patience_mean_s: float | None = None,
) -> int:
    """Minimal agents whose ASA (mean wait of answered contacts) is at most ``max_asa_s``.

    Parameters
    ----------
    arrival_rate_per_s : float
        Poisson arrival rate [1/s].
    aht_s : float
        Mean handling time [s].
    max_asa_s : float
        ASA ceiling [s] (> 0).
    patience_mean_s : float, optional
        Mean patience [s] for Erlang A; ``None`` for Erlang C.

    Returns
    -------
    int
    """
    return required_agents(arrival_rate_per_s, aht_s, StaffingTargets(max_asa_s=max_asa_s),
                           patience_mean_s)


def agents_for_abandon_rate(
    arrival_rate_per_s: float, aht_s: float, patience_mean_s: float, max_abandon_rate: float
) -> int:
    """Minimal agents whose Erlang A abandonment is at most ``max_abandon_rate``.

    Parameters
    ----------
    arrival_rate_per_s : float
        Poisson arrival rate [1/s].
    aht_s : float
        Mean handling time [s].
    patience_mean_s : float
        Mean (exponential) patience [s].
    max_abandon_rate : float
        Ceiling on P(abandoned), in (0, 1].

    Returns
    -------
    int
    """
    return required_agents(arrival_rate_per_s, aht_s,
                           StaffingTargets(max_abandon_rate=max_abandon_rate), patience_mean_s)


def agents_for_occupancy(
    arrival_rate_per_s: float, aht_s: float, max_occupancy: float,
    patience_mean_s: float | None = None,
) -> int:
    """Minimal agents whose occupancy is at most ``max_occupancy`` (an occupancy ceiling).

    In Erlang C this is ``ceil(a / max_occupancy)`` (and at least ``floor(a) + 1``).

    Parameters
    ----------
    arrival_rate_per_s : float
        Poisson arrival rate [1/s].
    aht_s : float
        Mean handling time [s].
    max_occupancy : float
        Ceiling, in (0, 1].
    patience_mean_s : float, optional
        Mean patience [s] for Erlang A; ``None`` for Erlang C.

    Returns
    -------
    int
    """
    return required_agents(arrival_rate_per_s, aht_s,
                           StaffingTargets(max_occupancy=max_occupancy), patience_mean_s)


def erlang_a_staffing(
    arrival_rate_per_s: float,
    aht_s: float,
    patience_mean_s: float,
    threshold_s: float,
    target_service_level: float,
) -> int:
    """Smallest number of agents whose Erlang A service level meets the target.

    The Erlang A counterpart of :func:`erlang_c_staffing` (service level = P(served and
    W <= threshold_s), over offered contacts); may be below the load ``a`` when patience is
    short, since abandonment relieves the queue.

    Parameters
    ----------
    arrival_rate_per_s : float
        Poisson arrival rate [1/s] (> 0).
    aht_s : float
        Mean handling time [s] (> 0).
    patience_mean_s : float
        Mean (exponential) patience [s] (> 0).
    threshold_s : float
        Service-level threshold [s] (>= 0).
    target_service_level : float
        Target fraction in [0, 1).

    Returns
    -------
    int
    """
    return agents_for_service_level(arrival_rate_per_s, aht_s, threshold_s,
                                    target_service_level, patience_mean_s)


def blended_workload(calls, chats=0.0, emails=0.0, chat_equiv: float = 0.6,
                     email_equiv: float = 0.4):
    """Contacts of several channels as phone-call equivalents (the CareConnect seed's rule).

    ``calls + chat_equiv * chats + email_equiv * emails``; by default 1 chat = 0.6 call and
    1 email = 0.4 call. Works on numbers or numpy arrays, in any common unit (per hour, per
    day ...); the result is in the same unit.

    Parameters
    ----------
    calls, chats, emails : float or array_like
        Contact counts or rates (>= 0).
    chat_equiv, email_equiv : float
        Call equivalents of one chat and one email (>= 0).

    Returns
    -------
    float or ndarray
        Call equivalents.
    """
    chat_equiv = _check_real("chat_equiv", chat_equiv, positive=False)
    email_equiv = _check_real("email_equiv", email_equiv, positive=False)
    for name, v in (("calls", calls), ("chats", chats), ("emails", emails)):
        arr = np.asarray(v, dtype=float)
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError(f"{name} must be finite and >= 0, got {v!r}")
    out = np.asarray(calls, dtype=float) + chat_equiv * np.asarray(chats, dtype=float) \
        + email_equiv * np.asarray(emails, dtype=float)
    return float(out) if out.ndim == 0 else out


def fte_from_agent_hours(agent_hours_per_week, paid_hours_per_fte_week: float = 40.0,
                         shrinkage: float = 0.0):
    """Full-time equivalents that deliver ``agent_hours_per_week`` available hours.

    ``fte = agent_hours_per_week / (paid_hours_per_fte_week * (1 - shrinkage))``: each FTE is
    paid ``paid_hours_per_fte_week`` and loses the share ``shrinkage`` of it (breaks,
    meetings, training, absence) before taking contacts.

    Parameters
    ----------
    agent_hours_per_week : float or array_like
        Agent-hours on the floor needed per week [h] (>= 0).
    paid_hours_per_fte_week : float
        Paid hours of one FTE per week [h] (> 0).
    shrinkage : float
        Share of paid time not available for contacts, in [0, 1).

    Returns
    -------
    float or ndarray
    """
    paid = _check_real("paid_hours_per_fte_week", paid_hours_per_fte_week, positive=True)
    shrinkage = _check_real("shrinkage", shrinkage, positive=False)
    if not shrinkage < 1.0:
        raise ValueError(f"shrinkage must be in [0, 1), got {shrinkage:g}")
    hours = np.asarray(agent_hours_per_week, dtype=float)
    if not np.all(np.isfinite(hours)) or np.any(hours < 0):
        raise ValueError(f"agent_hours_per_week must be finite and >= 0, got "
                         f"{agent_hours_per_week!r}")
    out = hours / (paid * (1.0 - shrinkage))
    return float(out) if out.ndim == 0 else out


def fte_from_agents(agents, hours_covered_per_week: float = 168.0,
                    paid_hours_per_fte_week: float = 40.0, shrinkage: float = 0.0):
    """FTE to keep ``agents`` on the floor for ``hours_covered_per_week`` every week.

    ``fte = agents * hours_covered_per_week / (paid_hours_per_fte_week * (1 - shrinkage))``;
    e.g. 8 agents around the clock (168 h) at 40 paid hours and 30% shrinkage is 48 FTE.

    Parameters
    ----------
    agents : float or array_like
        Agents available for contacts at every covered hour (>= 0).
    hours_covered_per_week : float
        Hours per week the ``agents`` are needed [h], in (0, 168].
    paid_hours_per_fte_week : float
        Paid hours of one FTE per week [h] (> 0).
    shrinkage : float
        Share of paid time not available for contacts, in [0, 1).

    Returns
    -------
    float or ndarray
    """
    covered = _check_real("hours_covered_per_week", hours_covered_per_week, positive=True)
    if covered > 168.0:
        raise ValueError(f"hours_covered_per_week must be at most 168, got {covered:g}")
    n = np.asarray(agents, dtype=float)
    if not np.all(np.isfinite(n)) or np.any(n < 0):
        raise ValueError(f"agents must be finite and >= 0, got {agents!r}")
    return fte_from_agent_hours(n * covered, paid_hours_per_fte_week, shrinkage)
