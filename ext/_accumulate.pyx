# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled per-contact loops of the KPI accumulator (private module ``sim._accumulate``),
the group sums, integral parts of its :meth:`sim.kpi.Accumulator.result`, and the work
time of :func:`sim.economics.queue_month_sums`.

This module owns nothing of the KPI definitions: each function is the compiled twin of a
numpy reference implementation in :mod:`sim.kpi` (named in its docstring), which stays the
readable specification and the fallback when this module is not built. They compute the
same sums to the last bit (``tests/unit/test_accumulate.py`` checks it):

* integer counts are exact in any order of additions;
* float sums add item by item *in item order*, ``acc[k] = acc[k] + v`` (the C operation of
  ``numpy.add.at`` on float64: same operands, same order, so the same rounding and
  signed-zero results; NaN payloads through :func:`_plus`; the project compiles with
  ``-ffp-contract=off``, so no fused multiply-add changes an expression);
* other float operations are the numpy version's, operation for operation (subtractions
  keep their operand order, so their NaN payloads too).

Indices are checked (a key out of range raises ``IndexError``, as numpy would, after the
items before it were added); the checks are one predictable branch per item.

NOTE: the numpy versions bin each batch through dense temporaries (``bincount`` over a
rows x intervals block, ``add.at`` through index buffers); with four-week batches the dense
block is larger than the batch. One pass per item with no temporaries is several times
faster.
"""

from libc.float cimport DBL_MAX
from libc.math cimport NAN
from libc.stdint cimport int8_t, int32_t, int64_t, uint32_t, uint64_t
from libc.string cimport memcpy

import numpy as np

ctypedef fused index_t:
    int32_t
    int64_t


cdef inline double _plus(double acc, double value) noexcept nogil:
    """``acc + value`` as ``numpy.add.at`` computes it, NaN payload included.

    NOTE: C compilers treat floating-point addition as commutative and may emit ``value +
    acc``, which gives the same number but, when both are NaN, the other one's payload
    (sign bit included: x86-64 returns the first operand's NaN). numpy's ``add.at``
    returns ``acc``'s; ``acc + acc`` is that whatever the operand order. The branch is
    predictable (sums are rarely NaN).
    """
    if acc != acc:
        return acc + acc
    return acc + value


def add_cells(int32_t[:, ::1] counts, const int64_t[:] interval, const int64_t[:] row):
    """``counts[row[i], interval[i]] += 1`` for each item (:func:`sim.kpi._add_cells`).

    Parameters
    ----------
    counts : int32[R, K]
    interval, row : intp[n]
    """
    cdef Py_ssize_t i, n = interval.shape[0], n_r = counts.shape[0], n_k = counts.shape[1]
    cdef int64_t r, k
    cdef Py_ssize_t bad = -1
    if row.shape[0] != n:
        raise ValueError("add_cells: interval and row differ in length")
    with nogil:
        for i in range(n):
            r = row[i]
            k = interval[i]
            if r < 0 or r >= n_r or k < 0 or k >= n_k:
                bad = i
                break
            counts[r, k] += 1
    if bad >= 0:
        raise IndexError(f"add_cells: cell ({row[bad]}, {interval[bad]}) outside "
                         f"({n_r}, {n_k})")


def add_code(int32_t[:, ::1] counts, const int64_t[:] interval, const index_t[:] queue,
             Py_ssize_t n_q, Py_ssize_t code, const int8_t[:] flag=None):
    """``counts[code * n_q + queue[i], interval[i]] += 1`` for each item whose ``flag`` is
    set (None: every item); one code of :func:`sim.kpi._add_codes`.

    Parameters
    ----------
    counts : int32[R, K]
    interval : intp[n]
    queue : int32[n] or int64[n]
    n_q, code : int
    flag : bool[n] viewed as int8, or None
    """
    cdef Py_ssize_t i, n = interval.shape[0], n_r = counts.shape[0], n_k = counts.shape[1]
    cdef int64_t q, k, base = code * n_q
    cdef Py_ssize_t bad = -1
    cdef bint every = flag is None
    if queue.shape[0] != n or (not every and flag.shape[0] != n):
        raise ValueError("add_code: arrays differ in length")
    if base + n_q > n_r:
        raise IndexError(f"add_code: code {code} outside the table")
    with nogil:
        for i in range(n):
            if not every and flag[i] == 0:
                continue
            q = queue[i]
            k = interval[i]
            if q < 0 or q >= n_q or k < 0 or k >= n_k:
                bad = i
                break
            counts[base + q, k] += 1
    if bad >= 0:
        raise IndexError(f"add_code: queue {queue[bad]}, interval {interval[bad]} outside "
                         f"({n_q}, {n_k})")


def add_coded(int32_t[:, ::1] counts, const int64_t[:] interval, const index_t[:] queue,
              Py_ssize_t n_q, const int8_t[:] outcome, const int8_t[:] fate,
              const uint32_t[:, ::1] codes):
    """``counts[code * n_q + queue[i], interval[i]] += 1`` for each item and each code of
    the bit set ``codes[outcome[i], fate[i]]``: :func:`sim.kpi._add_fate_codes` (the flags
    of :func:`sim.kpi._add_codes` when they depend on the outcome and fate only).

    Parameters
    ----------
    counts : int32[R, K]
    interval : intp[n]
    queue : int32[n] or int64[n]
    n_q : int
    outcome, fate : int8[n]
    codes : uint32[n_outcomes, n_fates]
        Bit ``c`` set: count the item in code ``c``.
    """
    cdef Py_ssize_t i, n = interval.shape[0], n_r = counts.shape[0], n_k = counts.shape[1]
    cdef Py_ssize_t n_o = codes.shape[0], n_f = codes.shape[1], c
    cdef int64_t q, k, o, f
    cdef uint32_t bits, every = 0
    cdef Py_ssize_t bad = -1
    if (queue.shape[0] != n or outcome.shape[0] != n or fate.shape[0] != n):
        raise ValueError("add_coded: arrays differ in length")
    for o in range(n_o):
        for f in range(n_f):
            every |= codes[o, f]
    for c in range(32):
        if (every >> c) & 1 and (c + 1) * n_q > n_r:
            raise IndexError(f"add_coded: code {c} outside the table")
    with nogil:
        for i in range(n):
            q = queue[i]
            k = interval[i]
            o = outcome[i]
            f = fate[i]
            if q < 0 or q >= n_q or k < 0 or k >= n_k or o < 0 or o >= n_o or f < 0 or f >= n_f:
                bad = i
                break
            bits = codes[o, f]
            c = 0
            while bits:
                if bits & 1:
                    counts[c * n_q + q, k] += 1
                bits >>= 1
                c += 1
    if bad >= 0:
        raise IndexError(f"add_coded: queue {queue[bad]}, interval {interval[bad]}, outcome "
                         f"{outcome[bad]}, fate {fate[bad]} outside ({n_q}, {n_k}, {n_o}, "
                         f"{n_f})")


def add_at(double[::1] acc, const int64_t[:] key, const double[:] value):
    """``acc[key[i]] += value[i]`` item by item in item order: ``numpy.add.at(acc, key,
    value)`` on float64 (non-negative keys).

    Parameters
    ----------
    acc : float64[M]
    key : intp[n]
    value : float64[n]
    """
    cdef Py_ssize_t i, n = key.shape[0], m = acc.shape[0]
    cdef int64_t k
    cdef Py_ssize_t bad = -1
    if value.shape[0] != n:
        raise ValueError("add_at: key and value differ in length")
    with nogil:
        for i in range(n):
            k = key[i]
            if k < 0 or k >= m:
                bad = i
                break
            acc[k] = _plus(acc[k], value[i])
    if bad >= 0:
        raise IndexError(f"add_at: key {key[bad]} outside ({m},)")


cdef inline bint _bin_one(double* sums, int32_t* counts, Py_ssize_t m, double x0, int64_t g,
                          Py_ssize_t n_groups, double offset, double inv_interval,
                          double n_bins) noexcept nogil:
    """Bin ``x0`` of group ``g`` and add it (see :func:`integral_add`); False if its bin
    is outside the table."""
    cdef double y = x0 + offset
    cdef int64_t k
    y = y * inv_interval
    # NOTE: the range check comes first: a C cast of NaN or of a float beyond int64 is
    # undefined (numpy's cast gives INT64_MIN there, an index out of range too).
    if not (y > -1.0 and y < n_bins):
        return False
    k = (<int64_t>y + 1) * n_groups + g  # truncation toward zero, as numpy's astype(intp)
    if k >= m:
        return False
    sums[k] = _plus(sums[k], x0)
    counts[k] += 1
    return True


def integral_add(double[::1] sums_hi, int32_t[::1] counts_hi, double[::1] sums_lo,
                 int32_t[::1] counts_lo, const double[:] lo, const double[:] hi,
                 const index_t[:] group, Py_ssize_t n_groups, double warmup_s, double span_s,
                 double offset, double inv_interval, const int64_t[:] index=None):
    """Add items ``[lo_i, hi_i)`` of groups ``group`` to an integral's binned sums:
    :meth:`sim.kpi._Integral.add` (with ``_bin`` and :meth:`sim.kpi._Grid.bin_at_or_above`).

    For each item, in item order: ``lo0 = clip(lo - warmup_s, 0, span_s)``, ``hi0 =
    maximum(clip(hi - warmup_s, 0, span_s), lo0)`` with numpy's semantics (NaN propagates;
    a value equal to the bound, or ``lo0`` equal to ``hi0``, is kept as is, signed zeros
    included); then each of ``x0 = hi0`` (into ``sums_hi``, ``counts_hi``) and ``x0 = lo0``
    (into ``sums_lo``, ``counts_lo``) goes to bin ``j = trunc((x0 + offset) * inv_interval) +
    1``, cell ``k = j * n_groups + group``: ``sums[k] += x0``, ``counts[k] += 1``. (The numpy
    version bins all ``hi0`` then all ``lo0``: the same additions, in the same order, into
    each array.)

    Parameters
    ----------
    sums_hi, sums_lo : float64[M]
    counts_hi, counts_lo : int32[M]
        May be the same array (the follow-ups' integral shares its counts).
    lo, hi : float64[n]
    group : int32[n] or int64[n]
    n_groups : int
    warmup_s, span_s : float
        The window start and length.
    offset, inv_interval : float
        ``warmup_s - k0 * interval_s`` and ``1.0 / interval_s``, as the grid computes them.
    index : intp[n'], optional
        Add only these items, in this order (None: all, in order): the items
        ``lo[index]``, ``hi[index]``, ``group[index]`` without gathering them.
    """
    cdef Py_ssize_t i, j, n_items = lo.shape[0], m = sums_hi.shape[0]
    cdef double n_bins, lo0, hi0
    cdef int64_t g
    cdef Py_ssize_t bad = -1
    cdef bint indexed = index is not None
    cdef Py_ssize_t n = index.shape[0] if indexed else n_items
    if n_groups < 1:
        raise ValueError("integral_add: n_groups must be positive")
    if hi.shape[0] != n_items or group.shape[0] != n_items:
        raise ValueError("integral_add: lo, hi and group differ in length")
    if counts_hi.shape[0] != m or sums_lo.shape[0] != m or counts_lo.shape[0] != m:
        raise ValueError("integral_add: sums and counts differ in length")
    if m == 0:
        if n:
            raise IndexError("integral_add: no bins")
        return
    n_bins = <double>(m // n_groups)
    cdef double* s_hi = &sums_hi[0]
    cdef double* s_lo = &sums_lo[0]
    cdef int32_t* c_hi = &counts_hi[0]
    cdef int32_t* c_lo = &counts_lo[0]
    with nogil:
        for i in range(n):
            j = index[i] if indexed else i
            if j < 0 or j >= n_items:
                bad = i
                break
            g = group[j]
            if g < 0 or g >= n_groups:
                bad = i
                break
            # NOTE: numpy's clip and maximum, operation for operation: np.clip keeps x when
            # it is not below the lower bound (-0.0 stays -0.0), np.maximum(a, b) gives b
            # when a == b; both propagate NaN.
            lo0 = lo[j] - warmup_s
            if lo0 < 0.0:
                lo0 = 0.0
            if lo0 > span_s:
                lo0 = span_s
            hi0 = hi[j] - warmup_s
            if hi0 < 0.0:
                hi0 = 0.0
            if hi0 > span_s:
                hi0 = span_s
            if not (hi0 > lo0 or hi0 != hi0):
                hi0 = lo0
            if not _bin_one(s_hi, c_hi, m, hi0, g, n_groups, offset, inv_interval, n_bins):
                bad = i
                break
            if not _bin_one(s_lo, c_lo, m, lo0, g, n_groups, offset, inv_interval, n_bins):
                bad = i
                break
    if bad >= 0:
        j = index[bad] if indexed else bad
        if j < 0 or j >= n_items:
            raise IndexError(f"integral_add: index {j} outside ({n_items},)")
        raise IndexError(f"integral_add: item [{lo[j]}, {hi[j]}) of group {group[j]} "
                         f"outside the bins")


def add_backlog(int64_t[:, ::1] backlog, double[:, ::1] oldest_s, const int64_t[:] first_r,
                const int64_t[:] stop_r, const index_t[:] queue, const double[:] arrival_s,
                const int64_t[:] order, int64_t[:, ::1] steps, int64_t[::1] covered,
                Py_ssize_t lo):
    """Backlog counts and oldest arrivals of deferred contacts waiting at end rows:
    :meth:`sim.kpi.Accumulator._add_backlog` after its rows are computed.

    Contact ``i`` waits at end rows ``first_r[i] <= r < stop_r[i]``: ``backlog[r, q] += 1``
    and ``oldest_s[r, q] = min(oldest_s[r, q], arrival_s[i])``.

    Parameters
    ----------
    backlog : int64[E, Q]
    oldest_s : float64[E, Q]
    first_r, stop_r : intp[n]
        Rows, ``lo <= first_r <= stop_r <= lo + steps.shape[0] - 1``.
    queue : int32[n] or int64[n]
    arrival_s : float64[n]
    order : intp[n] or None
        The items in (queue, arrival) order, ties in item order (None: the items are in
        arrival order).
    steps : int64[hi - lo + 1, Q]
        Zeros (scratch).
    covered : int64[Q]
        Scratch.
    lo : int
        The first row of ``steps``.
    """
    cdef Py_ssize_t i, j, n = first_r.shape[0], n_q = backlog.shape[1]
    cdef Py_ssize_t n_rows = steps.shape[0] - 1, n_e = backlog.shape[0]
    cdef int64_t q, r, f, s
    cdef double a
    cdef Py_ssize_t bad = -1
    cdef bint ordered = order is not None
    if (stop_r.shape[0] != n or queue.shape[0] != n or arrival_s.shape[0] != n
            or (ordered and order.shape[0] != n)):
        raise ValueError("add_backlog: arrays differ in length")
    if (oldest_s.shape[0] != n_e or oldest_s.shape[1] != n_q or steps.shape[1] != n_q
            or covered.shape[0] != n_q or lo < 0 or lo + n_rows > n_e):
        raise ValueError("add_backlog: tables differ in shape")
    with nogil:
        for q in range(n_q):
            covered[q] = lo
        # NOTE: counts by a difference array cumulated down the rows (O(items + rows x Q)),
        # the oldest by one sweep in (queue, arrival) order: rows below the highest stop row
        # so far already have an older contact waiting (any contact arriving later starts at
        # or after their first row), so each row of a queue is set at most once. Integer
        # counts and minima: the same values as the numpy searches.
        for j in range(n):
            i = order[j] if ordered else j
            q = queue[i]
            f = first_r[i] - lo
            s = stop_r[i] - lo
            if q < 0 or q >= n_q or f < 0 or s < f or s > n_rows:
                bad = i
                break
            steps[f, q] += 1
            steps[s, q] -= 1
            a = arrival_s[i]
            r = covered[q] if covered[q] > f + lo else f + lo
            while r < s + lo:
                if a < oldest_s[r, q]:
                    oldest_s[r, q] = a
                r += 1
            if s + lo > covered[q]:
                covered[q] = s + lo
        if bad < 0:
            # NOTE: row after row (the tables' memory order), a running count per queue in
            # ``covered`` (no longer needed): sequential reads and writes, not one strided
            # walk down the rows per queue.
            for q in range(n_q):
                covered[q] = 0
            for r in range(n_rows):
                for q in range(n_q):
                    covered[q] += steps[r, q]
                    backlog[lo + r, q] += covered[q]
    if bad >= 0:
        raise IndexError(f"add_backlog: item {bad} (queue {queue[bad]}, rows "
                         f"{first_r[bad]}..{stop_r[bad]}) outside the rows from {lo}")


def wait_end(const int8_t[:] outcome, const int8_t[:] closed, const double[:] start_s,
             const double[:] abandon_at_s, const double[:] arrival_s, double horizon_s,
             int answered_code, int abandoned_code, double[::1] out):
    """End of each contact's wait: :func:`sim.kpi._wait_end` (``start_s`` if answered,
    ``abandon_at_s`` if abandoned, else ``horizon_s``; ``arrival_s`` if closed), copied into
    ``out`` in one pass."""
    cdef Py_ssize_t i, n = outcome.shape[0]
    cdef int o
    if (closed.shape[0] != n or start_s.shape[0] != n or abandon_at_s.shape[0] != n
            or arrival_s.shape[0] != n or out.shape[0] != n):
        raise ValueError("wait_end: arrays differ in length")
    with nogil:
        for i in range(n):
            o = outcome[i]
            if closed[i] != 0:
                out[i] = arrival_s[i]
            elif o == answered_code:
                out[i] = start_s[i]
            elif o == abandoned_code:
                out[i] = abandon_at_s[i]
            else:
                out[i] = horizon_s


def add_contact_sums(int32_t[:, ::1] counts, double[::1] wait_sums, double[::1] handle_sums,
                     const int64_t[:] interval, const index_t[:] queue,
                     const int8_t[:] outcome, const int8_t[:] closed,
                     const double[:] arrival_s, const double[:] stop_s,
                     const double[:] start_s, const double[:] end_s,
                     const double[::1] threshold_s, int answered_code, int lost_code):
    """Per-contact category counts, wait and handle sums of window contacts:
    :meth:`sim.kpi.Accumulator._add_contact_sums` after the intervals are computed.

    For each contact, in contact order: ``wait = stop_s - arrival_s``; code ``outcome * 4 +
    (wait > 0 or not answered) * 2 + (wait <= threshold_s[queue])``, ``lost_code`` if
    closed; ``counts[code * n_q + queue, interval] += 1``; ``wait_sums[cell * 2 + answered]
    += wait`` and ``handle_sums[cell] += (end_s - start_s if answered else 0.0)`` with
    ``cell = interval * n_q + queue``.

    Raises
    ------
    ValueError
        Before adding anything, if a contact that is not closed has an outcome above
        ``lost_code // 4 - 1`` (LOST_CLOSED) or below 0.
    """
    cdef Py_ssize_t i, n = interval.shape[0], n_q = threshold_s.shape[0]
    cdef Py_ssize_t n_k = counts.shape[1]
    cdef int64_t q, k, cell, code, j
    cdef int o, max_outcome = lost_code // 4 - 1
    cdef bint answered
    cdef double wait, handle
    cdef Py_ssize_t bad = -1, bad_outcome = -1
    if (queue.shape[0] != n or outcome.shape[0] != n or closed.shape[0] != n
            or arrival_s.shape[0] != n or stop_s.shape[0] != n or start_s.shape[0] != n
            or end_s.shape[0] != n):
        raise ValueError("add_contact_sums: arrays differ in length")
    if (counts.shape[0] != (lost_code + 1) * n_q or wait_sums.shape[0] != 2 * n_k * n_q
            or handle_sums.shape[0] != n_k * n_q):
        raise ValueError("add_contact_sums: tables differ in shape")
    with nogil:
        for i in range(n):
            o = outcome[i]
            if closed[i] == 0 and (o < 0 or o > max_outcome):
                bad_outcome = i
                break
        if bad_outcome < 0:
            for i in range(n):
                q = queue[i]
                k = interval[i]
                if q < 0 or q >= n_q or k < 0 or k >= n_k:
                    bad = i
                    break
                o = outcome[i]
                answered = o == answered_code
                wait = stop_s[i] - arrival_s[i]
                if closed[i] != 0:
                    code = lost_code
                else:
                    code = o * 4 + (2 if (wait > 0.0 or not answered) else 0)
                    code += 1 if wait <= threshold_s[q] else 0  # False for a NaN threshold
                counts[code * n_q + q, k] += 1
                cell = k * n_q + q
                j = cell * 2 + answered
                wait_sums[j] = _plus(wait_sums[j], wait)
                # NOTE: 0.0 is added for the others, as the numpy version does (it turns a
                # -0.0 sum into +0.0).
                handle = end_s[i] - start_s[i] if answered else 0.0
                handle_sums[cell] = _plus(handle_sums[cell], handle)
    if bad_outcome >= 0:
        raise ValueError("outcomes: a contact that is not closed has outcome LOST_CLOSED")
    if bad >= 0:
        raise IndexError(f"add_contact_sums: queue {queue[bad]}, interval {interval[bad]} "
                         f"outside ({n_q}, {n_k})")


def add_resolutions(int32_t[:, ::1] counts, double[::1] time_sums, const int64_t[:] interval,
                    const index_t[:] queue, const int8_t[:] severity, const int8_t[:] resolved,
                    const double[:] time_s, Py_ssize_t n_q, Py_ssize_t n_sev):
    """Resolved journeys and their times to resolve: :meth:`sim.kpi.Accumulator.
    _add_resolutions`.

    For each item with ``resolved`` set, in item order: ``counts[severity * n_q + queue,
    interval] += 1`` and ``time_sums[(interval * n_q + queue) * n_sev + severity] +=
    time_s``.
    """
    cdef Py_ssize_t i, n = interval.shape[0], n_k = counts.shape[1]
    cdef int64_t q, k, v, key
    cdef Py_ssize_t bad = -1
    if (queue.shape[0] != n or severity.shape[0] != n or resolved.shape[0] != n
            or time_s.shape[0] != n):
        raise ValueError("add_resolutions: arrays differ in length")
    if counts.shape[0] != n_sev * n_q or time_sums.shape[0] != n_k * n_q * n_sev:
        raise ValueError("add_resolutions: tables differ in shape")
    with nogil:
        for i in range(n):
            if resolved[i] == 0:
                continue
            q = queue[i]
            k = interval[i]
            v = severity[i]
            if q < 0 or q >= n_q or k < 0 or k >= n_k or v < 0 or v >= n_sev:
                bad = i
                break
            counts[v * n_q + q, k] += 1
            key = (k * n_q + q) * n_sev + v
            time_sums[key] = _plus(time_sums[key], time_s[i])
    if bad >= 0:
        raise IndexError(f"add_resolutions: queue {queue[bad]}, interval {interval[bad]}, "
                         f"severity {severity[bad]} outside ({n_q}, {n_k}, {n_sev})")


def count_le(const double[::1] inner, const double[:] x, int64_t[::1] out,
             double origin_s, double inv_interval):
    """``out[i] = #(inner <= x[i])``, exactly: :meth:`sim.kpi._Grid.count_le`.

    The count is defined by comparisons, so any search gives the same integers; this one
    starts at the regular grid's guess ``trunc((x - origin_s) * inv_interval)`` (clipped to
    ``0..len(inner)``) and steps to the exact row.

    Parameters
    ----------
    inner : float64[B], sorted
    x : float64[n], not NaN
    out : intp[n]
    origin_s, inv_interval : float
        ``k0 * interval_s`` and ``1.0 / interval_s``.
    """
    cdef Py_ssize_t i, n = x.shape[0], n_b = inner.shape[0]
    cdef int64_t row
    cdef double v, guess
    cdef Py_ssize_t bad = -1
    if out.shape[0] != n:
        raise ValueError("count_le: x and out differ in length")
    with nogil:
        for i in range(n):
            v = x[i]
            if v != v:
                bad = i
                break
            guess = (v - origin_s) * inv_interval
            # NOTE: compared before the cast (a C cast of a float beyond int64 is undefined).
            if not guess > 0.0:
                row = 0
            elif guess >= <double>n_b:
                row = n_b
            else:
                row = <int64_t>guess
            while row > 0 and v < inner[row - 1]:
                row -= 1
            while row < n_b and v >= inner[row]:
                row += 1
            out[i] = row
    if bad >= 0:
        raise ValueError("count_le: NaN")


def group_sums(const double[:, :] per_queue, const int64_t[::1] members,
               const int64_t[::1] starts, double[:, ::1] out):
    """``out[r, g]`` = the queues ``members[starts[g]:starts[g + 1]]`` of row ``r`` added in
    order onto the first, then ``+ 0.0``: :meth:`sim.kpi._Groups.aggregate`.

    NOTE: the same additions per element, in the same order, as the numpy version's
    vector adds (so the same bits), read in place and written row-major: no transposed copy
    of ``per_queue`` and no strided copy of the result. Where two NaNs meet, the first
    operand's payload is kept (:func:`_plus`); numpy's vector add keeps either, depending on
    the array length (its scalar tail loop commutes the operands). The sums of
    :class:`sim.kpi.Accumulator` (of finite times) are never NaN.

    Parameters
    ----------
    per_queue : float64[R, Q]
    members, starts : intp (queue ids of every group, concatenated; group g's offsets)
    out : float64[R, G], G = len(starts) - 1, every group non-empty
    """
    cdef Py_ssize_t r, g, j, n_r = per_queue.shape[0], n_g = starts.shape[0] - 1
    cdef Py_ssize_t n_q = per_queue.shape[1]
    cdef double s
    if out.shape[0] != n_r or out.shape[1] != n_g:
        raise ValueError("group_sums: out is not (rows, groups)")
    for j in range(members.shape[0]):
        if members[j] < 0 or members[j] >= n_q:
            raise IndexError(f"group_sums: queue {members[j]} outside {n_q}")
    for g in range(n_g):
        if starts[g + 1] <= starts[g]:
            raise ValueError("group_sums: empty group")
    with nogil:
        for r in range(n_r):
            for g in range(n_g):
                s = per_queue[r, members[starts[g]]]
                for j in range(starts[g] + 1, starts[g + 1]):
                    s = _plus(s, per_queue[r, members[j]])
                out[r, g] = _plus(s, 0.0)


cdef enum:
    # Intervals summed per block by :func:`group_counts`: the block of every table row read
    # (a few hundred rows x 512 x 4 bytes) stays in the L2 cache while each request reads it.
    _BLOCK = 512


def group_counts(const int32_t[:, ::1] counts, const int64_t[::1] rows,
                 const int64_t[::1] starts, const int64_t[::1] parts,
                 const int64_t[::1] part_starts, double[:, :, ::1] out):
    """Group sums of integer counts for a batch of requests: :meth:`sim.kpi._Groups.
    count_sums_many`.

    ``out[r, k, g]`` is the sum of ``counts[rows[j], k]`` over request r's rows of group g,
    ``rows[starts[r * G + g]:starts[r * G + g + 1]]`` (an empty group sums to 0), and
    ``out[r, K, g]`` their sum over the intervals, as float64; a group with parts
    ``parts[part_starts[g]:part_starts[g + 1]]`` (groups before it whose rows it is the
    union of) is instead the sum of their columns.

    NOTE: integers are exact in any order (summed in int64, and integer-valued float64
    sums far below 2**53 are exact too): the same floats as the numpy version, while a
    channel's and the ``all`` group's counts are not read again from the table. The
    intervals are taken in blocks, every request per block: each table row is read from
    memory once for the whole batch, not once per request.

    Parameters
    ----------
    counts : int32[R, K]
    rows, starts, parts, part_starts : intp
    out : float64[n_requests, K + 1, G], G = len(part_starts) - 1,
        len(starts) = n_requests * G + 1
    """
    cdef Py_ssize_t k, g, j, r, kb, nb, n_k = counts.shape[1], n_g = part_starts.shape[0] - 1
    cdef Py_ssize_t n_r = counts.shape[0], n_req = out.shape[0]
    cdef Py_ssize_t lo, hi
    cdef double s
    cdef const int32_t *r0
    cdef const int32_t *r1
    cdef const int32_t *r2
    cdef const int32_t *r3
    cdef int64_t acc[_BLOCK]
    cdef int64_t[::1] total = np.zeros(max(n_req * n_g, 1), dtype=np.int64)
    if (out.shape[1] != n_k + 1 or out.shape[2] != n_g
            or starts.shape[0] != n_req * n_g + 1):
        raise ValueError("group_counts: out is not (requests, intervals + 1, groups)")
    for j in range(rows.shape[0]):
        if rows[j] < 0 or rows[j] >= n_r:
            raise IndexError(f"group_counts: row {rows[j]} outside {n_r}")
    for j in range(starts.shape[0] - 1):
        if starts[j] < 0 or starts[j + 1] < starts[j] or starts[j + 1] > rows.shape[0]:
            raise ValueError("group_counts: starts are not offsets into rows")
    for g in range(n_g):
        for j in range(part_starts[g], part_starts[g + 1]):
            if parts[j] < 0 or parts[j] >= g:
                raise IndexError(f"group_counts: part {parts[j]} of group {g}")
    with nogil:
        kb = 0
        while kb < n_k:
            nb = n_k - kb if n_k - kb < _BLOCK else _BLOCK
            for r in range(n_req):
                for g in range(n_g):
                    if part_starts[g + 1] > part_starts[g]:
                        continue
                    for k in range(nb):
                        acc[k] = 0
                    # NOTE: four rows per pass over ``acc`` (a quarter of its loads and
                    # stores).
                    j, hi = starts[r * n_g + g], starts[r * n_g + g + 1]
                    while j + 4 <= hi:
                        r0, r1 = &counts[rows[j], kb], &counts[rows[j + 1], kb]
                        r2, r3 = &counts[rows[j + 2], kb], &counts[rows[j + 3], kb]
                        for k in range(nb):
                            acc[k] += (<int64_t>r0[k] + r1[k]) + (<int64_t>r2[k] + r3[k])
                        j += 4
                    while j < hi:
                        r0 = &counts[rows[j], kb]
                        for k in range(nb):
                            acc[k] += r0[k]
                        j += 1
                    for k in range(nb):
                        out[r, kb + k, g] = <double>acc[k]
                        total[r * n_g + g] += acc[k]
            kb += nb
        for r in range(n_req):
            for g in range(n_g):
                if part_starts[g + 1] > part_starts[g]:
                    # a union of groups before it: their columns, row by row
                    lo, hi = part_starts[g], part_starts[g + 1]
                    for k in range(n_k + 1):
                        s = 0.0
                        for j in range(lo, hi):
                            s = s + out[r, k, parts[j]]
                        out[r, k, g] = s
                else:
                    out[r, n_k, g] = <double>total[r * n_g + g]


def integral_parts(const double[:, ::1] x_hi, const double[:, ::1] x_hi_plus,
                   const int32_t[:, ::1] n_hi, const double[:, ::1] x_lo,
                   const double[:, ::1] x_lo_plus, const int32_t[:, ::1] n_lo,
                   const double[::1] b0, double[:, ::1] out):
    """Per-interval parts of an integral from its binned sums: :meth:`sim.kpi._Integral.parts`
    (``grid.parts(value())``, with ``value`` = ``_sum_min(hi) - _sum_min(lo)``).

    Per group, with ``x = x_hi + x_hi_plus`` (the follow-ups' sums; None: ``x_hi``) and
    likewise for lo, for ``k < B``: ``S[k] = cumsum(x)[k] + b0[k] * float(sum(n) -
    cumsum(n)[k])`` (the cumulative sum starts from ``x[0]``, as numpy's), ``F[k] = S_hi[k] -
    S_lo[k]``; ``out[k] = F[k + 1] - F[k]`` for ``k < B - 1`` and ``out[B - 1] = F[B - 1] -
    F[0]``: the numpy version's operations, in its order, per element (so its floats).

    NOTE: one pass with a few values per group, instead of about ten full-size temporaries
    (cumulative sums, conversions, products, the difference, the stacked parts).

    Parameters
    ----------
    x_hi, x_lo : float64[B + 1, G]
    x_hi_plus, x_lo_plus : float64[B + 1, G] or None
    n_hi, n_lo : int32[B + 1, G]
        (Counted in int64 here: exact.)
    b0 : float64[B]
        ``bounds - bounds[0]``.
    out : float64[B, G]
    """
    cdef Py_ssize_t k, g, n_b = b0.shape[0], n_g = x_hi.shape[1]
    cdef bint plus_hi = x_hi_plus is not None, plus_lo = x_lo_plus is not None
    cdef double x, s_hi, s_lo, f
    cdef int64_t[::1] tot_hi = np.zeros(n_g, dtype=np.int64)
    cdef int64_t[::1] tot_lo = np.zeros(n_g, dtype=np.int64)
    cdef int64_t[::1] cn_hi = np.zeros(n_g, dtype=np.int64)
    cdef int64_t[::1] cn_lo = np.zeros(n_g, dtype=np.int64)
    cdef double[::1] cx_hi = np.zeros(n_g)
    cdef double[::1] cx_lo = np.zeros(n_g)
    cdef double[::1] f_prev = np.zeros(n_g)
    cdef double[::1] f_first = np.zeros(n_g)
    if (x_hi.shape[0] != n_b + 1 or n_hi.shape[0] != n_b + 1 or n_hi.shape[1] != n_g
            or x_lo.shape[0] != n_b + 1 or x_lo.shape[1] != n_g
            or n_lo.shape[0] != n_b + 1 or n_lo.shape[1] != n_g):
        raise ValueError("integral_parts: sums are not (bounds + 1, groups)")
    if (plus_hi and (x_hi_plus.shape[0] != n_b + 1 or x_hi_plus.shape[1] != n_g)) or (
            plus_lo and (x_lo_plus.shape[0] != n_b + 1 or x_lo_plus.shape[1] != n_g)):
        raise ValueError("integral_parts: sums are not (bounds + 1, groups)")
    if out.shape[0] != n_b or out.shape[1] != n_g:
        raise ValueError("integral_parts: out is not (bounds, groups)")
    with nogil:
        # integer totals (exact in any order)
        for k in range(n_b + 1):
            for g in range(n_g):
                tot_hi[g] += n_hi[k, g]
                tot_lo[g] += n_lo[k, g]
        for k in range(n_b):
            for g in range(n_g):
                x = _plus(x_hi[k, g], x_hi_plus[k, g]) if plus_hi else x_hi[k, g]
                cx_hi[g] = x if k == 0 else _plus(cx_hi[g], x)
                x = _plus(x_lo[k, g], x_lo_plus[k, g]) if plus_lo else x_lo[k, g]
                cx_lo[g] = x if k == 0 else _plus(cx_lo[g], x)
                cn_hi[g] += n_hi[k, g]
                cn_lo[g] += n_lo[k, g]
                s_hi = _plus(cx_hi[g], b0[k] * <double>(tot_hi[g] - cn_hi[g]))
                s_lo = _plus(cx_lo[g], b0[k] * <double>(tot_lo[g] - cn_lo[g]))
                f = s_hi - s_lo
                if k == 0:
                    f_first[g] = f
                else:
                    out[k - 1, g] = f - f_prev[g]
                f_prev[g] = f
        for g in range(n_g):
            out[n_b - 1, g] = f_prev[g] - f_first[g]


def ratio(const double[::1] num, const double[::1] den, double[::1] out):
    """``out = num / den`` with NaN where ``den == 0``: :func:`sim.kpi._ratio` (arrays of one
    shape, flattened).

    NOTE: one pass, no quotient-then-mask temporaries; the division is the same IEEE
    operation (operand order kept, so NaN payloads too).
    """
    cdef Py_ssize_t i, n = num.shape[0]
    cdef double d, q
    if den.shape[0] != n or out.shape[0] != n:
        raise ValueError("ratio: arrays differ in length")
    with nogil:
        for i in range(n):
            # NOTE: the quotient computed for every element, then selected (a division by
            # zero only raises a masked floating-point flag): a branch-free loop the
            # compiler vectorizes; the quotients kept are the same IEEE divisions.
            d = den[i]
            q = num[i] / d
            out[i] = q if d != 0.0 else NAN


def work_s(const double[::1] answered, const double[::1] aht_s, double[::1] out):
    """``out = np.where(answered > 0, answered * np.nan_to_num(aht_s), 0.0)``:
    :func:`sim.economics._work_s`.

    NOTE: one pass with selects instead of numpy's masked ``where`` (which branches per
    element on an unpredictable mask) and ``nan_to_num``'s copies; the product is the same
    IEEE multiplication of the same operands (NaN -> 0.0, +-inf -> +-DBL_MAX first, as
    ``nan_to_num``).
    """
    cdef Py_ssize_t i, n = answered.shape[0]
    cdef double a, h, w
    cdef uint64_t bits
    if aht_s.shape[0] != n or out.shape[0] != n:
        raise ValueError("work_s: arrays differ in length")
    with nogil:
        for i in range(n):
            a = answered[i]
            h = aht_s[i]
            if h > DBL_MAX:  # +inf (rare: predictable branches)
                h = DBL_MAX
            elif h < -DBL_MAX:
                h = -DBL_MAX
            # NOTE: NaN -> 0.0 and the choice of 0.0 where a <= 0 by masking the bits (the
            # compiler keeps a float select as a branch, and both masks are unpredictable:
            # NaN wherever nothing was answered): all-ones keeps the value, zero is +0.0.
            memcpy(&bits, &h, 8)
            bits &= -<uint64_t>(h == h)
            memcpy(&h, &bits, 8)
            w = a * h
            memcpy(&bits, &w, 8)
            bits &= -<uint64_t>(a > 0.0)
            memcpy(&w, &bits, 8)
            out[i] = w
