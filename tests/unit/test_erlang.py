"""Tests of sim.erlang against exact arithmetic, published values and brute-force CTMCs.

Independent references used here:

* exact rational arithmetic (``fractions.Fraction``) of the textbook Erlang B / C sums;
* the stationary law of the truncated birth-death generator, solved with the GTH
  (Grassmann-Taksar-Heyman) state reduction, a general subtraction-free CTMC solver;
* the tagged customer's absorbing CTMC (position in queue -> served / abandoned), evaluated
  with ``scipy.linalg.expm`` and triangular solves;
* for large ``c``: the per-``j`` incomplete-beta representation of the waiting time
  (``V`` given ``j`` waiting ahead is the (j+1)-th order statistic of ``x + j`` iid
  ``Exp(theta)``), mixed with the product-form stationary law.

Truncation: the chains are cut at ``c + K`` with parameters chosen so that the stationary mass
beyond ``c + K`` is below 1e-18; the remaining tolerance ``rel=1e-9`` covers round-off only.
"""

from __future__ import annotations

import math
import time
from fractions import Fraction

import numpy as np
import pytest
from scipy import linalg, special, stats

from sim.erlang import (
    ErlangAResult,
    ErlangCResult,
    erlang_a_measures,
    erlang_b,
    erlang_c,
    erlang_c_measures,
    erlang_c_staffing,
    square_root_staffing,
)

FIELDS = (
    "p_wait",
    "asa_s",
    "mean_wait_s",
    "service_level",
    "service_level_answered",
    "service_level_excl_short_abandons",
    "abandon_rate",
    "occupancy",
    "mean_queue_len",
)
REL = 1e-9
ABS = 1e-14


# --------------------------------------------------------------------------------------------
# independent reference implementations
# --------------------------------------------------------------------------------------------
def exact_erlang_b(c: int, a: int | Fraction) -> Fraction:
    """Textbook Erlang B, ``(a^c/c!) / sum_k a^k/k!``, in exact rational arithmetic."""
    a = Fraction(a)
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[-1] / sum(terms)


def exact_erlang_c(c: int, a: int | Fraction) -> Fraction:
    """Textbook Erlang C, ``(a^c/c! * c/(c-a)) / (sum_{k<c} a^k/k! + a^c/c! * c/(c-a))``."""
    a = Fraction(a)
    last = a**c / math.factorial(c) * c / (c - a)
    return last / (sum(a**k / math.factorial(k) for k in range(c)) + last)


def gth_stationary(rates: np.ndarray) -> np.ndarray:
    """Stationary law of a CTMC from its off-diagonal rate matrix (GTH state reduction)."""
    a = np.array(rates, dtype=float)
    np.fill_diagonal(a, 0.0)
    n = a.shape[0]
    for k in range(n - 1, 0, -1):
        s = a[k, :k].sum()
        a[:k, k] /= s
        a[:k, :k] += np.outer(a[:k, k], a[k, :k])
    pi = np.zeros(n)
    pi[0] = 1.0
    for k in range(1, n):
        pi[k] = pi[:k] @ a[:k, k]
    return pi / pi.sum()


def brute_force(c, lam, aht_s, patience_mean_s, threshold_s, k_max):
    """All KPIs from the truncated M/M/c(+M) chain and the tagged customer's CTMC.

    ``patience_mean_s=None`` means no abandonment (M/M/c).
    """
    mu = 1.0 / aht_s
    theta = 0.0 if patience_mean_s is None else 1.0 / patience_mean_s
    n_states = c + k_max + 1
    rates = np.zeros((n_states, n_states))
    for n in range(n_states - 1):
        rates[n, n + 1] = lam
    for n in range(1, n_states):
        rates[n, n - 1] = min(n, c) * mu + max(n - c, 0) * theta
    pi = gth_stationary(rates)
    p_immediate = pi[:c].sum()
    p_queue = pi[c:]  # arrival sees j = 0..k_max waiting (PASTA)
    n = np.arange(n_states)
    lq = np.sum(np.maximum(n - c, 0) * pi)

    # tagged customer: transient states k = customers ahead (0..k_max)
    c_mu = c * mu
    size = k_max + 1
    t_mat = np.zeros((size, size))
    for k in range(size):
        t_mat[k, k] = -(c_mu + (k + 1) * theta)
        if k >= 1:
            t_mat[k, k - 1] = c_mu + k * theta
    to_served = np.zeros(size)
    to_served[0] = c_mu
    to_aband = np.full(size, theta)
    gen = np.zeros((size + 2, size + 2))
    gen[:size, :size] = t_mat
    gen[:size, size] = to_served
    gen[:size, size + 1] = to_aband
    trans = linalg.expm(gen * threshold_s)
    served_by_t, aband_by_t = trans[:size, size], trans[:size, size + 1]
    neg_t = -t_mat
    p_served_j = linalg.solve_triangular(neg_t, to_served, lower=True)
    wait_served_j = linalg.solve_triangular(neg_t, p_served_j, lower=True)  # E[W 1{served}]
    wait_j = linalg.solve_triangular(neg_t, np.ones(size), lower=True)  # E[W]

    p_served = p_immediate + p_queue @ p_served_j
    sl = p_immediate + p_queue @ served_by_t
    return {
        "p_wait": p_queue.sum(),
        "asa_s": (p_queue @ wait_served_j) / p_served,
        "mean_wait_s": p_queue @ wait_j,
        "service_level": sl,
        "service_level_answered": sl / p_served,
        "service_level_excl_short_abandons": sl / (1.0 - p_queue @ aband_by_t),
        "abandon_rate": 1.0 - p_served,
        "occupancy": lam * aht_s * p_served / c,
        "mean_queue_len": lq,
    }


def product_form_waiting_law(c, lam, aht_s, patience_mean_s, n_extra):
    """``(p_immediate, P(arrival sees j waiting))`` from the product form, in log space."""
    mu, theta = 1.0 / aht_s, 1.0 / patience_mean_s
    n = np.arange(1, c + n_extra + 1, dtype=float)
    log_ratio = np.log(lam) - np.log(np.minimum(n, c) * mu + np.maximum(n - c, 0) * theta)
    log_w = np.concatenate([[0.0], np.cumsum(log_ratio)])
    w = np.exp(log_w - log_w.max())
    pi = w / w.sum()
    return pi[:c].sum(), pi[c:]


def per_j_incomplete_beta(c, lam, aht_s, patience_mean_s, threshold_s, n_extra):
    """Erlang A KPIs mixing the per-j incomplete-beta laws of ``W`` (independent derivation)."""
    mu, theta = 1.0 / aht_s, 1.0 / patience_mean_s
    x = c * mu / theta
    p_imm, p_q = product_form_waiting_law(c, lam, aht_s, patience_mean_s, n_extra)
    j = np.arange(p_q.size, dtype=float)
    p = -math.expm1(-theta * threshold_s)
    served_j = x / (x + j + 1.0)
    served_by_t = served_j * special.betainc(j + 1.0, x + 1.0, p)
    aband_by_t = p * special.betaincc(j + 1.0, x, p) + (j + 1.0) / (x + j + 1.0) * special.betainc(
        j + 2.0, x, p
    )
    harmonic = np.cumsum(1.0 / (c * mu + np.arange(1, p_q.size + 1) * theta))
    p_served = p_imm + p_q @ served_j
    sl = p_imm + p_q @ served_by_t
    return {
        "p_wait": p_q.sum(),
        "asa_s": (p_q @ (served_j * harmonic)) / p_served,
        "mean_wait_s": p_q @ ((j + 1.0) / (c * mu + (j + 1.0) * theta)),
        "service_level": sl,
        "service_level_answered": sl / p_served,
        "service_level_excl_short_abandons": sl / (1.0 - p_q @ aband_by_t),
        "abandon_rate": p_q @ ((j + 1.0) * theta / (c * mu + (j + 1.0) * theta)),
        "occupancy": lam * aht_s * p_served / c,
        "mean_queue_len": p_q @ j,
    }


def assert_matches(result, reference, rel=REL, abs_=ABS, fields=FIELDS):
    for name in fields:
        got, want = getattr(result, name), reference[name]
        assert got == pytest.approx(want, rel=rel, abs=abs_), f"{name}: {got!r} != {want!r}"


# --------------------------------------------------------------------------------------------
# Erlang B / C: exact and published values
# --------------------------------------------------------------------------------------------
def test_erlang_b_published_table_value():
    # Erlang B tables (e.g. any traffic-engineering handbook): B(N=10, A=5 E) = 0.018385.
    assert erlang_b(10, 5.0) == pytest.approx(0.018385, abs=5e-7)
    assert erlang_b(10, 5.0) == pytest.approx(float(exact_erlang_b(10, 5)), rel=1e-14)


@pytest.mark.parametrize("c,a", [(1, 1), (3, 2), (10, 5), (30, 24), (50, 48), (60, 1)])
def test_erlang_b_exact_rational(c, a):
    assert erlang_b(c, a) == pytest.approx(float(exact_erlang_b(c, a)), rel=1e-13)


def test_erlang_b_edge_cases():
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(5, 0.0) == 0.0
    assert erlang_b(1, 1.0) == 0.5


def test_erlang_b_large_matches_poisson_ratio():
    # B(c, a) = P(Poisson(a) = c) / P(Poisson(a) <= c): a different closed form.
    for c, a in [(5000, 4900.0), (3000, 3100.0), (1000, 200.0)]:
        ref = stats.poisson.pmf(c, a) / stats.poisson.cdf(c, a)
        assert erlang_b(c, a) == pytest.approx(ref, rel=1e-9)


def test_erlang_c_small_textbook_value():
    # a = 2, c = 3: B = 4/19, C = 4/9 (hand computation).
    assert erlang_c(3, 2.0) == pytest.approx(4.0 / 9.0, rel=1e-14)


@pytest.mark.parametrize("c,a", [(2, 1), (14, 10), (28, 24), (55, 48), (100, 90)])
def test_erlang_c_exact_rational(c, a):
    assert erlang_c(c, a) == pytest.approx(float(exact_erlang_c(c, a)), rel=1e-13)


def test_erlang_c_unstable_is_one():
    assert erlang_c(5, 5.0) == 1.0
    assert erlang_c(5, 7.5) == 1.0


def test_call_centre_worked_example():
    # Widely used worked example (callcentrehelper.com "Erlang C formula"): 100 calls per
    # 30 min, AHT 180 s (a = 10 E), 20 s target: 14 agents give P(wait) ~ 17.4 % and a
    # service level of ~ 88.8 %; 13 agents miss 80 %. Values asserted against exact
    # rational arithmetic: C exact, SL = 1 - C exp(-(c - a) t / AHT).
    lam, aht_s = 100 / 1800, 180.0
    c_exact = float(exact_erlang_c(14, 10))
    r = erlang_c_measures(14, lam, aht_s, 20.0)
    assert r.p_wait == pytest.approx(c_exact, rel=1e-13)
    assert r.p_wait == pytest.approx(0.1741, abs=5e-5)
    assert r.service_level == pytest.approx(1 - c_exact * math.exp(-4 * 20 / 180), rel=1e-13)
    assert r.service_level == pytest.approx(0.888, abs=5e-4)
    assert r.asa_s == pytest.approx(c_exact * 180 / 4, rel=1e-13)
    assert r.occupancy == pytest.approx(10 / 14, rel=1e-15)
    assert erlang_c_staffing(lam, aht_s, 20.0, 0.80) == 14


def test_classic_360_per_hour_example():
    # lambda = 360/h, AHT = 240 s -> a = 24 E. Exact rational C for c = 28.
    lam, aht_s = 360 / 3600, 240.0
    r = erlang_c_measures(28, lam, aht_s, 20.0)
    c_exact = float(exact_erlang_c(28, 24))
    assert r.p_wait == pytest.approx(c_exact, rel=1e-13)
    assert r.mean_wait_s == pytest.approx(c_exact * 240 / 4, rel=1e-13)
    assert r.mean_queue_len == pytest.approx(c_exact * 24 / 4, rel=1e-13)
    assert r.service_level == pytest.approx(1 - c_exact * math.exp(-4 * 20 / 240), rel=1e-13)


@pytest.mark.parametrize(
    "c,lam,aht_s,t",
    [(1, 0.8, 1.0, 0.7), (10, 0.9, 10.0, 3.0), (3, 2.0, 1.0, 0.5), (100, 0.3, 300.0, 20.0)],
)
def test_erlang_c_measures_vs_brute_force(c, lam, aht_s, t):
    # rho <= 0.9, K = 400: truncated mass <= 0.9^400 ~ 5e-19.
    r = erlang_c_measures(c, lam, aht_s, t)
    assert isinstance(r, ErlangCResult)
    assert_matches(r, brute_force(c, lam, aht_s, None, t, k_max=400))
    assert r.mean_queue_len == pytest.approx(lam * r.mean_wait_s, rel=1e-13)


def test_erlang_c_measures_threshold_edges():
    r0 = erlang_c_measures(10, 0.9, 10.0, 0.0)
    assert r0.service_level == pytest.approx(1.0 - r0.p_wait, rel=1e-15)
    assert erlang_c_measures(10, 0.9, 10.0, math.inf).service_level == 1.0


# --------------------------------------------------------------------------------------------
# Erlang A
# --------------------------------------------------------------------------------------------
ERLANG_A_CASES = [
    # c, lambda [1/s], aht_s, patience_mean_s, threshold_s     (a = lambda * aht_s)
    (1, 0.7, 1.0, 10.0, 0.5),  # a = 0.7
    (1, 3.0, 1.0, 2.0, 0.3),  # a = 3, overloaded single server
    (10, 0.9, 10.0, 5.0, 3.0),  # a = 9
    (10, 1.4, 10.0, 20.0, 5.0),  # a = 14, overloaded
    (20, 1.8, 10.0, 50.0, 4.0),  # a = 18
    (20, 3.0, 10.0, 15.0, 2.0),  # a = 30, heavily overloaded
    (5, 2.0, 1.0, 3.0, 0.2),  # a = 2, light load
]


@pytest.mark.parametrize("case", ERLANG_A_CASES)
def test_erlang_a_vs_brute_force_chain_and_tagged_ctmc(case):
    # Queue lengths concentrate far below K = 200 (mass beyond < 1e-18 in all cases).
    r = erlang_a_measures(*case)
    assert isinstance(r, ErlangAResult)
    assert_matches(r, brute_force(*case, k_max=200))


@pytest.mark.parametrize(
    "c,lam,aht_s,patience_mean_s",
    [(100, 95 / 300, 300.0, 300.0), (100, 130 / 300, 300.0, 300.0), (100, 0.3, 300.0, 1200.0)],
)
def test_erlang_a_c100_stationary_quantities_vs_generator(c, lam, aht_s, patience_mean_s):
    # Stationary quantities only (tagged CTMC not needed): chain truncated at c + 400.
    ref = brute_force(c, lam, aht_s, patience_mean_s, 20.0, k_max=400)
    r = erlang_a_measures(c, lam, aht_s, patience_mean_s, 20.0)
    assert_matches(r, ref, fields=("p_wait", "mean_queue_len", "abandon_rate", "occupancy"))


@pytest.mark.parametrize(
    "c,lam,aht_s,patience_mean_s,t",
    [
        (100, 95 / 300, 300.0, 300.0, 20.0),
        (1000, 980 / 240, 240.0, 120.0, 20.0),
        (1000, 1100 / 240, 240.0, 180.0, 30.0),
        (300, 290 / 180, 180.0, 5000.0, 10.0),
    ],
)
def test_erlang_a_large_c_vs_incomplete_beta_mixture(c, lam, aht_s, patience_mean_s, t):
    # Product-form law truncated at c + 3000 (mass beyond < 1e-18 for these loads).
    ref = per_j_incomplete_beta(c, lam, aht_s, patience_mean_s, t, n_extra=3000)
    assert_matches(erlang_a_measures(c, lam, aht_s, patience_mean_s, t), ref)


@pytest.mark.parametrize(
    "lam,n_extra",
    [(9.9, 20_000), (9.96, 20_000), (9.99, 60_000), (9.999, 60_000), (10.05, 20_000)],
)
def test_erlang_a_long_patience_vs_incomplete_beta_mixture(lam, n_extra):
    # x = c mu / theta = 1e6, y = lambda / theta = x + k sqrt(x) with k = -10, -4, -1, -0.1, 5:
    # covers both evaluation routes of M_x(y) (series below x, incomplete gamma near/above x).
    # Truncation at c + n_extra leaves < 1e-18 of the mass.
    c, aht_s, patience_mean_s, t = 1000, 100.0, 1e5, 20.0
    ref = per_j_incomplete_beta(c, lam, aht_s, patience_mean_s, t, n_extra=n_extra)
    assert_matches(erlang_a_measures(c, lam, aht_s, patience_mean_s, t), ref)


@pytest.mark.parametrize("case", ERLANG_A_CASES)
def test_erlang_a_littles_law_and_identities(case):
    c, lam, aht_s, patience_mean_s, t = case
    r = erlang_a_measures(*case)
    # Little: L_q = lambda E[W] (computed from different sums in the module)
    assert r.mean_queue_len == pytest.approx(lam * r.mean_wait_s, rel=1e-12)
    # P(Ab) = theta E[W] (exponential patience)
    assert r.abandon_rate == pytest.approx(r.mean_wait_s / patience_mean_s, rel=1e-12)
    assert r.occupancy == pytest.approx(lam * aht_s * (1 - r.abandon_rate) / c, rel=1e-14)
    assert r.service_level <= r.service_level_excl_short_abandons <= r.service_level_answered
    for name in FIELDS:
        assert math.isfinite(getattr(r, name))


def test_erlang_a_threshold_edges():
    c, lam, aht_s, pat = 10, 1.2, 10.0, 30.0
    r0 = erlang_a_measures(c, lam, aht_s, pat, 0.0)
    assert r0.service_level == pytest.approx(1.0 - r0.p_wait, rel=1e-14)
    assert r0.service_level_excl_short_abandons == pytest.approx(r0.service_level, rel=1e-14)
    r_inf = erlang_a_measures(c, lam, aht_s, pat, math.inf)
    assert r_inf.service_level == pytest.approx(1.0 - r_inf.abandon_rate, rel=1e-14)
    assert r_inf.service_level_answered == pytest.approx(1.0, rel=1e-14)
    # service level is monotone in the threshold and approaches the t = inf value
    sls = [erlang_a_measures(c, lam, aht_s, pat, t).service_level for t in (0, 1, 5, 20, 1e4)]
    assert all(np.diff(sls) > 0)
    assert sls[-1] == pytest.approx(r_inf.service_level, rel=1e-12)


def test_erlang_a_tends_to_erlang_c_as_patience_grows():
    c, lam, aht_s, t = 100, 90 / 300, 300.0, 20.0
    ref = erlang_c_measures(c, lam, aht_s, t)
    gaps = {}
    for patience_mean_s in (1e7, 1e9):  # y = lambda / theta up to 3e8 (limit 1e9)
        r = erlang_a_measures(c, lam, aht_s, patience_mean_s, t)
        assert_matches(r, {f: getattr(ref, f) for f in FIELDS}, rel=1e-3, abs_=1e-6)
        gaps[patience_mean_s] = r.p_wait - ref.p_wait
    # the gap is O(theta): 100x smaller patience rate -> 100x smaller gap (no numerical floor)
    assert gaps[1e7] / gaps[1e9] == pytest.approx(100.0, rel=1e-2)


@pytest.mark.parametrize(
    "c,a,patience_mean_s",
    [
        (3000, 2950.0, 180.0),
        (3000, 3300.0, 180.0),
        (3000, 2999.0, 1.0),
        (3000, 2500.0, 1e5),
        (3000, 3100.0, 1e5),
        (3000, 3100.0, 9e7),  # lambda / theta = 9.3e8, near the supported limit 1e9
        (5000, 4900.0, 120.0),
    ],
)
def test_erlang_a_large_systems_are_finite(c, a, patience_mean_s):
    aht_s = 300.0
    r = erlang_a_measures(c, a / aht_s, aht_s, patience_mean_s, 20.0)
    for name in FIELDS:
        value = getattr(r, name)
        assert math.isfinite(value), name
        assert value >= 0.0, name
    for name in FIELDS:
        if not name.endswith("_s") and name != "mean_queue_len":
            assert 0.0 <= getattr(r, name) <= 1.0, name
    assert r.mean_queue_len == pytest.approx(a / aht_s * r.mean_wait_s, rel=1e-9)


def test_erlang_c_large_system_is_finite():
    r = erlang_c_measures(5000, 4900 / 300, 300.0, 20.0)
    assert 0.0 < r.p_wait < 1.0 and 0.0 < r.service_level < 1.0
    assert r.p_wait == pytest.approx(erlang_c(5000, 4900.0), rel=1e-15)


def test_erlang_a_c1000_is_fast():
    start = time.perf_counter()
    for _ in range(5):
        erlang_a_measures(1000, 990 / 300, 300.0, 180.0, 20.0)
    assert (time.perf_counter() - start) / 5 < 0.5


# --------------------------------------------------------------------------------------------
# staffing
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "lam,aht_s,t,target",
    [(100 / 1800, 180.0, 20.0, 0.8), (0.1, 240.0, 20.0, 0.8), (16.0, 300.0, 20.0, 0.9)],
)
def test_erlang_c_staffing_is_minimal(lam, aht_s, t, target):
    c = erlang_c_staffing(lam, aht_s, t, target)
    assert erlang_c_measures(c, lam, aht_s, t).service_level >= target
    if c - 1 > lam * aht_s:
        assert erlang_c_measures(c - 1, lam, aht_s, t).service_level < target


def test_erlang_c_staffing_zero_target_is_minimal_stable():
    assert erlang_c_staffing(0.1, 240.0, 20.0, 0.0) == 25
    assert erlang_c_staffing(0.1, 245.0, 20.0, 0.0) == 25


def test_square_root_staffing():
    assert square_root_staffing(1.0, 100.0, 0.5) == 105
    assert square_root_staffing(0.1, 240.0, 1.0) == math.ceil(24 + math.sqrt(24))
    assert square_root_staffing(0.07, 100.0, 0.0) == 7  # 0.07 * 100 = 7.000000000000001
    assert square_root_staffing(1.0, 100.0, -0.5) == 95
    assert square_root_staffing(0.01, 1.0, -3.0) == 1


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------
def test_erlang_c_measures_rejects_unstable_queue():
    with pytest.raises(ValueError, match="unstable"):
        erlang_c_measures(10, 1.0, 10.0, 20.0)
    with pytest.raises(ValueError, match="unstable"):
        erlang_c_measures(10, 1.1, 10.0, 20.0)


@pytest.mark.parametrize(
    "args",
    [
        (0, 1.0, 1.0, 1.0),
        (2.5, 1.0, 1.0, 1.0),
        (True, 1.0, 1.0, 1.0),
        (5, 0.0, 1.0, 1.0),
        (5, -1.0, 1.0, 1.0),
        (5, 1.0, 0.0, 1.0),
        (5, 1.0, math.nan, 1.0),
        (5, 1.0, 1.0, -1.0),
    ],
)
def test_erlang_c_measures_rejects_bad_inputs(args):
    with pytest.raises(ValueError):
        erlang_c_measures(*args)


@pytest.mark.parametrize(
    "args",
    [
        (0, 1.0, 1.0, 10.0, 1.0),
        (5, 0.0, 1.0, 10.0, 1.0),
        (5, 1.0, -1.0, 10.0, 1.0),
        (5, 1.0, 1.0, 0.0, 1.0),
        (5, 1.0, 1.0, math.inf, 1.0),
        (5, 1.0, 1.0, 10.0, -0.1),
        (5, 1.0, 1.0, 2e9, 1.0),  # lambda * patience > 1e9 (supported range)
    ],
)
def test_erlang_a_measures_rejects_bad_inputs(args):
    with pytest.raises(ValueError):
        erlang_a_measures(*args)


def test_other_functions_reject_bad_inputs():
    with pytest.raises(ValueError):
        erlang_b(-1, 1.0)
    with pytest.raises(ValueError):
        erlang_b(3, -1.0)
    with pytest.raises(ValueError):
        erlang_c(0, 1.0)
    with pytest.raises(ValueError):
        erlang_c_staffing(1.0, 10.0, 20.0, 1.0)
    with pytest.raises(ValueError):
        erlang_c_staffing(0.0, 10.0, 20.0, 0.8)
    with pytest.raises(ValueError):
        square_root_staffing(1.0, 10.0, math.nan)


def test_results_are_frozen():
    r = erlang_a_measures(10, 0.9, 10.0, 30.0, 20.0)
    with pytest.raises(AttributeError):
        r.p_wait = 0.0  # type: ignore[misc]
