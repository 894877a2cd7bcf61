"""Tiny engine cases checked by hand against the semantics documented in sim/model.py.

Each case builds a Model/Workload/Roster directly with :func:`build` and runs it through
every available engine (the compiled kernel, and the SimPy reference once it exists): the
hand-checked expectations hold for both. Every expected number is derived in a comment.
"""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest

from sim.model import (
    NO_AGENT,
    ArrivalPolicy,
    Model,
    Outcome,
    Outcomes,
    PullPolicy,
    Roster,
    Workload,
)

INF = math.inf
NAN = math.nan

#: Channel specs for :func:`build`: live flag, capacity units per contact, slowdown.
PHONE = dict(live=1, units=60, slowdown=0.0)
EMAIL = dict(live=0, units=60, slowdown=0.0)


def chat(concurrency=3, slowdown=0.0):
    return dict(live=1, units=60 // concurrency, slowdown=slowdown)


def build(
    *,
    channels,
    queues,
    agents,
    contacts,
    segments,
    horizon_s=10_000.0,
    time_factor=None,
    proficiency=None,
    skill_priority=None,
    arrival_policy=ArrivalPolicy.LONGEST_IDLE,
    pull_policy=PullPolicy.QUEUE_PRIORITY,
):
    """A (Model, Workload, Roster) from small literal specs.

    Parameters
    ----------
    channels : list of dict
        ``live``, ``units``, ``slowdown`` per channel.
    queues : list of (channel, priority)
    agents : list of (team, eligible queue ids)
    contacts : list of dict
        ``t`` (arrival_s), ``q``, ``work`` and optionally ``abandon`` (abandon_at_s, default
        inf), ``u`` (u_route, default 0), ``closed`` (default 0). Listed in arrival order:
        the contact id is the position in the list.
    segments : list of (agent, start_s, end_s)
        Listed in ``(start_s, agent)`` order: the segment id is the position in the list.
    time_factor, proficiency : float[T][Q], optional
        Default all 1.
    skill_priority : int[T][Q], optional
        Default all 0.
    """
    n_q = len(queues)
    n_t = 1 + max((team for team, _ in agents), default=0)
    rank = np.full((len(agents), n_q), -1, dtype=np.int32)
    for a, (_, eligible) in enumerate(agents):
        for r, q in enumerate(eligible):
            rank[a, q] = r
    tf = np.ones((n_t, n_q)) if time_factor is None else np.array(time_factor, dtype=float)
    prof = np.ones((n_t, n_q)) if proficiency is None else np.array(proficiency, dtype=float)
    sp = (np.zeros((n_t, n_q), dtype=np.int32) if skill_priority is None
          else np.array(skill_priority, dtype=np.int32))
    queue_channel = np.array([ch for ch, _ in queues], dtype=np.int32)
    model = Model(
        horizon_s=float(horizon_s),
        warmup_s=0.0,
        interval_s=900.0,
        start="2024-01-01T00:00:00",
        channel_names=tuple(f"ch{i}" for i in range(len(channels))),
        queue_names=tuple(f"q{i}" for i in range(n_q)),
        team_names=tuple(f"team{i}" for i in range(n_t)),
        channel_live=np.array([c["live"] for c in channels], dtype=np.int8),
        channel_units=np.array([c["units"] for c in channels], dtype=np.int32),
        channel_slowdown=np.array([c["slowdown"] for c in channels], dtype=float),
        channel_sla_s=np.full(len(channels), NAN),
        channel_sla_target=np.full(len(channels), NAN),
        queue_channel=queue_channel,
        queue_priority=np.array([p for _, p in queues], dtype=np.int32),
        team_tier=np.ones(n_t, dtype=np.int32),
        team_cost_per_h=np.full(n_t, 30.0),
        time_factor=tf,
        proficiency=prof,
        skill_priority=sp,
        agent_team=np.array([team for team, _ in agents], dtype=np.int32),
        agent_queue_rank=rank,
        arrival_policy=int(arrival_policy),
        pull_policy=int(pull_policy),
    )
    arrival_s = np.array([c["t"] for c in contacts], dtype=float)
    assert np.all(np.diff(arrival_s) >= 0), "list contacts in arrival order"
    queue = np.array([c["q"] for c in contacts], dtype=np.int32)
    n = len(contacts)
    workload = Workload(
        arrival_s=arrival_s,
        queue=queue,
        channel=queue_channel[queue] if n else np.zeros(0, dtype=np.int32),
        ctype=np.zeros(n, dtype=np.int32),
        work_s=np.array([c["work"] for c in contacts], dtype=float),
        abandon_at_s=np.array([c.get("abandon", INF) for c in contacts], dtype=float),
        u_route=np.array([c.get("u", 0.0) for c in contacts], dtype=float),
        closed=np.array([c.get("closed", 0) for c in contacts], dtype=np.int8),
    )
    keys = [(s, a) for a, s, _ in segments]
    assert keys == sorted(keys), "list segments in (start_s, agent) order"
    seg_agent = np.array([a for a, _, _ in segments], dtype=np.int32)
    seg_start = np.array([s for _, s, _ in segments], dtype=float)
    seg_end = np.array([e for _, _, e in segments], dtype=float)
    # Scheduled shifts = the segments; no shrinkage (engines only read seg_*).
    roster = Roster(
        seg_agent=seg_agent,
        seg_start_s=seg_start,
        seg_end_s=seg_end,
        shift_agent=seg_agent.copy(),
        shift_start_s=seg_start.copy(),
        shift_end_s=seg_end.copy(),
        shrink_agent=np.zeros(0, dtype=np.int32),
        shrink_start_s=np.zeros(0),
        shrink_end_s=np.zeros(0),
        shrink_kind=np.zeros(0, dtype=np.int32),
    )
    return model, workload, roster


ENGINES = ["kernel", "simpy"]


@pytest.fixture(params=ENGINES)
def run(request):
    """``run(model, workload, roster) -> Outcomes`` on one engine (skipped if unavailable)."""
    module = {"kernel": "sim.engines.kernel", "simpy": "sim.engines.simpy_engine"}
    try:
        engine = importlib.import_module(module[request.param])
    except ImportError as exc:
        pytest.skip(f"{request.param} engine not available: {exc}")
    if request.param == "kernel":
        pytest.importorskip("sim._kernel", reason="compiled kernel not built")
    return engine.simulate


def row(out: Outcomes, c: int):
    """(outcome, agent, start_s, end_s) of contact c."""
    return (Outcome(int(out.outcome[c])), int(out.agent[c]),
            float(out.start_s[c]), float(out.end_s[c]))


def never_served(out: Outcomes, c: int, outcome: Outcome):
    o, a, s, e = row(out, c)
    return o == outcome and a == NO_AGENT and math.isnan(s) and math.isnan(e)


def same(x: float, y: float) -> bool:
    return x == y or (math.isnan(x) and math.isnan(y))


ANSWERED = Outcome.ANSWERED


# ---------------------------------------------------------------------------------------------


def test_single_agent_fifo(run):
    # One agent on duty [0, 1000). c0 arrives at 0 and starts at once: end 0 + 10 = 10.
    # c1 (t=1) and c2 (t=2) wait. At 10 c0 completes, the agent pulls the oldest, c1:
    # end 10 + 10 = 20; at 20 it pulls c2: end 20 + 5 = 25.
    m, w, r = build(
        channels=[PHONE], queues=[(0, 0)], agents=[(0, [0])],
        contacts=[dict(t=0.0, q=0, work=10.0), dict(t=1.0, q=0, work=10.0),
                  dict(t=2.0, q=0, work=5.0)],
        segments=[(0, 0.0, 1000.0)],
    )
    out = run(m, w, r)
    assert row(out, 0) == (ANSWERED, 0, 0.0, 10.0)
    assert row(out, 1) == (ANSWERED, 0, 10.0, 20.0)
    assert row(out, 2) == (ANSWERED, 0, 20.0, 25.0)
    # AGENT_OFF at 1000: release = max(1000, max end 25) = 1000.
    assert out.release_s.tolist() == [1000.0]


def test_abandonment_before_service(run):
    # c0 occupies the only agent from 0 to 100. c1 (t=1) would abandon at 50 < 100: it
    # abandons. c2 (t=2, abandon at 200) is still waiting at 100 and is served: 100 -> 110.
    m, w, r = build(
        channels=[PHONE], queues=[(0, 0)], agents=[(0, [0])],
        contacts=[dict(t=0.0, q=0, work=100.0), dict(t=1.0, q=0, work=10.0, abandon=50.0),
                  dict(t=2.0, q=0, work=10.0, abandon=200.0)],
        segments=[(0, 0.0, 1000.0)],
    )
    out = run(m, w, r)
    assert row(out, 0) == (ANSWERED, 0, 0.0, 100.0)
    assert never_served(out, 1, Outcome.ABANDONED)
    assert row(out, 2) == (ANSWERED, 0, 100.0, 110.0)


@pytest.mark.parametrize(("abandon_at_s", "served"), [(10.0, True), (9.75, False)])
def test_completion_before_abandon_at_same_instant(run, abandon_at_s, served):
    # c0 runs 0 -> 10. c1 arrives at 1 and would abandon at abandon_at_s.
    # abandon_at_s = 10: COMPLETION(c0) at 10 comes before ABANDON(c1) at 10 (kind 0 < 1),
    # the agent pulls c1 at 10: end 10 + 5 = 15; the ABANDON then finds c1 started.
    # abandon_at_s = 9.75 < 10: c1 abandons first.
    m, w, r = build(
        channels=[PHONE], queues=[(0, 0)], agents=[(0, [0])],
        contacts=[dict(t=0.0, q=0, work=10.0),
                  dict(t=1.0, q=0, work=5.0, abandon=abandon_at_s)],
        segments=[(0, 0.0, 1000.0)],
    )
    out = run(m, w, r)
    assert row(out, 0) == (ANSWERED, 0, 0.0, 10.0)
    if served:
        assert row(out, 1) == (ANSWERED, 0, 10.0, 15.0)
    else:
        assert never_served(out, 1, Outcome.ABANDONED)


def test_chat_concurrency_3_with_slowdown(run):
    # Chat: concurrency 3 -> 20 units each; slowdown 0.25; team time_factor 2.
    # service = work * 2 * (1 + 0.25 * n_before):
    #   c0 at 0:  n_before 0 -> 100*2*1.0  = 200 -> end 200
    #   c1 at 10: n_before 1 -> 100*2*1.25 = 250 -> end 260
    #   c2 at 20: n_before 2 -> 100*2*1.5  = 300 -> end 320
    #   c3 at 30: 60 units in use, waits.
    # At 200 c0 completes (40 units used, 2 in hand) and the agent pulls c3:
    #   n_before 2 -> 300 -> end 500.
    # c4 at 201: c1, c2, c3 in hand (60 units), waits. At 260 c1 completes; c2 and c3 in
    # hand: c4 gets n_before 2 -> 40*2*1.5 = 120 -> end 380.
    m, w, r = build(
        channels=[chat(3, 0.25)], queues=[(0, 0)], agents=[(0, [0])],
        contacts=[dict(t=0.0, q=0, work=100.0), dict(t=10.0, q=0, work=100.0),
                  dict(t=20.0, q=0, work=100.0), dict(t=30.0, q=0, work=100.0),
                  dict(t=201.0, q=0, work=40.0)],
        segments=[(0, 0.0, 1000.0)],
        time_factor=[[2.0]],
    )
    out = run(m, w, r)
    assert row(out, 0) == (ANSWERED, 0, 0.0, 200.0)
    assert row(out, 1) == (ANSWERED, 0, 10.0, 260.0)
    assert row(out, 2) == (ANSWERED, 0, 20.0, 320.0)
    assert row(out, 3) == (ANSWERED, 0, 200.0, 500.0)
    assert row(out, 4) == (ANSWERED, 0, 260.0, 380.0)


def test_slowdown_arithmetic_is_the_spec_expression(run):
    # Inexact factors: the engines must evaluate t + work * tf * (1.0 + slowdown * n_before)
    # left to right in IEEE double. c0 at 0.1 (n_before 0), c1 at 0.3 (n_before 1).
    work, tf, sd = 123.456, 0.7, 0.1
    m, w, r = build(
        channels=[chat(2, sd)], queues=[(0, 0)], agents=[(0, [0])],
        contacts=[dict(t=0.1, q=0, work=work), dict(t=0.3, q=0, work=work)],
        segments=[(0, 0.0, 1000.0)],
        time_factor=[[tf]],
    )
    out = run(m, w, r)
    assert row(out, 0)[3] == 0.1 + work * tf * (1.0 + sd * 0)
    assert row(out, 1)[3] == 0.3 + work * tf * (1.0 + sd * 1)


@pytest.mark.parametrize("pull_policy", list(PullPolicy))
def test_deferred_taken_only_when_no_live_contact_waits(run, pull_policy):
    # q0 = phone (live, priority 1), q1 = email (deferred, priority 0: "better" priority).
    # c0 phone at 0 runs 0 -> 10. c1 email at 1 waits; c2 phone at 2 waits.
    # At 10 the live head c2 wins although c1 is older and its queue has the better
    # priority (is_deferred comes first in both pull keys): c2 10 -> 20, then c1 20 -> 50.
    m, w, r = build(
        channels=[PHONE, EMAIL], queues=[(0, 1), (1, 0)], agents=[(0, [0, 1])],
        contacts=[dict(t=0.0, q=0, work=10.0), dict(t=1.0, q=1, work=30.0),
                  dict(t=2.0, q=0, work=10.0)],
        segments=[(0, 0.0, 1000.0)],
        pull_policy=pull_policy,
    )
    out = run(m, w, r)
    assert row(out, 0) == (ANSWERED, 0, 0.0, 10.0)
    assert row(out, 2) == (ANSWERED, 0, 10.0, 20.0)
    assert row(out, 1) == (ANSWERED, 0, 20.0, 50.0)


def test_agent_off_mid_contact_finishes_it_and_roster_on_pulls(run):
    # Agent 0 on duty [0, 50) and [100, 200). c0 arrives at 40: 40 -> 70, finished after the
    # AGENT_OFF at 50: release_s[0] = max(50, 70) = 70. c1 arrives at 45 and waits; the
    # COMPLETION at 70 finds the agent off duty: no pull. AGENT_ON at 100 pulls c1:
    # 100 -> 110. AGENT_OFF at 200: release_s[1] = max(200, 110) = 200.
    m, w, r = build(
        channels=[PHONE], queues=[(0, 0)], agents=[(0, [0])],
        contacts=[dict(t=40.0, q=0, work=30.0), dict(t=45.0, q=0, work=10.0)],
        segments=[(0, 0.0, 50.0), (0, 100.0, 200.0)],
    )
    out = run(m, w, r)
    assert row(out, 0) == (ANSWERED, 0, 40.0, 70.0)
    assert row(out, 1) == (ANSWERED, 0, 100.0, 110.0)
    assert out.release_s.tolist() == [70.0, 200.0]


def test_no_new_contact_at_the_very_end_of_a_segment(run):
    # Agent 0 on duty [0, 20) and [50, 100). c0 arrives at 0: 0 -> 20, ending exactly when the
    # segment ends. c1 arrives at 5 and waits. At 20 the AGENT_OFF comes before the
    # COMPLETION (kind 0 < 1): the agent is off when c0 completes, so it does not start c1
    # at 20 (a segment is [start, end)). AGENT_ON at 50 pulls c1: 50 -> 60.
    # release_s[0] = max(20, 20) = 20.
    m, w, r = build(
        channels=[PHONE], queues=[(0, 0)], agents=[(0, [0])],
        contacts=[dict(t=0.0, q=0, work=20.0), dict(t=5.0, q=0, work=10.0)],
        segments=[(0, 0.0, 20.0), (0, 50.0, 100.0)],
    )
    out = run(m, w, r)
    assert row(out, 0) == (ANSWERED, 0, 0.0, 20.0)
    assert row(out, 1) == (ANSWERED, 0, 50.0, 60.0)
    assert out.release_s.tolist() == [20.0, 100.0]


def test_roster_on_pulls_waiting_work_in_fifo_order(run):
    # Nobody on duty before 100: c0 (t=0) and c1 (t=5) wait. Agents 0 and 1 come on at 100
    # and 120. AGENT_ON(agent 0) at 100 pulls the oldest, c0: 100 -> 130. AGENT_ON(agent 1)
    # at 120 pulls c1: 120 -> 140.
    m, w, r = build(
        channels=[PHONE], queues=[(0, 0)], agents=[(0, [0]), (0, [0])],
        contacts=[dict(t=0.0, q=0, work=30.0), dict(t=5.0, q=0, work=20.0)],
        segments=[(0, 100.0, 500.0), (1, 120.0, 500.0)],
    )
    out = run(m, w, r)
    assert row(out, 0) == (ANSWERED, 0, 100.0, 130.0)
    assert row(out, 1) == (ANSWERED, 1, 120.0, 140.0)


def test_lost_closed(run):
    # c0 arrives while its channel is closed: LOST_CLOSED, never offered, although the agent
    # is idle. c1 (open) at 1 is served at once: 1 -> 11.
    m, w, r = build(
        channels=[PHONE], queues=[(0, 0)], agents=[(0, [0])],
        contacts=[dict(t=0.0, q=0, work=10.0, closed=1), dict(t=1.0, q=0, work=10.0)],
        segments=[(0, 0.0, 1000.0)],
    )
    out = run(m, w, r)
    assert never_served(out, 0, Outcome.LOST_CLOSED)
    assert row(out, 1) == (ANSWERED, 0, 1.0, 11.0)


def test_same_instant_roster_changes_come_before_arrivals(run):
    # Agent 0 on [0, 10), agent 1 on [20, 30).
    # c0 arrives at 10: AGENT_OFF(seg 0) at 10 comes first (kind 0 < 4): no agent; it waits.
    # c1 arrives at 20: AGENT_ON(seg 1) at 20 comes first (3 < 4) and pulls c0 (20 -> 25);
    # then c1 finds no free agent and waits; at 25 COMPLETION(c0) pulls c1: 25 -> 30.
    m, w, r = build(
        channels=[PHONE], queues=[(0, 0)], agents=[(0, [0]), (0, [0])],
        contacts=[dict(t=10.0, q=0, work=5.0), dict(t=20.0, q=0, work=5.0)],
        segments=[(0, 0.0, 10.0), (1, 20.0, 30.0)],
    )
    out = run(m, w, r)
    assert row(out, 0) == (ANSWERED, 1, 20.0, 25.0)
    assert row(out, 1) == (ANSWERED, 1, 25.0, 30.0)
    # release: seg 0 = max(10, -) = 10; seg 1 = max(30, 30) = 30.
    assert out.release_s.tolist() == [10.0, 30.0]


def test_horizon_stop_rule(run):
    # horizon 100. c0 at 90 starts (90 -> 130): its COMPLETION is never processed but it is
    # answered with its planned end. c1 at 95 waits (agent busy). c2 arrives at exactly 100:
    # never processed, WAITING. The segment ends at 150 >= 100: its AGENT_OFF is never
    # processed, release_s NaN; the second segment starts at 120: never reached, NaN.
    m, w, r = build(
        channels=[PHONE], queues=[(0, 0)], agents=[(0, [0])],
        contacts=[dict(t=90.0, q=0, work=40.0), dict(t=95.0, q=0, work=1.0),
                  dict(t=100.0, q=0, work=1.0)],
        segments=[(0, 0.0, 50.0), (0, 60.0, 150.0), (0, 160.0, 170.0)],
        horizon_s=100.0,
    )
    out = run(m, w, r)
    assert row(out, 0) == (ANSWERED, 0, 90.0, 130.0)
    assert never_served(out, 1, Outcome.WAITING)
    assert never_served(out, 2, Outcome.WAITING)
    assert out.release_s[0] == 50.0
    assert np.isnan(out.release_s[1]) and np.isnan(out.release_s[2])


def test_pull_skips_a_head_that_does_not_fit(run):
    # One agent on phone q0 (priority 0) and chat q1 (priority 1, concurrency 3, 20 units).
    # c0 chat at 0: 0 -> 100; c1 chat at 1: 1 -> 101 (40 units used).
    # c2 phone at 2 needs 60 > 20 free: waits.
    # c3 chat at 3: q1 has nobody waiting and the agent has 20 free: starts 3 -> 103.
    # At 100 and 101 the phone head still does not fit (20, then 40 free); at 103 the agent
    # is empty and pulls c2: 103 -> 113.
    m, w, r = build(
        channels=[PHONE, chat(3)], queues=[(0, 0), (1, 1)], agents=[(0, [0, 1])],
        contacts=[dict(t=0.0, q=1, work=100.0), dict(t=1.0, q=1, work=100.0),
                  dict(t=2.0, q=0, work=10.0), dict(t=3.0, q=1, work=100.0)],
        segments=[(0, 0.0, 1000.0)],
    )
    out = run(m, w, r)
    assert row(out, 0) == (ANSWERED, 0, 0.0, 100.0)
    assert row(out, 1) == (ANSWERED, 0, 1.0, 101.0)
    assert row(out, 3) == (ANSWERED, 0, 3.0, 103.0)
    assert row(out, 2) == (ANSWERED, 0, 103.0, 113.0)


# --- arrival policies -------------------------------------------------------------------------


def test_longest_idle(run):
    # Three agents on at 0 (last_free_s 0 each). c0 at 0: full tie -> smallest id, agent 0
    # (0 -> 10). c1 at 1 -> agent 1 (1 -> 21). c2 at 2 -> agent 2 (2 -> 3).
    # At 30 all are idle with last_free_s a0 = 10, a1 = 21, a2 = 3:
    # c3 at 30 -> agent 2 (idle longest), c4 at 31 -> agent 0, c5 at 32 -> agent 1.
    m, w, r = build(
        channels=[PHONE], queues=[(0, 0)], agents=[(0, [0])] * 3,
        contacts=[dict(t=0.0, q=0, work=10.0), dict(t=1.0, q=0, work=20.0),
                  dict(t=2.0, q=0, work=1.0), dict(t=30.0, q=0, work=100.0),
                  dict(t=31.0, q=0, work=100.0), dict(t=32.0, q=0, work=100.0)],
        segments=[(0, 0.0, 1000.0), (1, 0.0, 1000.0), (2, 0.0, 1000.0)],
    )
    out = run(m, w, r)
    assert [int(a) for a in out.agent] == [0, 1, 2, 2, 0, 1]


def test_longest_idle_prefers_fewer_used_units(run):
    # Chats (20 units). Agent 0 on at 0, agent 1 on at 5. c0 at 1 -> agent 0 (the only one).
    # c1 at 6: agent 0 has (used 20, last_free 0), agent 1 has (used 0, last_free 5):
    # used_units comes first -> agent 1. c2 at 7: both have 20 used; last_free 0 < 5 ->
    # agent 0.
    m, w, r = build(
        channels=[chat(3)], queues=[(0, 0)], agents=[(0, [0])] * 2,
        contacts=[dict(t=1.0, q=0, work=100.0), dict(t=6.0, q=0, work=100.0),
                  dict(t=7.0, q=0, work=100.0)],
        segments=[(0, 0.0, 1000.0), (1, 5.0, 1000.0)],
    )
    out = run(m, w, r)
    assert [int(a) for a in out.agent] == [0, 1, 0]


def test_most_proficient(run):
    # Agents 0 (team 0, proficiency 0.8), 1 and 2 (team 1, proficiency 1.2). Agent 1 comes
    # on at 0.5, agents 0 and 2 at 0. c0 at 1: max proficiency 1.2 -> agents 1 and 2, both
    # with 0 used; last_free_s 0 (agent 2) < 0.5 (agent 1) -> agent 2. c1 at 2 -> agent 1.
    # c2 at 3 -> agent 0 (the only one left).
    m, w, r = build(
        channels=[PHONE], queues=[(0, 0)], agents=[(0, [0]), (1, [0]), (1, [0])],
        contacts=[dict(t=1.0, q=0, work=100.0), dict(t=2.0, q=0, work=100.0),
                  dict(t=3.0, q=0, work=100.0)],
        segments=[(0, 0.0, 1000.0), (2, 0.0, 1000.0), (1, 0.5, 1000.0)],
        proficiency=[[0.8], [1.2]],
        arrival_policy=ArrivalPolicy.MOST_PROFICIENT,
    )
    out = run(m, w, r)
    assert [int(a) for a in out.agent] == [2, 1, 0]


def test_skill_priority(run):
    # Agent 0 (team 0, skill priority 2), agent 1 (team 1, skill priority 1), both on at 0.
    # c0 at 1 -> agent 1 (priority 1 < 2, although agent 0 has the smaller id).
    # c1 at 2 -> agent 0.
    m, w, r = build(
        channels=[PHONE], queues=[(0, 0)], agents=[(0, [0]), (1, [0])],
        contacts=[dict(t=1.0, q=0, work=100.0), dict(t=2.0, q=0, work=100.0)],
        segments=[(0, 0.0, 1000.0), (1, 0.0, 1000.0)],
        skill_priority=[[2], [1]],
        arrival_policy=ArrivalPolicy.SKILL_PRIORITY,
    )
    out = run(m, w, r)
    assert [int(a) for a in out.agent] == [1, 0]


def test_random(run):
    # Agents 0..3 eligible and on duty, agent 4 not eligible for q0 (only q1), agent 5
    # eligible but never on duty. Candidates in id order:
    #   c0 at 1, u 0.6:  [0, 1, 2, 3] -> floor(2.4)  = 2 -> agent 2
    #   c1 at 2, u 0.6:  [0, 1, 3]    -> floor(1.8)  = 1 -> agent 1
    #   c2 at 3, u 0.99: [0, 3]       -> floor(1.98) = 1 -> agent 3
    #   c3 at 4, u 0.0:  [0]          -> 0 -> agent 0
    m, w, r = build(
        channels=[PHONE], queues=[(0, 0), (0, 0)],
        agents=[(0, [0])] * 4 + [(0, [1]), (0, [0])],
        contacts=[dict(t=1.0, q=0, work=100.0, u=0.6), dict(t=2.0, q=0, work=100.0, u=0.6),
                  dict(t=3.0, q=0, work=100.0, u=0.99), dict(t=4.0, q=0, work=100.0, u=0.0)],
        segments=[(a, 0.0, 1000.0) for a in range(5)],
        arrival_policy=ArrivalPolicy.RANDOM,
    )
    out = run(m, w, r)
    assert [int(a) for a in out.agent] == [2, 1, 3, 0]


# --- pull policies ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pull_policy", "first", "second"),
    [(PullPolicy.QUEUE_PRIORITY, 2, 1), (PullPolicy.OLDEST, 1, 2)],
)
def test_queue_priority_vs_oldest(run, pull_policy, first, second):
    # One agent on q0 (priority 1) and q1 (priority 0), both live phone. c0 (q0) runs
    # 0 -> 10; c1 (q0, t=1) and c2 (q1, t=2) wait. At 10:
    #   QUEUE_PRIORITY: q1 has the better priority -> c2 10 -> 20, then c1 20 -> 30;
    #   OLDEST: c1 arrived first -> c1 10 -> 20, then c2 20 -> 30.
    m, w, r = build(
        channels=[PHONE], queues=[(0, 1), (0, 0)], agents=[(0, [0, 1])],
        contacts=[dict(t=0.0, q=0, work=10.0), dict(t=1.0, q=0, work=10.0),
                  dict(t=2.0, q=1, work=10.0)],
        segments=[(0, 0.0, 1000.0)],
        pull_policy=pull_policy,
    )
    out = run(m, w, r)
    assert row(out, first) == (ANSWERED, 0, 10.0, 20.0)
    assert row(out, second) == (ANSWERED, 0, 20.0, 30.0)


def test_queue_priority_tie_goes_to_oldest_head_then_id(run):
    # q0, q1 and q2 all priority 0; one agent on all three. Contacts in arrival order:
    # c0 (q2, t=0), c1 (q0, t=4), c2 (q1, t=5), c3 (q0, t=5). c0 runs 0 -> 10.
    # At 10 the heads are q0: c1 (t=4) and q1: c2 (t=5) -> c1 (10 -> 20).
    # At 20 the heads are q0: c3 (t=5, id 3) and q1: c2 (t=5, id 2): same arrival time,
    # smaller id -> c2 (20 -> 30), then c3 (30 -> 40).
    m, w, r = build(
        channels=[PHONE], queues=[(0, 0), (0, 0), (0, 0)], agents=[(0, [0, 1, 2])],
        contacts=[dict(t=0.0, q=2, work=10.0), dict(t=4.0, q=0, work=10.0),
                  dict(t=5.0, q=1, work=10.0), dict(t=5.0, q=0, work=10.0)],
        segments=[(0, 0.0, 1000.0)],
    )
    out = run(m, w, r)
    assert row(out, 1) == (ANSWERED, 0, 10.0, 20.0)
    assert row(out, 2) == (ANSWERED, 0, 20.0, 30.0)
    assert row(out, 3) == (ANSWERED, 0, 30.0, 40.0)


def test_empty_inputs(run):
    # No contacts, no segments: nothing happens, empty outcomes.
    m, w, r = build(channels=[PHONE], queues=[(0, 0)], agents=[(0, [0])], contacts=[],
                    segments=[])
    out = run(m, w, r)
    assert out.outcome.shape == (0,) and out.release_s.shape == (0,)


def test_kernel_orders_unsorted_arrivals_by_key():
    # Kernel only (the Workload contract promises sorted rows; the kernel also copes with
    # unsorted ones). Row 0 arrives at 5, row 1 at 1: row 1 is served first, 1 -> 11; row 0
    # waits until 11: 11 -> 21.
    kernel = pytest.importorskip("sim.engines.kernel")
    pytest.importorskip("sim._kernel", reason="compiled kernel not built")
    m, w, r = build(
        channels=[PHONE], queues=[(0, 0)], agents=[(0, [0])],
        contacts=[dict(t=1.0, q=0, work=10.0), dict(t=5.0, q=0, work=10.0)],
        segments=[(0, 0.0, 1000.0)],
    )
    out = kernel.simulate(m, w.rows(slice(None, None, -1)), r)
    assert row(out, 1) == (ANSWERED, 0, 1.0, 11.0)
    assert row(out, 0) == (ANSWERED, 0, 11.0, 21.0)


def test_kernel_not_built_is_an_engine_error(monkeypatch):
    kernel = pytest.importorskip("sim.engines.kernel")
    from sim.errors import EngineError

    m, w, r = build(channels=[PHONE], queues=[(0, 0)], agents=[(0, [0])], contacts=[],
                    segments=[])
    monkeypatch.setattr(kernel, "_kernel", None)
    with pytest.raises(EngineError, match="not built.*--engine simpy"):
        kernel.simulate(m, w, r)


def test_outcomes_are_identical_across_engines():
    """Every small case above gives bit-identical outcomes on both engines."""
    kernel = pytest.importorskip("sim.engines.kernel")
    pytest.importorskip("sim._kernel", reason="compiled kernel not built")
    simpy_engine = pytest.importorskip("sim.engines.simpy_engine")
    for m, w, r in _cases():
        a, b = kernel.simulate(m, w, r), simpy_engine.simulate(m, w, r)
        for field in ("outcome", "agent", "start_s", "end_s", "release_s"):
            x, y = getattr(a, field), getattr(b, field)
            assert x.shape == y.shape, field
            assert all(same(float(u), float(v)) for u, v in zip(x, y, strict=True)), field


def _cases():
    """Richer scenarios for the cross-engine check (mixed channels, abandons, shifts)."""
    rng = np.random.default_rng(7)
    yield from _many_agents_cases(rng)
    for arrival_policy in ArrivalPolicy:
        for pull_policy in PullPolicy:
            n = 200
            t = np.sort(rng.uniform(0, 2000, n)).round(1)  # rounding creates ties
            q = rng.integers(0, 3, n)
            contacts = [
                dict(t=float(t[i]), q=int(q[i]), work=round(float(rng.exponential(60)) + 1, 1),
                     abandon=float(t[i] + rng.exponential(100)) if q[i] != 2 else INF,
                     u=float(rng.uniform()), closed=int(rng.uniform() < 0.05))
                for i in range(n)
            ]
            segments = sorted(
                [(a, float(s), float(s + d)) for a in range(4)
                 for s, d in [(rng.uniform(0, 100), 900.0), (rng.uniform(1100, 1200), 900.0)]],
                key=lambda x: (x[1], x[0]),
            )
            yield build(
                channels=[PHONE, chat(3, 0.2), EMAIL],
                queues=[(0, 1), (1, 0), (2, 0)],
                agents=[(0, [0, 1, 2]), (0, [0, 2]), (1, [1, 2]), (1, [0, 1])],
                contacts=contacts,
                segments=segments,
                horizon_s=2500.0,
                time_factor=[[1.0, 1.1, 0.9], [1.3, 0.8, 1.0]],
                proficiency=[[1.0, 0.9, 1.1], [0.8, 1.25, 1.0]],
                skill_priority=[[0, 1, 2], [1, 0, 2]],
                arrival_policy=arrival_policy,
                pull_policy=pull_policy,
            )


def _many_agents_cases(rng):
    """70 agents (more than one 64-bit word of agent bitsets in the kernel), 4 queues."""
    n_agents, n = 70, 600
    for arrival_policy in ArrivalPolicy:
        t = np.sort(rng.uniform(0, 3000, n)).round(0)
        q = rng.integers(0, 4, n)
        contacts = [
            dict(t=float(t[i]), q=int(q[i]), work=round(float(rng.exponential(400)) + 1, 0),
                 abandon=float(t[i] + rng.exponential(60)) if q[i] < 3 else INF,
                 u=float(rng.uniform()))
            for i in range(n)
        ]
        agents = [(a % 3, sorted(set(rng.choice(4, size=int(rng.integers(1, 5)),
                                                replace=False).tolist())))
                  for a in range(n_agents)]
        segments = sorted(
            [(a, float(s), float(s + 1000.0)) for a in range(n_agents)
             for s in (round(rng.uniform(0, 500)), round(rng.uniform(1600, 2000)))],
            key=lambda x: (x[1], x[0]),
        )
        yield build(
            channels=[PHONE, chat(3, 0.2), chat(2, 0.1), EMAIL],
            queues=[(0, 0), (1, 1), (2, 1), (3, 0)],
            agents=agents,
            contacts=contacts,
            segments=segments,
            horizon_s=3200.0,
            time_factor=rng.uniform(0.7, 1.3, (3, 4)).round(2).tolist(),
            proficiency=rng.uniform(0.7, 1.3, (3, 4)).round(1).tolist(),
            skill_priority=rng.integers(0, 3, (3, 4)).tolist(),
            arrival_policy=arrival_policy,
            pull_policy=PullPolicy(int(rng.integers(0, 2))),
        )
