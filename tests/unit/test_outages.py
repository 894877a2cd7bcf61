"""Channel outages: sampled periods, what happens to contacts arriving in them."""

from __future__ import annotations

import numpy as np

from sim.compile import compile_scenario
from sim.experiment import prepare, replication_seed
from sim.scenario import parse_scenario
from sim.workload import WorkloadSampler

BASE = """
name: outages
horizon: {{start: 2026-01-05, days: {days}}}
channels:
  phone: {{kind: live, outages: {outages}{extra}}}
  email: {{kind: deferred}}
contact_types:
  a: {{queue: q, share: {{phone: 1, email: 1}}, handle_time: {{dist: exponential, mean: 3min}}}}
demand: {{daily: {{phone: {calls}, email: 10}}}}
teams:
  t: {{headcount: 10, skills: {{q: 1}}, channels: [phone, email]}}
"""


def _scenario(outages: str, days=14, calls=2000, extra=""):
    return parse_scenario(BASE.format(outages=outages, days=days, calls=calls, extra=extra),
                          "<outages>")


def _inside(t, lo, hi) -> np.ndarray:
    k = np.searchsorted(hi, t, side="right")
    return (k < lo.shape[0]) & (lo[np.minimum(k, lo.shape[0] - 1)] <= t)


def test_arrivals_in_an_outage_are_lost_and_only_those():
    s = _scenario("{availability: 0.9, mean_duration: 1h, scheduled: {sun: '02:00-04:00'}}")
    model, w, _ = prepare(s, 5)
    lo, hi = WorkloadSampler(s, model, np.random.SeedSequence(5)).outages(0, 14)[0]
    phone = w.channel == 0
    inside = _inside(w.arrival_s, lo, hi)
    assert np.all(w.closed[phone & inside] == 1)
    assert np.all(w.closed[phone & ~inside] == 0)
    assert np.all(w.closed[~phone] == 0)
    # the Sunday maintenance windows are there: 2026-01-11 and -18, 02:00-04:00
    for day in (6, 13):
        t = day * 86400.0 + np.array([2 * 3600.0, 3.99 * 3600])
        assert _inside(t, lo, hi).all()


def test_voicemail_during_outages_goes_to_the_backlog():
    s = _scenario("{availability: 0.9, mean_duration: 1h, during: voicemail}",
                  extra=", voicemail_to: email")
    model, w, _ = prepare(s, 2)
    lo, hi = WorkloadSampler(s, model, np.random.SeedSequence(2)).outages(0, 14)[0]
    inside = _inside(w.arrival_s, lo, hi)
    email = model.channel_names.index("email")
    redirected = inside & (w.channel == email)
    assert redirected.sum() > 0 and np.all(w.closed == 0)


def test_random_outages_have_the_stated_availability():
    """Each day starts in the stationary state, so every day's expected down share is
    exactly 1 - availability; days are independent: the mean over 400 days is within 4
    standard errors (the day-to-day spread, estimated) of 1 - availability."""
    s = _scenario("{availability: 0.98, mean_duration: 30min}", days=400, calls=10)
    model = compile_scenario(s)
    sampler = WorkloadSampler(s, model, np.random.SeedSequence(9))
    down = []
    for d in range(400):
        lo, hi = sampler.outages_of_day(d)[0]
        down.append((hi - lo).sum() / 86400.0)
    down = np.array(down)
    se = down.std(ddof=1) / np.sqrt(down.shape[0])
    assert abs(down.mean() - 0.02) < 4 * se
    assert se < 0.005  # the test can tell 2% from, say, 4%


def test_outage_periods_do_not_depend_on_the_chunking():
    s = _scenario("{availability: 0.95, mean_duration: 1h}")
    model = compile_scenario(s)
    ss = np.random.SeedSequence(4)
    whole = WorkloadSampler(s, model, ss).outages(0, 14)[0]
    parts = [WorkloadSampler(s, model, ss).outages(d, d + 3)[0] for d in range(0, 14, 3)]
    assert np.array_equal(whole[0], np.concatenate([p[0] for p in parts]))
    assert np.array_equal(whole[1], np.concatenate([p[1] for p in parts]))


def test_availability_kpi_is_the_up_share_in_both_paths():
    import sim

    s = _scenario("{availability: 0.9, mean_duration: 1h, scheduled: {sun: '02:00-04:00'}}")
    model = compile_scenario(s)
    lo, hi = WorkloadSampler(s, model, replication_seed(s.seed, 0)).outages(0, 14)[0]
    want = 1.0 - (hi - lo).sum() / (14 * 86400.0)
    for engine in ("kernel", "simpy"):
        res = sim.run(s, replications=1, workers=1, engine=engine)
        t = res.totals.set_index("channel")
        assert abs(t.loc["phone", "availability"] - want) < 1e-12  # time sums, rounding
        assert np.isnan(t.loc["email", "availability"])
