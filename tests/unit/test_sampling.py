"""Workload and roster sampling: counts, rates and shares within standard-error bounds.

Each statistical check uses a tolerance of 4 standard errors of the quantity under the
model that generated it (Poisson counts: sqrt(mean); binomial shares: sqrt(p(1-p)/n);
sample means: sd/sqrt(n)). Seeds are fixed, so the tests are deterministic; the 4-SE band
makes a correct sampler fail with probability ~6e-5 per check.
"""

from __future__ import annotations

import pickle

import numpy as np
import yaml

from sim.compile import compile_scenario
from sim.model import POOL_BLOCK, SHRINK_KINDS
from sim.roster import (
    _availability,
    _availability_by_shift,
    _availability_sweep,
    intended_shrinkage,
    sample_roster,
)
from sim.scenario import parse_scenario
from sim.workload import STREAMS, DayStreams, WorkloadSampler, _arrival_order, sample_workload

Z = 4.0


def scenario(**over):
    base = {
        "name": "sampling",
        "horizon": {"start": "2026-01-05", "days": 14, "interval": 3600},
        "channels": {"phone": {"kind": "live",
                               "patience": {"dist": "exponential", "mean": 120}},
                     "email": {"kind": "deferred"}},
        "contact_types": {
            "a": {"queue": "q", "share": {"phone": 0.7, "email": 1.0},
                  "handle_time": {"dist": "lognormal", "mean": 300, "cv": 0.5},
                  "wrap_up": {"dist": "deterministic", "value": 30}},
            "b": {"queue": "q", "share": {"phone": 0.3},
                  "handle_time": {"dist": "exponential", "mean": 600}}},
        "demand": {"daily": {"phone": 2400, "email": 240}},
        "teams": {"t": {"headcount": 20, "skills": {"q": 1.0},
                        "channels": ["phone", "email"]}},
    }
    for key, value in over.items():
        node = base
        *path, last = key.split("__")
        for p in path:
            node = node[p]
        node[last] = value
    s = parse_scenario(yaml.safe_dump(base, sort_keys=False), "<test>")
    return s, compile_scenario(s)


def test_poisson_counts_flat_rate():
    s, m = scenario()
    w = sample_workload(s, m, 1)
    phone = w.arrival_s[w.channel == 0]
    # 2,400 a day for 14 days: N ~ Poisson(33,600)
    assert abs(phone.size - 33600) <= Z * np.sqrt(33600)
    # each hour of the day, pooled over 14 days: Poisson(1,400)
    per_hour = np.bincount((phone % 86400 // 3600).astype(int), minlength=24)
    assert np.all(np.abs(per_hour - 1400) <= Z * np.sqrt(1400))
    assert np.all(np.diff(w.arrival_s) >= 0)  # sorted by arrival


def test_intraday_weekday_and_special_days():
    weights = [1] * 24
    weights[9] = 5  # 5/28 of the day's calls between 09:00 and 10:00
    s, m = scenario(demand__intraday={"phone": weights},
                    demand__weekday={"sat": 0.5, "sun": 0.0},
                    demand__special_days={"2026-01-07": 2.0})
    w = sample_workload(s, m, 2)
    t = w.arrival_s[w.channel == 0]
    day = (t // 86400).astype(int)
    # Sundays (days 6 and 13) get nothing
    assert not np.isin(day, [6, 13]).any()
    # Wednesday 7 January (day 2) is doubled: Poisson(4,800)
    assert abs((day == 2).sum() - 4800) <= Z * np.sqrt(4800)
    # Saturdays (days 5, 12) are halved: Poisson(2 x 1,200)
    assert abs(np.isin(day, [5, 12]).sum() - 2400) <= Z * np.sqrt(2400)
    # the 09:00 hour of ordinary weekdays: 5/28 of 2,400 on 9 days
    ordinary = ~np.isin(day, [2, 5, 6, 12, 13])
    expect = 2400 * 5 / 28 * 9
    hour9 = ((t % 86400 // 3600) == 9) & ordinary
    assert abs(hour9.sum() - expect) <= Z * np.sqrt(expect)


def test_monthly_volumes_and_month_factors():
    s, m = scenario(horizon={"start": "2026-01-01", "months": 2, "interval": 3600},
                    demand={"monthly": {"phone": 3100, "email": 0},
                            "month_factor": {"feb": 2.0}})
    w = sample_workload(s, m, 3)
    t = w.arrival_s[w.channel == 0]
    jan = (t < 31 * 86400).sum()
    feb = (t >= 31 * 86400).sum()
    assert abs(jan - 3100) <= Z * np.sqrt(3100)
    assert abs(feb - 6200) <= Z * np.sqrt(6200)


def test_contact_type_shares_and_work_content():
    s, m = scenario()
    w = sample_workload(s, m, 4)
    phone = w.channel == 0
    n = phone.sum()
    share_a = (w.ctype[phone] == 0).mean()
    assert abs(share_a - 0.7) <= Z * np.sqrt(0.7 * 0.3 / n)
    assert (w.ctype[~phone] == 0).all()  # email: type a only
    # type a: lognormal mean 300 s, cv 0.5, plus 30 s wrap-up
    a = w.work_s[w.ctype == 0]
    assert abs(a.mean() - 330) <= Z * 150 / np.sqrt(a.size)
    b = w.work_s[w.ctype == 1]
    assert abs(b.mean() - 600) <= Z * 600 / np.sqrt(b.size)
    assert (w.work_s > 0).all()


def test_patience_only_on_live_channels():
    s, m = scenario()
    w = sample_workload(s, m, 5)
    phone = w.channel == 0
    patience = w.abandon_at_s[phone] - w.arrival_s[phone]
    assert abs(patience.mean() - 120) <= Z * 120 / np.sqrt(patience.size)
    assert np.isinf(w.abandon_at_s[~phone]).all()


def test_closed_hours_lost_or_voicemail():
    s, m = scenario(channels__phone__hours={"mon-sun": "08:00-20:00"})
    w = sample_workload(s, m, 6)
    tod = w.arrival_s % 86400
    night = (tod < 8 * 3600) | (tod >= 20 * 3600)
    # demand is flat over the channel's open hours by default: nothing arrives at night
    assert not (night & (w.channel == 0)).any()
    # with an intraday profile over 24 h, night calls arrive and are lost ...
    s, m = scenario(channels__phone__hours={"mon-sun": "08:00-20:00"},
                    demand__intraday={"phone": [1] * 24})
    w = sample_workload(s, m, 6)
    night = ((w.arrival_s % 86400) < 8 * 3600) | ((w.arrival_s % 86400) >= 20 * 3600)
    assert (w.closed[night & (w.channel == 0)] == 1).all()
    assert (w.closed[~night] == 0).all()
    assert abs(w.closed.sum() - 1200 * 14) <= Z * np.sqrt(1200 * 14)
    # ... or go to voicemail: they become email contacts that never abandon
    s, m = scenario(channels__phone__hours={"mon-sun": "08:00-20:00"},
                    channels__phone__when_closed="voicemail",
                    channels__phone__voicemail_to="email",
                    demand__intraday={"phone": [1] * 24})
    w2 = sample_workload(s, m, 6)
    assert (w2.closed == 0).all()
    moved = (w2.channel == 1) & (((w2.arrival_s % 86400) < 8 * 3600)
                                 | ((w2.arrival_s % 86400) >= 20 * 3600))
    assert np.isinf(w2.abandon_at_s[moved]).all()
    assert moved.sum() > 1000


def test_overdispersion_inflates_daily_variance():
    s, m = scenario(horizon={"start": "2026-01-05", "days": 60, "interval": 3600},
                    demand__overdispersion=0.5)
    w = sample_workload(s, m, 7)
    daily = np.bincount((w.arrival_s[w.channel == 0] // 86400).astype(int), minlength=60)
    # Poisson alone: var/mean ~ 1 +/- 0.18; Gamma cv 0.5 on 2,400/day: ~ 1 + 0.25 * 2400
    assert daily.var(ddof=1) / daily.mean() > 50
    s, m = scenario(horizon={"start": "2026-01-05", "days": 60, "interval": 3600})
    w = sample_workload(s, m, 7)
    daily = np.bincount((w.arrival_s[w.channel == 0] // 86400).astype(int), minlength=60)
    assert daily.var(ddof=1) / daily.mean() < 1 + Z * np.sqrt(2 / 59)


def test_same_seed_same_workload_other_seed_differs():
    s, m = scenario()
    a, b, c = (sample_workload(s, m, k) for k in (9, 9, 10))
    assert np.array_equal(a.arrival_s, b.arrival_s) and np.array_equal(a.work_s, b.work_s)
    assert a.arrival_s.size != c.arrival_s.size or not np.array_equal(a.arrival_s, c.arrival_s)


def test_day_streams_are_numpys_seeded_streams():
    """DayStreams redoes numpy's seeding arithmetic: each (purpose, day) stream must be the
    generator of its SeedSequence, whatever the entropy size and spawn key."""
    names = WorkloadSampler.DAY_STREAMS
    for entropy, key in ((9, (0,)), (2**70 + 5, (3, 2**40)), (0, ()), (123, (1, 2, 3)),
                         ([5, 6], (1,))):
        ss = np.random.SeedSequence(entropy, spawn_key=key)
        rng = DayStreams(ss, names)
        assert rng.fast == isinstance(entropy, int)  # else numpy's own seeding
        for d in (0, 1, 40, 1000, 3):
            for name in names:
                ref = np.random.default_rng(np.random.SeedSequence(
                    entropy, spawn_key=(*key, STREAMS.index(name), d)))
                got = rng(name, d)
                assert np.array_equal(got.random(3), ref.random(3))
                assert np.array_equal(got.normal(size=3), ref.normal(size=3))
                # 32-bit draws leave half a 64-bit word buffered: not kept by the next
                assert np.array_equal(got.integers(0, 10, 3), ref.integers(0, 10, 3))


def test_keyed_streams_are_numpys_seeded_streams():
    """With keys of several words (the follow-up pools' (stream, class)), each name at its
    own pace: the streams of ``SeedSequence(entropy, spawn_key=(*key, *keys[name], d))``."""
    names = tuple(range(5))
    for entropy, key in ((9, (0,)), (2**70 + 5, (3, 2**40)), (0, ()), ([5, 6], (1,))):
        ss = np.random.SeedSequence(entropy, spawn_key=key)
        rng = DayStreams(ss, names, {k: (8, 3 * k) for k in names}, ahead=4)
        assert rng.fast == isinstance(entropy, int)
        for name, d in ((3, 0), (0, 5), (3, 1), (4, 200), (3, 0), (1, 31), (1, 32), (3, 33)):
            ref = np.random.default_rng(np.random.SeedSequence(
                entropy, spawn_key=(*key, 8, 3 * name, d)))
            assert np.array_equal(rng(name, d).random(4), ref.random(4))


def test_pool_blocks_are_drawn_from_their_own_streams():
    """Block ``b`` of pool class ``k`` draws, from the stream keyed (followup, k, b), in
    turn: the channel uniforms, delays, handle and wrap-up times, patience, u_route and
    u_outcome; whatever the order the blocks are asked for."""
    s, m = scenario(**{"contact_types__a__repeat": {
        "delay": {"dist": "exponential", "mean": 3600},
        "channel": {"phone": 0.5, "email": 0.5}}})
    ss = np.random.SeedSequence(17).spawn(2)[1]
    pools = WorkloadSampler(s, m, ss).pools
    k = int(m.journeys.class_repeat[0, 0])
    n = POOL_BLOCK
    for b in (3, 0, 40, 1, 3):
        block = pools.block(k, b)
        rng = np.random.default_rng(np.random.SeedSequence(
            ss.entropy, spawn_key=(*ss.spawn_key, STREAMS.index("followup"), k, b)))
        phone = rng.random(n) < 0.5
        assert np.array_equal(block["queue"], np.where(phone, 0, 1))
        assert np.array_equal(block["delay_s"], rng.exponential(3600, n))
        sigma2 = np.log1p(0.5 ** 2)
        work = rng.lognormal(np.log(300) - sigma2 / 2, np.sqrt(sigma2), n) + 30.0
        assert np.array_equal(block["work_s"], work)
        patience = np.full(n, np.inf)
        patience[phone] = rng.exponential(120, int(phone.sum()))
        assert np.array_equal(block["patience_s"], patience)
        assert np.array_equal(block["u_route"], rng.random(n))
        assert np.array_equal(block["u_outcome"], rng.random(n))


def test_sampled_days_do_not_depend_on_chunks():
    s, m = scenario(horizon__days=10, demand__overdispersion=0.3)
    whole = sample_workload(s, m, 4)
    sampler = WorkloadSampler(s, m, 4)
    parts = [sampler.days(lo, lo + 3) for lo in range(0, 10, 3)]
    for field in ("arrival_s", "queue", "channel", "ctype", "work_s", "abandon_at_s",
                  "u_route", "closed"):
        joined = np.concatenate([getattr(p, field) for p in parts])
        assert getattr(whole, field).tobytes() == joined.tobytes(), field


def test_arrival_order_is_the_stable_argsort():
    """The arrivals sorted by integer keys: the stable argsort, with ties (equal arrivals,
    offsets alike in their leading bits), empty and one-row chunks, many rows and cells."""
    rng = np.random.default_rng(5)
    for case in range(60):
        n_cells = int(rng.choice([1, 2, 48, 1344, 9000]))
        per_cell = rng.poisson(rng.choice([0.3, 5.0, 40.0]), n_cells)
        offset = rng.random(int(per_cell.sum()))
        if case % 3 == 1 and offset.size > 4:  # ties: repeated offsets within cells
            offset[1::3] = offset[::3][:offset[1::3].size]
        if case % 3 == 2 and offset.size > 4:  # offsets alike but for their last bits
            offset[1::2] = np.nextafter(offset[::2][:offset[1::2].size], 1.0)
        step = float(rng.choice([60.0, 1800.0, 3600.0]))
        cell = np.repeat(np.arange(n_cells) + 17 * case, per_cell)
        arrival_s = cell * step + offset * step
        order, xs = _arrival_order(arrival_s, per_cell, offset)
        ref = np.argsort(arrival_s, kind="stable")
        assert order.tobytes() == ref.astype(np.int64).tobytes()
        assert xs.tobytes() == arrival_s[ref].tobytes()


def test_set_up_shared_by_the_replications_of_a_scenario():
    """The seed-independent set-up is worked out once per scenario: the same draws as a
    sampler set up afresh; another scenario gets its own."""
    from sim import workload

    s, m = scenario(**{"contact_types__a__repeat": {
        "delay": {"dist": "exponential", "mean": 3600}, "channel": "phone"}})
    workload._LAST_SETUP.clear()
    fresh = WorkloadSampler(s, m, 4)
    shared = WorkloadSampler(s, m, 4)
    assert shared.grid is fresh.grid and shared.pools._plans is fresh.pools._plans
    k = int(m.journeys.class_repeat[0, 0])
    for a, b in ((fresh.days(0, 5), shared.days(0, 5)),
                 (fresh.pools.block(k, 2), shared.pools.block(k, 2))):
        a, b = (vars(a), vars(b)) if not isinstance(a, dict) else (a, b)
        for field, value in a.items():
            if isinstance(value, np.ndarray):
                assert value.tobytes() == b[field].tobytes(), field
    s2, m2 = scenario(horizon__days=3)
    assert WorkloadSampler(s2, m2, 4).grid is not fresh.grid


def test_sampler_and_workload_pickle():
    """The samplers keep their distributions' samplers; they (and a Workload) still pickle."""
    s, m = scenario(horizon__days=2)
    sampler = pickle.loads(pickle.dumps(WorkloadSampler(s, m, 3)))
    w = pickle.loads(pickle.dumps(sampler.days(0, 2)))
    assert w.work_s.tobytes() == sample_workload(s, m, 3).work_s.tobytes()


# --------------------------------------------------------------------------- roster

def shift_scenario(days=182, weekly=True):
    s, _ = scenario()
    data = s.model_dump(mode="json")
    data["horizon"] = {"start": "2026-01-05", "days": days, "interval": 1800}
    data["teams"] = {"t": {"skills": {"q": 1.0}, "channels": ["phone", "email"],
                           "shifts": [{"start": "07:00", "length": 30600, "days": "mon-fri",
                                       "agents": 10},
                                      {"start": "22:00", "length": 30600, "days": "daily",
                                       "agents": 5}]}}
    data["shrinkage"] = {
        "breaks": [{"after": 7200, "length": 900, "jitter": 1800},
                   {"after": 23400, "length": 900, "jitter": 1800}],
        "lunch": {"after": 14400, "length": 1800, "jitter": 3600},
        "absence": 0.1}
    if weekly:
        data["shrinkage"]["meetings"] = {"length": 3600, "per_week": 1}
        data["shrinkage"]["training"] = {"length": 3600, "per_week": 2}
    s = parse_scenario(yaml.safe_dump(data, sort_keys=False), "<test>")
    return s, compile_scenario(s)


def test_shrinkage_measured_matches_intent_within_one_point():
    s, m = shift_scenario()
    r = sample_roster(s, m, 11)
    paid = (r.shift_end_s - r.shift_start_s).sum()
    available = (r.seg_end_s - r.seg_start_s).sum()
    measured = 1 - available / paid
    intent = intended_shrinkage(s)
    # 0.10 + 0.90 x (3,600 / 30,600 + 3 x 3,600 / (shifts a week x 30,600)), about 26-28%
    assert 0.2 < intent < 0.35
    # 182 days x 15 positions ~ 2,300 shifts: the absence share alone has an SE of ~0.6
    # points, so 1 point is a ~1.6-SE band for one seed; it holds for this seed and is the
    # issue's requirement. (Shrinkage events never overlap: measured = event time.)
    assert abs(measured - intent) <= 0.01
    events = (r.shrink_end_s - r.shrink_start_s).sum()
    assert abs(events - (paid - available)) < 1e-6 * paid
    kinds = set(np.unique(r.shrink_kind).tolist())
    assert {SHRINK_KINDS.index(k) for k in ("break", "lunch", "meeting", "training",
                                             "absence")} == kinds


def test_segments_inside_shifts_and_outside_shrinkage():
    s, m = shift_scenario(days=14)
    r = sample_roster(s, m, 12)
    for a in range(m.n_agents):
        seg = r.seg_agent == a
        st, en = r.seg_start_s[seg], r.seg_end_s[seg]
        order = np.argsort(st)
        st, en = st[order], en[order]
        assert (en > st).all() and (st[1:] > en[:-1]).all()  # disjoint, never touching
        sh = r.shift_agent == a
        inside = ((st[:, None] >= r.shift_start_s[sh]) & (en[:, None] <= r.shift_end_s[sh]))
        assert inside.any(axis=1).all()
        ev = r.shrink_agent == a
        overlap = ((st[:, None] < r.shrink_end_s[ev]) & (en[:, None] > r.shrink_start_s[ev]))
        assert not overlap.any()


def test_availability_cut_by_shift_is_the_sweeps():
    """The availability cut shift by shift (events overlapping a little, touching, nested,
    touching shifts) is the general sweep's, and falls back to it when events leave their
    shift or end out of order."""
    rng = np.random.default_rng(3)
    by_shift = 0
    for trial in range(300):
        sh_agent, sh_start, sh_end = [], [], []
        for a in range(int(rng.integers(1, 4))):
            t = float(rng.random() * 1e5)
            for _ in range(int(rng.integers(1, 4))):
                t += float(rng.choice([0.0, 3600.0]))  # touching or apart
                sh_agent.append(a)
                sh_start.append(t)
                sh_end.append(t + 30600.0)
                t += 30600.0
        sh_agent = np.array(sh_agent, np.int32)
        sh_start, sh_end = np.array(sh_start), np.array(sh_end)
        ev = []
        for i in range(sh_agent.size):
            for _ in range(int(rng.integers(0, 6))):
                lo = sh_start[i] + rng.random() * 27000.0
                if ev and ev[-1][3] == i and rng.random() < 0.5:
                    lo = ev[-1][2] - rng.choice([0.0, 1e-9, 1e-5, 3600.0])  # touch, overlap
                length = float(rng.choice([900.0, 1800.0, 1e-6]))
                ev.append((sh_agent[i], lo, min(lo + length, sh_end[i]) + (trial % 9 == 0),
                           i))
        ev = sorted(ev, key=lambda e: (e[0], e[1], e[2]))
        ev_agent, ev_start, ev_end, ev_shift = (np.array([e[k] for e in ev], dtype)
                                                for k, dtype in enumerate(
                                                    (np.int32, float, float, np.intp)))
        args = (sh_agent, sh_start, sh_end, ev_agent, ev_start, ev_end)
        fast = _availability(*args, ev_shift)
        for x, y in zip(fast, _availability_sweep(*args), strict=True):
            assert x.dtype == y.dtype and x.tobytes() == y.tobytes()
        by_shift += _availability_by_shift(sh_agent, sh_start, sh_end, ev_start, ev_end,
                                           ev_shift) is not None
    assert 100 < by_shift < 300


def test_breaks_at_their_jittered_times():
    # without meetings (placed at random, they may overlap and trim a lunch)
    s, m = shift_scenario(days=28, weekly=False)
    r = sample_roster(s, m, 13)
    brk = r.shrink_kind == SHRINK_KINDS.index("lunch")
    assert brk.sum() > 100
    # lunch 4 h after shift start, jittered uniformly within +/- 30 min
    for a, t in zip(r.shrink_agent[brk], r.shrink_start_s[brk], strict=True):
        sh = (r.shift_agent == a) & (r.shift_start_s <= t) & (t < r.shift_end_s)
        offset = t - r.shift_start_s[sh][0]
        assert 14400 - 1800 <= offset <= 14400 + 1800


def test_headcount_teams_are_always_on():
    s, m = scenario()
    r = sample_roster(s, m, 14)
    assert r.n_segments == m.n_agents
    assert (r.seg_start_s == 0).all() and (r.seg_end_s == m.horizon_s).all()
    assert r.shrink_agent.size == 0
