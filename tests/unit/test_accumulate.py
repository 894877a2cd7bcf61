"""The compiled loops of the KPI accumulator (sim._accumulate) against their numpy references.

Each helper of :mod:`sim.kpi` that has a compiled twin is run twice on the same random
inputs, with the compiled module and with the module handle set to None (the numpy
reference, also the fallback when the module is not built); the arrays must be identical
to the bit (floats compared as raw bytes: NaN payloads and signed zeros included). Then whole
:func:`sim.kpi.measure` runs must give the same KPIs either way.
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager, nullcontext
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import kpi
from sim.compile import compile_scenario
from sim.engines import simulate
from sim.experiment import prepare
from sim.kpi import journey_windows, measure
from tests.report.helpers import SCENARIOS, short_scenario
from tests.strategies import seeds, small_scenarios

pytestmark = pytest.mark.skipif(kpi._accumulate is None, reason="sim._accumulate not built")

FLOATS = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True, width=64)


@contextmanager
def _numpy_only():
    """The numpy reference implementations (as when sim._accumulate is not built)."""
    # NOTE: not the monkeypatch fixture: hypothesis tests may not use function-scoped ones.
    compiled = kpi._accumulate
    kpi._accumulate = None
    try:
        yield
    finally:
        kpi._accumulate = compiled


def _both(fn, make):
    """``make()`` fresh inputs, ``fn`` on them compiled and in numpy; both inputs after."""
    compiled = make()
    fn(*compiled)
    reference = make()
    with _numpy_only():
        fn(*reference)
    return compiled, reference


def _assert_same_bits(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape
    assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()


@st.composite
def cell_items(draw, max_rows=40, max_intervals=30, max_items=300):
    n_r = draw(st.integers(1, max_rows))
    n_k = draw(st.integers(1, max_intervals))
    n = draw(st.integers(0, max_items))
    interval = draw(st.lists(st.integers(0, n_k - 1), min_size=n, max_size=n))
    row = draw(st.lists(st.integers(0, n_r - 1), min_size=n, max_size=n))
    if draw(st.booleans()):
        interval.sort()  # batches come in arrival order: sorted intervals
    return n_r, n_k, np.array(interval, dtype=np.intp), np.array(row, dtype=np.intp)


@settings(max_examples=200, deadline=None)
@given(cell_items(), st.integers(0, 5))
def test_add_cells(items, start):
    n_r, n_k, interval, row = items

    def make():
        return np.full((n_r, n_k), start, dtype=kpi._COUNT_DTYPE), interval, row

    (a, *_), (b, *_) = _both(kpi._add_cells, make)
    _assert_same_bits(a, b)
    assert a.sum() == n_r * n_k * start + interval.shape[0]


@settings(max_examples=200, deadline=None)
@given(cell_items(max_rows=8), st.data())
def test_add_codes(items, data):
    n_q, n_k, interval, queue = items
    n = interval.shape[0]
    n_codes = data.draw(st.integers(1, 10))
    flags = {}
    for code in range(n_codes):
        if data.draw(st.booleans()):
            every = data.draw(st.booleans())
            flags[code] = None if every else np.array(
                data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    # workload queues are int32, computed ones intp
    queue = queue.astype(data.draw(st.sampled_from([np.int32, np.intp])))

    def make():
        return (np.zeros((n_codes * n_q, n_k), dtype=kpi._COUNT_DTYPE), interval, queue,
                n_q, flags)

    (a, *_), (b, *_) = _both(kpi._add_codes, make)
    _assert_same_bits(a, b)


@settings(max_examples=200, deadline=None)
@given(cell_items(max_rows=8), st.data(),
       st.sampled_from([kpi._fate_flags, kpi._first_journey_flags, kpi._decided_flags]))
def test_add_fate_codes(items, data, flags_of):
    # the codes of each contact by a table look-up of its (outcome, fate), as its flags
    n_q, n_k, interval, queue = items
    n = interval.shape[0]
    outcome = np.array(data.draw(st.lists(st.sampled_from(list(kpi.Outcome)), min_size=n,
                                          max_size=n)), dtype=np.int8)
    fate = np.array(data.draw(st.lists(st.sampled_from(list(kpi.Fate)), min_size=n,
                                       max_size=n)), dtype=np.int8)
    queue = queue.astype(data.draw(st.sampled_from([np.int32, np.intp])))

    def make():
        return (np.zeros((max(kpi._N_C, kpi._N_J) * n_q, n_k), dtype=kpi._COUNT_DTYPE),
                interval, queue, n_q, outcome, fate, flags_of)

    (a, *_), (b, *_) = _both(kpi._add_fate_codes, make)
    _assert_same_bits(a, b)


def test_add_fate_codes_rejects_unknown_fates():
    counts = np.zeros((kpi._N_C, 2), dtype=kpi._COUNT_DTYPE)
    one = np.zeros(1, dtype=np.intp)
    with pytest.raises(IndexError):
        kpi._add_fate_codes(counts, one, one, 1, np.zeros(1, np.int8),
                            np.full(1, len(kpi.Fate), np.int8), kpi._fate_flags)
    assert counts.sum() == 0


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 50), st.data())
def test_add_at(size, data):
    n = data.draw(st.integers(0, 200))
    key = np.array(data.draw(st.lists(st.integers(0, size - 1), min_size=n, max_size=n)),
                   dtype=np.intp)
    value = np.array(data.draw(st.lists(FLOATS, min_size=n, max_size=n)), dtype=np.float64)
    start = np.array(data.draw(st.lists(FLOATS, min_size=size, max_size=size)),
                     dtype=np.float64)
    if data.draw(st.booleans()):
        value = value[::-1]  # a strided view, as masked selections are not

    with np.errstate(over="ignore", invalid="ignore"):  # inf - inf, overflow: as numpy
        (a, *_), (b, *_) = _both(kpi._add_at, lambda: (start.copy(), key, value))
    _assert_same_bits(a, b)


def _grid(interval_s, warmup_s, horizon_s):
    model = SimpleNamespace(interval_s=interval_s, warmup_s=warmup_s, horizon_s=horizon_s,
                            n_intervals=int(np.ceil(horizon_s / interval_s - 1e-9)))
    return kpi._Grid(model)


@st.composite
def integral_items(draw):
    interval_s = draw(st.sampled_from([60.0, 900.0, 1800.0, 3600.0, 7.3]))
    warmup_s = draw(st.sampled_from([0.0, 0.0, 3600.0, 1000.5, 1800.0]))
    n_k = draw(st.integers(1, 40))
    horizon_s = warmup_s + draw(st.sampled_from([0.0, 0.3, 1.0])) * interval_s + (
        n_k - 1) * interval_s + 1.0
    grid = _grid(interval_s, warmup_s, horizon_s)
    n_groups = draw(st.integers(1, 6))
    n = draw(st.integers(0, 200))
    # times around and on the bounds, beyond the window, infinite; hi may be below lo
    on_bounds = st.sampled_from(list(grid.bounds) + [-np.inf, np.inf, 0.0, -0.0, horizon_s * 2])
    times = st.one_of(on_bounds, st.floats(warmup_s - interval_s, horizon_s + interval_s))
    lo = np.array(draw(st.lists(times, min_size=n, max_size=n)), dtype=np.float64)
    hi = np.array(draw(st.lists(times, min_size=n, max_size=n)), dtype=np.float64)
    group = np.array(draw(st.lists(st.integers(0, n_groups - 1), min_size=n, max_size=n)),
                     dtype=draw(st.sampled_from([np.int32, np.intp])))
    return grid, n_groups, lo, hi, group


@settings(max_examples=300, deadline=None)
@given(integral_items(), st.booleans())
def test_integral_add(items, no_group):
    grid, n_groups, lo, hi, group = items
    if no_group:
        n_groups, group = 1, None

    def make():
        integral = kpi._Integral(grid, n_groups)
        return integral, lo, hi, group

    def add(integral, *args):
        integral.add(*args)
        integral.add(*args)  # a second batch onto the first

    (a, *_), (b, *_) = _both(add, make)
    for x, y in [(a._hi, b._hi), (a._lo, b._lo)]:
        _assert_same_bits(x[0], y[0])
        _assert_same_bits(x[1], y[1])
    _assert_same_bits(a.value(), b.value())


@settings(max_examples=300, deadline=None)
@given(integral_items())
def test_count_le(items):
    grid, _, lo, hi, _ = items
    x = np.concatenate([lo, hi, np.nextafter(grid.bounds, np.inf),
                        np.nextafter(grid.bounds, -np.inf)])
    x = x[x < np.inf]  # the numpy version indexes past its padded bounds at +inf
    a = grid.count_le(x)
    with _numpy_only():
        b = grid.count_le(x)
    _assert_same_bits(a, b)
    assert (a == np.searchsorted(grid.bounds[1:-1], x, side="right")).all()


def test_terminal_fates_are_isin():
    fate = np.arange(-128, 128, dtype=np.int8)
    assert (kpi._terminal(fate) == np.isin(fate, kpi._TERMINAL)).all()
    assert (kpi._terminal(fate[::3]) == np.isin(fate[::3], kpi._TERMINAL)).all()


@pytest.fixture(scope="module")
def deferred_model():
    """CareConnect over 3 days, 6-hour intervals: live and deferred queues."""
    scenario = short_scenario(SCENARIOS / "careconnect.yaml", days=3)
    model = compile_scenario(scenario)
    model = dataclasses.replace(model, interval_s=6 * 3600.0)
    deferred = model.channel_live[model.queue_channel] == 0
    assert deferred.any() and not deferred.all()
    return model


@st.composite
def backlog_batches(draw, model):
    n = draw(st.integers(0, 150))
    warmup_s, horizon_s = float(model.warmup_s), float(model.horizon_s)
    bounds = np.arange(0.0, horizon_s + 1, model.interval_s)
    times = st.one_of(st.sampled_from(list(bounds) + [warmup_s, horizon_s]),
                      st.floats(0.0, horizon_s * 1.1))
    arrival_s = np.array(draw(st.lists(times, min_size=n, max_size=n)))
    if draw(st.booleans()):
        arrival_s.sort()  # first contacts: in arrival order; follow-ups: not
    waits = st.one_of(st.just(0.0), st.just(np.inf), st.sampled_from([model.interval_s]),
                      st.floats(0.0, horizon_s))
    stop_s = arrival_s + np.array(draw(st.lists(waits, min_size=n, max_size=n)))
    stop_s = np.minimum(stop_s, horizon_s)  # a wait ends at the horizon at the latest
    queue = np.array(draw(st.lists(st.integers(0, model.n_queues - 1), min_size=n,
                                   max_size=n)), dtype=np.int32)
    closed = np.array(draw(st.lists(st.sampled_from([0, 0, 0, 1]), min_size=n, max_size=n)),
                      dtype=np.int8)
    return SimpleNamespace(arrival_s=arrival_s, queue=queue, closed=closed), stop_s


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_add_backlog(deferred_model, data):
    batches = data.draw(st.lists(backlog_batches(deferred_model), min_size=1, max_size=3))

    def make():
        return (kpi.Accumulator(deferred_model),)

    def add(acc):
        for workload, stop_s in batches:
            acc._add_backlog(workload, stop_s)

    (a,), (b,) = _both(add, make)
    _assert_same_bits(a._backlog, b._backlog)
    _assert_same_bits(a._oldest_s, b._oldest_s)


@st.composite
def contact_batches(draw, model):
    """Window contacts with random outcomes, waits (NaN and infinite ones too), handle
    times; and per-queue thresholds, NaN for some."""
    n = draw(st.integers(0, 150))
    warmup_s, horizon_s = float(model.warmup_s), float(model.horizon_s)
    arrival_s = np.array(draw(st.lists(st.floats(warmup_s, horizon_s, exclude_max=True),
                                       min_size=n, max_size=n)))
    if draw(st.booleans()):
        arrival_s.sort()
    some = st.one_of(st.floats(-10.0, 1e5), st.sampled_from([0.0, -0.0, np.inf, np.nan]))

    def floats():
        return np.array(draw(st.lists(some, min_size=n, max_size=n)), dtype=np.float64)

    stop_s = arrival_s + floats()
    outcome = np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)), np.int8)
    closed = np.array(draw(st.lists(st.sampled_from([0, 0, 0, 1, 2]), min_size=n,
                                    max_size=n)), np.int8)
    outcome[closed == 1] = 3  # LOST_CLOSED
    queue = np.array(draw(st.lists(st.integers(0, model.n_queues - 1), min_size=n,
                                   max_size=n)), dtype=np.int32)
    start_s = arrival_s + floats()
    end_s = start_s + floats()
    threshold_s = np.array(draw(st.lists(st.sampled_from([np.nan, 0.0, 20.0, 3600.0]),
                                         min_size=model.n_queues, max_size=model.n_queues)))
    severity = np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)), np.int8)
    resolved = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    contacts = SimpleNamespace(arrival_s=arrival_s, queue=queue, closed=closed)
    outcomes = SimpleNamespace(outcome=outcome, start_s=start_s, end_s=end_s)
    return contacts, outcomes, stop_s, threshold_s, severity, resolved, floats()


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_add_contact_sums_and_resolutions(deferred_model, data):
    batches = data.draw(st.lists(contact_batches(deferred_model), min_size=1, max_size=3))
    threshold_s = batches[0][3]

    def make():
        acc = kpi.Accumulator(deferred_model)
        acc._threshold_s = threshold_s
        return (acc,)

    def add(acc):
        for contacts, outcomes, stop_s, _, severity, resolved, time_s in batches:
            acc._add_contact_sums(contacts, outcomes, stop_s)
            interval = acc._grid.local_interval(contacts.arrival_s)
            acc._add_resolutions(interval, contacts.queue, severity, resolved, time_s)

    with np.errstate(invalid="ignore"):  # inf - inf: NaN, as in numpy
        (a,), (b,) = _both(add, make)
    for name in ("_counts", "_wait_s", "_handle_s", "_resolved", "_resolve_s"):
        _assert_same_bits(getattr(a, name), getattr(b, name))


def test_outcome_lost_closed_of_an_open_contact_is_rejected(deferred_model):
    warmup_s = float(deferred_model.warmup_s)
    contacts = SimpleNamespace(arrival_s=np.array([warmup_s, warmup_s + 1.0]),
                               queue=np.zeros(2, np.int32), closed=np.zeros(2, np.int8))
    outcomes = SimpleNamespace(outcome=np.array([1, 3], np.int8), start_s=np.zeros(2),
                               end_s=np.zeros(2))
    for numpy_only in (False, True):
        acc = kpi.Accumulator(deferred_model)
        with _numpy_only() if numpy_only else nullcontext():
            with pytest.raises(ValueError, match="LOST_CLOSED"):
                acc._add_contact_sums(contacts, outcomes, contacts.arrival_s)
        assert acc._counts.sum() == 0  # nothing added


def test_compiled_loops_reject_cells_outside_the_table():
    counts = np.zeros((2, 3), dtype=kpi._COUNT_DTYPE)
    with pytest.raises(IndexError):
        kpi._add_cells(counts, np.array([0, 3], np.intp), np.array([0, 0], np.intp))
    with pytest.raises(IndexError):
        kpi._add_at(np.zeros(3), np.array([3], np.intp), np.array([1.0]))
    with pytest.raises(IndexError):
        kpi._add_codes(counts, np.array([0], np.intp), np.array([2], np.int32), 2,
                       {0: None})


# --------------------------------------------------------------------------------------------
# Whole runs


def _assert_measured_identical(a, b) -> None:
    for x, y in [(a.totals, b.totals), (a.intervals, b.intervals)] + (
            [(a.queue_rows, b.queue_rows)] if a.queue_rows is not None else []):
        assert list(x.columns) == list(y.columns)
        for col in x.columns:
            u, v = x[col].to_numpy(), y[col].to_numpy()
            if u.dtype.kind == "f":
                _assert_same_bits(u, v)
            else:
                assert (u == v).all(), col
    assert a.n_contacts == b.n_contacts


def _measure_both(*args, **kw):
    compiled = measure(*args, **kw)
    with _numpy_only():
        reference = measure(*args, **kw)
    return compiled, reference


def test_measure_careconnect_identical():
    scenario = short_scenario(SCENARIOS / "careconnect.yaml", days=10)
    model = compile_scenario(scenario)
    _, workload, roster = prepare(scenario, 7, model)
    outcomes = simulate(model, workload, roster, engine="kernel")
    assert outcomes.followups is not None and outcomes.followups.n > 0
    windows = journey_windows(scenario, model)
    for queue_intervals in (True, False):
        a, b = _measure_both(model, workload, roster, outcomes, windows,
                             queue_intervals=queue_intervals,
                             queue_columns=() if queue_intervals else ("answered", "aht_s"))
        _assert_measured_identical(a, b)


@settings(max_examples=15, deadline=None)
@given(small_scenarios(), seeds())
def test_measure_small_scenarios_identical(scenario, seed):
    model = compile_scenario(scenario)
    _, workload, roster = prepare(scenario, seed, model)
    outcomes = simulate(model, workload, roster, engine="kernel")
    a, b = _measure_both(model, workload, roster, outcomes,
                         journey_windows(scenario, model))
    _assert_measured_identical(a, b)


@st.composite
def group_layouts(draw):
    """A model-like namespace of channels and queues (every channel with a queue)."""
    n_c = draw(st.integers(1, 4))
    queue_channel = draw(st.lists(st.integers(0, n_c - 1), min_size=1, max_size=12))
    queue_channel = np.array(list(range(n_c)) + queue_channel, dtype=np.intp)
    return SimpleNamespace(
        channel_names=[f"c{c}" for c in range(n_c)],
        queue_names=[f"q{q}" for q in range(queue_channel.shape[0])],
        n_queues=queue_channel.shape[0], queue_channel=queue_channel)


@settings(max_examples=100, deadline=None)
@given(group_layouts(), st.booleans(), st.integers(1, 20), st.data())
def test_group_sums(layout, queues, n_rows, data):
    groups = kpi._Groups(layout, queues=queues)
    # NOTE: one NaN (payload) only: where two NaNs meet, numpy's vector add keeps either
    # payload depending on the array length (its scalar tail loop commutes the operands),
    # so it is no specification there; these sums (of finite times) are never NaN.
    floats = st.one_of(st.floats(allow_nan=False, width=64), st.just(np.nan))
    values = data.draw(st.lists(floats, min_size=n_rows * layout.n_queues,
                                max_size=n_rows * layout.n_queues))
    per_queue = np.array(values, dtype=np.float64).reshape(n_rows, layout.n_queues)
    compiled = groups.aggregate(per_queue)
    with _numpy_only():
        reference = groups.aggregate(per_queue)
    _assert_same_bits(compiled, reference)
    # a strided view (as the per-severity sums are) gives the same bits too
    wide = np.repeat(per_queue, 2, axis=1)[:, ::2]
    _assert_same_bits(groups.aggregate(wide), reference)


@settings(max_examples=100, deadline=None)
@given(group_layouts(), st.booleans(), st.integers(1, 4), st.integers(1, 30), st.data())
def test_count_sums(layout, queues, n_planes, n_k, data):
    groups = kpi._Groups(layout, queues=queues)
    n_q = layout.n_queues
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    table = rng.integers(0, 1000, (n_planes * n_q, n_k)).astype(kpi._COUNT_DTYPE)
    planes = data.draw(st.lists(st.integers(0, n_planes - 1), min_size=1, max_size=3,
                                unique=True))
    keep = data.draw(st.one_of(st.none(), st.lists(st.booleans(), min_size=n_q,
                                                   max_size=n_q).map(np.array)))
    compiled = groups.count_sums(table, planes, n_q, keep)
    with _numpy_only():
        reference = groups.count_sums(table, planes, n_q, keep)
    _assert_same_bits(compiled, reference)
    # in a batch of requests (with n_k spanning several blocks of the compiled loop)
    wide = np.tile(table, (1, 60))
    requests = [(planes, keep), ([0], None), (list(range(n_planes)), keep)]
    batch = groups.count_sums_many(wide, requests, n_q)
    with _numpy_only():
        for got, (p, k) in zip(batch, requests, strict=True):
            _assert_same_bits(got, groups.count_sums(wide, p, n_q, k))


@pytest.mark.parametrize("n", [2, 3, 7])
def test_sum_last_is_numpy_sum(n):
    # every sign of zero, infinities, a NaN, subnormals, overflow: numpy's own bits
    values = [-0.0, 0.0, 1.5, -1.5, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 1e308]
    rng = np.random.default_rng(n)
    rows = rng.choice(values, size=(4000, n))
    with np.errstate(over="ignore", invalid="ignore"):
        for a in (rows, rows.reshape(40, 100, n)):
            _assert_same_bits(kpi._sum_last(a), a.sum(axis=-1))


@settings(max_examples=200, deadline=None)
@given(integral_items(), st.integers(0, 200))
def test_integral_parts(items, split):
    # parts() of an integral and of one lazily merged with a follow-ups' integral (sharing
    # its counts), compiled and in numpy
    grid, n_groups, lo, hi, group = items
    split = min(split, lo.shape[0])

    def parts():
        first = kpi._Integral(grid, n_groups)
        first.add(lo[:split], hi[:split], group[:split])
        second = kpi._Integral(grid, n_groups, first)
        second.add(lo[split:], hi[split:], group[split:])
        return first.parts(), first.merged(second).parts(), first.merged(second).value()

    compiled = parts()
    with _numpy_only():
        reference = parts()
    for a, b in zip(compiled, reference, strict=True):
        _assert_same_bits(a, b)
    _assert_same_bits(compiled[1], grid.parts(compiled[2]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from([0.0, 1.0, 2.5, np.inf, -0.0])),
                max_size=60), st.booleans(), st.booleans())
def test_lexsort_small(items, sort_times, wide):
    # the roster's (agent, time) order, ties by position: np.lexsort's permutation
    agent = np.array([a for a, _ in items], dtype=np.int32)
    time_s = np.array([t for _, t in items], dtype=np.float64)
    if sort_times:
        time_s.sort()
    if wide:
        agent = agent * 40000  # beyond int16: np.lexsort itself
    _assert_same_bits(kpi._lexsort_small(agent, time_s), np.lexsort((time_s, agent)))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 30), st.integers(1, 8), st.data())
def test_ratio(n_rows, n_cols, data):
    # quotients and NaN where the denominator is 0 (either sign), NaN or infinite operands
    values = st.one_of(FLOATS, st.sampled_from([0.0, -0.0, 1.0, 3.0]))
    num, den = (np.array(data.draw(st.lists(values, min_size=n_rows * n_cols,
                                            max_size=n_rows * n_cols)),
                         dtype=np.float64).reshape(n_rows, n_cols) for _ in range(2))
    compiled = kpi._ratio(num, den)
    with _numpy_only(), np.errstate(over="ignore", under="ignore"):
        reference = kpi._ratio(num, den)
    _assert_same_bits(compiled, reference)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 60), st.data())
def test_wait_end(n, data):
    # start, abandon time or horizon; the arrival for closed contacts (any outcome)
    def column(values, dtype):
        return np.array(data.draw(st.lists(values, min_size=n, max_size=n)), dtype=dtype)

    workload = SimpleNamespace(closed=column(st.sampled_from([0, 0, 1]), np.int8),
                               abandon_at_s=column(FLOATS, np.float64),
                               arrival_s=column(FLOATS, np.float64))
    outcomes = SimpleNamespace(outcome=column(st.sampled_from(list(kpi.Outcome)), np.int8),
                               start_s=column(FLOATS, np.float64))
    compiled = kpi._wait_end(workload, outcomes, 86400.0)
    with _numpy_only():
        reference = kpi._wait_end(workload, outcomes, 86400.0)
    _assert_same_bits(compiled, reference)


@settings(max_examples=200, deadline=None)
@given(integral_items(), st.data())
def test_integral_add_index(items, data):
    # a selection of the items, read in place: as adding the gathered items
    grid, n_groups, lo, hi, group = items
    n = lo.shape[0]
    index = np.array(data.draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=n if n else 0)),
                     dtype=np.intp)

    def make():
        return kpi._Integral(grid, n_groups), lo, hi, group, index

    def add(integral, lo, hi, group, index):
        integral.add(lo, hi, group, index)

    (a, *_), (b, *_) = _both(add, make)
    gathered = kpi._Integral(grid, n_groups)
    gathered.add(lo[index], hi[index], group[index])
    for x in (b, gathered):
        for u, v in [(a._hi, x._hi), (a._lo, x._lo)]:
            _assert_same_bits(u[0], v[0])
            _assert_same_bits(u[1], v[1])
