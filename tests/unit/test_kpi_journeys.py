"""Journey KPIs (sim.kpi): a tiny hand-checked run, batching exactness, SimPy runs.

The hand-checked case ("tiny") has a 1 h warm-up, 6 h intervals and a 1-day horizon, so the
measured window is [3600, 86400) = intervals 0..3, interval 0 being [3600, 21600). One live
phone queue ``phone/q`` (tier 1) and the escalation queues ``escalation/tier2_critical``,
``escalation/tier3_critical`` (...). Windows: supervisor 1 h for critical journeys; tier 2
critical: acknowledge 30 min, resolve 4 h; tier 3 critical: acknowledge 1 h (no resolve).

First contacts (severity c = critical, u = urgent, r = routine)::

    id  arrival  sev outcome     start-end      fate        follow-up
    c0   1000     r  answered    1000-1200      resolved    (warm-up: not measured)
    c1   4000     r  answered    4000-4300      resolved
    c2   5000     r  answered    5010-5400      repeat      f0
    c3   6000     c  answered    6000-6200      escalated   f1
    c4   7000     r  abandoned   (7100)         retried     f2
    c5  25000     c  answered   25000-25300     escalated   f4
    c6  26000     u  answered   26000-26100     unresolved
    c7  50000     c  answered   50000-50100     escalated   f5
    c8  80000     r  answered   80000-80200     repeat      f6
    c9  85000     r  answered   85000-87000     none        (ends after the horizon)
    c10 86000     r  waiting                    none

Follow-ups (ids FOLLOWUP_BASE + k, in creation order)::

    f0  repeat of c2   phone/q      9000  answered  9000-9600    resolved
    f1  task of c3     tier2_crit   6200  answered  7000-16000   escalated -> f3
    f2  retrial of c4  phone/q      7700  abandoned (7750)       gave_up
    f3  task of f1     tier3_crit  16000  answered 20000-21000   resolved
    f4  task of c5     tier2_crit  25300  answered 30000-30500   resolved
    f5  task of c7     tier2_crit  50100  waiting
    f6  repeat of c8   phone/q     90000  waiting (after the horizon: outside the window)
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.compile import compile_scenario
from sim.engines import simulate
from sim.experiment import contacts_frame, prepare
from sim.kpi import (
    KPI_INFO,
    KPI_KEYS,
    Accumulator,
    JourneyWindows,
    journey_windows,
    measure,
)
from sim.model import (
    FOLLOWUP_BASE,
    FOLLOWUP_COLUMNS,
    NO_AGENT,
    SEVERITY_NAMES,
    WORKLOAD_ARRAYS,
    ContactKind,
    Fate,
    Followups,
    Outcome,
    Outcomes,
    Roster,
    Workload,
)
from sim.scenario import load_scenario, parse_scenario

A, B, W = Outcome.ANSWERED, Outcome.ABANDONED, Outcome.WAITING
NAN, INF = np.nan, np.inf
CRIT, URG, ROUT = (SEVERITY_NAMES.index(v) for v in ("critical", "urgent", "routine"))
JOURNEY_KEYS = KPI_KEYS[KPI_KEYS.index("fcr"):]

TINY = """
name: tiny journeys
horizon: {days: 1, warmup: 1h, interval: 6h}
channels:
  phone:
    kind: live
    patience: {dist: exponential, mean: 2min}
    sla: {threshold: 20s, target: 0.8}
    retrial: {probability: 0.5, delay: {dist: exponential, mean: 10min}}
contact_types:
  a:
    queue: q
    share: {phone: 1.0}
    handle_time: {dist: exponential, mean: 3min}
    fcr: 0.8
    repeat: {delay: {dist: exponential, mean: 1h}}
    escalation: {rate: 0.1, to_tier: 2, severity: {critical: 0.5, routine: 0.5}}
demand: {daily: {phone: 100}}
teams:
  t1: {tier: 1, headcount: 2, skills: {q: 1}, channels: [phone]}
  t2: {tier: 2, headcount: 1, skills: {q: 1}, channels: [phone]}
  t3: {tier: 3, headcount: 1, skills: {q: 1}, channels: [phone]}
escalation:
  supervisor_within: 1h
  supervisor_for: [critical]
  tiers:
    2:
      team: t2
      handle_time: {dist: exponential, mean: 20min}
      escalate: 0.2
      windows: {critical: {acknowledge: 30min, resolve: 4h}}
    3:
      team: t3
      handle_time: {dist: exponential, mean: 40min}
      windows: {critical: {acknowledge: 1h}}
"""

# A busier day and a half for the SimPy runs: repeats, retrials, transfers, escalations to
# tiers 2 and 3, refunds (tasks by authority), a deferred channel.
BUSY = """
name: busy journeys
horizon: {days: 2, warmup: 2h, interval: 1h}
channels:
  phone:
    kind: live
    patience: {dist: exponential, mean: 90s}
    sla: {threshold: 20s, target: 0.8}
    retrial: {probability: 0.6, delay: {dist: exponential, mean: 5min}, max_retrials: 2}
  email: {kind: deferred, sla: {threshold: 4h, target: 0.9}}
contact_types:
  a:
    queue: q1
    share: {phone: 0.7, email: 0.5}
    handle_time: {dist: exponential, mean: 4min}
    fcr: 0.7
    repeat: {delay: {dist: exponential, mean: 2h}, max_repeats: 2}
    escalation: {rate: 0.08, to_tier: 2, severity: {critical: 0.3, urgent: 0.3, routine: 0.4}}
    transfer: {to: q2, probability: 0.1}
  b:
    queue: q2
    share: {phone: 0.3, email: 0.5}
    handle_time: {dist: exponential, mean: 3min}
    fcr: 0.9
    refund: {probability: 0.2, amount: {dist: uniform, low: 5, high: 300}}
demand: {daily: {phone: 800, email: 100}}
teams:
  t1: {tier: 1, headcount: 4, skills: {q1: 1, q2: 1}, channels: [phone, email]}
  t2: {tier: 2, headcount: 2, skills: {q1: 1}, channels: [phone]}
  t3: {tier: 3, headcount: 1, skills: {q1: 1}, channels: [phone]}
escalation:
  supervisor_within: 1h
  supervisor_for: [critical, urgent]
  refund_authority: {agent: 50, team_lead: 150}
  tiers:
    2:
      team: t2
      handle_time: {dist: exponential, mean: 20min}
      escalate: 0.25
      windows: {critical: {acknowledge: 30min, resolve: 4h}, urgent: {acknowledge: 2h, resolve: 8h}}
    3:
      team: t3
      handle_time: {dist: exponential, mean: 40min}
      windows: {critical: {acknowledge: 1h, resolve: 12h}}
"""


# --------------------------------------------------------------------------------------------
# Building runs by hand


def make_followups(rows: list[dict]) -> Followups:
    """Follow-ups from dicts (missing columns get neutral values), ids in row order."""
    defaults = dict(ctype=0, auth_tier=0, repeats=0, retrials=0, transfers=0, work_s=1.0,
                    abandon_at_s=INF, u_route=0.5, u_outcome=0.5, agent=NO_AGENT,
                    start_s=NAN, end_s=NAN, fate=int(Fate.NONE))
    rows = [dict(defaults, id=FOLLOWUP_BASE + k, **r) for k, r in enumerate(rows)]
    # Columns not set here (nor read by the KPIs) are NaN or 0.
    return Followups({name: np.array([r.get(name, NAN if np.dtype(dtype).kind == "f" else 0)
                                      for r in rows], dtype=dtype)
                      for name, dtype in FOLLOWUP_COLUMNS})


def make_workload(contacts: list[tuple], model) -> tuple[Workload, dict]:
    """contacts: (arrival, queue, severity, outcome, start, end, abandon_at, fate)."""
    arrival, queue, severity, outcome, start, end, abandon_at, fate = (
        np.array(x) for x in zip(*contacts, strict=True))
    queue = queue.astype(np.int32)
    n = arrival.shape[0]
    workload = Workload(
        arrival_s=arrival.astype(np.float64), queue=queue,
        channel=model.queue_channel[queue].astype(np.int32),
        ctype=np.zeros(n, dtype=np.int32), work_s=np.ones(n),
        abandon_at_s=abandon_at.astype(np.float64), u_route=np.full(n, 0.5),
        closed=np.zeros(n, dtype=np.int8), severity=severity.astype(np.int8))
    outcomes = dict(
        outcome=outcome.astype(np.int8),
        agent=np.where(outcome == A, 0, NO_AGENT).astype(np.int32),
        start_s=start.astype(np.float64), end_s=end.astype(np.float64),
        fate=fate.astype(np.int8))
    return workload, outcomes


def empty_roster() -> Roster:
    f, i = np.zeros(0), np.zeros(0, dtype=np.int32)
    return Roster(seg_agent=i, seg_start_s=f, seg_end_s=f, shift_agent=i, shift_start_s=f,
                  shift_end_s=f, shrink_agent=i, shrink_start_s=f, shrink_end_s=f,
                  shrink_kind=i)


@pytest.fixture(scope="module")
def tiny():
    scenario = parse_scenario(TINY)
    model = compile_scenario(scenario)
    q = {name: i for i, name in enumerate(model.queue_names)}
    P, T2, T3 = q["phone/q"], q["escalation/tier2_critical"], q["escalation/tier3_critical"]
    F = Fate
    contacts = [
        # arrival, queue, severity, outcome, start, end, abandon_at, fate
        (1000, P, ROUT, A, 1000, 1200, 1100, F.RESOLVED),  # c0 (warm-up)
        (4000, P, ROUT, A, 4000, 4300, 4100, F.RESOLVED),  # c1
        (5000, P, ROUT, A, 5010, 5400, 5100, F.REPEAT),  # c2
        (6000, P, CRIT, A, 6000, 6200, 6100, F.ESCALATED),  # c3
        (7000, P, ROUT, B, NAN, NAN, 7100, F.RETRIED),  # c4
        (25000, P, CRIT, A, 25000, 25300, 25100, F.ESCALATED),  # c5
        (26000, P, URG, A, 26000, 26100, 26100, F.UNRESOLVED),  # c6
        (50000, P, CRIT, A, 50000, 50100, 50100, F.ESCALATED),  # c7
        (80000, P, ROUT, A, 80000, 80200, 80100, F.REPEAT),  # c8
        (85000, P, ROUT, A, 85000, 87000, 85100, F.NONE),  # c9
        (86000, P, ROUT, W, NAN, NAN, 86500, F.NONE),  # c10
    ]
    workload, outs = make_workload(contacts, model)
    base = FOLLOWUP_BASE
    K = ContactKind

    def fu(kind, journey, parent, queue, severity, arrival, outcome, start=NAN, end=NAN,
           fate=F.NONE, abandon_at=INF):
        p_arrival = contacts[parent][0] if parent < base else 6200.0  # (only f3: of f1)
        return dict(kind=int(kind), journey=journey, parent=parent, queue=queue,
                    p_arrival_s=float(p_arrival),
                    severity=severity, j_arrival_s=float(contacts[journey][0]), j_queue=P,
                    arrival_s=float(arrival), outcome=int(outcome), start_s=float(start),
                    end_s=float(end), fate=int(fate), abandon_at_s=float(abandon_at),
                    agent=0 if outcome == A else NO_AGENT)

    followups = make_followups([
        fu(K.REPEAT, 2, 2, P, ROUT, 9000, A, 9000, 9600, F.RESOLVED, 9100),  # f0
        fu(K.TASK, 3, 3, T2, CRIT, 6200, A, 7000, 16000, F.ESCALATED),  # f1
        fu(K.RETRIAL, 4, 4, P, ROUT, 7700, B, fate=F.GAVE_UP, abandon_at=7750),  # f2
        fu(K.TASK, 3, base + 1, T3, CRIT, 16000, A, 20000, 21000, F.RESOLVED),  # f3
        fu(K.TASK, 5, 5, T2, CRIT, 25300, A, 30000, 30500, F.RESOLVED),  # f4
        fu(K.TASK, 7, 7, T2, CRIT, 50100, W),  # f5
        fu(K.REPEAT, 8, 8, P, ROUT, 90000, W, abandon_at=90100),  # f6
    ])
    outcomes = Outcomes(**outs, release_s=np.zeros(0), followups=followups)
    windows = journey_windows(scenario, model)
    return model, workload, outcomes, windows


def totals(measured, channel: str) -> pd.Series:
    rows = measured.totals[measured.totals.channel == channel]
    assert len(rows) == 1
    return rows.iloc[0]


def cell(measured, interval: int, channel: str, queue: str = "all") -> pd.Series:
    f = measured.intervals
    rows = f[(f.interval == interval) & (f.channel == channel) & (f.queue == queue)]
    assert len(rows) == 1
    return rows.iloc[0]


def check(row: pd.Series, expected: dict) -> None:
    for key, value in expected.items():
        if value is None or (isinstance(value, float) and np.isnan(value)):
            assert np.isnan(row[key]), f"{key}: expected NaN, got {row[key]}"
        else:
            assert row[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key


# --------------------------------------------------------------------------------------------
# The hand-checked case


def test_registry_has_the_journey_keys():
    assert set(KPI_INFO) == set(KPI_KEYS)
    for key in ("fcr", "repeat_rate", "escalation_rate", "transfer_rate", "retrial_rate",
                "mttr_h", "mttr_h_critical", "mttr_h_urgent", "mttr_h_routine",
                "journey_resolution_rate", "contacts_per_journey", "time_to_supervisor_h",
                "supervisor_compliance", "tier2_ack_compliance", "tier2_resolve_compliance",
                "tier3_ack_compliance", "tier3_resolve_compliance"):
        assert key in KPI_KEYS


def test_journey_windows_from_the_scenario(tiny):
    *_, windows = tiny
    assert windows.supervisor_within_s == 3600.0
    assert windows.supervisor_for.tolist() == [True, False, False]
    assert windows.acknowledge_s[2, CRIT] == 1800.0 and windows.resolve_s[2, CRIT] == 14400.0
    assert windows.acknowledge_s[3, CRIT] == 3600.0 and np.isnan(windows.resolve_s[3, CRIT])
    assert np.isnan(windows.acknowledge_s[2, ROUT])
    none = journey_windows(SimpleNamespace(escalation=None))
    assert np.isnan(none.supervisor_within_s) and np.isnan(none.acknowledge_s).all()
    assert none.supervisor_for.tolist() == [True, False, False]


def test_followups_count_as_contacts(tiny):
    model, workload, outcomes, windows = tiny
    m = measure(model, workload, empty_roster(), outcomes, windows)
    # phone: c1..c10 and f0, f2 (f6 arrives after the horizon); abandoned c4, f2.
    check(totals(m, "phone"), dict(offered=12, answered=9, abandoned=2))
    # escalation: f1, f3, f4 answered, f5 waiting.
    check(totals(m, "escalation"), dict(offered=4, answered=3, abandoned=0,
                                        asa_s=(800 + 4000 + 4700) / 3))
    check(totals(m, "all"), dict(offered=16, answered=12, abandoned=2))
    check(cell(m, 0, "phone"), dict(offered=6, answered=4, abandoned=2))
    check(cell(m, 0, "escalation", "escalation/tier2_critical"), dict(offered=1, answered=1))
    check(cell(m, 0, "escalation", "escalation/tier3_critical"), dict(offered=1, answered=1))
    assert m.n_contacts == 11 + 7
    # Escalation is a deferred channel: f5 waits at the horizon.
    check(totals(m, "escalation"), dict(backlog=1, backlog_age_h=(86400 - 50100) / 3600))


def test_rates_per_contact(tiny):
    model, workload, outcomes, windows = tiny
    m = measure(model, workload, empty_roster(), outcomes, windows)
    # Handled: phone c1 c2 c3 c5 c6 c7 c8 f0 (8); escalation f1 f3 f4 (3).
    check(totals(m, "phone"), dict(repeat_rate=2 / 8, escalation_rate=3 / 8, transfer_rate=0.0,
                                   retrial_rate=1 / 2))
    check(totals(m, "escalation"), dict(repeat_rate=0.0, escalation_rate=1 / 3,
                                        transfer_rate=0.0, retrial_rate=NAN))
    check(totals(m, "all"), dict(repeat_rate=2 / 11, escalation_rate=4 / 11, retrial_rate=1 / 2))
    # Interval 0: phone c1 c2 c3 f0 handled, c4 retried and f2 gave up.
    check(cell(m, 0, "phone"), dict(repeat_rate=1 / 4, escalation_rate=1 / 4, retrial_rate=0.5))
    check(cell(m, 3, "phone"), dict(repeat_rate=1.0, retrial_rate=NAN))


def test_journey_kpis(tiny):
    model, workload, outcomes, windows = tiny
    m = measure(model, workload, empty_roster(), outcomes, windows)
    expected = dict(
        fcr=1 / 7,  # handled first contacts c1 c2 c3 c5 c6 c7 c8; resolved c1
        journey_resolution_rate=4 / 6,  # resolved c1 f0 f3 f4; decided + c6, f2
        contacts_per_journey=16 / 10,  # c1..c10 + f0..f5
        mttr_h=(300 + 4600 + 15000 + 5500) / 4 / 3600,
        mttr_h_critical=(15000 + 5500) / 2 / 3600,
        mttr_h_urgent=NAN,
        mttr_h_routine=(300 + 4600) / 2 / 3600,
        time_to_supervisor_h=(1000 + 5000) / 2 / 3600,  # f1, f4 (f3 is not a first task)
        supervisor_compliance=1 / 2,
    )
    check(totals(m, "phone"), expected)
    check(totals(m, "all"), expected)
    # Journeys are attributed to their first queue: none to the escalation channel.
    check(totals(m, "escalation"), {k: NAN for k in expected})
    check(cell(m, 0, "phone"), dict(fcr=1 / 3, journey_resolution_rate=3 / 4,
                                    mttr_h=(300 + 4600 + 15000) / 3 / 3600,
                                    time_to_supervisor_h=1000 / 3600, supervisor_compliance=1.0,
                                    contacts_per_journey=(4 + 4) / 4))
    check(cell(m, 1, "phone"), dict(fcr=0.0, journey_resolution_rate=1 / 2,
                                    mttr_h=5500 / 3600, mttr_h_critical=5500 / 3600,
                                    supervisor_compliance=0.0))
    check(cell(m, 2, "phone"), dict(fcr=0.0, journey_resolution_rate=NAN, mttr_h=NAN,
                                    time_to_supervisor_h=NAN, contacts_per_journey=2.0))
    check(cell(m, 3, "phone"), dict(fcr=0.0, contacts_per_journey=1.0))


def test_tier_window_compliance(tiny):
    model, workload, outcomes, windows = tiny
    m = measure(model, workload, empty_roster(), outcomes, windows)
    # Tier 2: f1 acknowledged in 800 s (<= 1800), f4 in 4700 s (late); resolved in 9800 s
    # and 5200 s (<= 14400). f5 is still waiting: not counted. Tier 3: f3 acknowledged in
    # 4000 s (> 3600); no resolve window.
    expected = dict(tier2_ack_compliance=1 / 2, tier2_resolve_compliance=1.0,
                    tier3_ack_compliance=0.0, tier3_resolve_compliance=NAN)
    check(totals(m, "escalation"), expected)
    check(totals(m, "all"), expected)
    check(totals(m, "phone"), {k: NAN for k in expected})
    check(cell(m, 0, "escalation", "escalation/tier2_critical"),
          dict(tier2_ack_compliance=1.0, tier2_resolve_compliance=1.0,
               tier3_ack_compliance=NAN))
    check(cell(m, 1, "escalation"), dict(tier2_ack_compliance=0.0, tier2_resolve_compliance=1.0))


def test_without_windows_compliance_is_nan(tiny):
    model, workload, outcomes, _ = tiny
    m = measure(model, workload, empty_roster(), outcomes)  # default: no windows
    check(totals(m, "all"), dict(supervisor_compliance=NAN, tier2_ack_compliance=NAN,
                                 tier3_resolve_compliance=NAN,
                                 time_to_supervisor_h=(1000 + 5000) / 2 / 3600, fcr=1 / 7))


def test_journey_kpis_are_nan_without_journeys(tiny):
    import dataclasses

    model, workload, outcomes, windows = tiny
    plain = dataclasses.replace(model, journeys=None)
    bare = Outcomes(outcome=outcomes.outcome, agent=outcomes.agent, start_s=outcomes.start_s,
                    end_s=outcomes.end_s, release_s=outcomes.release_s, fate=outcomes.fate)
    m = measure(plain, workload, empty_roster(), bare, windows)
    assert list(m.totals.columns) == ["channel", *KPI_KEYS]
    assert m.totals[list(JOURNEY_KEYS)].isna().all().all()
    assert m.intervals[list(JOURNEY_KEYS)].isna().all().all()
    check(totals(m, "phone"), dict(offered=10, answered=8))


# --------------------------------------------------------------------------------------------
# Exactness: interleaved batches == one shot


def assert_identical(a, b) -> None:
    for name in ("totals", "intervals"):
        fa, fb = getattr(a, name), getattr(b, name)
        assert list(fa.columns) == list(fb.columns)
        for col in fa.columns:
            x, y = fa[col].to_numpy(), fb[col].to_numpy()
            if x.dtype.kind == "f":  # bit for bit, NaN where NaN
                nan = np.isnan(x)
                assert np.array_equal(nan, np.isnan(y)), (name, col)
                assert np.array_equal(x[~nan].view(np.int64), y[~nan].view(np.int64)), (
                    name, col)
            else:
                assert (x == y).all(), (name, col)
    assert a.n_contacts == b.n_contacts


def _rows(obj, lo: int, hi: int, names):
    return {f: getattr(obj, f)[lo:hi] for f in names}


def feed_in_batches(model, workload, roster, outcomes, windows, cuts_w, cuts_f, order):
    """Feed consecutive-id batches of first contacts (cut at cuts_w) and of follow-ups (cut
    at cuts_f), interleaved as ``order`` says (0: next first-contact batch, 1: next
    follow-up batch)."""
    acc = Accumulator(model, windows)
    fu = outcomes.followups
    w_bounds = [0, *cuts_w, workload.n_contacts]
    f_bounds = [0, *cuts_f, fu.n]
    w_batches = list(zip(w_bounds[:-1], w_bounds[1:], strict=True))
    f_batches = list(zip(f_bounds[:-1], f_bounds[1:], strict=True))
    w_fields = WORKLOAD_ARRAYS
    o_fields = ("outcome", "agent", "start_s", "end_s", "fate")
    for kind in order:
        if kind == 0 and w_batches:
            lo, hi = w_batches.pop(0)
            acc.add_contacts(Workload(**_rows(workload, lo, hi, w_fields)),
                             Outcomes(**_rows(outcomes, lo, hi, o_fields),
                                      release_s=outcomes.release_s))
        elif kind == 1 and f_batches:
            lo, hi = f_batches.pop(0)
            acc.add_followups(Followups({k: v[lo:hi] for k, v in fu.columns.items()}))
    for lo, hi in w_batches:
        acc.add_contacts(Workload(**_rows(workload, lo, hi, w_fields)),
                         Outcomes(**_rows(outcomes, lo, hi, o_fields),
                                  release_s=outcomes.release_s))
    for lo, hi in f_batches:
        acc.add_followups(Followups({k: v[lo:hi] for k, v in fu.columns.items()}))
    acc.add_roster(roster, outcomes.release_s)
    return acc.result()


@pytest.fixture(scope="module")
def busy_run():
    scenario = parse_scenario(BUSY)
    model = compile_scenario(scenario)
    _, workload, roster = prepare(scenario, 3, model)
    outcomes = simulate(model, workload, roster, engine="simpy")
    windows = journey_windows(scenario, model)
    return scenario, model, workload, roster, outcomes, windows


@st.composite
def batchings(draw, n_w: int, n_f: int):
    cuts_w = sorted(draw(st.sets(st.integers(1, max(n_w - 1, 1)), max_size=8)))
    cuts_f = sorted(draw(st.sets(st.integers(1, max(n_f - 1, 1)), max_size=8)))
    order = draw(st.lists(st.integers(0, 1), max_size=20))
    return cuts_w, cuts_f, order


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_interleaved_batches_are_bit_identical(busy_run, data):
    _, model, workload, roster, outcomes, windows = busy_run
    assert outcomes.followups.n > 100
    cuts_w, cuts_f, order = data.draw(batchings(workload.n_contacts, outcomes.followups.n))
    one_shot = measure(model, workload, roster, outcomes, windows)
    batched = feed_in_batches(model, workload, roster, outcomes, windows, cuts_w, cuts_f,
                              order)
    assert_identical(one_shot, batched)


def test_followups_first_then_contacts_is_bit_identical(busy_run):
    _, model, workload, roster, outcomes, windows = busy_run
    one_shot = measure(model, workload, roster, outcomes, windows)
    n_f = outcomes.followups.n
    batched = feed_in_batches(model, workload, roster, outcomes, windows,
                              [100, 900], [7, n_f // 2], [1, 1, 1, 0, 0, 0])
    assert_identical(one_shot, batched)


# --------------------------------------------------------------------------------------------
# SimPy runs against a loop-based reading of the definitions


def _reference_totals(model, workload, outcomes, windows) -> dict:
    """Journey KPIs of the ``all`` totals, contact by contact, from the definitions."""
    lo, hi = model.warmup_s, model.horizon_s
    fu = outcomes.followups
    tier = model.journeys.queue_tier
    # (first?, arrival, queue, outcome, start, end, fate, j_arrival, sev, kind, parent, id)
    rows = []
    for c in range(workload.n_contacts):
        rows.append((True, workload.arrival_s[c], workload.queue[c], outcomes.outcome[c],
                     outcomes.start_s[c], outcomes.end_s[c], outcomes.fate[c],
                     workload.arrival_s[c], workload.severity[c], ContactKind.FIRST, -1, c))
    for i in range(fu.n):
        rows.append((False, fu.arrival_s[i], fu.queue[i], fu.outcome[i], fu.start_s[i],
                     fu.end_s[i], fu.fate[i], fu.j_arrival_s[i], fu.severity[i], fu.kind[i],
                     fu.parent[i], fu.id[i]))
    kind_of = {r[11]: r[9] for r in rows}
    arrival_of = {r[11]: r[1] for r in rows}  # the escalation's clock starts at its parent
    n = dict.fromkeys(["handled", "repeat", "esc", "transfer", "ab", "retried", "first_h",
                       "first_r", "decided", "resolved", "journeys", "contacts", "sup",
                       "sup_ok", "ack2", "ack2_ok", "res2", "res2_ok", "ack3", "ack3_ok",
                       "res3", "res3_ok"], 0)
    ttr, ttr_sev, n_sev, sup_s = [], [0.0] * 3, [0] * 3, 0.0
    for (first, arr, q, oc, start, end, fate, j_arr, sev, kind, parent, _) in rows:
        handled = oc == A and fate != Fate.NONE
        if lo <= arr < hi:
            n["handled"] += handled
            n["repeat"] += handled and fate == Fate.REPEAT
            n["esc"] += handled and fate == Fate.ESCALATED
            n["transfer"] += handled and fate == Fate.TRANSFERRED
            ab = oc == B and fate in (Fate.RETRIED, Fate.GAVE_UP)
            n["ab"] += ab
            n["retried"] += ab and fate == Fate.RETRIED
            t = tier[q]
            if kind == ContactKind.TASK and t >= 2:
                ack_w, res_w = windows.acknowledge_s[t, sev], windows.resolve_s[t, sev]
                if oc == A and np.isfinite(ack_w):
                    n[f"ack{t}"] += 1
                    n[f"ack{t}_ok"] += start - arr <= ack_w
                if handled and np.isfinite(res_w):
                    n[f"res{t}"] += 1
                    n[f"res{t}_ok"] += end - arr <= res_w
        if lo <= j_arr < hi:
            if first:
                n["journeys"] += 1
                n["first_h"] += handled
                n["first_r"] += handled and fate == Fate.RESOLVED
            else:
                n["contacts"] += arr < hi
            n["decided"] += fate in (Fate.RESOLVED, Fate.UNRESOLVED, Fate.GAVE_UP)
            if fate == Fate.RESOLVED:
                ttr.append(end - j_arr)
                ttr_sev[sev] += end - j_arr
                n_sev[sev] += 1
            first_task = kind == ContactKind.TASK and kind_of.get(parent) != ContactKind.TASK
            if first_task and oc == A and windows.supervisor_for[sev]:
                n["sup"] += 1
                n["sup_ok"] += start - arrival_of[parent] <= windows.supervisor_within_s
                sup_s += start - arrival_of[parent]

    def r(x, y):
        return x / y if y else np.nan

    out = dict(
        fcr=r(n["first_r"], n["first_h"]), repeat_rate=r(n["repeat"], n["handled"]),
        escalation_rate=r(n["esc"], n["handled"]), transfer_rate=r(n["transfer"], n["handled"]),
        retrial_rate=r(n["retried"], n["ab"]),
        journey_resolution_rate=r(len(ttr), n["decided"]),
        contacts_per_journey=r(n["journeys"] + n["contacts"], n["journeys"]),
        mttr_h=r(sum(ttr), len(ttr)) / 3600, time_to_supervisor_h=r(sup_s, n["sup"]) / 3600,
        supervisor_compliance=r(n["sup_ok"], n["sup"]),
    )
    for v, name in enumerate(SEVERITY_NAMES):
        out[f"mttr_h_{name}"] = r(ttr_sev[v], n_sev[v]) / 3600
    for t in (2, 3):
        out[f"tier{t}_ack_compliance"] = r(n[f"ack{t}_ok"], n[f"ack{t}"])
        out[f"tier{t}_resolve_compliance"] = r(n[f"res{t}_ok"], n[f"res{t}"])
    return out


def test_simpy_run_matches_the_definitions(busy_run):
    _, model, workload, roster, outcomes, windows = busy_run
    m = measure(model, workload, roster, outcomes, windows)
    got = totals(m, "all")
    expected = _reference_totals(model, workload, outcomes, windows)
    assert set(expected) == set(JOURNEY_KEYS)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-9, nan_ok=True), key
    # The busy scenario exercises every fate.
    fates = set(outcomes.fate.tolist()) | set(outcomes.followups.fate.tolist())
    assert {Fate.RESOLVED, Fate.REPEAT, Fate.ESCALATED, Fate.TRANSFERRED, Fate.RETRIED,
            Fate.GAVE_UP} <= fates
    # Intervals add up to the totals for counts (follow-ups included).
    per = m.intervals[(m.intervals.channel == "all") & (m.intervals.queue == "all")]
    assert per.offered.sum() == got.offered


def test_simpy_distributions_scenario():
    scenario = load_scenario("tests/scenarios/valid/distributions.yaml")
    model = compile_scenario(scenario)
    _, workload, roster = prepare(scenario, 1, model)
    outcomes = simulate(model, workload, roster, engine="simpy")
    fu = outcomes.followups
    assert fu is not None and fu.n > 0
    m = measure(model, workload, roster, outcomes, journey_windows(scenario, model))
    all_ = totals(m, "all")
    assert 0.0 <= all_.fcr <= 1.0
    assert 0.0 < all_.repeat_rate < 1.0 and 0.0 < all_.escalation_rate < 1.0
    assert all_.mttr_h > 0 and 0.0 <= all_.journey_resolution_rate <= 1.0
    assert all_.contacts_per_journey >= 1.0
    # Follow-ups arriving in the window are offered contacts of their queue.
    inside = (fu.arrival_s >= model.warmup_s) & (fu.arrival_s < model.horizon_s)
    first_inside = ((workload.arrival_s >= model.warmup_s)
                    & (workload.arrival_s < model.horizon_s) & (workload.closed == 0))
    assert all_.offered == first_inside.sum() + inside.sum()
    esc = totals(m, "escalation")
    is_task = fu.kind == ContactKind.TASK
    assert esc.offered == (inside & is_task).sum() > 0
    # Repeats go to sms in this scenario: they are counted there.
    sms = m.totals.set_index("channel").loc["sms"]
    repeats_in_sms = (inside & (fu.kind == ContactKind.REPEAT)).sum()
    assert sms.offered == (first_inside & (workload.channel == 1)).sum() + repeats_in_sms
    # The tier-3 window (critical: acknowledge 30 min, resolve 24 h) is checked.
    assert 0.0 <= esc.tier3_ack_compliance <= 1.0
    assert np.isnan(esc.tier2_ack_compliance)  # tier 2 has no windows


def test_contacts_frame_has_the_followups(busy_run):
    _, model, workload, _, outcomes, _ = busy_run
    frame = contacts_frame(model, workload, outcomes, 0)
    fu = outcomes.followups
    assert len(frame) == workload.n_contacts + fu.n
    assert frame.contact_id.is_unique
    assert frame.contact_id.iloc[workload.n_contacts:].tolist() == fu.id.tolist()
    assert frame.journey.iloc[:workload.n_contacts].tolist() == list(range(workload.n_contacts))
    assert (frame.kind.iloc[:workload.n_contacts] == "first").all()
    assert set(frame.kind.iloc[workload.n_contacts:]) <= {"repeat", "retrial", "transfer",
                                                          "task", "callback"}
    assert set(frame.fate.cat.categories) == {f.name.lower() for f in Fate}
    assert set(frame.severity.astype(str)) <= set(SEVERITY_NAMES)
    tasks = frame[frame.kind == "task"]
    assert tasks.channel.astype(str).eq("escalation").all()


def test_journey_windows_dataclass_defaults():
    w = JourneyWindows()
    assert np.isnan(w.supervisor_within_s)
    assert w.supervisor_for.tolist() == [v == "critical" for v in SEVERITY_NAMES]
    assert w.acknowledge_s.shape == (4, len(SEVERITY_NAMES))
