"""The streaming path (chunks of days, bounded memory) gives exactly the one-shot results.

* Sampling: the per-day workloads concatenate to ``sample_workload``, whatever the split.
* Kernel: a :class:`~sim.engines.kernel.KernelStream` fed in arbitrary windows and advanced
  to arbitrary times gives the one-shot kernel's outcomes bit for bit (and the one-shot
  kernel equals the SimPy engine: tests/engines/test_equivalence.py).
* KPIs: ``simulate_and_measure`` (any ``chunk_days``) equals ``measure`` over the one-shot
  run to the last bit, on generated 2-day scenarios, generated multi-week ones and
  hand-made multi-week ones (deferred backlog over weekends and chunk boundaries, long
  patience, warm-up, shifts and shrinkage).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sim.compile import compile_scenario
from sim.engines import simulate
from sim.engines.kernel import KernelStream
from sim.experiment import prepare, replication_seed, run_replication
from sim.kpi import Accumulator, Measured, journey_windows, measure
from sim.model import WORKLOAD_ARRAYS, Followups, Workload
from sim.scenario import load_scenario, parse_scenario
from sim.stream import simulate_and_measure
from sim.workload import sample_workload, sample_workload_days
from tests.strategies import scenario_dicts, seeds, small_scenarios

pytest.importorskip("sim._kernel", reason="compiled kernel not built")

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "scenarios" / "valid"
OUTCOME_FIELDS = ("outcome", "agent", "start_s", "end_s", "fate")


def one_shot(scenario, seed) -> Measured:
    model, workload, roster = prepare(scenario, seed)
    return measure(model, workload, roster, simulate(model, workload, roster, engine="kernel"),
                   journey_windows(scenario, model))


def assert_measured_identical(got: Measured, want: Measured) -> None:
    """Same frames, exactly; float columns compared bit for bit."""
    for name in ("totals", "intervals"):
        a, b = getattr(got, name), getattr(want, name)
        pd.testing.assert_frame_equal(a, b, check_exact=True)
        for col in a.columns:
            x, y = a[col].to_numpy(), b[col].to_numpy()
            if x.dtype == np.float64:
                assert np.array_equal(x.view(np.uint64), y.view(np.uint64)), (name, col)
    assert got.n_contacts == want.n_contacts


# --------------------------------------------------------------------------------------------
# Sampling by day


def _assert_workloads_equal(a: Workload, b: Workload) -> None:
    for key in WORKLOAD_ARRAYS:
        x, y = getattr(a, key), getattr(b, key)
        assert x.dtype == y.dtype, key
        assert np.array_equal(x, y), key


@given(scenario=small_scenarios(), seed=seeds(), split=st.integers(0, 2))
def test_days_concatenate_to_sample_workload(scenario, seed, split):
    model, whole, _ = prepare(scenario, seed)
    ss = np.random.SeedSequence(seed)
    parts = [sample_workload_days(scenario, model, ss, 0, split),
             sample_workload_days(scenario, model, ss, split, 99)]
    joined = Workload(**{k: np.concatenate([getattr(p, k) for p in parts])
                         for k in WORKLOAD_ARRAYS})
    _assert_workloads_equal(joined, whole)
    assert np.all(np.diff(whole.arrival_s) >= 0)


def test_days_of_a_long_scenario_do_not_depend_on_the_split():
    scenario = load_scenario(CORPUS / "omnichannel_shifts.yaml")
    model, whole, _ = prepare(scenario, 5)
    ss = np.random.SeedSequence(5)
    for chunk in (1, 3, 5):
        parts = [sample_workload_days(scenario, model, ss, d, d + chunk)
                 for d in range(0, 14, chunk)]
        joined = Workload(**{k: np.concatenate([getattr(p, k) for p in parts])
                             for k in WORKLOAD_ARRAYS})
        _assert_workloads_equal(joined, whole)
    # a day alone is that day's slice of the whole
    day3 = sample_workload_days(scenario, model, ss, 3, 4)
    lo = int(np.searchsorted(whole.arrival_s, 3 * 86400.0))
    assert np.array_equal(day3.u_route, whole.u_route[lo:lo + day3.n_contacts])
    _assert_workloads_equal(sample_workload(scenario, model, ss), whole)


# --------------------------------------------------------------------------------------------
# Resumable kernel


def stream_outcomes(model, workload, roster, cut_ids, take=True) -> dict:
    """Outcomes of a KernelStream fed the contacts cut at ``cut_ids`` (each piece advanced to
    the next piece's first arrival), finalized contacts taken out after every step."""
    run = KernelStream(model, roster, pools=workload.pools)
    n = workload.n_contacts
    cuts = sorted({0, n, *(int(c) for c in cut_ids if 0 <= c <= n)})
    taken, followups = [], []
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        run.append(workload.rows(slice(lo, hi)))
        until_s = workload.arrival_s[hi] if hi < n else model.horizon_s
        oldest = run.advance(until_s)
        assert oldest <= hi or hi == n
        if take:
            taken.append(run.take_final()[1])
            followups.append(run.take_followups())
    run.advance(model.horizon_s)
    taken.append(run.take_final(everything=True)[1])
    followups.append(run.take_followups(everything=True))
    out = {k: np.concatenate([getattr(o, k) for o in taken]) for k in OUTCOME_FIELDS}
    out["release_s"] = run.release_s
    out["followups"] = Followups.concat(followups)
    return out


def assert_outcomes_identical(got: dict, want) -> None:
    for key in (*OUTCOME_FIELDS, "release_s"):
        x, y = got[key], getattr(want, key)
        assert np.array_equal(x, y, equal_nan=True), key
    if want.followups is not None:
        for key, y in want.followups.columns.items():
            assert np.array_equal(got["followups"].columns[key], y, equal_nan=True), key
    else:
        assert got["followups"].n == 0


@given(scenario=small_scenarios(), seed=seeds(),
       cuts=st.lists(st.integers(0, 2000), max_size=8), take=st.booleans())
def test_kernel_stream_matches_one_shot(scenario, seed, cuts, take):
    model, workload, roster = prepare(scenario, seed)
    want = simulate(model, workload, roster, engine="kernel")
    assert_outcomes_identical(stream_outcomes(model, workload, roster, cuts, take), want)


@settings(max_examples=25)
@given(scenario=small_scenarios(), seed=seeds(), every=st.integers(1, 25))
def test_kernel_stream_with_a_step_every_few_contacts(scenario, seed, every):
    # Many steps: contacts are dropped as soon as they are final, so ABANDON events of
    # contacts answered (and dropped) before their patience ran out pop after the window
    # has moved past them, and queues are compacted at every step.
    model, workload, roster = prepare(scenario, seed)
    want = simulate(model, workload, roster, engine="kernel")
    cuts = range(0, workload.n_contacts, every)
    assert_outcomes_identical(stream_outcomes(model, workload, roster, cuts), want)


def test_kernel_stream_checks_its_contract():
    scenario = load_scenario(CORPUS / "mmc_plus_m.yaml")
    model, workload, roster = prepare(scenario, 1)
    run = KernelStream(model, roster, pools=workload.pools)
    with pytest.raises(ValueError, match="arrival order"):
        run.append(workload.rows(slice(49, None, -1)))
    run.append(workload.rows(slice(0, 500)))
    run.advance(float(workload.arrival_s[500]))
    with pytest.raises(ValueError, match="before the previous call"):
        run.advance(0.0)
    # a window that starts after the oldest pending contact is refused
    raw = run._run
    n = 10
    window = [getattr(workload, k)[600:600 + n].copy() for k in
              ("arrival_s", "queue", "work_s", "abandon_at_s", "u_route", "closed")]
    outs = [np.zeros(n, np.int8), np.full(n, -1, np.int32), np.full(n, np.nan),
            np.full(n, np.nan)]
    with pytest.raises(ValueError, match="oldest pending"):
        raw.advance(*window, *outs, 600, float(workload.arrival_s[610]), None, None, None,
                    None, None, np.zeros(n, np.int8))


# --------------------------------------------------------------------------------------------
# Streaming KPIs


@given(scenario=small_scenarios(), seed=seeds(), chunk_days=st.sampled_from([1, 2]))
def test_streaming_kpis_equal_one_shot(scenario, seed, chunk_days):
    assert_measured_identical(simulate_and_measure(scenario, compile_scenario(scenario), seed,
                                                   chunk_days), one_shot(scenario, seed))


@st.composite
def multi_week_scenarios(draw):
    """Generated scenarios over 8 to 20 days, sometimes with a warm-up and day factors."""
    data = draw(scenario_dicts())
    data["horizon"]["days"] = draw(st.integers(8, 20))
    if draw(st.booleans()):
        data["horizon"]["warmup"] = draw(st.sampled_from(["6h", "1d", "3d"]))
    if draw(st.booleans()):
        data["demand"]["overdispersion"] = 0.3
    return parse_scenario(yaml.safe_dump(data), "<generated>")


@settings(max_examples=8, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(scenario=multi_week_scenarios(), seed=seeds(), chunk_days=st.sampled_from([1, 3, 7]))
def test_streaming_kpis_equal_one_shot_over_weeks(scenario, seed, chunk_days):
    assert_measured_identical(simulate_and_measure(scenario, compile_scenario(scenario), seed,
                                                   chunk_days), one_shot(scenario, seed))


LONG_PATIENCE = """
name: backlog over weekends, long patience
horizon: {start: 2026-01-07, days: 17, warmup: 30h, interval: 45min}
channels:
  phone:
    kind: live
    patience: {dist: lognormal, mean: 20h, cv: 1.5}
    sla: {threshold: 30s, target: 0.8}
    hours: {mon-fri: "08:00-18:00", sat: "09:00-13:00", sun: closed}
    when_closed: voicemail
    voicemail_to: email
  email:
    kind: deferred
    sla: {threshold: 36h, target: 0.9}
contact_types:
  ask: {queue: general, share: {phone: 0.7, email: 0.6},
        handle_time: {dist: exponential, mean: 7min}}
  pay: {queue: billing, share: {phone: 0.3, email: 0.4},
        handle_time: {dist: gamma, mean: 12min, cv: 0.8}}
demand: {daily: {phone: 150, email: 60}, overdispersion: 0.2}
teams:
  desk:
    skills: {general: 1.0, billing: {proficiency: 0.8, priority: 2}}
    channels: [phone, email]
    shifts:
      - {start: "08:00", length: 9h, days: mon-fri, agents: 5}
      - {start: "09:00", length: 4h, days: sat, agents: 1}
  night:
    skills: {billing: 1.0}
    channels: [email]
    shifts:
      - {start: "22:00", length: 8h, days: [tue, thu], agents: 1}
shrinkage:
  breaks: [{after: 2h, length: 15min, jitter: 30min}]
  lunch: {after: 4h, length: 30min, jitter: 30min}
  absence: 0.1
routing: {on_arrival: longest_idle, on_free: oldest}
"""


@pytest.mark.parametrize("chunk_days", [1, 2, 7, 30])
@pytest.mark.parametrize("case", ["long_patience", "office_hours_voicemail.yaml",
                                  "omnichannel_shifts.yaml", "monthly_seasonal.yaml",
                                  "routing_library.yaml"])
def test_streaming_kpis_equal_one_shot_hand_made(case, chunk_days):
    if case == "long_patience":
        scenario = parse_scenario(LONG_PATIENCE, "<long_patience>")
    else:
        scenario = load_scenario(CORPUS / case)
    model = compile_scenario(scenario)
    seed = replication_seed(17, 2)
    want = one_shot(scenario, seed)
    assert_measured_identical(simulate_and_measure(scenario, model, seed, chunk_days), want)


def test_long_patience_case_keeps_contacts_pending_across_chunks():
    # The hand-made case really carries state over day boundaries: contacts wait overnight
    # and over the weekend, so a window holds contacts of earlier days; and contacts that
    # were answered, finished and dropped still have an ABANDON event in the heap, which
    # pops after the window has moved past them.
    scenario = parse_scenario(LONG_PATIENCE, "<long_patience>")
    model, workload, roster = prepare(scenario, 3)
    run = KernelStream(model, roster, pools=workload.pools)
    held_over = stale_abandons = 0
    for day in range(int(model.horizon_s // 86400)):
        lo, hi = np.searchsorted(workload.arrival_s, [day * 86400.0, (day + 1) * 86400.0])
        run.append(workload.rows(slice(lo, hi)))
        until_s = (day + 1) * 86400.0
        run.advance(until_s)
        held_over = max(held_over, hi - run.oldest_pending_id)
        w, o = run.take_final()
        stale_abandons += int(np.count_nonzero(
            (o.outcome == 1) & (o.start_s > w.arrival_s) & (w.abandon_at_s >= until_s)
            & np.isfinite(w.abandon_at_s)))
    assert held_over > 100
    assert stale_abandons > 10


def test_run_replication_streams_the_kernel_with_the_one_shot_numbers():
    scenario = load_scenario(CORPUS / "office_hours_voicemail.yaml")
    model = compile_scenario(scenario)
    streamed = run_replication(scenario, model, 9, 1, engine="kernel")
    kept = run_replication(scenario, model, 9, 1, engine="kernel", keep_contacts=True)
    assert streamed.contacts is None and kept.contacts is not None
    assert streamed.n_contacts == kept.n_contacts == len(kept.contacts)
    pd.testing.assert_frame_equal(streamed.totals, kept.totals, check_exact=True)
    pd.testing.assert_frame_equal(streamed.intervals, kept.intervals, check_exact=True)


# --------------------------------------------------------------------------------------------
# The accumulator on its own


@example(n_batches=1)
@given(n_batches=st.integers(1, 30))
def test_accumulator_batches_in_id_order_are_exact(n_batches):
    scenario = load_scenario(CORPUS / "omnichannel_shifts.yaml")
    model, workload, roster = prepare(scenario, 4)
    outcomes = simulate(model, workload, roster, engine="kernel")
    rng = np.random.default_rng(n_batches)
    cuts = np.sort(rng.integers(0, workload.n_contacts, n_batches - 1))
    cuts = [0, *cuts.tolist(), workload.n_contacts]
    acc = Accumulator(model)
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        w = workload.rows(slice(lo, hi))
        o = type(outcomes)(**{k: getattr(outcomes, k)[lo:hi] for k in OUTCOME_FIELDS},
                           release_s=np.zeros(0))
        acc.add_contacts(w, o)
    acc.add_roster(roster, outcomes.release_s)
    assert_measured_identical(acc.result(), measure(model, workload, roster, outcomes))
