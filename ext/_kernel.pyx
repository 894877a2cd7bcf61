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
* Events are processed in increasing key ``(time_s, kind, id)``. Five sources are merged
  at every step, each in key order: the arrival stream (contacts sorted by
  ``(arrival_s, id)``: in id order, or through an explicit order for the one-shot run of an
  unsorted workload), the AGENT_ON stream (segments in ``(seg_start_s, id)`` order), a
  binary min-heap in a flat C array holding the scheduled COMPLETION, ABANDON and OVERFLOW
  events, a second one holding the ARRIVAL events of the follow-ups and a third one the
  AGENT_OFF events. Every event is named by one 128-bit integer key (``ev_key``) whose
  integer order is the order of ``(time_s, kind, id)``: time first, then kind, then id.
  Keys are unique, so the merge order does not depend on which source holds an event.
  NOTE: the follow-ups (often a day ahead) and the shift ends have their own heaps so that
  the busy heap of near events stays small (fewer levels per push and pop); the event being
  handled keeps its heap slot until its handler's first push on that heap takes it (one
  sift, not two). A segment's AGENT_OFF is pushed when its AGENT_ON is processed (as the
  SimPy engine's shift process does), so the OFF of a segment can never come before its
  ON. The positions in both streams and the heaps persist between calls; a call stops
  before the first event at or after its ``until_s`` (which stays first for the next call).
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
* The static part of the pull key (is_deferred[, queue_priority]) depends on the queue only:
  the queues are ranked once by (static key, queue id) (``rank_q``, ``q_rank``), and the
  queue bitsets are over ranks: per agent, the queues of its pull list (``ag_pull``) and
  those it takes only once overflowed (``ag_pull_ov``); the queues that have waiting
  contacts (``rk_waiting``), the live and the deferred ones. A pull visits the set bits of
  ``rk_waiting & ag_pull``, i.e. only the agent's queues with waiting contacts, in the
  order of its sorted list. Whether a queue's head has overflowed is read from the key of
  the queue's last OVERFLOW event (no per-contact state).
* The reservation keeps a count and a bitset of the live-idle agents, updated with the
  "fits" bitsets; its re-check pulls only the live-idle agents in the puller bitsets
  (``rk_pullers``: per queue, the agents with it in their list) of the deferred queues that
  have waiting contacts.
"""

import numpy as np

from libc.math cimport INFINITY, NAN, isfinite
from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t, uint32_t, uint64_t, uintptr_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcpy, memmove, memset

from _types cimport (
    FATE_CALLBACK,
    FATE_ESCALATED,
    FATE_GAVE_UP,
    FATE_REPEAT,
    FATE_RESOLVED,
    FATE_RETRIED,
    FATE_TRANSFERRED,
    FATE_UNRESOLVED,
    FOLLOWUP_BASE as FB,
    KIND_CALLBACK,
    KIND_REPEAT,
    KIND_RETRIAL,
    KIND_TASK,
    KIND_TRANSFER,
    N_CONTACT_KINDS,
    N_FATES,
    POOL_BLOCK as _POOL_BLOCK,
    contact_kind_name,
    fate_name,
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
#: ContactKind names in value order.
CONTACT_KIND_NAMES = _enum_names(contact_kind_name, N_CONTACT_KINDS, "ContactKind")
#: Fate names in value order.
FATE_NAMES = _enum_names(fate_name, N_FATES, "Fate")
FOLLOWUP_BASE = int(FB)
POOL_BLOCK = int(_POOL_BLOCK)


cdef extern from *:
    """
    #include <stdint.h>
    #if defined(__GNUC__) || defined(__clang__)
    static inline int ccsim_ctz64(uint64_t v) { return __builtin_ctzll(v); }
    static inline int ccsim_popcount64(uint64_t v) { return __builtin_popcountll(v); }
    static inline void ccsim_prefetch(const void* p) { __builtin_prefetch(p); }
    #else
    static inline int ccsim_ctz64(uint64_t v) { int n = 0; while (!(v & 1)) { v >>= 1; n++; } return n; }
    static inline int ccsim_popcount64(uint64_t v) { int n = 0; while (v) { v &= v - 1; n++; } return n; }
    static inline void ccsim_prefetch(const void* p) { (void) p; }
    #endif
    """
    int ccsim_ctz64(uint64_t v) noexcept nogil  # index of the lowest set bit (v != 0)
    int ccsim_popcount64(uint64_t v) noexcept nogil
    void ccsim_prefetch(const void* p) noexcept nogil  # a cache hint (no effect on values)


# Event keys: (time_s, kind, id) packed into one unsigned 128-bit integer (GCC and Clang),
# compared with a single integer comparison.
#   high 64 bits: the time's IEEE bits mapped to an unsigned integer of the same order
#                 (0x8000000000000000 + the signed magnitude; -0.0 and +0.0 both map to
#                 0x8000000000000000, so equal times compare equal, as with ``==``),
#   low 64 bits:  kind << 33 | id << 1 | (1 if the time is -0.0), so that the exact time,
#                 sign of zero included, can be read back; the flag never decides an order
#                 (two events never share a kind and an id).
# For every non-NaN time the integer order is exactly the order of (time_s, kind, id)
# compared with the float operators <, ==.
cdef extern from *:
    """
    #if !defined(__SIZEOF_INT128__)
    #error "ccsim's kernel (sim._kernel) needs a C compiler with unsigned __int128 (GCC or Clang on a 64-bit target); use --engine simpy otherwise"
    #endif
    typedef unsigned __int128 ccsim_ekey;
    #define CCSIM_SIGN 0x8000000000000000ULL
    static inline uint64_t ccsim_time_order(double t) {  /* the high 64 bits of a key */
        uint64_t u, m, s;
        memcpy(&u, &t, sizeof u);
        s = (uint64_t) ((int64_t) u >> 63);  /* all ones when the sign bit is set */
        m = u & ~CCSIM_SIGN;
        return CCSIM_SIGN + ((m ^ s) - s);
    }
    static inline ccsim_ekey ccsim_pack(uint64_t hi, uint64_t lo) {
        return ((ccsim_ekey) hi << 64) | lo;
    }
    static inline ccsim_ekey ccsim_ev_key(double t, int64_t kind, int64_t id) {
        uint64_t u;
        memcpy(&u, &t, sizeof u);
        return ccsim_pack(ccsim_time_order(t),
                          (uint64_t) (kind << 33 | id << 1 | (u == CCSIM_SIGN)));
    }
    static inline double ccsim_ev_time(ccsim_ekey k) {
        int64_t d = (int64_t) ((uint64_t) (k >> 64) - CCSIM_SIGN);
        uint64_t u = d < 0 ? (CCSIM_SIGN | (uint64_t) -d) : (uint64_t) d;
        double t;
        u |= ((uint64_t) k & 1) << 63;  /* -0.0 */
        memcpy(&t, &u, sizeof t);
        return t;
    }
    static inline int ccsim_ev_kind(ccsim_ekey k) { return (int) ((uint64_t) k >> 33); }
    static inline int32_t ccsim_ev_id(ccsim_ekey k) {
        return (int32_t) (((uint64_t) k >> 1) & 0xFFFFFFFFu);
    }
    static const ccsim_ekey CCSIM_EV_NONE = ~(ccsim_ekey) 0;  /* after every event */
    """
    # Cython sees an integer type; the C code uses the 128-bit type (only =, < and the
    # functions below are applied to it).
    ctypedef unsigned long long ekey_t "ccsim_ekey"
    ekey_t ev_key "ccsim_ev_key"(double t, int64_t kind, int64_t ident) noexcept nogil
    uint64_t time_order "ccsim_time_order"(double t) noexcept nogil
    ekey_t pack128 "ccsim_pack"(uint64_t hi, uint64_t lo) noexcept nogil
    double ev_time "ccsim_ev_time"(ekey_t k) noexcept nogil
    int ev_kind "ccsim_ev_kind"(ekey_t k) noexcept nogil
    int32_t ev_id "ccsim_ev_id"(ekey_t k) noexcept nogil
    const ekey_t EV_NONE "CCSIM_EV_NONE"
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
    uint64_t levels  # bit l: the agent's bit is set in fit[l]


cdef struct Heap:
    # Binary min-heap of event keys in a flat growable array.
    ekey_t* a
    Py_ssize_t n
    Py_ssize_t cap
    int top_taken  # 1 while the top's event is handled: the next push replaces it


cdef struct Fifo:
    # Ring buffer of global contact ids: entries head .. tail - 1 at buf[i & mask].
    int32_t* buf
    int64_t head
    int64_t tail
    int64_t mask  # capacity - 1 (capacity a power of two)
    int32_t wait  # entries still waiting (the others abandoned, skipped lazily)


cdef struct FU:
    # A follow-up contact (sim.model FOLLOWUP_COLUMNS; its id is FOLLOWUP_BASE + row index
    # + fu_base).
    # NOTE: the fields the event handlers read come first (60 bytes) and a row is padded to
    # 128 bytes in a table aligned to 64 bytes (x.fu), so that they lie in one cache line:
    # a follow-up is handled long after its spawn, when its row is usually out of the cache.
    double arrival_s
    double work_s
    double abandon_at_s
    double u_route
    double u_outcome
    int32_t ctype
    int32_t queue
    int32_t agent
    int8_t severity
    int8_t auth_tier
    int8_t repeats
    int8_t retrials
    int8_t transfers
    int8_t outcome
    int8_t fate
    int8_t kind
    # written at the spawn and at the start, read by take_followups
    int64_t journey
    int64_t parent
    double j_arrival_s
    double p_arrival_s
    double start_s
    double end_s
    int32_t j_queue
    char pad[12]  # to FU_ROW_BYTES


cdef struct PoolEntry:
    # One entry of a follow-up pool block (sim.journeys.FollowupPools.block), its draws side
    # by side.
    double delay_s
    double work_s
    double patience_s
    double u_route
    double u_outcome
    int32_t queue  # -1: the engine chooses the queue


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
    uint64_t* live_idle_bits  # [n_words] bit a: agents[a].live_idle
    uint64_t* rk_pullers  # [Q, n_words] row r: bit a: the queue of rank r is in a's list
    uint64_t* recheck_queues  # [q_words] the deferred queues with waiting contacts ...
    uint64_t* recheck_cand  # [n_words] ... and the OR of their puller bitsets
    bint recheck_any  # recheck_cand is not empty
    int8_t* live_cap  # [A] 1 if eligible for some live queue
    int8_t* q_deferred  # [Q]
    double* q_sla_s  # [Q] channel SLA threshold, +inf if none
    const double* queue_weight  # [Q]
    const double* ov_after  # [Q] overflow wait, +inf if none
    double* ov_t  # [Q] key (time, id) of the last OVERFLOW processed for a waiting contact
    int32_t* ov_id
    uint64_t* ov_elig  # [Q, n_words] bit a: agent a takes overflowed contacts of queue q
    uint64_t* cand  # [n_words] scratch: the candidates of one choose_agent
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
    int32_t* level_units  # [L] the distinct values (L <= CAPACITY_UNITS: units are 1..60)
    uint64_t* units_levels  # [CAPACITY_UNITS + 1] bit l: level_units[l] <= free units
    ekey_t* idle_key  # [A] (used, last_free_s) of each agent as one integer (ev_key's order)
    int32_t* q_level  # [Q] index of q_units[q] in level_units
    uint64_t* elig  # [Q, n_words] bit a: agent a may serve queue q
    uint64_t* fit  # [L, n_words] bit a: agent a on duty with >= level_units[l] free units
    int32_t* rank_q  # [Q] queues in increasing (static part of the pull key, id): by rank
    int32_t* q_rank  # [Q] rank of each queue
    int64_t* rank_cls  # [Q] static part of the pull key of the queue of each rank
    Fifo* fifo  # [Q] waiting contacts of each queue
    Py_ssize_t q_words  # words of one queue bitset: ceil(Q / 64)
    # queue bitsets over ranks (bit r: the queue rank_q[r])
    uint64_t* rk_waiting  # [q_words] its fifo has waiting contacts (wait > 0)
    uint64_t* rk_live  # [q_words] it is live (not deferred)
    uint64_t* rk_deferred  # [q_words] it is deferred
    uint64_t* ag_pull  # [A, q_words] it is in agent a's pull list (eligible or overflow)
    uint64_t* ag_pull_ov  # [A, q_words] agent a takes it only once overflowed
    Heap heap  # scheduled COMPLETION, ABANDON and OVERFLOW events
    Heap fu_heap  # ARRIVAL events of the follow-ups (not arrived yet)
    Heap off_heap  # AGENT_OFF events of the segments on duty
    int err  # nonzero: out of memory (1) or a pool block could not be sampled (2)
    # journeys (spec: "Journeys"); journeys == 0: every fate RESOLVED / GAVE_UP, no follow-up
    int journeys
    const int32_t* ctype  # window
    const double* u_outcome  # window
    const int8_t* severity  # window
    const int8_t* auth_tier  # window
    int8_t* fate  # window (out)
    FU* fu  # follow-ups with ids FB + fu_base .. FB + fu_base + fu_n - 1 (64-byte aligned)
    void* fu_mem  # the allocation x.fu lies in (freed with free)
    Py_ssize_t fu_base
    Py_ssize_t fu_n
    Py_ssize_t fu_cap
    int32_t n_channels
    const int8_t* channel_live
    const double* thr_escalate  # [K]
    const double* thr_transfer
    const double* thr_unresolved
    const int32_t* escalate_tier  # [K, 3]
    const int32_t* max_repeats  # [K]
    const int32_t* transfer_queue  # [K, C]
    const double* p_retry  # [C]
    const int32_t* max_retrials  # [C]
    const double* tier_up  # [4]
    const int32_t* task_queue  # [4, 3]
    const int32_t* queue_tier  # [Q]
    const int64_t* open_ptr  # [C + 1]
    const double* open_lo_s
    const double* open_hi_s
    const int32_t* class_repeat  # [K, C]
    const int32_t* class_retrial
    const int32_t* class_transfer
    const int32_t* class_task  # [4]
    int32_t n_classes
    int64_t* pool_used  # [n_classes] entries taken so far
    int64_t* pool_block  # [n_classes] block whose entries are loaded (-1: none)
    PoolEntry* pool  # [n_classes, POOL_BLOCK] the loaded block of each class
    void* owner  # the KernelRun (to sample pool blocks, with the GIL)


cdef enum:
    FU_ROW_BYTES = 128  # sizeof(FU): two cache lines
    CACHE_LINE = 64
    SRC_HEAP = 1
    SRC_ROSTER = 2
    SRC_ARRIVAL = 3
    SRC_FOLLOWUP = 4
    FIFO_MIN_CAPACITY = 64

if sizeof(FU) != FU_ROW_BYTES:
    raise ImportError(f"sim._kernel: a follow-up row has {sizeof(FU)} bytes, expected "
                      f"{FU_ROW_BYTES} (see FU)")

# ---------------------------------------------------------------------------------------------
# Contacts: first contacts (global id < FB) live in the window arrays at row ``id - base``,
# follow-ups (id >= FB) in the kernel's own table at row ``id - FB - fu_base``.

cdef inline FU* fu_row(Ctx* x, int32_t c) noexcept nogil:
    return &x.fu[<Py_ssize_t> c - FB - x.fu_base]


cdef inline void prefetch_fu(Ctx* x, int32_t c) noexcept nogil:
    """Cache hint for the fields of follow-up c that the handlers read (its first line)."""
    ccsim_prefetch(fu_row(x, c))


cdef inline double c_arrival(Ctx* x, int32_t c) noexcept nogil:
    return fu_row(x, c).arrival_s if c >= FB else x.arrival_s[c - x.base]


cdef inline int32_t c_queue(Ctx* x, int32_t c) noexcept nogil:
    return fu_row(x, c).queue if c >= FB else x.queue[c - x.base]


cdef inline double c_work(Ctx* x, int32_t c) noexcept nogil:
    return fu_row(x, c).work_s if c >= FB else x.work_s[c - x.base]


cdef inline double c_abandon_at(Ctx* x, int32_t c) noexcept nogil:
    return fu_row(x, c).abandon_at_s if c >= FB else x.abandon_at_s[c - x.base]


cdef inline double c_u_route(Ctx* x, int32_t c) noexcept nogil:
    return fu_row(x, c).u_route if c >= FB else x.u_route[c - x.base]


cdef inline double c_u_outcome(Ctx* x, int32_t c) noexcept nogil:
    return fu_row(x, c).u_outcome if c >= FB else x.u_outcome[c - x.base]


cdef inline int8_t c_outcome(Ctx* x, int32_t c) noexcept nogil:
    return fu_row(x, c).outcome if c >= FB else x.outcome[c - x.base]


cdef inline int32_t c_agent(Ctx* x, int32_t c) noexcept nogil:
    return fu_row(x, c).agent if c >= FB else x.agent[c - x.base]


cdef inline void set_outcome(Ctx* x, int32_t c, int8_t v) noexcept nogil:
    if c >= FB:
        fu_row(x, c).outcome = v
    else:
        x.outcome[c - x.base] = v


cdef inline void set_fate(Ctx* x, int32_t c, int8_t v) noexcept nogil:
    if c >= FB:
        fu_row(x, c).fate = v
    else:
        x.fate[c - x.base] = v


cdef inline bint is_final_gone(Ctx* x, int32_t c) noexcept nogil:
    """Whether contact c was finalized and dropped (before the window or the table)."""
    if c >= FB:
        return <Py_ssize_t> c - FB < x.fu_base
    return c < x.base

# ---------------------------------------------------------------------------------------------
# Binary min-heap of event keys.

cdef inline void heap_sift_down(Heap* h, ekey_t k) noexcept nogil:
    """Put k into the empty root slot of heap h (h.n counts that slot)."""
    cdef ekey_t* a = h.a
    cdef Py_ssize_t n = h.n, i = 0, m
    while True:
        m = 2 * i + 1
        if m >= n:
            break
        if m + 1 < n:
            # NOTE: the smaller child is selected without a branch (which child wins is
            # unpredictable).
            m += a[m + 1] < a[m]
        if a[m] < k:
            a[i] = a[m]
            i = m
        else:
            break
    a[i] = k


cdef inline void heap_push(Ctx* x, Heap* h, ekey_t k) noexcept nogil:
    cdef ekey_t* a
    cdef Py_ssize_t i, p, cap
    if h.top_taken:
        # NOTE: the event being handled was h's top; the first event its handler schedules
        # on h takes its slot (one sift instead of a pop and a push). The heap holds the
        # same unique keys either way, so the order of the events is unchanged.
        h.top_taken = 0
        heap_sift_down(h, k)
        return
    if h.n == h.cap:
        cap = 2 * h.cap
        a = <ekey_t*> realloc(h.a, cap * sizeof(ekey_t))
        if a == NULL:
            x.err = 1
            return
        h.a = a
        h.cap = cap
    a = h.a
    i = h.n
    h.n += 1
    while i > 0:
        p = (i - 1) >> 1
        if k < a[p]:
            a[i] = a[p]
            i = p
        else:
            break
    a[i] = k


cdef inline void heap_pop(Heap* h) noexcept nogil:
    """Remove the top of h (its last item fills the slot)."""
    h.n -= 1
    if h.n > 0:
        heap_sift_down(h, h.a[h.n])


cdef inline void heap_end_event(Heap* h) noexcept nogil:
    """The top's event was handled: remove it unless a push already took its slot."""
    if h.top_taken:
        h.top_taken = 0
        heap_pop(h)
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
        if c_outcome(x, c) == OUT_WAITING:
            buf[n] = c
            n += 1
    free(f.buf)
    f.buf = buf
    f.head = 0
    f.tail = n
    f.mask = cap - 1
    return 1


cdef inline void fifo_push(Ctx* x, int32_t q, int32_t c) noexcept nogil:
    cdef Fifo* f = &x.fifo[q]
    cdef int64_t cap
    cdef int32_t r
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
    r = x.q_rank[q]
    x.rk_waiting[r >> 6] |= (<uint64_t> 1) << (r & 63)


cdef inline void fifo_leave(Ctx* x, int32_t q) noexcept nogil:
    """One waiting contact of queue q left it (taken or abandoned)."""
    cdef Fifo* f = &x.fifo[q]
    cdef int32_t r
    f.wait -= 1
    if f.wait == 0:
        r = x.q_rank[q]
        x.rk_waiting[r >> 6] &= ~((<uint64_t> 1) << (r & 63))

# ---------------------------------------------------------------------------------------------
# Event handlers. Contact ids are global; window rows are ``id - x.base``.

cdef inline void update_fit(Ctx* x, int32_t a) noexcept nogil:
    """Refresh agent a's bits in the "fits" bitsets after its capacity or duty changed."""
    cdef AgentState* ag = &x.agents[a]
    cdef uint64_t bit = (<uint64_t> 1) << (a & 63)
    cdef uint64_t* word = x.fit + (a >> 6)
    cdef Py_ssize_t nw = x.n_words
    # the levels the agent fits now (none off duty), from a table by free units
    cdef uint64_t levels = x.units_levels[_CAPACITY_UNITS - ag.used] if ag.on_duty else 0
    cdef uint64_t changed = levels ^ ag.levels
    cdef int32_t idle
    # NOTE: only the levels whose bit changes are written (usually none or one), not all.
    ag.levels = levels
    # NOTE: the LONGEST_IDLE key (used, last_free_s) as one integer: one comparison per
    # candidate in choose_agent (times compare as in ev_key, so -0.0 equals +0.0 as with ==).
    x.idle_key[a] = pack128(<uint64_t> ag.used, time_order(ag.last_free_s))
    while changed:
        word[ccsim_ctz64(changed) * nw] ^= bit
        changed &= changed - 1
    # NOTE: written without branches (whether the agent is idle flips unpredictably): the
    # bit is cleared, then set from a 0 / all-ones mask.
    idle = x.live_cap[a] & (ag.on_duty != 0) & (ag.used == 0)
    x.n_live_idle += idle - ag.live_idle
    ag.live_idle = idle
    x.live_idle_bits[a >> 6] = (x.live_idle_bits[a >> 6] & ~bit) | (bit & (0 - <uint64_t> idle))


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
    cdef double t_ov = c_arrival(x, c) + x.ov_after[q]
    return t_ov < x.ov_t[q] or (t_ov == x.ov_t[q] and c <= x.ov_id[q])


cdef inline void start_contact(Ctx* x, int32_t c, int32_t a, double t) noexcept nogil:
    """Contact c starts on agent a at time t (spec: "Start of contact")."""
    cdef AgentState* ag = &x.agents[a]
    cdef Py_ssize_t i
    cdef int32_t q = c_queue(x, c)
    cdef int32_t ch = x.queue_channel[q]
    cdef double n_before = <double> ag.in_hand
    cdef double service_s
    cdef double end_s
    cdef FU* r
    # Exactly the spec's expression, left to right (setup.py forbids FMA contraction).
    service_s = (c_work(x, c) * x.time_factor[ag.team * x.n_queues + q]
                 * (1.0 + x.channel_slowdown[ch] * n_before))
    end_s = t + service_s
    if c >= FB:
        r = fu_row(x, c)
        r.outcome = OUT_ANSWERED
        r.agent = a
        r.start_s = t
        r.end_s = end_s
    else:
        i = c - x.base
        x.outcome[i] = OUT_ANSWERED
        x.agent[i] = a
        x.start_s[i] = t
        x.end_s[i] = end_s
    ag.used += x.q_units[q]
    ag.in_hand += 1
    update_fit(x, a)
    if end_s > ag.max_end_s:
        ag.max_end_s = end_s
    heap_push(x, &x.heap, ev_key(end_s, EV_COMPLETION, c))


cdef void pull_scan(Ctx* x, int32_t a, double t) noexcept nogil:
    """pull, once the agent has free capacity and one of its queues waiting contacts."""
    cdef AgentState* ag = &x.agents[a]
    cdef int32_t free_units, r, q, c, bq, bc
    cdef int64_t cls, bcls, h
    cdef double arr, barr
    cdef Fifo* f
    cdef int policy = x.pull_policy
    cdef bint may_defer, done
    cdef Py_ssize_t w, qw = x.q_words
    cdef const uint64_t* mine = x.ag_pull + a * qw
    cdef const uint64_t* mine_ov = x.ag_pull_ov + a * qw
    cdef uint64_t bits
    while True:
        free_units = _CAPACITY_UNITS - ag.used
        if free_units <= 0:
            return
        may_defer = may_take_deferred(x, a)
        bq = -1
        bc = -1
        bcls = 0
        barr = 0.0
        done = False
        for w in range(qw):
            # NOTE: only the agent's queues with waiting contacts (and not deferred unless
            # it may take deferred work) are visited, in increasing rank, which is the order
            # of its list sorted by the static part of the key; most pulls find none.
            bits = x.rk_waiting[w] & mine[w] & (~(<uint64_t> 0) if may_defer else x.rk_live[w])
            while bits:
                r = <int32_t> (w * 64 + ccsim_ctz64(bits))
                bits &= bits - 1
                cls = x.rank_cls[r]
                # NOTE: once a head was found, a queue of a larger class cannot win, so the
                # scan stops early.
                if bq >= 0 and cls > bcls:
                    done = True
                    break
                q = x.rank_q[r]
                f = &x.fifo[q]
                # Lazy deletion: skip abandoned contacts at the head (wait > 0 guarantees a
                # waiting one before the tail).
                h = f.head
                c = f.buf[h & f.mask]
                while c_outcome(x, c) != OUT_WAITING:
                    h += 1
                    c = f.buf[h & f.mask]
                f.head = h
                if x.q_units[q] > free_units:
                    continue
                if (mine_ov[w] >> (r & 63)) & 1 and not overflowed(x, q, c):
                    continue
                # the dynamic part of the key (spec: "Pull"), same expressions as the spec
                arr = c_arrival(x, c)
                if policy == PULL_SLA_URGENCY:
                    arr = arr + x.q_sla_s[q]
                elif policy == PULL_WEIGHTED_WAIT:
                    arr = -((t - arr) * x.queue_weight[q])
                # Here cls == bcls whenever bq >= 0 (increasing classes, early stop above).
                if bq < 0 or arr < barr or (arr == barr and c < bc):
                    bq = q
                    bc = c
                    bcls = cls
                    barr = arr
            if done:
                break
        if bq < 0:
            return
        x.fifo[bq].head += 1
        fifo_leave(x, bq)
        start_contact(x, bc, a, t)


cdef inline void pull(Ctx* x, int32_t a, double t) noexcept nogil:
    """Agent a (on duty) takes waiting contacts while one fits (spec: "Pull")."""
    cdef Py_ssize_t w
    cdef const uint64_t* mine = x.ag_pull + a * x.q_words
    cdef uint64_t waiting = 0
    # NOTE: most pulls find none of the agent's queues with waiting contacts (or no free
    # capacity): that test is made inline, before the call of the scan.
    if x.agents[a].used >= _CAPACITY_UNITS:
        return
    for w in range(x.q_words):
        waiting |= x.rk_waiting[w] & mine[w]
    if waiting:
        pull_scan(x, a, t)


cdef inline int32_t choose_agent(Ctx* x, int32_t c, int32_t q,
                                 const uint64_t* elig) noexcept nogil:
    """The agent the arrival policy picks for contact c (queue q) among
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
    cdef bint reserve = x.q_deferred[q] and x.reserve > 0, lt
    cdef ekey_t key, bkey
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
        # smallest (used_units, last_free_s, id): idle_key, then the first id
        bkey = EV_NONE
        for w in range(nw):
            bits = cand[w]
            while bits:
                a = <int32_t> (w * 64 + ccsim_ctz64(bits))
                bits &= bits - 1
                key = x.idle_key[a]
                lt = key < bkey
                # NOTE: selects without a branch (which candidate wins is unpredictable)
                bkey = key if lt else bkey
                best = a if lt else best
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
        idx = <Py_ssize_t> (c_u_route(x, c) * <double> n)  # truncation == floor for u >= 0
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


# ---------------------------------------------------------------------------------------------
# Journeys (spec: "Journeys").

cdef int load_block(Ctx* x, int32_t k, int64_t b) noexcept with gil:
    """Load block b of pool class k (sampled in Python); 0 on success, -1 on failure."""
    try:
        (<KernelRun> x.owner)._load_block(k, b)
        return 0
    except BaseException as exc:  # reported by advance() once the loop stopped
        (<KernelRun> x.owner)._pool_error = exc
        x.err = 2
        return -1


cdef inline double next_open(Ctx* x, int32_t ch, double t) noexcept nogil:
    """t when channel ch is open at t, else its next opening (+inf if none)."""
    cdef int64_t lo = x.open_ptr[ch], hi = x.open_ptr[ch + 1], mid
    # first period with open_hi_s > t (periods are sorted and disjoint)
    while lo < hi:
        mid = (lo + hi) >> 1
        if x.open_hi_s[mid] > t:
            hi = mid
        else:
            lo = mid + 1
    if lo == x.open_ptr[ch + 1]:
        return INFINITY
    if x.open_lo_s[lo] <= t:
        return t
    return x.open_lo_s[lo]


cdef bint fu_grow(Ctx* x, Py_ssize_t cap) noexcept nogil:
    """Move the follow-up table into room for cap rows aligned to a cache line (see FU)."""
    cdef void* mem = malloc(cap * sizeof(FU) + CACHE_LINE - 1)
    cdef FU* fu
    if mem == NULL:
        return False
    fu = <FU*> ((<uintptr_t> mem + CACHE_LINE - 1) & ~(<uintptr_t> CACHE_LINE - 1))
    if x.fu_n:
        memcpy(fu, x.fu, x.fu_n * sizeof(FU))
    free(x.fu_mem)
    x.fu_mem = mem
    x.fu = fu
    x.fu_cap = cap
    return True


cdef void spawn(Ctx* x, int32_t c, double t, int kind, int32_t k, int32_t q_override
                ) noexcept nogil:
    """Create the follow-up of contact c at time t (spec: "Journeys")."""
    cdef FU* row
    cdef Py_ssize_t i, cap
    cdef int64_t n, b
    cdef double delay_s, patience_s, arrival
    cdef int32_t q, ch, ident
    cdef const PoolEntry* e
    # NOTE: the row is written in place, in the table's next free slot (not built aside and
    # copied in): room is made first, since growing the table may move it (the parent's row
    # too). The slot counts only once the follow-up is complete (fu_n += 1 at the end).
    if x.fu_n == x.fu_cap:
        cap = 2 * x.fu_cap if x.fu_cap else 256
        if not fu_grow(x, cap):
            x.err = 1
            return
    if FB + x.fu_base + x.fu_n >= 2147483647:
        x.err = 1  # out of follow-up ids
        return
    row = &x.fu[x.fu_n]
    if c >= FB:
        row[0] = fu_row(x, c)[0]
    else:
        i = c - x.base
        row.journey = c
        row.ctype = x.ctype[i]
        row.severity = x.severity[i]
        row.auth_tier = x.auth_tier[i]
        row.repeats = 0
        row.retrials = 0
        row.transfers = 0
        row.j_arrival_s = x.arrival_s[i]
        row.j_queue = x.queue[i]
    row.parent = c
    row.p_arrival_s = c_arrival(x, c)
    row.kind = <int8_t> kind
    if kind == KIND_CALLBACK:
        delay_s = 0.0
        q = -1
        row.work_s = c_work(x, c)
        patience_s = INFINITY
        row.u_route = c_u_route(x, c)
        row.u_outcome = c_u_outcome(x, c)
    else:
        n = x.pool_used[k]
        b = n // _POOL_BLOCK
        if b != x.pool_block[k]:
            if load_block(x, k, b) != 0:
                return
        x.pool_used[k] = n + 1
        n -= b * _POOL_BLOCK
        # NOTE: a class's entries are read one per follow-up of that class, far apart in the
        # event loop, so each entry is usually out of the cache: the block is copied into one
        # row per entry at load (one miss per entry, not one per array) and the next entry
        # of the class is prefetched now (a hint: no effect on any value).
        e = x.pool + k * _POOL_BLOCK + n
        ccsim_prefetch(e + 1)
        delay_s = e.delay_s
        q = e.queue
        row.work_s = e.work_s
        patience_s = e.patience_s
        row.u_route = e.u_route
        row.u_outcome = e.u_outcome
    arrival = t + delay_s
    if q_override >= 0:
        q = q_override
    ch = x.queue_channel[q]
    if x.channel_live[ch]:
        arrival = next_open(x, ch, arrival)
    row.arrival_s = arrival
    row.abandon_at_s = arrival + patience_s
    row.queue = q
    if kind == KIND_REPEAT:
        row.repeats += 1
    elif kind == KIND_RETRIAL:
        row.retrials += 1
    elif kind == KIND_TRANSFER:
        row.transfers += 1
    row.agent = _NO_AGENT
    row.start_s = NAN
    row.end_s = NAN
    row.outcome = OUT_WAITING
    row.fate = 0
    ident = <int32_t> (FB + x.fu_base + x.fu_n)
    x.fu_n += 1
    heap_push(x, &x.fu_heap, ev_key(arrival, EV_ARRIVAL, ident))


cdef inline void decide_completion(Ctx* x, int32_t c, double t) noexcept nogil:
    """Contact c's service ended at t: its fate and follow-up (spec: "Journeys")."""
    cdef int32_t q, ch, k, tier, sev, auth, transfers, repeats, tier_to
    cdef double u
    cdef int8_t fate = FATE_RESOLVED
    cdef FU* r
    if not x.journeys:
        set_fate(x, c, FATE_RESOLVED)
        return
    q = c_queue(x, c)
    ch = x.queue_channel[q]
    if c >= FB:
        r = fu_row(x, c)
        k = r.ctype
        sev = r.severity
        auth = r.auth_tier
        transfers = r.transfers
        repeats = r.repeats
    else:
        k = x.ctype[c - x.base]
        sev = x.severity[c - x.base]
        auth = x.auth_tier[c - x.base]
        transfers = 0
        repeats = 0
    u = c_u_outcome(x, c)
    tier = x.queue_tier[q]
    if tier == 1:
        if auth >= 2:
            fate = FATE_ESCALATED
            spawn(x, c, t, KIND_TASK, x.class_task[auth], x.task_queue[auth * 3 + sev])
        elif u < x.thr_escalate[k]:
            fate = FATE_ESCALATED
            tier_to = x.escalate_tier[k * 3 + sev]
            spawn(x, c, t, KIND_TASK, x.class_task[tier_to], x.task_queue[tier_to * 3 + sev])
        elif u < x.thr_transfer[k]:
            if transfers == 0 and x.transfer_queue[k * x.n_channels + ch] >= 0:
                fate = FATE_TRANSFERRED
                spawn(x, c, t, KIND_TRANSFER, x.class_transfer[k * x.n_channels + ch],
                      x.transfer_queue[k * x.n_channels + ch])
        elif u < x.thr_unresolved[k]:
            if repeats < x.max_repeats[k] and x.class_repeat[k * x.n_channels + ch] >= 0:
                fate = FATE_REPEAT
                spawn(x, c, t, KIND_REPEAT, x.class_repeat[k * x.n_channels + ch], -1)
            else:
                fate = FATE_UNRESOLVED
    elif tier == 2 and x.task_queue[3 * 3 + sev] >= 0 and (auth == 3 or u < x.tier_up[2]):
        fate = FATE_ESCALATED
        spawn(x, c, t, KIND_TASK, x.class_task[3], x.task_queue[3 * 3 + sev])
    set_fate(x, c, fate)


cdef inline void decide_abandon(Ctx* x, int32_t c, double t) noexcept nogil:
    """Contact c abandoned at t: a retrial, or the customer gives up."""
    cdef int32_t ch, k, retrials
    if not x.journeys:
        set_fate(x, c, FATE_GAVE_UP)
        return
    ch = x.queue_channel[c_queue(x, c)]
    if c >= FB:
        k = fu_row(x, c).ctype
        retrials = fu_row(x, c).retrials
    else:
        k = x.ctype[c - x.base]
        retrials = 0
    if (retrials < x.max_retrials[ch] and c_u_outcome(x, c) < x.p_retry[ch]
            and x.class_retrial[k * x.n_channels + ch] >= 0):
        set_fate(x, c, FATE_RETRIED)
        spawn(x, c, t, KIND_RETRIAL, x.class_retrial[k * x.n_channels + ch], -1)
    else:
        set_fate(x, c, FATE_GAVE_UP)


cdef inline void on_arrival(Ctx* x, int32_t c, double t) noexcept nogil:
    cdef int32_t q, a
    cdef double ab
    if c < FB and x.closed[c - x.base]:
        x.outcome[c - x.base] = OUT_LOST_CLOSED
        if x.closed[c - x.base] == 2 and x.journeys:
            x.fate[c - x.base] = FATE_CALLBACK
            spawn(x, c, t, KIND_CALLBACK, -1, x.queue[c - x.base])
        return
    q = c_queue(x, c)
    a = _NO_AGENT
    # NOTE: while queue q has waiting contacts, no on-duty eligible agent that passes the
    # reservation test (for deferred q) has room for one of them (every capacity release and
    # every AGENT_ON is followed by a pull, the reservation re-check runs whenever the test
    # can start to pass, and all the contacts of a queue need the same units), so the policy
    # scan would find nobody: skip it.
    if x.fifo[q].wait == 0:
        a = choose_agent(x, c, q, x.elig + q * x.n_words)
    if a != _NO_AGENT:
        start_contact(x, c, a, t)
        return
    fifo_push(x, q, c)
    ab = c_abandon_at(x, c)
    if isfinite(ab):
        heap_push(x, &x.heap, ev_key(ab, EV_ABANDON, c))
    if isfinite(x.ov_after[q]):
        heap_push(x, &x.heap, ev_key(c_arrival(x, c) + x.ov_after[q], EV_OVERFLOW, c))


cdef inline void on_overflow(Ctx* x, int32_t c, double t) noexcept nogil:
    """Spec: "Overflow". A contact before the window is final (not waiting): nothing."""
    cdef int32_t q, a
    if is_final_gone(x, c) or c_outcome(x, c) != OUT_WAITING:
        return
    q = c_queue(x, c)
    x.ov_t[q] = t
    x.ov_id[q] = c
    a = choose_agent(x, c, q, x.ov_elig + q * x.n_words)
    if a != _NO_AGENT:
        fifo_leave(x, q)  # it leaves the queue; its entry is skipped lazily
        start_contact(x, c, a, t)


cdef inline void recheck_reservation(Ctx* x, double t) noexcept nogil:
    """Spec: "Reservation": every on-duty agent with nothing in hand pulls, in id order."""
    cdef int32_t b, r
    cdef Py_ssize_t w, i, nw = x.n_words
    cdef uint64_t bits, found, changed = 0
    cdef uint64_t* cand = x.recheck_cand
    cdef const uint64_t* pullers
    if x.reserve <= 0:
        return
    # NOTE: with fewer than reserve + 1 live-idle agents every live-idle agent fails the
    # test, and the other idle agents (not live-capable, never held back) found nothing to
    # take at their last pull and nothing was added for them since; likewise when no
    # deferred contact waits, nobody can find anything (live work never waits for an idle
    # agent that could take it). In both cases the pulls would take nothing: skip them.
    if x.n_live_idle < x.reserve + 1:
        return
    # NOTE: only the live-idle agents that may take from a queue with deferred work waiting
    # pull (the OR of those queues' puller bitsets, AND the live-idle bitset), read in
    # increasing id (the spec's order), not every agent. An on-duty idle agent that is not
    # live-capable is never held back, so (as for the arrival skip in on_arrival) every
    # queue it may take from is empty, and its pull would take nothing; for the same reason
    # a live-idle agent finds live work nowhere, so it takes something only from a deferred
    # queue. A pull only removes waiting contacts and changes only its own agent's bit
    # (already visited); once fewer than reserve + 1 agents are live-idle every later one
    # fails the test: stop there. Cost O(A / 64 + candidates), not O(A) pulls per call.
    # NOTE: the OR of the puller bitsets is kept with the set of deferred queues it was made
    # for (which rarely changes between two re-checks), and made again only when it changed.
    for w in range(x.q_words):
        bits = x.rk_waiting[w] & x.rk_deferred[w]
        changed |= bits ^ x.recheck_queues[w]
        x.recheck_queues[w] = bits
    if changed:
        memset(cand, 0, nw * sizeof(uint64_t))
        found = 0
        for w in range(x.q_words):
            bits = x.recheck_queues[w]
            while bits:
                r = <int32_t> (w * 64 + ccsim_ctz64(bits))
                bits &= bits - 1
                pullers = x.rk_pullers + r * nw
                for i in range(nw):
                    cand[i] |= pullers[i]
                    found |= pullers[i]
        x.recheck_any = found != 0
    if not x.recheck_any:
        return
    for w in range(nw):
        bits = x.live_idle_bits[w] & cand[w]
        while bits:
            if x.n_live_idle < x.reserve + 1:
                return
            b = <int32_t> (w * 64 + ccsim_ctz64(bits))
            bits &= bits - 1
            pull(x, b, t)


cdef inline void on_completion(Ctx* x, int32_t c, double t) noexcept nogil:
    cdef int32_t a = c_agent(x, c)
    cdef AgentState* ag = &x.agents[a]
    decide_completion(x, c, t)
    ag.used -= x.q_units[c_queue(x, c)]
    ag.in_hand -= 1
    ag.last_free_s = t
    update_fit(x, a)
    if ag.on_duty:
        pull(x, a, t)
        recheck_reservation(x, t)


cdef inline void on_abandon(Ctx* x, int32_t c, double t) noexcept nogil:
    # Only contacts that were queued get an ABANDON event; a started one is ANSWERED. A
    # contact before the window was finalized (answered, then dropped): nothing to do.
    if not is_final_gone(x, c) and c_outcome(x, c) == OUT_WAITING:
        set_outcome(x, c, OUT_ABANDONED)
        fifo_leave(x, c_queue(x, c))
        decide_abandon(x, c, t)


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
    heap_push(x, &x.off_heap, ev_key(x.seg_end_s[s], EV_AGENT_OFF, s))
    pull(x, a, t)
    recheck_reservation(x, t)


cdef int run(Ctx* x) noexcept nogil:
    """Process events in key order until the first one at or after ``x.until_s``.

    The stream positions and the heaps are left at that event, so a later call with a larger
    ``until_s`` continues exactly where this one stopped.
    """
    # NOTE: the stream positions and the keys of the streams' next events live in locals
    # during the loop (written back on return): the handlers' int8 stores may alias
    # anything, which would force reloads from x, and a stream's next key is computed once
    # per event of that stream, not once per event.
    cdef Py_ssize_t ia = x.arr_pos, ion = x.ion
    cdef Py_ssize_t n_segments = x.n_segments, base = x.base, arr_end = x.arr_end
    cdef const int32_t* arrival_order = x.arrival_order
    cdef double bt
    cdef ekey_t best, on_k = EV_NONE, arr_k = EV_NONE, ro_k
    # events at or after until_s stop the loop: the smallest key of time until_s (+ 0.0
    # turns -0.0 into +0.0, whose key has no -0.0 flag: the smallest of that time)
    cdef ekey_t until_k = ev_key(x.until_s + 0.0, 0, 0)
    cdef int32_t c, s, event_id
    cdef int src, kind, rc = 0
    if ion < n_segments:
        s = x.on_order[ion]
        on_k = ev_key(x.seg_start_s[s], EV_AGENT_ON, s)
    # NOTE: the roster's two sources (the AGENT_ON stream and the heap of AGENT_OFF events)
    # change only when one of their events is handled: their smaller key is kept in ro_k,
    # so the loop compares four sources, not five.
    ro_k = on_k
    if x.off_heap.n > 0 and x.off_heap.a[0] < ro_k:
        ro_k = x.off_heap.a[0]
    if ia < arr_end:
        c = arrival_order[ia] if arrival_order != NULL else <int32_t> ia
        arr_k = ev_key(x.arrival_s[c - base], EV_ARRIVAL, c)
    while True:
        if x.err:
            rc = -1
            break
        # NOTE: an exhausted source has the key EV_NONE (after every event), so each
        # source costs one 128-bit comparison.
        src = SRC_HEAP
        best = x.heap.a[0] if x.heap.n > 0 else EV_NONE
        if x.fu_heap.n > 0 and x.fu_heap.a[0] < best:
            src = SRC_FOLLOWUP
            best = x.fu_heap.a[0]
        if ro_k < best:
            src = SRC_ROSTER
            best = ro_k
        if arr_k < best:
            src = SRC_ARRIVAL
            best = arr_k
        # not (time < until_s); also stops when every source is exhausted
        if not (best < until_k):
            break
        bt = ev_time(best)
        event_id = ev_id(best)
        if src == SRC_HEAP:
            kind = ev_kind(best)
            # the top is removed lazily: the handler's first push takes its slot
            x.heap.top_taken = 1
            if kind == EV_COMPLETION:
                on_completion(x, event_id, bt)
            elif kind == EV_ABANDON:
                on_abandon(x, event_id, bt)
            else:
                on_overflow(x, event_id, bt)
            heap_end_event(&x.heap)
        elif src == SRC_FOLLOWUP:  # first contacts come from their stream
            x.fu_heap.top_taken = 1
            on_arrival(x, event_id, bt)
            heap_end_event(&x.fu_heap)
            # NOTE: the next follow-up to arrive was written at its spawn, usually long ago
            # (out of the cache): its row is prefetched now, events before it is handled
            # (a hint: no effect on any value).
            if x.fu_heap.n > 0:
                prefetch_fu(x, ev_id(x.fu_heap.a[0]))
        elif src == SRC_ARRIVAL:
            ia += 1
            arr_k = EV_NONE
            if ia < arr_end:
                c = arrival_order[ia] if arrival_order != NULL else <int32_t> ia
                arr_k = ev_key(x.arrival_s[c - base], EV_ARRIVAL, c)
            on_arrival(x, event_id, bt)
        else:
            if best == on_k:
                ion += 1
                on_k = EV_NONE
                if ion < n_segments:
                    s = x.on_order[ion]
                    on_k = ev_key(x.seg_start_s[s], EV_AGENT_ON, s)
                on_agent_on(x, event_id, bt)
            else:
                heap_pop(&x.off_heap)
                on_agent_off(x, event_id)
            ro_k = on_k
            if x.off_heap.n > 0 and x.off_heap.a[0] < ro_k:
                ro_k = x.off_heap.a[0]
    x.arr_pos = ia
    x.ion = ion
    return rc

# ---------------------------------------------------------------------------------------------
# Entry points.

cdef inline void* _alloc(Py_ssize_t n, size_t size) noexcept:
    """calloc of at least one element (so that NULL always means out of memory)."""
    return calloc(n if n > 0 else 1, size)


cdef const double[::1] _pool_array(object block, str name):
    """Array ``name`` of a pool block as float64[POOL_BLOCK] (checked)."""
    cdef const double[::1] v
    a = block[name]
    # NOTE: the arrays of FollowupPools.block are float64 and contiguous: viewed as they
    # are (np.ascontiguousarray costs more, ~840 blocks x 5 arrays per CareConnect year),
    # converted only otherwise.
    try:
        v = a
    except (TypeError, ValueError, BufferError):
        v = np.ascontiguousarray(a, dtype=np.float64)
    if v.shape[0] != _POOL_BLOCK:
        raise ValueError(f"pool block {name} has {v.shape[0]} entries, "
                         f"expected {_POOL_BLOCK}")
    return v


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
    cdef readonly Py_ssize_t oldest_pending_followup  # global id (>= FOLLOWUP_BASE)
    cdef object _journey_keep  # the journey arrays the pointers in x point into
    cdef object _pools  # sim.journeys.FollowupPools (None without journeys)
    cdef object _pool_error

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
        dict journeys=None,
        object pools=None,
    ):
        cdef Py_ssize_t n_channels = channel_live.shape[0]
        cdef Py_ssize_t n_queues = queue_channel.shape[0]
        cdef Py_ssize_t n_teams = time_factor.shape[0]
        cdef Py_ssize_t n_agents = agent_team.shape[0]
        cdef Py_ssize_t n_segments = seg_agent.shape[0]
        cdef Py_ssize_t i, j, m, q, a, r
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
        x.n_channels = <int32_t> n_channels
        x.channel_live = &channel_live[0] if n_channels else NULL
        self._keep = self._keep + (channel_live,)
        self.oldest_pending_followup = FB
        self._init_journeys(journeys, pools, n_channels, n_queues)

        x.agents = <AgentState*> _alloc(n_agents, sizeof(AgentState))
        x.q_units = <int32_t*> _alloc(n_queues, sizeof(int32_t))
        x.n_words = (n_agents + 63) // 64
        x.level_units = <int32_t*> _alloc(n_queues, sizeof(int32_t))
        x.units_levels = <uint64_t*> _alloc(_CAPACITY_UNITS + 1, sizeof(uint64_t))
        x.idle_key = <ekey_t*> _alloc(n_agents, sizeof(ekey_t))
        x.q_level = <int32_t*> _alloc(n_queues, sizeof(int32_t))
        x.elig = <uint64_t*> _alloc(n_queues * x.n_words, sizeof(uint64_t))
        x.fit = <uint64_t*> _alloc(n_queues * x.n_words, sizeof(uint64_t))  # L <= Q
        x.rank_q = <int32_t*> _alloc(n_queues, sizeof(int32_t))
        x.q_rank = <int32_t*> _alloc(n_queues, sizeof(int32_t))
        x.rank_cls = <int64_t*> _alloc(n_queues, sizeof(int64_t))
        x.fifo = <Fifo*> _alloc(n_queues, sizeof(Fifo))
        x.live_cap = <int8_t*> _alloc(n_agents, sizeof(int8_t))
        x.q_deferred = <int8_t*> _alloc(n_queues, sizeof(int8_t))
        x.q_sla_s = <double*> _alloc(n_queues, sizeof(double))
        x.ov_t = <double*> _alloc(n_queues, sizeof(double))
        x.ov_id = <int32_t*> _alloc(n_queues, sizeof(int32_t))
        x.ov_elig = <uint64_t*> _alloc(n_queues * x.n_words, sizeof(uint64_t))
        x.cand = <uint64_t*> _alloc(x.n_words, sizeof(uint64_t))
        x.live_idle_bits = <uint64_t*> _alloc(x.n_words, sizeof(uint64_t))
        x.rk_pullers = <uint64_t*> _alloc(n_queues * x.n_words, sizeof(uint64_t))
        x.recheck_cand = <uint64_t*> _alloc(x.n_words, sizeof(uint64_t))
        x.recheck_any = 0  # (no queue, no puller: recheck_queues and recheck_cand are 0)
        x.q_words = (n_queues + 63) // 64
        x.recheck_queues = <uint64_t*> _alloc(x.q_words, sizeof(uint64_t))
        x.rk_waiting = <uint64_t*> _alloc(x.q_words, sizeof(uint64_t))
        x.rk_live = <uint64_t*> _alloc(x.q_words, sizeof(uint64_t))
        x.rk_deferred = <uint64_t*> _alloc(x.q_words, sizeof(uint64_t))
        x.ag_pull = <uint64_t*> _alloc(n_agents * x.q_words, sizeof(uint64_t))
        x.ag_pull_ov = <uint64_t*> _alloc(n_agents * x.q_words, sizeof(uint64_t))
        x.heap.cap = 64 + n_agents
        x.heap.a = <ekey_t*> malloc(x.heap.cap * sizeof(ekey_t))
        x.fu_heap.cap = 64
        x.fu_heap.a = <ekey_t*> malloc(x.fu_heap.cap * sizeof(ekey_t))
        x.off_heap.cap = 64 + n_agents
        x.off_heap.a = <ekey_t*> malloc(x.off_heap.cap * sizeof(ekey_t))
        if (x.agents == NULL or x.q_units == NULL or x.level_units == NULL
                or x.units_levels == NULL or x.idle_key == NULL
                or x.q_level == NULL or x.elig == NULL or x.fit == NULL or x.rank_q == NULL
                or x.q_rank == NULL or x.rank_cls == NULL or x.fifo == NULL or x.heap.a == NULL
                or x.fu_heap.a == NULL or x.off_heap.a == NULL
                or x.live_cap == NULL or x.q_deferred == NULL or x.q_sla_s == NULL
                or x.ov_t == NULL or x.ov_id == NULL or x.ov_elig == NULL or x.cand == NULL
                or x.live_idle_bits == NULL or x.rk_pullers == NULL
                or x.recheck_cand == NULL or x.recheck_queues == NULL or x.rk_waiting == NULL or x.rk_live == NULL
                or x.rk_deferred == NULL or x.ag_pull == NULL or x.ag_pull_ov == NULL):
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
            x.agents[a].levels = 0
            x.idle_key[a] = pack128(0, time_order(0.0))

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

        for i in range(_CAPACITY_UNITS + 1):  # free units -> the levels that fit
            for j in range(x.n_levels):
                if x.level_units[j] <= i:
                    x.units_levels[i] |= (<uint64_t> 1) << j

        # queues ranked by (static pull class, queue id): an agent's pull list is its
        # eligible and overflow queues in rank order
        for q in range(n_queues):
            # class = is_deferred[q] (other policies), or
            #         (is_deferred[q], queue_priority[q]) packed into one int64.
            cls = 1 if channel_live[queue_channel[q]] == 0 else 0
            if pull_policy == PULL_QUEUE_PRIORITY:
                cls = (cls << 32) + (<int64_t> queue_priority[q] + 2147483648)
            j = q
            while j > 0 and x.rank_cls[j - 1] > cls:  # insertion sort (stable: ids ascend)
                x.rank_cls[j] = x.rank_cls[j - 1]
                x.rank_q[j] = x.rank_q[j - 1]
                j -= 1
            x.rank_cls[j] = cls
            x.rank_q[j] = <int32_t> q
        for r in range(n_queues):
            q = x.rank_q[r]
            x.q_rank[q] = <int32_t> r
            if x.q_deferred[q]:
                x.rk_deferred[r >> 6] |= (<uint64_t> 1) << (r & 63)
            else:
                x.rk_live[r >> 6] |= (<uint64_t> 1) << (r & 63)
            for a in range(n_agents):
                if agent_queue_rank[a, q] < 0 and not agent_overflow[a, q]:
                    continue
                x.ag_pull[a * x.q_words + (r >> 6)] |= (<uint64_t> 1) << (r & 63)
                if agent_queue_rank[a, q] < 0:
                    x.ag_pull_ov[a * x.q_words + (r >> 6)] |= (<uint64_t> 1) << (r & 63)
                x.rk_pullers[r * x.n_words + (a >> 6)] |= (<uint64_t> 1) << (a & 63)

    cdef _init_journeys(self, dict journeys, object pools, Py_ssize_t n_channels,
                        Py_ssize_t n_queues):
        """Point the context at the journey arrays (spec: "Journeys"), when given."""
        cdef Ctx* x = &self.x
        cdef Py_ssize_t k, n
        cdef const double[::1] f8
        cdef const int32_t[::1] i4
        cdef const int64_t[::1] i8
        self._pools = pools
        self._pool_error = None
        x.owner = <void*> self
        if journeys is None:
            x.journeys = 0
            return
        if pools is None:
            raise ValueError("a model with journeys needs the workload's follow-up pools")
        keep = {}
        f8_names = ("thr_escalate", "thr_transfer", "thr_unresolved", "p_retry", "tier_up",
                    "open_lo_s", "open_hi_s")
        i4_names = ("escalate_tier", "max_repeats", "transfer_queue", "max_retrials",
                    "task_queue", "queue_tier", "class_repeat", "class_retrial",
                    "class_transfer", "class_task")
        for name in f8_names:
            keep[name] = np.ascontiguousarray(journeys[name], dtype=np.float64).ravel()
        for name in i4_names:
            keep[name] = np.ascontiguousarray(journeys[name], dtype=np.int32).ravel()
        keep["open_ptr"] = np.ascontiguousarray(journeys["open_ptr"], dtype=np.int64)
        if keep["queue_tier"].shape[0] != n_queues or keep["p_retry"].shape[0] != n_channels:
            raise ValueError("journey arrays do not match the model's queues and channels")
        if keep["open_ptr"].shape[0] != n_channels + 1:
            raise ValueError("open_ptr needs one entry per channel plus one")
        self._journey_keep = keep
        x.journeys = 1
        for name in f8_names:
            f8 = keep[name]
            ptr = &f8[0] if f8.shape[0] else NULL
            if name == "thr_escalate":
                x.thr_escalate = ptr
            elif name == "thr_transfer":
                x.thr_transfer = ptr
            elif name == "thr_unresolved":
                x.thr_unresolved = ptr
            elif name == "p_retry":
                x.p_retry = ptr
            elif name == "tier_up":
                x.tier_up = ptr
            elif name == "open_lo_s":
                x.open_lo_s = ptr
            else:
                x.open_hi_s = ptr
        for name in i4_names:
            i4 = keep[name]
            iptr = &i4[0] if i4.shape[0] else NULL
            if name == "escalate_tier":
                x.escalate_tier = iptr
            elif name == "max_repeats":
                x.max_repeats = iptr
            elif name == "transfer_queue":
                x.transfer_queue = iptr
            elif name == "max_retrials":
                x.max_retrials = iptr
            elif name == "task_queue":
                x.task_queue = iptr
            elif name == "queue_tier":
                x.queue_tier = iptr
            elif name == "class_repeat":
                x.class_repeat = iptr
            elif name == "class_retrial":
                x.class_retrial = iptr
            elif name == "class_transfer":
                x.class_transfer = iptr
            else:
                x.class_task = iptr
        i8 = keep["open_ptr"]
        x.open_ptr = &i8[0]
        n = int(journeys["n_classes"])
        x.n_classes = <int32_t> n
        x.pool_used = <int64_t*> _alloc(n, sizeof(int64_t))
        x.pool_block = <int64_t*> _alloc(n, sizeof(int64_t))
        # one entry more than the blocks: spawn's prefetch of the next entry stays inside
        x.pool = <PoolEntry*> _alloc(n * _POOL_BLOCK + 1, sizeof(PoolEntry))
        if x.pool_used == NULL or x.pool_block == NULL or x.pool == NULL:
            raise MemoryError()
        for k in range(n):
            x.pool_block[k] = -1

    cdef int _load_block(self, int32_t k, int64_t b) except -1:
        """Sample block b of pool class k and copy it into the class's entries."""
        cdef Ctx* x = &self.x
        cdef const double[::1] delay_s, work_s, patience_s, u_route, u_outcome
        cdef const int32_t[::1] queue
        cdef PoolEntry* e = x.pool + k * _POOL_BLOCK
        cdef Py_ssize_t i
        cdef uint32_t bad = 0
        block = self._pools.block(k, b)
        delay_s = _pool_array(block, "delay_s")
        work_s = _pool_array(block, "work_s")
        patience_s = _pool_array(block, "patience_s")
        u_route = _pool_array(block, "u_route")
        u_outcome = _pool_array(block, "u_outcome")
        a = block["queue"]
        try:  # as _pool_array
            queue = a
        except (TypeError, ValueError, BufferError):
            queue = np.ascontiguousarray(a, dtype=np.int32)
        if queue.shape[0] != _POOL_BLOCK:
            raise ValueError("pool block queue has the wrong length")
        # NOTE: a typed loop (not one over numpy scalars), the queue check without branches:
        # a block is loaded every POOL_BLOCK follow-ups of a class, ~840 times per
        # CareConnect year. The check comes before the copy, so a bad block leaves the
        # loaded entries unchanged.
        for i in range(_POOL_BLOCK):
            bad |= <uint32_t> (queue[i] + 1) >= <uint32_t> (x.n_queues + 1)
        if bad:
            for i in range(_POOL_BLOCK):
                if not -1 <= queue[i] < x.n_queues:
                    raise ValueError(f"pool block queue {queue[i]} is not a queue")
        for i in range(_POOL_BLOCK):
            e[i].delay_s = delay_s[i]
            e[i].work_s = work_s[i]
            e[i].patience_s = patience_s[i]
            e[i].u_route = u_route[i]
            e[i].u_outcome = u_outcome[i]
            e[i].queue = queue[i]
        x.pool_block[k] = b
        return 0

    def take_followups(self, Py_ssize_t upto):
        """Remove and return the follow-ups with global ids below ``upto`` (in id order).

        Parameters
        ----------
        upto : int
            At most :attr:`oldest_pending_followup` (those before it are final), or any id
            once the run has reached its horizon.

        Returns
        -------
        dict of numpy arrays
            The columns of ``sim.model.FOLLOWUP_COLUMNS``.
        """
        cdef Ctx* x = &self.x
        cdef Py_ssize_t n = upto - FB - x.fu_base, i
        cdef FU* r
        if n < 0:
            n = 0
        if n > x.fu_n:
            n = x.fu_n
        cols = {
            "id": np.arange(FB + x.fu_base, FB + x.fu_base + n, dtype=np.int64),
            "journey": np.empty(n, np.int64), "parent": np.empty(n, np.int64),
            "kind": np.empty(n, np.int8), "ctype": np.empty(n, np.int32),
            "severity": np.empty(n, np.int8), "auth_tier": np.empty(n, np.int8),
            "repeats": np.empty(n, np.int8), "retrials": np.empty(n, np.int8),
            "transfers": np.empty(n, np.int8), "j_arrival_s": np.empty(n, np.float64),
            "j_queue": np.empty(n, np.int32), "p_arrival_s": np.empty(n, np.float64),
            "arrival_s": np.empty(n, np.float64),
            "queue": np.empty(n, np.int32), "work_s": np.empty(n, np.float64),
            "abandon_at_s": np.empty(n, np.float64), "u_route": np.empty(n, np.float64),
            "u_outcome": np.empty(n, np.float64), "outcome": np.empty(n, np.int8),
            "agent": np.empty(n, np.int32), "start_s": np.empty(n, np.float64),
            "end_s": np.empty(n, np.float64), "fate": np.empty(n, np.int8),
        }
        cdef int64_t[::1] journey = cols["journey"], parent = cols["parent"]
        cdef int8_t[::1] kind = cols["kind"], severity = cols["severity"]
        cdef int8_t[::1] auth = cols["auth_tier"], rep = cols["repeats"]
        cdef int8_t[::1] ret = cols["retrials"], tra = cols["transfers"]
        cdef int8_t[::1] outcome = cols["outcome"], fate = cols["fate"]
        cdef int32_t[::1] ctype = cols["ctype"], j_queue = cols["j_queue"]
        cdef int32_t[::1] queue = cols["queue"], agent = cols["agent"]
        cdef double[::1] j_arr = cols["j_arrival_s"], arr = cols["arrival_s"]
        cdef double[::1] p_arr = cols["p_arrival_s"]
        cdef double[::1] work = cols["work_s"], ab = cols["abandon_at_s"]
        cdef double[::1] ur = cols["u_route"], uo = cols["u_outcome"]
        cdef double[::1] st = cols["start_s"], en = cols["end_s"]
        for i in range(n):
            r = &x.fu[i]
            journey[i] = r.journey
            parent[i] = r.parent
            kind[i] = r.kind
            ctype[i] = r.ctype
            severity[i] = r.severity
            auth[i] = r.auth_tier
            rep[i] = r.repeats
            ret[i] = r.retrials
            tra[i] = r.transfers
            j_arr[i] = r.j_arrival_s
            j_queue[i] = r.j_queue
            p_arr[i] = r.p_arrival_s
            arr[i] = r.arrival_s
            queue[i] = r.queue
            work[i] = r.work_s
            ab[i] = r.abandon_at_s
            ur[i] = r.u_route
            uo[i] = r.u_outcome
            outcome[i] = r.outcome
            agent[i] = r.agent
            st[i] = r.start_s
            en[i] = r.end_s
            fate[i] = r.fate
        if n:
            memmove(x.fu, x.fu + n, (x.fu_n - n) * sizeof(FU))
            x.fu_n -= n
            x.fu_base += n
        return cols

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
        free(x.units_levels)
        free(x.idle_key)
        free(x.q_level)
        free(x.elig)
        free(x.fit)
        free(x.rank_q)
        free(x.q_rank)
        free(x.rank_cls)
        free(x.heap.a)
        free(x.fu_heap.a)
        free(x.off_heap.a)
        free(x.live_cap)
        free(x.q_deferred)
        free(x.q_sla_s)
        free(x.ov_t)
        free(x.ov_id)
        free(x.ov_elig)
        free(x.cand)
        free(x.live_idle_bits)
        free(x.rk_pullers)
        free(x.recheck_cand)
        free(x.recheck_queues)
        free(x.rk_waiting)
        free(x.rk_live)
        free(x.rk_deferred)
        free(x.ag_pull)
        free(x.ag_pull_ov)
        free(x.fu_mem)
        free(x.pool_used)
        free(x.pool_block)
        free(x.pool)

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
        const int32_t[::1] ctype=None,
        const double[::1] u_outcome=None,
        const int8_t[::1] severity=None,
        const int8_t[::1] auth_tier=None,
        int8_t[::1] fate=None,
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
        cdef Py_ssize_t oldest, c, fu_oldest = FB
        cdef int rc
        cdef bint ordered = arrival_order is not None
        cdef Py_ssize_t n_ctypes
        cdef uint32_t bad, auth_ok
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
        if fate is None or fate.shape[0] != n:
            raise ValueError("fate (int8[n]) is required")
        if x.journeys:
            for name, arr in (("ctype", ctype), ("u_outcome", u_outcome),
                              ("severity", severity), ("auth_tier", auth_tier)):
                if arr is None or arr.shape[0] != n:
                    raise ValueError(f"{name} of length {n} is required with journeys")
            # NOTE: the number of types is read once, not per row (a dict lookup per row
            # cost ~0.1 s per CareConnect year).
            n_ctypes = self._journey_keep["thr_escalate"].shape[0]
            # NOTE: one pass without branches (bit t of auth_ok: tier t is valid); the rows
            # are looked at one by one only to report an error.
            auth_ok = 1 | (<uint32_t> (x.class_task[2] >= 0) << 2) | (
                <uint32_t> (x.class_task[3] >= 0) << 3)
            bad = 0
            for i in range(n):
                bad |= ((<uint32_t> ctype[i] >= <uint32_t> n_ctypes)
                        | (<uint8_t> severity[i] >= 3) | (<uint8_t> auth_tier[i] >= 4)
                        | (~auth_ok >> (<uint8_t> auth_tier[i] & 3)))
            for i in range(n if bad & 1 else 0):
                if not 0 <= ctype[i] < n_ctypes:
                    raise ValueError(f"ctype[{i}] = {ctype[i]} is not a contact type")
                if not 0 <= severity[i] < 3 or auth_tier[i] not in (0, 2, 3):
                    raise ValueError(f"severity or auth_tier out of range at row {i}")
                if auth_tier[i] and x.class_task[auth_tier[i]] < 0:
                    raise ValueError(f"row {i} needs tier {auth_tier[i]}, which takes no "
                                     "escalated work in this model")
        if id_offset + n >= FB:
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
            # NOTE: one pass without branches; the rows are looked at one by one only to
            # report an error.
            bad = 0
            for i in range(self.x.arr_pos - id_offset + 1, n):
                bad |= not arrival_s[i] >= arrival_s[i - 1]
            for i in range(self.x.arr_pos - id_offset + 1, n if bad else 0):
                if not arrival_s[i] >= arrival_s[i - 1]:
                    raise ValueError(f"arrival_s is not sorted at row {i} (contact "
                                     f"{id_offset + i}); pass arrival_order")
        bad = 0
        for i in range(n):
            bad |= <uint32_t> queue[i] >= <uint32_t> n_queues
        for i in range(n if bad else 0):
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
        x.fate = &fate[0] if n else NULL
        if x.journeys:
            x.ctype = &ctype[0] if n else NULL
            x.u_outcome = &u_outcome[0] if n else NULL
            x.severity = &severity[0] if n else NULL
            x.auth_tier = &auth_tier[0] if n else NULL
        x.arr_end = n if ordered else id_offset + n
        x.until_s = until_s
        try:
            with nogil:
                rc = run(x)
            if rc != 0:
                if x.err == 2:
                    x.err = 0
                    err, self._pool_error = self._pool_error, None
                    x.err = 3  # the run cannot continue
                    raise RuntimeError(f"sampling follow-up draws failed: {err}") from err
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
            fu_oldest = FB + x.fu_base + x.fu_n
            for i in range(x.heap.n):
                if ev_kind(x.heap.a[i]) == EV_COMPLETION:  # in service
                    c = ev_id(x.heap.a[i])
                    if c < oldest:
                        oldest = c
                    if c >= FB and c < fu_oldest:
                        fu_oldest = c
            for i in range(x.fu_heap.n):  # follow-ups not arrived yet
                c = ev_id(x.fu_heap.a[i])
                if c < oldest:
                    oldest = c
                if c < fu_oldest:
                    fu_oldest = c
            for i in range(n_queues):
                f = &x.fifo[i]
                for h in range(f.head, f.tail):
                    c = f.buf[h & f.mask]
                    if c >= FB and c < fu_oldest:
                        fu_oldest = c
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
            x.fate = NULL
            x.ctype = NULL
            x.u_outcome = NULL
            x.severity = NULL
            x.auth_tier = NULL
        self.oldest_pending_id = oldest
        self.oldest_pending_followup = fu_oldest
        if id_offset + n > self.n_seen:
            self.n_seen = id_offset + n
        self.until_s = until_s
        return oldest
