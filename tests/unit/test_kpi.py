"""KPIs of tiny hand-built runs, every value checked by hand (sim.kpi).

The main case ("center") has a 600 s warm-up, 600 s intervals and a 3600 s horizon, so the
measured window is [600, 3600) = intervals 1..5 (3000 s). Channels / queues:

* phone (live, 60 units, SLA 20 s): queues ``sales`` (0) and ``support`` (1);
* chat (live, 20 units = 1/3 of an agent, SLA 60 s): queue ``chat`` (2);
* email (deferred, 60 units, SLA 1800 s): queue ``email`` (3).

Agents: 0 (team ``voice``, 36/h) does phone and email; 1 (team ``chat``, 72/h) does chat.

Roster:

* agent 0: shift [0, 3600), training [2000, 2900) -> segments [0, 2000) (release 2000) and
  [2900, 3600) (never released: NaN -> 3600).
* agent 1: shift [0, 3000), break [1200, 1220) -> segments [0, 1200) released at 1230
  (finishes chat c10 into its break; cut at the next segment start 1220) and [1220, 3000)
  released at 3120 (finishes chat c14: 120 s overtime).

Contacts (name: arrival, queue, outcome, start-end or abandon time; interval = arrival // 600):

====  =======  =======  =========  ==============  ========================================
id    arrival  queue    outcome    start-end/ab.   notes
====  =======  =======  =========  ==============  ========================================
c0    100      sales    answered   100-700         warm-up (not offered); busy 100 s in window
c16   200      email    answered   1000-1200       warm-up; waits [600, 1000) in the window
c1    500      sales    closed                     warm-up: not even lost_closed
c10   550      chat     answered   550-1230        warm-up; busy 630 s x 1/3
c3    610      support  answered   700-1000        int 1, wait 90
c4    620      sales    abandoned  630             int 1, wait 10 (short abandon)
c2    650      sales    closed                     int 1, lost_closed
c11   700      chat     answered   700-800         int 1, wait 0
c5    800      sales    abandoned  850             int 1, wait 50
c17   900      email    answered   1700-2000       int 1, wait 800 (within 1800)
c18   1000     email    answered   2900-3200       int 1, wait 1900 (late)
c12   1210     chat     answered   1220-1400       int 2, wait 10
c13   1215     chat     abandoned  1218            int 2, wait 3 (short abandon)
c6    1300     sales    answered   1300-1600       int 2, wait 0
c7    1310     support  answered   1600-1700       int 2, wait 290
c20   2100     email    answered   3200-3290       int 3, wait 1100
c14   2950     chat     answered   2950-3120       int 4, wait 0
c15   3100     chat     abandoned  3200            int 5, wait 100
c9    3300     support  answered   3300-3700       int 5, wait 0; busy 300 s in window
c19   3350     email    waiting                    int 5, wait 250 (to the horizon)
c8    3500     sales    waiting                    int 5, wait 100 (to the horizon)
====  =======  =======  =========  ==============  ========================================
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from sim.kpi import KPI_INFO, KPI_KEYS, Measured, measure
from sim.model import NO_AGENT, Model, Outcome, Outcomes, Roster, Workload

A, B, W, L = Outcome.ANSWERED, Outcome.ABANDONED, Outcome.WAITING, Outcome.LOST_CLOSED
NAN, INF = np.nan, np.inf


def make_model(
    *,
    horizon_s,
    warmup_s,
    interval_s,
    channels,  # [(name, live, units, sla_s)]
    queues,  # [(name, channel index)]
    team_cost_per_h,
    agent_team,
) -> Model:
    n_q, n_t = len(queues), len(team_cost_per_h)
    return Model(
        horizon_s=float(horizon_s),
        warmup_s=float(warmup_s),
        interval_s=float(interval_s),
        start="2024-01-01T00:00",
        channel_names=tuple(c[0] for c in channels),
        queue_names=tuple(q[0] for q in queues),
        team_names=tuple(f"team{t}" for t in range(n_t)),
        channel_live=np.array([c[1] for c in channels], dtype=np.int8),
        channel_units=np.array([c[2] for c in channels], dtype=np.int32),
        channel_slowdown=np.zeros(len(channels)),
        channel_sla_s=np.array([c[3] for c in channels], dtype=np.float64),
        channel_sla_target=np.full(len(channels), 0.8),
        queue_channel=np.array([q[1] for q in queues], dtype=np.int32),
        queue_priority=np.zeros(n_q, dtype=np.int32),
        team_tier=np.ones(n_t, dtype=np.int32),
        team_cost_per_h=np.array(team_cost_per_h, dtype=np.float64),
        time_factor=np.ones((n_t, n_q)),
        proficiency=np.ones((n_t, n_q)),
        skill_priority=np.zeros((n_t, n_q), dtype=np.int32),
        agent_team=np.array(agent_team, dtype=np.int32),
        agent_queue_rank=np.zeros((len(agent_team), n_q), dtype=np.int32),
    )


def make_run(model: Model, contacts, segments, shifts, shrinks):
    """contacts: (arrival, queue, outcome, start, end, abandon_at, agent), sorted by arrival;
    segments: (agent, start, end, release); shifts: (agent, start, end);
    shrinks: (agent, start, end, kind)."""
    c = list(zip(*contacts, strict=True)) if contacts else [()] * 7
    arrival, queue, outcome, start, end, abandon_at, agent = (np.array(x) for x in c)
    queue = queue.astype(np.int32)
    outcome = outcome.astype(np.int8)
    n = arrival.shape[0]
    workload = Workload(
        arrival_s=arrival.astype(np.float64),
        queue=queue,
        channel=model.queue_channel[queue].astype(np.int32),
        ctype=np.zeros(n, dtype=np.int32),
        work_s=np.ones(n),
        abandon_at_s=abandon_at.astype(np.float64),
        u_route=np.full(n, 0.5),
        closed=(outcome == L).astype(np.int8),
    )
    outcomes = Outcomes(
        outcome=outcome,
        agent=agent.astype(np.int32),
        start_s=start.astype(np.float64),
        end_s=end.astype(np.float64),
        release_s=np.array([s[3] for s in segments], dtype=np.float64),
    )

    def cols(rows, k, dtype=np.float64):
        return np.array([r[k] for r in rows], dtype=dtype)

    roster = Roster(
        seg_agent=cols(segments, 0, np.int32),
        seg_start_s=cols(segments, 1),
        seg_end_s=cols(segments, 2),
        shift_agent=cols(shifts, 0, np.int32),
        shift_start_s=cols(shifts, 1),
        shift_end_s=cols(shifts, 2),
        shrink_agent=cols(shrinks, 0, np.int32),
        shrink_start_s=cols(shrinks, 1),
        shrink_end_s=cols(shrinks, 2),
        shrink_kind=cols(shrinks, 3, np.int32),
    )
    return workload, roster, outcomes


SALES, SUPPORT, CHAT, EMAIL = 0, 1, 2, 3
CHANNELS = [("phone", 1, 60, 20.0), ("chat", 1, 20, 60.0), ("email", 0, 60, 1800.0)]
QUEUES = [("sales", 0), ("support", 0), ("chat", 1), ("email", 2)]
X = NO_AGENT
CONTACTS = [
    # arrival, queue, outcome, start, end, abandon_at, agent
    (100, SALES, A, 100, 700, 1100, 0),  # c0
    (200, EMAIL, A, 1000, 1200, INF, 0),  # c16
    (500, SALES, L, NAN, NAN, 1500, X),  # c1
    (550, CHAT, A, 550, 1230, 1550, 1),  # c10
    (610, SUPPORT, A, 700, 1000, 1610, 0),  # c3
    (620, SALES, B, NAN, NAN, 630, X),  # c4
    (650, SALES, L, NAN, NAN, 1650, X),  # c2
    (700, CHAT, A, 700, 800, 1700, 1),  # c11
    (800, SALES, B, NAN, NAN, 850, X),  # c5
    (900, EMAIL, A, 1700, 2000, INF, 0),  # c17
    (1000, EMAIL, A, 2900, 3200, INF, 0),  # c18
    (1210, CHAT, A, 1220, 1400, 2210, 1),  # c12
    (1215, CHAT, B, NAN, NAN, 1218, X),  # c13
    (1300, SALES, A, 1300, 1600, 2300, 0),  # c6
    (1310, SUPPORT, A, 1600, 1700, 2310, 0),  # c7
    (2100, EMAIL, A, 3200, 3290, INF, 0),  # c20
    (2950, CHAT, A, 2950, 3120, 3950, 1),  # c14
    (3100, CHAT, B, NAN, NAN, 3200, X),  # c15
    (3300, SUPPORT, A, 3300, 3700, 4300, 0),  # c9
    (3350, EMAIL, W, NAN, NAN, INF, X),  # c19
    (3500, SALES, W, NAN, NAN, 3700, X),  # c8
]
SEGMENTS = [  # sorted by (start, agent)
    (0, 0.0, 2000.0, 2000.0),
    (1, 0.0, 1200.0, 1230.0),
    (1, 1220.0, 3000.0, 3120.0),
    (0, 2900.0, 3600.0, NAN),
]
SHIFTS = [(0, 0.0, 3600.0), (1, 0.0, 3000.0)]
SHRINKS = [(1, 1200.0, 1220.0, 0), (0, 2000.0, 2900.0, 3)]


def center(**model_changes) -> Measured:
    model = make_model(
        horizon_s=3600,
        warmup_s=600,
        interval_s=600,
        channels=CHANNELS,
        queues=QUEUES,
        team_cost_per_h=[36.0, 72.0],
        agent_team=[0, 1],
    )
    model = dataclasses.replace(model, **model_changes)
    workload, roster, outcomes = make_run(model, CONTACTS, SEGMENTS, SHIFTS, SHRINKS)
    return measure(model, workload, roster, outcomes)


@pytest.fixture(scope="module")
def measured() -> Measured:
    return center()


def total(m: Measured, channel: str) -> pd.Series:
    rows = m.totals[m.totals.channel == channel]
    assert len(rows) == 1
    return rows.iloc[0]


def cell(m: Measured, interval: int, channel: str, queue: str = "all") -> pd.Series:
    f = m.intervals
    rows = f[(f.interval == interval) & (f.channel == channel) & (f.queue == queue)]
    assert len(rows) == 1
    return rows.iloc[0]


def check(row: pd.Series, expected: dict) -> None:
    for key, value in expected.items():
        got = row[key]
        if value is None or (isinstance(value, float) and np.isnan(value)):
            assert np.isnan(got), f"{key}: expected NaN, got {got}"
        else:
            assert got == pytest.approx(value, rel=1e-12, abs=1e-12), key


# --------------------------------------------------------------------------------------------
# Shape of the output


def test_registry_and_columns(measured):
    assert set(KPI_INFO) == set(KPI_KEYS)
    for description, unit, better in KPI_INFO.values():
        assert description and unit and better in ("higher", "lower", None)
    assert list(measured.totals.columns) == ["channel", *KPI_KEYS]
    assert measured.totals.channel.tolist() == ["phone", "chat", "email", "all"]
    assert list(measured.intervals.columns) == [
        "interval", "interval_start", "channel", "queue", *KPI_KEYS
    ]
    # Intervals 1..5 (interval 0 is warm-up) x 4 queues + 3 channels + all.
    assert measured.intervals.interval.unique().tolist() == [1, 2, 3, 4, 5]
    assert measured.intervals.interval_start.unique().tolist() == [600, 1200, 1800, 2400, 3000]
    first = measured.intervals[measured.intervals.interval == 1]
    assert list(zip(first.channel, first.queue, strict=True)) == [
        ("phone", "sales"), ("phone", "support"), ("phone", "all"),
        ("chat", "chat"), ("chat", "all"), ("email", "email"), ("email", "all"), ("all", "all"),
    ]
    for key in ("offered", "answered", "abandoned", "lost_closed"):
        assert measured.totals[key].dtype == np.int64
        assert measured.intervals[key].dtype == np.int64


# --------------------------------------------------------------------------------------------
# Totals


def test_phone_totals(measured):
    # Offered in window: c3 c4 c5 c6 c7 c9 c8 = 7 (c0, c1 warm-up; c2 closed).
    # Waits: c3 90, c4 10 (ab), c5 50 (ab), c6 0, c7 290, c9 0, c8 100 (waiting) -> sum 540.
    # Answered c3 c6 c7 c9: asa (90 + 0 + 290 + 0) / 4 = 95; handle 300 300 100 400 -> 275.
    # Within 20 s: c6, c9 -> SL 2/7, of answered 2/4; short abandons: c4 -> 2 / (7 - 1).
    # p_wait: c3 c4 c5 c7 c8 -> 5/7. Busy in window: c0 100 + c3 300 + c6 300 + c7 100
    # + c9 300 = 1100 over 4620 s available (see test_occupancy).
    # Queue time in window = the waits above (540) / 3000 s.
    check(total(measured, "phone"), dict(
        offered=7, answered=4, abandoned=2, lost_closed=1,
        asa_s=95.0, mean_wait_s=540 / 7, p_wait=5 / 7, aht_s=275.0,
        service_level=2 / 7, service_level_answered=2 / 4,
        service_level_excl_short_abandons=2 / 6, abandon_rate=2 / 7,
        occupancy=1100 / 4620, mean_queue_len=540 / 3000,
        backlog=NAN, backlog_age_h=NAN, sla_compliance=NAN,
        shrinkage=NAN, overtime_h=NAN, cost_per_contact=NAN,
    ))


def test_chat_totals(measured):
    # Offered: c11 c12 c13 c14 c15 = 5 (c10 warm-up). Waits 0, 10, 3 (ab), 0, 100 (ab) = 113.
    # Answered c11 c12 c14: asa 10/3; handle 100, 180, 170 -> 150.
    # Within 60 s: c11 c12 c14 -> SL 3/5, 3/3; short abandons c13 -> 3 / (5 - 1).
    # Busy (1/3 of an agent each): c10 [600, 1230) 630 + c11 100 + c12 180 + c14 170 = 1080
    # -> 360 agent-seconds.
    check(total(measured, "chat"), dict(
        offered=5, answered=3, abandoned=2, lost_closed=0,
        asa_s=10 / 3, mean_wait_s=113 / 5, p_wait=3 / 5, aht_s=150.0,
        service_level=3 / 5, service_level_answered=1.0,
        service_level_excl_short_abandons=3 / 4, abandon_rate=2 / 5,
        occupancy=360 / 4620, mean_queue_len=113 / 3000,
        backlog=NAN, backlog_age_h=NAN, sla_compliance=NAN,
    ))


def test_email_totals(measured):
    # Offered: c17 c18 c20 c19 = 4 (c16 warm-up). Waits 800, 1900, 1100, 250 -> 4050.
    # Answered c17 c18 c20: asa 3800/3; handle 300 300 90 -> 230; within 1800 s: c17 c20.
    # Busy: c16 200 + c17 300 + c18 300 + c20 90 = 890. Queue time in window: c16 [600, 1000)
    # 400 + 4050 = 4450. At the horizon c19 (arrived 3350) waits: backlog 1, age 250 s.
    check(total(measured, "email"), dict(
        offered=4, answered=3, abandoned=0, lost_closed=0,
        asa_s=3800 / 3, mean_wait_s=4050 / 4, p_wait=1.0, aht_s=230.0,
        service_level=2 / 4, service_level_answered=2 / 3,
        service_level_excl_short_abandons=2 / 4, abandon_rate=0.0,
        occupancy=890 / 4620, mean_queue_len=4450 / 3000,
        backlog=1, backlog_age_h=250 / 3600, sla_compliance=2 / 3,
    ))


def test_all_totals(measured):
    # Sums of the channel rows: offered 16, answered 10, abandoned 4; within 2 + 3 + 2 = 7
    # (each contact against its own channel's threshold); short abandons c4, c13.
    # Shrinkage: training 900 + break 20 over shifts 3000 + 2400 in the window.
    # Overtime: only agent 1's [3000, 3120) after its shift end (finishing c10 into the
    # break, [1200, 1220), is paid shift time) -> 120 s.
    # Cost: 36/h x 3000 s + 72/h x (2400 + 120) s = 30 + 50.4 = 80.4 over 10 answered.
    check(total(measured, "all"), dict(
        offered=16, answered=10, abandoned=4, lost_closed=1,
        asa_s=(380 + 10 + 3800) / 10, mean_wait_s=(540 + 113 + 4050) / 16,
        p_wait=12 / 16, aht_s=(1100 + 450 + 690) / 10,
        service_level=7 / 16, service_level_answered=7 / 10,
        service_level_excl_short_abandons=7 / 14, abandon_rate=4 / 16,
        occupancy=2350 / 4620, mean_queue_len=(540 + 113 + 4450) / 3000,
        backlog=1, backlog_age_h=250 / 3600, sla_compliance=2 / 3,
        shrinkage=920 / 5400, overtime_h=120 / 3600, cost_per_contact=80.4 / 10,
    ))


def test_occupancy_parts_add_up(measured):
    # Available in [600, 3600): agent 0 [600, 2000) 1400 + [2900, 3600) 700; agent 1
    # [600, 1220) 620 (release 1230 cut at the next segment, 1220) + [1220, 3120) 1900
    # -> 4620. Busy: phone 1100 + chat 360 + email 890 = 2350.
    t = measured.totals.set_index("channel")
    assert t.occupancy[["phone", "chat", "email"]].sum() == pytest.approx(t.occupancy["all"])
    assert t.occupancy["all"] == pytest.approx(2350 / 4620)


# --------------------------------------------------------------------------------------------
# Intervals


def test_interval_1_queues(measured):
    # sales: c4 (wait 10, short abandon), c5 (wait 50), c2 closed -> lost_closed 1.
    # Queue time [600, 1200): c4 10 + c5 50 = 60 -> 60/600.
    check(cell(measured, 1, "phone", "sales"), dict(
        offered=2, answered=0, abandoned=2, lost_closed=1, asa_s=NAN, mean_wait_s=30.0,
        p_wait=1.0, service_level=0.0, service_level_answered=NAN,
        service_level_excl_short_abandons=0.0, abandon_rate=1.0, aht_s=NAN,
        mean_queue_len=60 / 600, occupancy=NAN, backlog=NAN, shrinkage=NAN,
    ))
    # support: c3 waits 90 (not within 20), handle 300.
    check(cell(measured, 1, "phone", "support"), dict(
        offered=1, answered=1, abandoned=0, asa_s=90.0, service_level=0.0,
        service_level_answered=0.0, aht_s=300.0, mean_queue_len=90 / 600,
    ))


def test_interval_1_channels(measured):
    # Busy in [600, 1200): phone c0 100 + c3 300 = 400; chat (c10 600 + c11 100) / 3;
    # email c16 [1000, 1200) 200. Available: both agents all 600 s -> 1200.
    check(cell(measured, 1, "phone"), dict(
        offered=3, answered=1, abandoned=2, lost_closed=1, asa_s=90.0,
        mean_wait_s=150 / 3, service_level=0.0, service_level_excl_short_abandons=0.0,
        occupancy=400 / 1200, mean_queue_len=150 / 600,
    ))
    check(cell(measured, 1, "chat"), dict(offered=1, answered=1, occupancy=700 / 3 / 1200))
    # email: c17 (800, within) and c18 (1900, late) arrive in interval 1. At t = 1200 c17
    # and c18 wait (c16 started at 1000): backlog 2, oldest c17 (900) -> 300 s.
    # Queue time: c16 [600, 1000) 400 + c17 [900, 1200) 300 + c18 [1000, 1200) 200.
    check(cell(measured, 1, "email"), dict(
        offered=2, answered=2, service_level=0.5, sla_compliance=0.5, occupancy=200 / 1200,
        backlog=2, backlog_age_h=300 / 3600, mean_queue_len=900 / 600,
    ))
    # Shrinkage: none in [600, 1200) out of 1200 s of shifts.
    check(cell(measured, 1, "all"), dict(
        offered=6, occupancy=(400 + 700 / 3 + 200) / 1200, shrinkage=0.0,
        backlog=2, backlog_age_h=300 / 3600, overtime_h=NAN, cost_per_contact=NAN,
    ))


def test_interval_2(measured):
    # Available [1200, 1800): agent 0 600 + agent 1 [1200, 1220) 20 + [1220, 1800) 580 =
    # 1200 (without the cut at 1220 it would count [1220, 1230) twice).
    # Busy: phone c6 300 + c7 100; email c17 [1700, 1800) 100; chat (c10 30 + c12 180) / 3.
    # Queue time: phone c7 290; chat c12 10 + c13 3; email c17 500 + c18 600.
    # Shrinkage: break [1200, 1220) 20 over 1200 s of shifts.
    check(cell(measured, 2, "all"), dict(
        offered=4, answered=3, abandoned=1, occupancy=(400 + 100 + 70) / 1200,
        mean_queue_len=(290 + 13 + 1100) / 600, shrinkage=20 / 1200,
    ))
    check(cell(measured, 2, "chat"), dict(
        offered=2, answered=1, abandoned=1, p_wait=1.0, service_level=0.5,
        service_level_answered=1.0, service_level_excl_short_abandons=1.0, occupancy=70 / 1200,
    ))
    # email at t = 1800: only c18 waits (c17 started at 1700) -> backlog 1, age 800 s.
    check(cell(measured, 2, "email"), dict(
        offered=0, backlog=1, backlog_age_h=800 / 3600, sla_compliance=NAN, asa_s=NAN,
    ))


def test_deferred_backlog_at_interval_ends(measured):
    # Email waiting spans: c16 [200, 1000), c17 [900, 1700), c18 [1000, 2900),
    # c20 [2100, 3200), c19 [3350, 3600). In the backlog at t when arrival < t <= stop:
    # t=1200: c17 c18 (oldest 900); t=1800: c18 (1000); t=2400: c18 c20 (1000);
    # t=3000: c20 (2100); t=3600: c19 (3350).
    rows = measured.intervals
    email = rows[(rows.channel == "email") & (rows.queue == "email")]
    assert email.backlog.tolist() == [2, 1, 2, 1, 1]
    np.testing.assert_allclose(
        email.backlog_age_h.to_numpy() * 3600, [300, 800, 1400, 900, 250]
    )
    # sla_compliance by arrival interval: int 1 c17 yes c18 no; int 3 c20 yes; int 5 none.
    np.testing.assert_allclose(email.sla_compliance, [0.5, NAN, 1.0, NAN, NAN])
    live = rows[rows.channel.isin(["phone", "chat"])]
    assert live.backlog.isna().all() and live.backlog_age_h.isna().all()
    assert live.sla_compliance.isna().all()


def test_interval_5(measured):
    # Available [3000, 3600): agent 0 [3000, 3600) 600 + agent 1 [3000, 3120) 120 = 720.
    # Busy: phone c9 [3300, 3600) 300; email c18 200 + c20 90; chat c14 [3000, 3120) 120/3.
    # Shrinkage: 0 over agent 0's 600 s (agent 1's shift ended at 3000).
    # Offered: c15 (chat), c9 and c8 (phone), c19 (email).
    # Queue time: c15 [3100, 3200) 100, c8 100, c19 250 and c20 (arrived in interval 3)
    # [3000, 3200) 200.
    check(cell(measured, 5, "all"), dict(
        offered=4, answered=1, abandoned=1, occupancy=(300 + 290 + 40) / 720, shrinkage=0.0,
        mean_queue_len=650 / 600, mean_wait_s=(100 + 0 + 100 + 250) / 4,
    ))
    check(cell(measured, 5, "phone", "sales"), dict(
        offered=1, answered=0, p_wait=1.0, mean_wait_s=100.0, mean_queue_len=100 / 600,
    ))


def test_shrinkage_by_interval(measured):
    # Shifts in each interval: 1200 s up to 3000, then 600 s; training [2000, 2900).
    rows = measured.intervals
    shrink = rows[(rows.channel == "all") & (rows.queue == "all")].shrinkage
    np.testing.assert_allclose(shrink, [0, 20 / 1200, 400 / 1200, 500 / 1200, 0])
    assert rows[rows.channel != "all"].shrinkage.isna().all()


def test_intervals_add_up_to_totals(measured):
    rows = measured.intervals
    for channel in ["phone", "chat", "email", "all"]:
        per = rows[(rows.channel == channel) & (rows.queue == "all")]
        tot = total(measured, channel)
        for key in ["offered", "answered", "abandoned", "lost_closed"]:
            assert per[key].sum() == tot[key]
        # Equal-length intervals: the window average is the mean of the interval averages.
        assert per.mean_queue_len.mean() == pytest.approx(tot.mean_queue_len)
    queues = rows[rows.queue != "all"]
    assert queues.occupancy.isna().all()
    assert queues.groupby("interval").offered.sum().tolist() == (
        rows[rows.channel == "all"].offered.tolist()
    )


def test_channel_without_threshold():
    # Chat without an SLA: its service levels are NaN; "all" counts phone and email only:
    # within 2 + 2 of offered 7 + 4 and answered 4 + 3; short abandons c4 only.
    m = center(channel_sla_s=np.array([20.0, NAN, 1800.0]))
    check(total(m, "chat"), dict(
        service_level=NAN, service_level_answered=NAN, service_level_excl_short_abandons=NAN,
        asa_s=10 / 3,
    ))
    check(total(m, "all"), dict(
        service_level=4 / 11, service_level_answered=4 / 7,
        service_level_excl_short_abandons=4 / 10,
    ))


# --------------------------------------------------------------------------------------------
# Partial first interval, empty channel, nothing answered


def test_partial_interval_and_empty_channel():
    # Warm-up 300 s, intervals of 600 s, horizon 1500 s: measured intervals 0 [300, 600),
    # 1 [600, 1200), 2 [1200, 1500). Phone contacts: a at 100 waits until 400 (answered,
    # warm-up), b at 350 abandons at 1000, c at 1300 still waits at 1500. Email: nothing.
    # Queue time: int 0: a [300, 400) 100 + b [350, 600) 250 -> 350/300;
    # int 1: b 400 -> 400/600; int 2: c 200 -> 200/300; window 950/1200.
    model = make_model(
        horizon_s=1500, warmup_s=300, interval_s=600,
        channels=[("phone", 1, 60, 20.0), ("email", 0, 60, 3600.0)],
        queues=[("q", 0), ("mail", 1)], team_cost_per_h=[30.0], agent_team=[0],
    )
    contacts = [
        (100, 0, A, 400, 500, 1000, 0),
        (350, 0, B, NAN, NAN, 1000, X),
        (1300, 0, W, NAN, NAN, 2000, X),
    ]
    workload, roster, outcomes = make_run(model, contacts, [], [], [])
    m = measure(model, workload, roster, outcomes)
    phone = m.intervals[(m.intervals.channel == "phone") & (m.intervals.queue == "all")]
    assert phone.interval.tolist() == [0, 1, 2]
    assert phone.interval_start.tolist() == [0.0, 600.0, 1200.0]
    assert phone.offered.tolist() == [1, 0, 1]
    np.testing.assert_allclose(phone.mean_queue_len, [350 / 300, 400 / 600, 200 / 300])
    # No agents at all: occupancy and shrinkage undefined; nothing answered: no cost ratio.
    check(total(m, "phone"), dict(
        offered=2, answered=0, abandoned=1, asa_s=NAN, aht_s=NAN, mean_wait_s=(650 + 200) / 2,
        service_level=0.0, abandon_rate=0.5, mean_queue_len=950 / 1200, occupancy=NAN,
    ))
    # Empty deferred channel: nothing offered, empty backlog of age 0.
    check(total(m, "email"), dict(
        offered=0, answered=0, asa_s=NAN, mean_wait_s=NAN, p_wait=NAN, service_level=NAN,
        abandon_rate=NAN, mean_queue_len=0.0, backlog=0, backlog_age_h=0.0,
        sla_compliance=NAN,
    ))
    check(total(m, "all"), dict(
        shrinkage=NAN, overtime_h=0.0, cost_per_contact=NAN, backlog=0, backlog_age_h=0.0,
    ))


def test_overtime_past_shift_end_and_outside_shifts():
    # One agent, shift [0, 1000) with a break [400, 500): segments [0, 400) released at 450
    # (into the break: paid shift time, not overtime), [500, 1000) released at 1300
    # (300 s after the shift end). A second agent with a segment [600, 800) released at 900
    # and no recorded shift: all 100 s after the segment count. Window [200, 1200): the
    # first agent's overtime is cut to [1000, 1200) = 200 s. Total 300 s.
    # Cost: 36/h x (800 s shift in window + 300 s overtime) = 11 over 1 answered.
    model = make_model(
        horizon_s=1200, warmup_s=200, interval_s=500,
        channels=[("phone", 1, 60, 20.0)], queues=[("q", 0)],
        team_cost_per_h=[36.0], agent_team=[0, 0],
    )
    contacts = [(900, 0, A, 900, 1300, 1900, 0)]
    segments = [(0, 0.0, 400.0, 450.0), (0, 500.0, 1000.0, 1300.0), (1, 600.0, 800.0, 900.0)]
    workload, roster, outcomes = make_run(
        model, contacts, segments, [(0, 0.0, 1000.0)], [(0, 400.0, 500.0, 0)]
    )
    m = measure(model, workload, roster, outcomes)
    # Shrinkage: break 100 s over the 800 s of shift in [200, 1200).
    # Available: [200, 450) 250 + [500, 1200) 700 + [600, 900) 300 = 1250; busy [900, 1200).
    check(total(m, "all"), dict(
        overtime_h=300 / 3600, cost_per_contact=36 * 1100 / 3600, shrinkage=100 / 800,
        occupancy=300 / 1250,
    ))


def test_window_must_not_be_empty():
    model = make_model(
        horizon_s=600, warmup_s=600, interval_s=300,
        channels=[("phone", 1, 60, 20.0)], queues=[("q", 0)],
        team_cost_per_h=[36.0], agent_team=[0],
    )
    workload, roster, outcomes = make_run(model, [], [], [], [])
    with pytest.raises(ValueError, match="empty measured window"):
        measure(model, workload, roster, outcomes)


# --------------------------------------------------------------------------------------------
# A random case against a direct, loop-based reading of the definitions


def _overlap(lo, hi, a, b) -> float:
    return max(0.0, min(hi, b) - max(lo, a))


def _reference(model, workload, roster, outcomes, t0, t1) -> dict:
    """KPIs of each queue, channel and "all" over [t0, t1), contact by contact, from the
    definitions. Per-contact KPIs count contacts arriving in [t0, t1).

    Returns ``{(channel, queue): {kpi: value}}``.
    """
    h = model.horizon_s
    out = {}
    groups = {("all", "all"): range(model.n_queues)}
    for c, cname in enumerate(model.channel_names):
        mine = [q for q in range(model.n_queues) if model.queue_channel[q] == c]
        groups[(cname, "all")] = mine
        groups.update({(cname, model.queue_names[q]): [q] for q in mine})
    for name, queues in groups.items():
        chans = {int(model.queue_channel[q]) for q in queues}
        r = dict.fromkeys(["offered", "answered", "abandoned", "lost_closed", "within",
                           "short", "waited", "off_thr", "ans_thr", "ans_def", "within_def"], 0)
        waits, waits_ans, handles = [], [], []
        queue_time = busy = 0.0
        backlog, oldest = 0, np.inf
        for i in range(workload.n_contacts):
            ch = int(workload.channel[i])
            if workload.queue[i] not in queues:
                continue
            a = workload.arrival_s[i]
            oc = outcomes.outcome[i]
            closed = workload.closed[i] == 1
            if oc == A:
                busy += model.channel_units[ch] / 60 * _overlap(
                    outcomes.start_s[i], outcomes.end_s[i], t0, t1)
            if closed or a >= h:
                continue
            stop = {A: outcomes.start_s[i], B: workload.abandon_at_s[i]}.get(int(oc), h)
            queue_time += _overlap(a, stop, t0, t1)
            if model.channel_live[ch] == 0 and a < t1 <= stop:
                backlog += 1
                oldest = min(oldest, a)
        for i in range(workload.n_contacts):
            ch = int(workload.channel[i])
            a = workload.arrival_s[i]
            if workload.queue[i] not in queues or not (t0 <= a < t1):
                continue
            if workload.closed[i]:
                r["lost_closed"] += 1
                continue
            oc = int(outcomes.outcome[i])
            thr = model.channel_sla_s[ch]
            stop = {A: outcomes.start_s[i], B: workload.abandon_at_s[i]}.get(oc, h)
            wait = stop - a
            r["offered"] += 1
            waits.append(wait)
            r["waited"] += oc != A or wait > 0
            has_thr = not np.isnan(thr)
            r["off_thr"] += has_thr
            if oc == A:
                r["answered"] += 1
                waits_ans.append(wait)
                handles.append(outcomes.end_s[i] - outcomes.start_s[i])
                r["within"] += wait <= thr
                r["ans_thr"] += has_thr
                if model.channel_live[ch] == 0 and has_thr:
                    r["ans_def"] += 1
                    r["within_def"] += wait <= thr
            if oc == B:
                r["abandoned"] += 1
                r["short"] += wait <= thr

        def ratio(x, y):
            return x / y if y else np.nan

        has_def = any(model.channel_live[c] == 0 for c in chans)
        out[name] = dict(
            offered=r["offered"], answered=r["answered"], abandoned=r["abandoned"],
            lost_closed=r["lost_closed"],
            asa_s=np.mean(waits_ans) if waits_ans else np.nan,
            mean_wait_s=np.mean(waits) if waits else np.nan,
            p_wait=ratio(r["waited"], r["offered"]),
            service_level=ratio(r["within"], r["off_thr"]),
            service_level_answered=ratio(r["within"], r["ans_thr"]),
            service_level_excl_short_abandons=ratio(r["within"], r["off_thr"] - r["short"]),
            abandon_rate=ratio(r["abandoned"], r["offered"]),
            aht_s=np.mean(handles) if handles else np.nan,
            mean_queue_len=queue_time / (t1 - t0),
            backlog=backlog if has_def else np.nan,
            backlog_age_h=((t1 - oldest) / 3600 if backlog else 0.0) if has_def else np.nan,
            sla_compliance=ratio(r["within_def"], r["ans_def"]),
            busy=busy,
        )
    available = 0.0
    for s in range(roster.n_segments):
        rel = outcomes.release_s[s]
        end = roster.seg_end_s[s] if np.isnan(rel) else rel
        later = [roster.seg_start_s[k] for k in range(roster.n_segments)
                 if roster.seg_agent[k] == roster.seg_agent[s]
                 and roster.seg_start_s[k] > roster.seg_start_s[s]]
        end = min([end, *later])
        available += _overlap(roster.seg_start_s[s], end, t0, t1)
    for name in groups:
        busy = out[name].pop("busy")
        out[name]["occupancy"] = busy / available if name[1] == "all" else np.nan
    return out


def random_run(seed: int):
    rng = np.random.default_rng(seed)
    model = make_model(
        horizon_s=7200, warmup_s=1000, interval_s=900,
        channels=[("phone", 1, 60, 20.0), ("chat", 1, 20, 45.0), ("email", 0, 60, 3000.0),
                  ("sms", 0, 30, NAN)],
        queues=[("a", 0), ("b", 0), ("c", 1), ("d", 2), ("e", 3), ("f", 2)],
        team_cost_per_h=[30.0, 40.0], agent_team=[0, 1, 0, 1],
    )
    n = 400
    arrival = np.sort(rng.uniform(0, 7400, n))  # some beyond the horizon
    queue = rng.integers(0, 6, n)
    live = model.channel_live[model.queue_channel[queue]] == 1
    outcome = rng.choice([A, B, W, L], size=n, p=[0.6, 0.2, 0.1, 0.1])
    outcome = np.where(~live & ((outcome == B) | (outcome == L)), A, outcome)
    wait = np.where(rng.random(n) < 0.3, 0.0, rng.exponential(200, n))
    wait = np.where(live, wait, wait * 10)
    start = np.where(outcome == A, arrival + wait, NAN)
    outcome = np.where((outcome == A) & (start >= 7200), W, outcome)
    start = np.where(outcome == A, start, NAN)
    end = start + rng.exponential(300, n)
    abandon_at = np.where(live, arrival + np.where(outcome == B, wait, wait + 1000), INF)
    outcome = np.where((outcome == B) & (abandon_at >= 7200), W, outcome)
    agent = np.where(outcome == A, rng.integers(0, 4, n), X)
    contacts = list(zip(arrival, queue, outcome, start, end, abandon_at, agent, strict=True))
    segments, shifts, shrinks = [], [], []
    for ag in range(4):
        t = rng.uniform(0, 500)
        shift_end = t + 6000
        shifts.append((ag, t, shift_end))
        while t < shift_end:
            end_s = min(t + rng.uniform(300, 2000), shift_end)
            release = end_s + (rng.exponential(100) if rng.random() < 0.7 else 0.0)
            segments.append((ag, t, end_s, release if end_s < 7200 else NAN))
            gap = rng.uniform(0, 300)
            if end_s < shift_end:
                shrinks.append((ag, end_s, min(end_s + gap, shift_end), 0))
            t = end_s + gap
    segments.sort(key=lambda s: (s[1], s[0]))
    workload, roster, outcomes = make_run(model, contacts, segments, shifts, shrinks)
    return model, workload, roster, outcomes


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_case_matches_the_definitions(seed):
    model, workload, roster, outcomes = random_run(seed)
    m = measure(model, workload, roster, outcomes)
    totals = m.totals.assign(queue="all").set_index(["channel", "queue"])
    cases = [(totals, model.warmup_s, model.horizon_s)]
    for k in range(1, 8):
        t0, t1 = max(k * 900.0, 1000.0), min((k + 1) * 900.0, 7200.0)
        rows = m.intervals[m.intervals.interval == k]
        cases.append((rows.set_index(["channel", "queue"]), t0, t1))
    for frame, t0, t1 in cases:
        expected = _reference(model, workload, roster, outcomes, t0, t1)
        for name, values in expected.items():
            if name not in frame.index:  # totals have no queue rows
                continue
            for key, value in values.items():
                assert frame.loc[name, key] == pytest.approx(value, rel=1e-9, nan_ok=True), (
                    t0, name, key)


def test_unsorted_arrivals_give_the_same_kpis():
    # The contract says arrivals are sorted; the slower path for unsorted ones must agree.
    model, workload, roster, outcomes = random_run(4)
    order = np.random.default_rng(0).permutation(workload.n_contacts)
    shuffled_w = workload.rows(order)
    shuffled_o = Outcomes(**{
        f: getattr(outcomes, f)[order] if f not in ("release_s", "followups")
        else getattr(outcomes, f)
        for f in Outcomes.__dataclass_fields__
    })
    a = measure(model, workload, roster, outcomes)
    b = measure(model, shuffled_w, roster, shuffled_o)
    pd.testing.assert_frame_equal(a.totals, b.totals, rtol=1e-9)
    pd.testing.assert_frame_equal(a.intervals, b.intervals, rtol=1e-9)
