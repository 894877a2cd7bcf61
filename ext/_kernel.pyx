# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The compiled event loop of ccsim (private module ``sim._kernel``).

This module owns the fast implementation of the engine semantics documented in
:mod:`sim.model` (the specification; read it first). It exposes one class,
:class:`KernelRun`, a *resumable* run of one replication: created with the arrays of a
``Model`` and a ``Roster``, it is fed the workload window by window
(:meth:`KernelRun.advance`) and keeps its whole state (event heap, queues, agents, roster
position) between calls, so a replication's memory need not grow with its horizon. A one-shot
run is a single ``advance`` over the whole workload up to the horizon.

Use it through :mod:`sim.engines.kernel`, which prepares the arrays.

It also exposes the enum mirror of ``ext/_types.pxd`` as Python tuples (names in value
order), built from the ``.pxd`` itself so that ``tests/engines/test_mirror.py`` is
meaningful: ``EVENT_ORDER``, ``OUTCOME_NAMES``, ``ARRIVAL_POLICY_NAMES``,
``PULL_POLICY_NAMES``, ``CAPACITY_UNITS`` and ``NO_AGENT``.

Data structures
---------------
* Contacts are named by their *global* id (row of the whole replication's ``Workload``) in
  every event key, queue and handler, so the order of events, ties included, does not depend
  on how the workload is cut into windows. A call of ``advance`` sees a *window* of the
  workload, global ids ``[base, base + n)``; per-contact arrays are read and written at
  ``id - base``.
* Events are processed in increasing key ``(time_s, kind, id)``. Three sources are merged
  at every step, each in key order: the arrival stream (contacts sorted by
  ``(arrival_s, id)``: in id order, or through an explicit order for the one-shot run of an
  unsorted workload), the AGENT_ON stream (segments in ``(seg_start_s, id)`` order), and a
  binary min-heap in a flat C array holding the scheduled COMPLETION, ABANDON and AGENT_OFF
  events. The heap key is ``(time_s, kind << 32 | id)``: time first, then kind, then id.
  A segment's AGENT_OFF is pushed when its AGENT_ON is processed (as the SimPy engine's
  shift process does), so the OFF of a segment can never come before its ON. The positions
  in both streams and the heap persist between calls; a call stops before the first event
  at or after its ``until_s`` (which stays first for the next call).
* Each queue has a FIFO of waiting contacts (global ids): a growable ring buffer (power-of-
  two capacity, monotonic head/tail counters). Contacts are appended in processing order,
  i.e. ``(arrival_s, id)`` order. Abandoned contacts stay in the buffer and are skipped
  lazily when they reach the head; ``wait`` counts the live entries. A full buffer is
  reallocated holding only its live entries (at least twice as large as they need), and
  every ``advance`` ends by dropping the abandoned entries, so the buffers hold only
  waiting contacts between calls (all of them inside the next window).
* An ABANDON event stays in the heap when its contact is answered first (it is then a
  no-op). Such a contact may have been finalized and dropped from the window before the
  event pops: an ABANDON for an id before the window is skipped, which is exactly what it
  would do (a contact before the window is not waiting).
* Per agent: used capacity units, number of contacts in hand, ``last_free_s``, on-duty flag,
  max end of the contacts it started, team.
* Arrival policies look only at the candidates, through bitsets over agent ids: per queue,
  the eligible agents; per distinct "units" value of the queues, the agents on duty with at
  least that many free units (updated whenever an agent's capacity or duty changes). Their
  AND, iterated bit by bit, yields exactly the candidates in increasing id.
* Per agent, its eligible queues sorted by the static part of the pull key (pull), with
  the queues it takes only once overflowed (flag ``aq_ov``). Whether a queue's head has
  overflowed is read from the key of the queue's last OVERFLOW event (no per-contact state).
* The reservation keeps a count of live-idle agents, updated with the "fits" bitsets.
"""

import numpy as np

from libc.math cimport INFINITY, isfinite
from libc.stdint cimport INT64_MAX, int8_t, int32_t, int64_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memset

from _types cimport (
    ARR_LONGEST_IDLE,
    ARR_MOST_PROFICIENT,
    ARR_RANDOM,
    ARR_SKILL_PRIORITY,
    CAPACITY_UNITS as _CAPACITY_UNITS,
    EV_ABANDON,
    EV_AGENT_OFF,
    EV_AGENT_ON,
    EV_ARRIVAL,
    EV_COMPLETION,
    EV_OVERFLOW,
    N_ARRIVAL_POLICIES,
    N_EVENT_KINDS,
    N_OUTCOMES,
    N_PULL_POLICIES,
    NO_AGENT as _NO_AGENT,
    OUT_ABANDONED,
    OUT_ANSWERED,
    OUT_LOST_CLOSED,
    OUT_WAITING,
    PULL_QUEUE_PRIORITY,
    PULL_SLA_URGENCY,
    PULL_WEIGHTED_WAIT,
    arrival_policy_name,
    event_kind_name,
    outcome_name,
    pull_policy_name,
)

# ---------------------------------------------------------------------------------------------
# Enum mirror (Python side), derived from ext/_types.pxd.

ctypedef const char* (*name_fn)(int) noexcept nogil


cdef tuple _enum_names(name_fn fn, int n, str what):
    """Names of the enum values 0..n-1, in value order, from the ``.pxd`` name function."""
    cdef int k
    cdef const char* s
    names = []
    for k in range(n):
        s = fn(k)
        if s == NULL:
            raise ImportError(f"ext/_types.pxd: {what} has no member with value {k}")
        names.append(s.decode("ascii"))
    return tuple(names)


#: EventKind names in value (= same-instant processing) order.
EVENT_ORDER = _enum_names(event_kind_name, N_EVENT_KINDS, "EventKind")
#: Outcome names in value order.
OUTCOME_NAMES = _enum_names(outcome_name, N_OUTCOMES, "Outcome")
#: ArrivalPolicy names in value order.
ARRIVAL_POLICY_NAMES = _enum_names(arrival_policy_name, N_ARRIVAL_POLICIES, "ArrivalPolicy")
#: PullPolicy names in value order.
PULL_POLICY_NAMES = _enum_names(pull_policy_name, N_PULL_POLICIES, "PullPolicy")
CAPACITY_UNITS = int(_CAPACITY_UNITS)
NO_AGENT = int(_NO_AGENT)


cdef extern from *:
    """
    #include <stdint.h>
    #if defined(__GNUC__) || defined(__clang__)
    static inline int ccsim_ctz64(uint64_t v) { return __builtin_ctzll(v); }
    static inline int ccsim_popcount64(uint64_t v) { return __builtin_popcountll(v); }
    #else
    static inline int ccsim_ctz64(uint64_t v) { int n = 0; while (!(v & 1)) { v >>= 1; n++; } return n; }
    static inline int ccsim_popcount64(uint64_t v) { int n = 0; while (v) { v &= v - 1; n++; } return n; }
    #endif
    """
    int ccsim_ctz64(uint64_t v) noexcept nogil  # index of the lowest set bit (v != 0)
    int ccsim_popcount64(uint64_t v) noexcept nogil
# ---------------------------------------------------------------------------------------------
# State.

cdef struct AgentState:
    double last_free_s  # time the agent last freed capacity or came on duty
    double max_end_s  # max end_s of any contact the agent started (-inf if none)
    int32_t used  # capacity units in use
    int32_t in_hand  # number of contacts in hand
    int32_t team
    int32_t on_duty  # 1 between AGENT_ON and AGENT_OFF
    int32_t live_idle  # 1 if live-capable, on duty and used == 0 (spec: "Reservation")


cdef struct HeapItem:
    double t
    int64_t key  # kind << 32 | id


cdef struct Fifo:
    # Ring buffer of global contact ids: entries head .. tail - 1 at buf[i & mask].
    int32_t* buf
    int64_t head
    int64_t tail
    int64_t mask  # capacity - 1 (capacity a power of two)
    int32_t wait  # entries still waiting (the others abandoned, skipped lazily)


cdef struct Ctx:
    # sizes and scalars
    Py_ssize_t n_segments
    int32_t n_queues
    int32_t n_agents
    double until_s  # the current call processes events before this time
    int arrival_policy
    int pull_policy
    # routing-policy library (spec: "Pull", "Reservation", "Overflow")
    int32_t reserve  # reserve_for_live
    int32_t n_live_idle  # agents with live_idle == 1
    int8_t* live_cap  # [A] 1 if eligible for some live queue
    int8_t* q_deferred  # [Q]
    double* q_sla_s  # [Q] channel SLA threshold, +inf if none
    const double* queue_weight  # [Q]
    const double* ov_after  # [Q] overflow wait, +inf if none
    double* ov_t  # [Q] key (time, id) of the last OVERFLOW processed for a waiting contact
    int32_t* ov_id
    uint64_t* ov_elig  # [Q, n_words] bit a: agent a takes overflowed contacts of queue q
    uint64_t* cand  # [n_words] scratch: the candidates of one choose_agent
    int8_t* aq_ov  # parallel to aq: 1 if the agent takes the queue only once overflowed
    # model
    const double* channel_slowdown
    const int32_t* queue_channel
    const double* time_factor  # [T, Q]
    const double* proficiency  # [T, Q]
    const int32_t* skill_priority  # [T, Q]
    # workload window: global ids [base, base + n) at rows 0 .. n - 1 (NULL between calls)
    Py_ssize_t base
    const double* arrival_s
    const int32_t* queue
    const double* work_s
    const double* abandon_at_s
    const double* u_route
    const int8_t* closed
    const int32_t* arrival_order  # NULL: id order; else ids in (arrival_s, id) order
    # arrival stream: position (in id order, or in arrival_order) and end of this window
    Py_ssize_t arr_pos
    Py_ssize_t arr_end
    # roster
    const int32_t* seg_agent
    const double* seg_start_s
    const double* seg_end_s
    const int32_t* on_order
    Py_ssize_t ion  # AGENT_ON stream position
    # outcomes (window rows; release_s per segment, owned by the KernelRun)
    int8_t* outcome
    int32_t* agent
    double* start_s
    double* end_s
    double* release_s
    # engine state
    AgentState* agents
    int32_t* q_units  # [Q] capacity units of one contact of each queue
    Py_ssize_t n_words  # words of one agent bitset: ceil(A / 64)
    int32_t n_levels  # number of distinct q_units values
    int32_t* level_units  # [L] the distinct values
    int32_t* q_level  # [Q] index of q_units[q] in level_units
    uint64_t* elig  # [Q, n_words] bit a: agent a may serve queue q
    uint64_t* fit  # [L, n_words] bit a: agent a on duty with >= level_units[l] free units
    int32_t* aq_ptr  # [A + 1] CSR: eligible queues of each agent, sorted by aq_class
    int32_t* aq
    int64_t* aq_class  # static part of the pull key of (agent, queue)
    Fifo* fifo  # [Q] waiting contacts of each queue
    HeapItem* heap
    Py_ssize_t heap_n
    Py_ssize_t heap_cap
    int err  # nonzero: out of memory


cdef enum:
    SRC_NONE = 0
    SRC_HEAP = 1
    SRC_ON = 2
    SRC_ARRIVAL = 3
    FIFO_MIN_CAPACITY = 64

# ---------------------------------------------------------------------------------------------
# Binary min-heap on (t, key).

cdef inline bint _before(double t1, int64_t k1, double t2, int64_t k2) noexcept nogil:
    return t1 < t2 or (t1 == t2 and k1 < k2)


cdef inline void heap_push(Ctx* x, double t, int64_t key) noexcept nogil:
    cdef HeapItem* a
    cdef Py_ssize_t i, p, cap
    if x.heap_n == x.heap_cap:
        cap = 2 * x.heap_cap
        a = <HeapItem*> realloc(x.heap, cap * sizeof(HeapItem))
        if a == NULL:
            x.err = 1
            return
        x.heap = a
        x.heap_cap = cap
    a = x.heap
    i = x.heap_n
    x.heap_n += 1
    while i > 0:
        p = (i - 1) >> 1
        if _before(t, key, a[p].t, a[p].key):
            a[i] = a[p]
            i = p
        else:
            break
    a[i].t = t
    a[i].key = key


cdef inline void heap_pop(Ctx* x) noexcept nogil:
    cdef HeapItem* a = x.heap
    cdef Py_ssize_t n = x.heap_n - 1
    cdef Py_ssize_t i = 0, l, m
    cdef HeapItem last = a[n]
    x.heap_n = n
    while True:
        l = 2 * i + 1
        if l >= n:
            break
        m = l
        if l + 1 < n and _before(a[l + 1].t, a[l + 1].key, a[l].t, a[l].key):
            m = l + 1
        if _before(a[m].t, a[m].key, last.t, last.key):
            a[i] = a[m]
            i = m
        else:
            break
    a[i] = last
# ---------------------------------------------------------------------------------------------
# Queues: growable ring buffers of global contact ids.

cdef inline bint fifo_rebuild(Ctx* x, Fifo* f, int64_t cap) noexcept nogil:
    """Move f's still-waiting entries (in order) to a new buffer of capacity ``cap``.

    ``cap`` is a power of two >= the number of waiting entries. Returns 0 when out of memory
    (f unchanged). Dropping the abandoned entries changes nothing the loop can observe: they
    would be skipped when reaching the head.
    """
    cdef int32_t* buf = <int32_t*> malloc(cap * sizeof(int32_t))
    cdef int64_t h, n = 0
    cdef int32_t c
    if buf == NULL:
        return 0
    for h in range(f.head, f.tail):
        c = f.buf[h & f.mask]
        if x.outcome[c - x.base] == OUT_WAITING:
            buf[n] = c
            n += 1
    free(f.buf)
    f.buf = buf
    f.head = 0
    f.tail = n
    f.mask = cap - 1
    return 1


cdef inline void fifo_push(Ctx* x, Fifo* f, int32_t c) noexcept nogil:
    cdef int64_t cap
    if f.tail - f.head > f.mask:  # full
        # NOTE: a full buffer is rebuilt with its waiting entries only (abandoned ones are
        # dropped) and at least twice the room they need: amortised O(1) per push, and the
        # buffer stays proportional to the queue, not to the contacts that passed through.
        cap = f.mask + 1
        while cap < 2 * (<int64_t> f.wait + 1):
            cap *= 2
        if not fifo_rebuild(x, f, cap):
            x.err = 1
            return
    f.buf[f.tail & f.mask] = c
    f.tail += 1
    f.wait += 1

# ---------------------------------------------------------------------------------------------
# Event handlers. Contact ids are global; window rows are ``id - x.base``.

cdef inline void update_fit(Ctx* x, int32_t a) noexcept nogil:
    """Refresh agent a's bits in the "fits" bitsets after its capacity or duty changed."""
    cdef AgentState* ag = &x.agents[a]
    cdef int32_t free_units = _CAPACITY_UNITS - ag.used if ag.on_duty else -1
    cdef Py_ssize_t nw = x.n_words
    cdef uint64_t bit = (<uint64_t> 1) << (a & 63)
    cdef uint64_t* word = x.fit + (a >> 6)
    cdef int32_t l, idle
    for l in range(x.n_levels):
        if free_units >= x.level_units[l]:
            word[l * nw] |= bit
        else:
            word[l * nw] &= ~bit
    idle = 1 if (x.live_cap[a] and ag.on_duty and ag.used == 0) else 0
    x.n_live_idle += idle - ag.live_idle
    ag.live_idle = idle


cdef inline bint may_take_deferred(Ctx* x, int32_t a) noexcept nogil:
    """The reservation test (spec: "Reservation") for agent a."""
    if x.reserve <= 0 or not x.live_cap[a]:
        return 1
    return x.n_live_idle - x.agents[a].live_idle >= x.reserve


cdef inline bint overflowed(Ctx* x, int32_t q, int32_t c) noexcept nogil:
    """Whether the OVERFLOW event of waiting contact c (queue q) has been processed.

    OVERFLOW events of one queue pop in (time, id) order, which is its FIFO order, and the
    queue remembers the key of the last one that found its contact waiting: a waiting
    contact has overflowed iff its own key is not after that one.
    """
    cdef double t_ov = x.arrival_s[c - x.base] + x.ov_after[q]
    return t_ov < x.ov_t[q] or (t_ov == x.ov_t[q] and c <= x.ov_id[q])


cdef inline void start_contact(Ctx* x, int32_t c, int32_t a, double t) noexcept nogil:
    """Contact c starts on agent a at time t (spec: "Start of contact")."""
    cdef AgentState* ag = &x.agents[a]
    cdef Py_ssize_t i = c - x.base
    cdef int32_t q = x.queue[i]
    cdef int32_t ch = x.queue_channel[q]
    cdef double n_before = <double> ag.in_hand
    cdef double service_s
    cdef double end_s
    # Exactly the spec's expression, left to right (setup.py forbids FMA contraction).
    service_s = (x.work_s[i] * x.time_factor[ag.team * x.n_queues + q]
                 * (1.0 + x.channel_slowdown[ch] * n_before))
    end_s = t + service_s
    x.outcome[i] = OUT_ANSWERED
    x.agent[i] = a
    x.start_s[i] = t
    x.end_s[i] = end_s
    ag.used += x.q_units[q]
    ag.in_hand += 1
    update_fit(x, a)
    if end_s > ag.max_end_s:
        ag.max_end_s = end_s
    heap_push(x, end_s, (<int64_t> EV_COMPLETION << 32) | c)


cdef inline void pull(Ctx* x, int32_t a, double t) noexcept nogil:
    """Agent a (on duty) takes waiting contacts while one fits (spec: "Pull")."""
    cdef AgentState* ag = &x.agents[a]
    cdef int32_t free_units, j, q, c, bq, bc
    cdef int64_t cls, bcls, h
    cdef double arr, barr
    cdef Fifo* f
    cdef Py_ssize_t base = x.base
    cdef int policy = x.pull_policy
    cdef bint may_defer
    while True:
        free_units = _CAPACITY_UNITS - ag.used
        if free_units <= 0:
            return
        may_defer = may_take_deferred(x, a)
        bq = -1
        bc = -1
        bcls = 0
        barr = 0.0
        for j in range(x.aq_ptr[a], x.aq_ptr[a + 1]):
            cls = x.aq_class[j]
            # NOTE: the agent's queues are sorted by the static part of the key
            # (is_deferred[, queue_priority]); once a head was found, a queue of a larger
            # class cannot win, so the scan stops early.
            if bq >= 0 and cls > bcls:
                break
            q = x.aq[j]
            # is_deferred leads the class: past the first deferred queue all are deferred
            if x.q_deferred[q] and not may_defer:
                break
            f = &x.fifo[q]
            if f.wait == 0:
                continue
            # Lazy deletion: skip abandoned contacts at the head (wait > 0 guarantees a
            # waiting one before the tail).
            h = f.head
            c = f.buf[h & f.mask]
            while x.outcome[c - base] != OUT_WAITING:
                h += 1
                c = f.buf[h & f.mask]
            f.head = h
            if x.q_units[q] > free_units:
                continue
            if x.aq_ov[j] and not overflowed(x, q, c):
                continue
            # the dynamic part of the key (spec: "Pull"), same expressions as the spec
            arr = x.arrival_s[c - base]
            if policy == PULL_SLA_URGENCY:
                arr = arr + x.q_sla_s[q]
            elif policy == PULL_WEIGHTED_WAIT:
                arr = -((t - arr) * x.queue_weight[q])
            # Here cls == bcls whenever bq >= 0 (sorted classes, early break above).
            if bq < 0 or arr < barr or (arr == barr and c < bc):
                bq = q
                bc = c
                bcls = cls
                barr = arr
        if bq < 0:
            return
        f = &x.fifo[bq]
        f.head += 1
        f.wait -= 1
        start_contact(x, bc, a, t)


cdef inline int32_t choose_agent(Ctx* x, Py_ssize_t i, int32_t q,
                                 const uint64_t* elig) noexcept nogil:
    """The agent the arrival policy picks for the contact at window row i (queue q) among
    the agents of bitset ``elig`` (eligible, or overflow agents of q), or NO_AGENT."""
    cdef Py_ssize_t nw = x.n_words, w
    cdef const uint64_t* fit = x.fit + x.q_level[q] * nw
    cdef uint64_t* cand = x.cand
    cdef uint64_t bits, rest
    cdef int32_t a, best = _NO_AGENT, bused = 0, sp, bsp = 0, n_queues = x.n_queues
    cdef double blf = 0.0, p, bp = 0.0
    cdef Py_ssize_t n, idx, k
    cdef AgentState* ag
    cdef int policy = x.arrival_policy
    cdef bint reserve = x.q_deferred[q] and x.reserve > 0
    for w in range(nw):
        bits = fit[w] & elig[w]
        if reserve and bits:  # deferred work: drop the agents the reservation holds back
            rest = bits
            while rest:
                a = <int32_t> (w * 64 + ccsim_ctz64(rest))
                rest &= rest - 1
                if not may_take_deferred(x, a):
                    bits &= ~((<uint64_t> 1) << (a & 63))
        cand[w] = bits
    # NOTE: instead of testing every agent, the candidates (on duty, eligible, enough free
    # units) are read as the set bits of fit & elig (kept up to date by update_fit): the
    # scan costs O(candidates + A / 64), not O(eligible agents). Bits are visited in
    # increasing agent id, so on a tie of the other key components the first one (smallest
    # id) is kept, which is the keys' final "agent id" component.
    if policy == ARR_LONGEST_IDLE:
        # smallest (used_units, last_free_s, id)
        for w in range(nw):
            bits = cand[w]
            while bits:
                a = <int32_t> (w * 64 + ccsim_ctz64(bits))
                bits &= bits - 1
                ag = &x.agents[a]
                if best < 0 or ag.used < bused or (ag.used == bused and ag.last_free_s < blf):
                    best = a
                    bused = ag.used
                    blf = ag.last_free_s
    elif policy == ARR_MOST_PROFICIENT:
        # smallest (-proficiency[team, q], used_units, last_free_s, id);
        # -p1 < -p2 <=> p1 > p2 exactly (negation is exact).
        for w in range(nw):
            bits = cand[w]
            while bits:
                a = <int32_t> (w * 64 + ccsim_ctz64(bits))
                bits &= bits - 1
                ag = &x.agents[a]
                p = x.proficiency[ag.team * n_queues + q]
                if (best < 0 or p > bp
                        or (p == bp and (ag.used < bused
                                         or (ag.used == bused and ag.last_free_s < blf)))):
                    best = a
                    bp = p
                    bused = ag.used
                    blf = ag.last_free_s
    elif policy == ARR_SKILL_PRIORITY:
        # smallest (skill_priority[team, q], used_units, last_free_s, id)
        for w in range(nw):
            bits = cand[w]
            while bits:
                a = <int32_t> (w * 64 + ccsim_ctz64(bits))
                bits &= bits - 1
                ag = &x.agents[a]
                sp = x.skill_priority[ag.team * n_queues + q]
                if (best < 0 or sp < bsp
                        or (sp == bsp and (ag.used < bused
                                           or (ag.used == bused and ag.last_free_s < blf)))):
                    best = a
                    bsp = sp
                    bused = ag.used
                    blf = ag.last_free_s
    elif policy == ARR_RANDOM:
        # candidates in agent-id order, index floor(u_route * n_candidates)
        n = 0
        for w in range(nw):
            n += ccsim_popcount64(cand[w])
        if n == 0:
            return _NO_AGENT
        idx = <Py_ssize_t> (x.u_route[i] * <double> n)  # truncation == floor for u >= 0
        # u_route is in [0, 1), but u * n rounds up to n when u is within an ulp of 1.
        if idx >= n:
            idx = n - 1
        if idx < 0:
            idx = 0
        for w in range(nw):
            bits = cand[w]
            k = ccsim_popcount64(bits)
            if idx >= k:
                idx -= k
                continue
            while idx > 0:  # drop the idx lowest candidates of this word
                bits &= bits - 1
                idx -= 1
            best = <int32_t> (w * 64 + ccsim_ctz64(bits))
            break
    return best


cdef inline void on_arrival(Ctx* x, int32_t c, double t) noexcept nogil:
    cdef Py_ssize_t i = c - x.base
    cdef int32_t q, a
    cdef double ab
    if x.closed[i]:
        x.outcome[i] = OUT_LOST_CLOSED
        return
    q = x.queue[i]
    a = _NO_AGENT
    # NOTE: while queue q has waiting contacts, no on-duty eligible agent that passes the
    # reservation test (for deferred q) has room for one of them (every capacity release and
    # every AGENT_ON is followed by a pull, the reservation re-check runs whenever the test
    # can start to pass, and all the contacts of a queue need the same units), so the policy
    # scan would find nobody: skip it.
    if x.fifo[q].wait == 0:
        a = choose_agent(x, i, q, x.elig + q * x.n_words)
    if a != _NO_AGENT:
        start_contact(x, c, a, t)
        return
    fifo_push(x, &x.fifo[q], c)
    ab = x.abandon_at_s[i]
    if isfinite(ab):
        heap_push(x, ab, (<int64_t> EV_ABANDON << 32) | c)
    if isfinite(x.ov_after[q]):
        heap_push(x, x.arrival_s[i] + x.ov_after[q], (<int64_t> EV_OVERFLOW << 32) | c)


cdef inline void on_overflow(Ctx* x, int32_t c, double t) noexcept nogil:
    """Spec: "Overflow". A contact before the window is final (not waiting): nothing."""
    cdef Py_ssize_t i = c - x.base
    cdef int32_t q, a
    if i < 0 or x.outcome[i] != OUT_WAITING:
        return
    q = x.queue[i]
    x.ov_t[q] = t
    x.ov_id[q] = c
    a = choose_agent(x, i, q, x.ov_elig + q * x.n_words)
    if a != _NO_AGENT:
        x.fifo[q].wait -= 1  # it leaves the queue; its entry is skipped lazily
        start_contact(x, c, a, t)


cdef inline void recheck_reservation(Ctx* x, double t) noexcept nogil:
    """Spec: "Reservation": every on-duty agent with nothing in hand pulls, in id order."""
    cdef int32_t b, q
    cdef int64_t deferred_waiting = 0
    if x.reserve <= 0:
        return
    # NOTE: with fewer than reserve + 1 live-idle agents every live-idle agent fails the
    # test, and the other idle agents (not live-capable, never held back) found nothing to
    # take at their last pull and nothing was added for them since; likewise when no
    # deferred contact waits, nobody can find anything (live work never waits for an idle
    # agent that could take it). In both cases the pulls would take nothing: skip them.
    if x.n_live_idle < x.reserve + 1:
        return
    for q in range(x.n_queues):
        if x.q_deferred[q]:
            deferred_waiting += x.fifo[q].wait
    if deferred_waiting == 0:
        return
    for b in range(x.n_agents):
        if x.agents[b].on_duty and x.agents[b].used == 0:
            pull(x, b, t)


cdef inline void on_completion(Ctx* x, int32_t c, double t) noexcept nogil:
    cdef Py_ssize_t i = c - x.base
    cdef int32_t a = x.agent[i]
    cdef AgentState* ag = &x.agents[a]
    ag.used -= x.q_units[x.queue[i]]
    ag.in_hand -= 1
    ag.last_free_s = t
    update_fit(x, a)
    if ag.on_duty:
        pull(x, a, t)
        recheck_reservation(x, t)


cdef inline void on_abandon(Ctx* x, int32_t c) noexcept nogil:
    cdef Py_ssize_t i = c - x.base
    # Only contacts that were queued get an ABANDON event; a started one is ANSWERED. A
    # contact before the window was finalized (answered, then dropped): nothing to do.
    if i >= 0 and x.outcome[i] == OUT_WAITING:
        x.outcome[i] = OUT_ABANDONED
        x.fifo[x.queue[i]].wait -= 1


cdef inline void on_agent_off(Ctx* x, int32_t s) noexcept nogil:
    cdef int32_t a = x.seg_agent[s]
    cdef AgentState* ag = &x.agents[a]
    cdef double r = x.seg_end_s[s]
    ag.on_duty = 0
    update_fit(x, a)
    if ag.max_end_s > r:  # r = max(seg_end_s, max end started so far)
        r = ag.max_end_s
    x.release_s[s] = r


cdef inline void on_agent_on(Ctx* x, int32_t s, double t) noexcept nogil:
    cdef int32_t a = x.seg_agent[s]
    cdef AgentState* ag = &x.agents[a]
    ag.on_duty = 1
    ag.last_free_s = t
    update_fit(x, a)
    heap_push(x, x.seg_end_s[s], (<int64_t> EV_AGENT_OFF << 32) | s)
    pull(x, a, t)
    recheck_reservation(x, t)


cdef int run(Ctx* x) noexcept nogil:
    """Process events in key order until the first one at or after ``x.until_s``.

    The stream positions and the heap are left at that event, so a later call with a larger
    ``until_s`` continues exactly where this one stopped.
    """
    # NOTE: the stream positions live in locals during the loop (written back on return):
    # the handlers' int8 stores may alias anything, which would force reloads from x.
    cdef Py_ssize_t ia = x.arr_pos, ion = x.ion
    cdef Py_ssize_t n_segments = x.n_segments, base = x.base, arr_end = x.arr_end
    cdef const int32_t* arrival_order = x.arrival_order
    cdef double bt, t, until_s = x.until_s
    cdef int64_t bk, k
    cdef int32_t c, s, event_id
    cdef int src, kind, rc = 0
    while True:
        if x.err:
            rc = -1
            break
        src = SRC_NONE
        bt = INFINITY
        bk = INT64_MAX
        if x.heap_n > 0:
            src = SRC_HEAP
            bt = x.heap[0].t
            bk = x.heap[0].key
        if ion < n_segments:
            s = x.on_order[ion]
            t = x.seg_start_s[s]
            k = (<int64_t> EV_AGENT_ON << 32) | s
            if _before(t, k, bt, bk):
                src = SRC_ON
                bt = t
                bk = k
        if ia < arr_end:
            c = arrival_order[ia] if arrival_order != NULL else <int32_t> ia
            t = x.arrival_s[c - base]
            k = (<int64_t> EV_ARRIVAL << 32) | c
            if _before(t, k, bt, bk):
                src = SRC_ARRIVAL
                bt = t
                bk = k
        if src == SRC_NONE or not (bt < until_s):
            break
        k = bk >> 32  # kind
        event_id = <int32_t> (bk - (k << 32))
        if src == SRC_HEAP:
            kind = <int> k
            heap_pop(x)
            if kind == EV_COMPLETION:
                on_completion(x, event_id, bt)
            elif kind == EV_ABANDON:
                on_abandon(x, event_id)
            elif kind == EV_OVERFLOW:
                on_overflow(x, event_id, bt)
            else:
                on_agent_off(x, event_id)
        elif src == SRC_ARRIVAL:
            ia += 1
            on_arrival(x, event_id, bt)
        else:
            ion += 1
            on_agent_on(x, event_id, bt)
    x.arr_pos = ia
    x.ion = ion
    return rc

# ---------------------------------------------------------------------------------------------
# Entry points.

cdef inline void* _alloc(Py_ssize_t n, size_t size) noexcept:
    """calloc of at least one element (so that NULL always means out of memory)."""
    return calloc(n if n > 0 else 1, size)


cdef class KernelRun:
    """A resumable run of one replication on the event loop.

    Created with the arrays of a ``Model`` and a ``Roster``; the workload is then given
    window by window to :meth:`advance`, which processes the events before a time and keeps
    the whole engine state (event heap, queues, agents, roster position) for the next call.
    Feeding a workload in any sequence of windows and times gives exactly the outcomes of
    one call over all of it (the one-shot run): events carry global contact ids, so their
    order, ties included, is the same.

    Parameters
    ----------
    horizon_s : float
        Events at or after this time (seconds) are never processed.
    arrival_policy, pull_policy : int
        ``ArrivalPolicy`` / ``PullPolicy`` ids.
    channel_live : int8[C]
    channel_units : int32[C]
    channel_slowdown : float64[C]
    queue_channel, queue_priority : int32[Q]
    time_factor, proficiency : float64[T, Q]
    skill_priority : int32[T, Q]
    agent_team : int32[A]
    agent_queue_rank : int32[A, Q]
    channel_sla_s : float64[C]
        SLA threshold (NaN: none) for SLA_URGENCY.
    queue_weight : float64[Q]
        Weights for WEIGHTED_WAIT.
    reserve_for_live : int
        Spec: "Reservation" (0: off).
    overflow_after_s : float64[Q]
        Overflow wait (+inf: none).
    agent_overflow : int8[A, Q]
        1 where the agent takes overflowed contacts of the queue (ignored where eligible).
    seg_agent : int32[S]
    seg_start_s, seg_end_s : float64[S]
    on_order : int32[S]
        Segment ids in ``(seg_start_s, id)`` order.

    Attributes
    ----------
    release_s : float64[S]
        Release time of each roster segment so far (NaN until its AGENT_OFF is processed).
    oldest_pending_id : int
        After a call: the smallest global contact id that is still pending (waiting, in
        service, or not yet arrived); every contact before it is final and may be dropped
        from later windows.
    n_seen : int
        One past the largest global id given so far.
    until_s : float
        Events before this time have been processed.

    Raises
    ------
    ValueError
        Inconsistent shapes, unknown policy ids or out-of-range indices.
    MemoryError
    """

    cdef Ctx x
    cdef object _keep  # the model and roster buffers the pointers in x point into
    cdef int _mode  # how the arrival stream is given: 0 not yet, 1 id order, 2 explicit
    cdef readonly double horizon_s
    cdef readonly object release_s
    cdef readonly Py_ssize_t oldest_pending_id
    cdef readonly Py_ssize_t n_seen
    cdef readonly double until_s

    def __cinit__(self, *args, **kwargs):
        memset(&self.x, 0, sizeof(Ctx))

    def __init__(
        self,
        double horizon_s,
        int arrival_policy,
        int pull_policy,
        const int8_t[::1] channel_live,
        const int32_t[::1] channel_units,
        const double[::1] channel_slowdown,
        const int32_t[::1] queue_channel,
        const int32_t[::1] queue_priority,
        const double[:, ::1] time_factor,
        const double[:, ::1] proficiency,
        const int32_t[:, ::1] skill_priority,
        const int32_t[::1] agent_team,
        const int32_t[:, ::1] agent_queue_rank,
        const double[::1] channel_sla_s,
        const double[::1] queue_weight,
        int reserve_for_live,
        const double[::1] overflow_after_s,
        const int8_t[:, ::1] agent_overflow,
        const int32_t[::1] seg_agent,
        const double[::1] seg_start_s,
        const double[::1] seg_end_s,
        const int32_t[::1] on_order,
    ):
        cdef Py_ssize_t n_channels = channel_live.shape[0]
        cdef Py_ssize_t n_queues = queue_channel.shape[0]
        cdef Py_ssize_t n_teams = time_factor.shape[0]
        cdef Py_ssize_t n_agents = agent_team.shape[0]
        cdef Py_ssize_t n_segments = seg_agent.shape[0]
        cdef Py_ssize_t i, j, m, q, a, n_pairs
        cdef int32_t ch
        cdef int64_t cls
        cdef Ctx* x = &self.x
        cdef double[::1] release_view

        if x.agents != NULL:
            raise RuntimeError("KernelRun is already initialised")
        # --- validation of shapes and ids (O(A Q + S), before any allocation)
        if not 0 <= arrival_policy < N_ARRIVAL_POLICIES:
            raise ValueError(f"unknown arrival policy id {arrival_policy}")
        if not 0 <= pull_policy < N_PULL_POLICIES:
            raise ValueError(f"unknown pull policy id {pull_policy}")
        if n_segments >= 2**31 - 1:
            raise ValueError("too many segments for int32 ids")
        for name, got, want in (
            ("channel_units", channel_units.shape[0], n_channels),
            ("channel_slowdown", channel_slowdown.shape[0], n_channels),
            ("queue_priority", queue_priority.shape[0], n_queues),
            ("time_factor.shape[1]", time_factor.shape[1], n_queues),
            ("proficiency.shape[0]", proficiency.shape[0], n_teams),
            ("proficiency.shape[1]", proficiency.shape[1], n_queues),
            ("skill_priority.shape[0]", skill_priority.shape[0], n_teams),
            ("skill_priority.shape[1]", skill_priority.shape[1], n_queues),
            ("agent_queue_rank.shape[0]", agent_queue_rank.shape[0], n_agents),
            ("agent_queue_rank.shape[1]", agent_queue_rank.shape[1], n_queues),
            ("channel_sla_s", channel_sla_s.shape[0], n_channels),
            ("queue_weight", queue_weight.shape[0], n_queues),
            ("overflow_after_s", overflow_after_s.shape[0], n_queues),
            ("agent_overflow.shape[0]", agent_overflow.shape[0], n_agents),
            ("agent_overflow.shape[1]", agent_overflow.shape[1], n_queues),
            ("seg_start_s", seg_start_s.shape[0], n_segments),
            ("seg_end_s", seg_end_s.shape[0], n_segments),
            ("on_order", on_order.shape[0], n_segments),
        ):
            if got != want:
                raise ValueError(f"{name} has length {got}, expected {want}")
        for q in range(n_queues):
            if not 0 <= queue_channel[q] < n_channels:
                raise ValueError(f"queue_channel[{q}] = {queue_channel[q]} is not a channel")
        for ch in range(n_channels):
            if not 1 <= channel_units[ch] <= _CAPACITY_UNITS:
                raise ValueError(f"channel_units[{ch}] = {channel_units[ch]} is not in "
                                 f"1..{_CAPACITY_UNITS}")
        for a in range(n_agents):
            if not 0 <= agent_team[a] < n_teams:
                raise ValueError(f"agent_team[{a}] = {agent_team[a]} is not a team")
        for i in range(n_segments):
            if not 0 <= seg_agent[i] < n_agents:
                raise ValueError(f"seg_agent[{i}] = {seg_agent[i]} is not an agent")
            if not 0 <= on_order[i] < n_segments:
                raise ValueError(f"on_order[{i}] = {on_order[i]} is not a segment")

        # --- context: model and roster (their buffers are kept alive by self._keep)
        self._keep = (channel_slowdown, queue_channel, time_factor, proficiency,
                      skill_priority, seg_agent, seg_start_s, seg_end_s, on_order,
                      queue_weight, overflow_after_s)
        self.horizon_s = horizon_s
        self.release_s = np.full(n_segments, np.nan)
        release_view = self.release_s
        self.oldest_pending_id = 0
        self.n_seen = 0
        self.until_s = -INFINITY
        self._mode = 0
        x.n_segments = n_segments
        x.n_queues = <int32_t> n_queues
        x.n_agents = <int32_t> n_agents
        x.arrival_policy = arrival_policy
        x.pull_policy = pull_policy
        x.reserve = reserve_for_live if reserve_for_live > 0 else 0
        x.n_live_idle = 0
        x.queue_weight = &queue_weight[0] if n_queues else NULL
        x.ov_after = &overflow_after_s[0] if n_queues else NULL
        x.queue_channel = &queue_channel[0] if n_queues else NULL
        x.channel_slowdown = &channel_slowdown[0] if n_channels else NULL
        x.time_factor = &time_factor[0, 0] if n_teams and n_queues else NULL
        x.proficiency = &proficiency[0, 0] if n_teams and n_queues else NULL
        x.skill_priority = &skill_priority[0, 0] if n_teams and n_queues else NULL
        x.seg_agent = &seg_agent[0] if n_segments else NULL
        x.seg_start_s = &seg_start_s[0] if n_segments else NULL
        x.seg_end_s = &seg_end_s[0] if n_segments else NULL
        x.on_order = &on_order[0] if n_segments else NULL
        x.release_s = &release_view[0] if n_segments else NULL
        x.err = 0

        n_pairs = 0
        for a in range(n_agents):
            for q in range(n_queues):
                if agent_queue_rank[a, q] >= 0 or agent_overflow[a, q]:
                    n_pairs += 1

        x.agents = <AgentState*> _alloc(n_agents, sizeof(AgentState))
        x.q_units = <int32_t*> _alloc(n_queues, sizeof(int32_t))
        x.n_words = (n_agents + 63) // 64
        x.level_units = <int32_t*> _alloc(n_queues, sizeof(int32_t))
        x.q_level = <int32_t*> _alloc(n_queues, sizeof(int32_t))
        x.elig = <uint64_t*> _alloc(n_queues * x.n_words, sizeof(uint64_t))
        x.fit = <uint64_t*> _alloc(n_queues * x.n_words, sizeof(uint64_t))  # L <= Q
        x.aq_ptr = <int32_t*> _alloc(n_agents + 1, sizeof(int32_t))
        x.aq = <int32_t*> _alloc(n_pairs, sizeof(int32_t))
        x.aq_class = <int64_t*> _alloc(n_pairs, sizeof(int64_t))
        x.fifo = <Fifo*> _alloc(n_queues, sizeof(Fifo))
        x.live_cap = <int8_t*> _alloc(n_agents, sizeof(int8_t))
        x.q_deferred = <int8_t*> _alloc(n_queues, sizeof(int8_t))
        x.q_sla_s = <double*> _alloc(n_queues, sizeof(double))
        x.ov_t = <double*> _alloc(n_queues, sizeof(double))
        x.ov_id = <int32_t*> _alloc(n_queues, sizeof(int32_t))
        x.ov_elig = <uint64_t*> _alloc(n_queues * x.n_words, sizeof(uint64_t))
        x.cand = <uint64_t*> _alloc(x.n_words, sizeof(uint64_t))
        x.aq_ov = <int8_t*> _alloc(n_pairs, sizeof(int8_t))
        x.heap_cap = 64 + 2 * n_agents
        x.heap = <HeapItem*> malloc(x.heap_cap * sizeof(HeapItem))
        x.heap_n = 0
        if (x.agents == NULL or x.q_units == NULL or x.level_units == NULL
                or x.q_level == NULL or x.elig == NULL or x.fit == NULL or x.aq_ptr == NULL
                or x.aq == NULL or x.aq_class == NULL or x.fifo == NULL or x.heap == NULL
                or x.live_cap == NULL or x.q_deferred == NULL or x.q_sla_s == NULL
                or x.ov_t == NULL or x.ov_id == NULL or x.ov_elig == NULL or x.cand == NULL
                or x.aq_ov == NULL):
            raise MemoryError()
        for q in range(n_queues):
            x.fifo[q].buf = <int32_t*> malloc(FIFO_MIN_CAPACITY * sizeof(int32_t))
            if x.fifo[q].buf == NULL:
                raise MemoryError()
            x.fifo[q].mask = FIFO_MIN_CAPACITY - 1

        for a in range(n_agents):
            x.agents[a].last_free_s = 0.0
            x.agents[a].max_end_s = -INFINITY
            x.agents[a].used = 0
            x.agents[a].in_hand = 0
            x.agents[a].team = agent_team[a]
            x.agents[a].on_duty = 0
            x.agents[a].live_idle = 0

        # units per queue, their distinct values ("levels"), eligibility bitsets;
        # the "fits" bitsets start empty (nobody is on duty)
        x.n_levels = 0
        for q in range(n_queues):
            x.q_units[q] = channel_units[queue_channel[q]]
            j = 0
            while j < x.n_levels and x.level_units[j] != x.q_units[q]:
                j += 1
            if j == x.n_levels:
                x.level_units[j] = x.q_units[q]
                x.n_levels += 1
            x.q_level[q] = <int32_t> j
            x.q_deferred[q] = 1 if channel_live[queue_channel[q]] == 0 else 0
            x.q_sla_s[q] = channel_sla_s[queue_channel[q]]
            if not isfinite(x.q_sla_s[q]):  # no threshold (NaN): last
                x.q_sla_s[q] = INFINITY
            x.ov_t[q] = -INFINITY
            x.ov_id[q] = -1
            for a in range(n_agents):
                if agent_queue_rank[a, q] >= 0:
                    x.elig[q * x.n_words + (a >> 6)] |= (<uint64_t> 1) << (a & 63)
                    if not x.q_deferred[q]:
                        x.live_cap[a] = 1
                elif agent_overflow[a, q]:
                    x.ov_elig[q * x.n_words + (a >> 6)] |= (<uint64_t> 1) << (a & 63)

        # eligible queues per agent, sorted by (static pull class, queue id)
        m = 0
        for a in range(n_agents):
            x.aq_ptr[a] = <int32_t> m
            for q in range(n_queues):
                if agent_queue_rank[a, q] < 0 and not agent_overflow[a, q]:
                    continue
                # class = is_deferred[q] (other policies), or
                #         (is_deferred[q], queue_priority[q]) packed into one int64.
                cls = 1 if channel_live[queue_channel[q]] == 0 else 0
                if pull_policy == PULL_QUEUE_PRIORITY:
                    cls = (cls << 32) + (<int64_t> queue_priority[q] + 2147483648)
                j = m
                while j > x.aq_ptr[a] and x.aq_class[j - 1] > cls:  # insertion sort
                    x.aq_class[j] = x.aq_class[j - 1]
                    x.aq[j] = x.aq[j - 1]
                    x.aq_ov[j] = x.aq_ov[j - 1]
                    j -= 1
                x.aq_class[j] = cls
                x.aq[j] = <int32_t> q
                x.aq_ov[j] = 1 if agent_queue_rank[a, q] < 0 else 0
                m += 1
        x.aq_ptr[n_agents] = <int32_t> m

    def __dealloc__(self):
        cdef Ctx* x = &self.x
        cdef int32_t q
        if x.fifo != NULL:
            for q in range(x.n_queues):
                free(x.fifo[q].buf)
        free(x.fifo)
        free(x.agents)
        free(x.q_units)
        free(x.level_units)
        free(x.q_level)
        free(x.elig)
        free(x.fit)
        free(x.aq_ptr)
        free(x.aq)
        free(x.aq_class)
        free(x.heap)
        free(x.live_cap)
        free(x.q_deferred)
        free(x.q_sla_s)
        free(x.ov_t)
        free(x.ov_id)
        free(x.ov_elig)
        free(x.cand)
        free(x.aq_ov)

    def advance(
        self,
        const double[::1] arrival_s,
        const int32_t[::1] queue,
        const double[::1] work_s,
        const double[::1] abandon_at_s,
        const double[::1] u_route,
        const int8_t[::1] closed,
        int8_t[::1] outcome,
        int32_t[::1] agent,
        double[::1] start_s,
        double[::1] end_s,
        Py_ssize_t id_offset,
        double until_s,
        const int32_t[::1] arrival_order=None,
    ):
        """Process every event before ``until_s`` (clipped to the horizon).

        Parameters
        ----------
        arrival_s, work_s, abandon_at_s, u_route : float64[n]
        queue : int32[n]
        closed : int8[n]
            The workload window: rows ``0 .. n-1`` are the contacts with global ids
            ``id_offset .. id_offset + n - 1``. It must hold every contact still pending
            after the previous call (``id_offset <= oldest_pending_id``), every contact given
            before from there on (``id_offset + n >= n_seen``) and every contact arriving
            before ``until_s``; rows are sorted by ``(arrival_s, id)`` unless
            ``arrival_order`` is given.
        outcome : int8[n], agent : int32[n], start_s, end_s : float64[n]
            The window's outcomes: pending rows as the previous calls left them, new rows in
            their "nothing happened" state (``sim.model.empty_outcomes``). Written in place.
        id_offset : int
            Global id of row 0.
        until_s : float
            Events at or after this time stay for a later call; not before the previous
            call's.
        arrival_order : int32[n], optional
            Global ids in ``(arrival_s, id)`` order, for a workload whose rows are not
            sorted; only for a window that is the whole workload (``id_offset == 0``),
            the same in every call.

        Returns
        -------
        int
            :attr:`oldest_pending_id`.
        """
        cdef Py_ssize_t n = arrival_s.shape[0], i, n_queues = self.x.n_queues
        cdef Ctx* x = &self.x
        cdef Fifo* f
        cdef int64_t h, cap
        cdef Py_ssize_t oldest, c
        cdef int64_t key
        cdef int rc
        cdef bint ordered = arrival_order is not None
        if x.agents == NULL:
            raise RuntimeError("KernelRun is not initialised")
        if x.err:
            raise MemoryError("a previous call ran out of memory")
        for name, got in (
            ("queue", queue.shape[0]),
            ("work_s", work_s.shape[0]),
            ("abandon_at_s", abandon_at_s.shape[0]),
            ("u_route", u_route.shape[0]),
            ("closed", closed.shape[0]),
            ("outcome", outcome.shape[0]),
            ("agent", agent.shape[0]),
            ("start_s", start_s.shape[0]),
            ("end_s", end_s.shape[0]),
        ):
            if got != n:
                raise ValueError(f"{name} has length {got}, expected {n}")
        if id_offset + n >= 2**31 - 1:
            raise ValueError("too many contacts for int32 ids")
        if not 0 <= id_offset <= self.oldest_pending_id:
            raise ValueError(f"the window starts at contact {id_offset}, after the oldest "
                             f"pending contact {self.oldest_pending_id}")
        if id_offset + n < self.n_seen:
            raise ValueError(f"the window ends at contact {id_offset + n}, before contact "
                             f"{self.n_seen} given earlier")
        if until_s > self.horizon_s:
            until_s = self.horizon_s
        if until_s < self.until_s:
            raise ValueError(f"until_s = {until_s} is before the previous call's "
                             f"{self.until_s}")
        if self._mode == 0:
            self._mode = 2 if ordered else 1
        if ordered != (self._mode == 2):
            raise ValueError("arrival_order must be given in every call or in none")
        if ordered:
            if id_offset != 0 or arrival_order.shape[0] != n or (self.n_seen and
                                                                  n != self.n_seen):
                raise ValueError("arrival_order needs the whole workload as the window")
            for i in range(n):
                if not 0 <= arrival_order[i] < n:
                    raise ValueError(f"arrival_order[{i}] = {arrival_order[i]} is not a "
                                     "contact")
        else:
            # rows not yet arrived must be in arrival order (the stream is read in id order)
            for i in range(self.x.arr_pos - id_offset + 1, n):
                if not arrival_s[i] >= arrival_s[i - 1]:
                    raise ValueError(f"arrival_s is not sorted at row {i} (contact "
                                     f"{id_offset + i}); pass arrival_order")
        for i in range(n):
            if not 0 <= queue[i] < n_queues:
                raise ValueError(f"queue[{i}] = {queue[i]} is not a queue")

        # --- the window
        x.base = id_offset
        x.arrival_s = &arrival_s[0] if n else NULL
        x.queue = &queue[0] if n else NULL
        x.work_s = &work_s[0] if n else NULL
        x.abandon_at_s = &abandon_at_s[0] if n else NULL
        x.u_route = &u_route[0] if n else NULL
        x.closed = &closed[0] if n else NULL
        x.outcome = &outcome[0] if n else NULL
        x.agent = &agent[0] if n else NULL
        x.start_s = &start_s[0] if n else NULL
        x.end_s = &end_s[0] if n else NULL
        x.arrival_order = &arrival_order[0] if ordered and n else NULL
        x.arr_end = n if ordered else id_offset + n
        x.until_s = until_s
        try:
            with nogil:
                rc = run(x)
            if rc != 0:
                raise MemoryError("the event heap or a queue could not grow")

            # --- drop the abandoned entries of the queues (they hold only waiting contacts
            # from now on, all in the next window), and find the oldest pending contact
            oldest = x.arr_pos if not ordered else (0 if x.arr_pos < n else n)
            for i in range(n_queues):
                f = &x.fifo[i]
                if f.tail - f.head != f.wait or f.mask + 1 > 4 * max(
                        <int64_t> FIFO_MIN_CAPACITY, 2 * <int64_t> f.wait):
                    cap = FIFO_MIN_CAPACITY
                    while cap < 2 * <int64_t> f.wait:
                        cap *= 2
                    if not fifo_rebuild(x, f, cap):
                        x.err = 1
                        raise MemoryError("a queue could not be compacted")
                for h in range(f.head, f.tail):
                    c = f.buf[h & f.mask]
                    if c < oldest:
                        oldest = c
            for i in range(x.heap_n):
                key = x.heap[i].key
                if (key >> 32) == EV_COMPLETION:  # in service
                    c = <Py_ssize_t> (key & 0xFFFFFFFF)
                    if c < oldest:
                        oldest = c
        finally:
            x.arrival_s = NULL
            x.queue = NULL
            x.work_s = NULL
            x.abandon_at_s = NULL
            x.u_route = NULL
            x.closed = NULL
            x.outcome = NULL
            x.agent = NULL
            x.start_s = NULL
            x.end_s = NULL
            x.arrival_order = NULL
        self.oldest_pending_id = oldest
        if id_offset + n > self.n_seen:
            self.n_seen = id_offset + n
        self.until_s = until_s
        return oldest
