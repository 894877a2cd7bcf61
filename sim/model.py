"""The compiled model and the semantics both engines share.

This module owns, in one place:

* the event kinds and their order at one instant (:class:`EventKind`),
* the per-contact outcome codes (:class:`Outcome`) and the "not happened" constants,
* the routing policy ids (:class:`ArrivalPolicy`, :class:`PullPolicy`),
* the array layouts of :class:`Model` (from :func:`sim.compile.compile_scenario`),
  :class:`Workload` and :class:`Roster` (from :mod:`sim.workload` / :mod:`sim.roster`),
  which are the only inputs of an engine,
* and :class:`Outcomes`, the only output of an engine.

``ext/_types.pxd`` mirrors the enums; ``tests/engines/test_mirror.py`` checks the mirror.

Engine semantics (both engines implement exactly this)
------------------------------------------------------
Time is in seconds from the start of the horizon, as float64. The engine processes events
in increasing key ``(time_s, kind, id)`` and stops before the first event with
``time_s >= model.horizon_s``. Keys are unique, so the order is total.

=============  ===========================  ==================================================
kind           id                           effect
=============  ===========================  ==================================================
AGENT_OFF      roster segment id            the agent stops taking new work (breaks, end of
                                            shift); contacts in hand are finished.
                                            ``release_s[seg] = max(seg_end_s, max end of any
                                            contact the agent started so far)``. First at its
                                            instant: a segment is ``[start, end)``, so an
                                            agent whose contact ends at the very end of its
                                            segment does not take another one then.
COMPLETION     contact id                   the agent's used capacity drops by the contact's
                                            units; ``last_free_s[agent] = t``; if the agent
                                            is on duty it *pulls* work (below).
ABANDON        contact id                   if the contact is still waiting it abandons
                                            (outcome ABANDONED); otherwise nothing.
AGENT_ON       roster segment id            the agent is on duty; ``last_free_s = t``; pulls.
ARRIVAL        contact id                   see below.
OVERFLOW       contact id                   see "Overflow" below. Last at its instant: the
                                            completions, abandonments, shifts and arrivals of
                                            that instant are handled first (a contact whose
                                            patience ends then abandons; one an agent frees
                                            for then is answered by it).
=============  ===========================  ==================================================

After the handler of a COMPLETION whose agent is on duty, and after an AGENT_ON, the
*reservation re-check* runs when ``reserve_for_live > 0`` (see "Reservation").

Arrival of contact ``c`` (queue ``q``, channel ``ch``, ``units = model.channel_units[ch]``):

* if ``workload.closed[c]`` the contact is LOST_CLOSED (never offered, never queued);
* otherwise the *arrival policy* picks among agents that are on duty, eligible for ``q``
  (``model.agent_queue_rank[a, q] >= 0``), have ``CAPACITY_UNITS - used >= units`` and,
  when ``q`` is deferred, pass the reservation test (below).
  LONGEST_IDLE: the smallest ``(used_units, last_free_s, agent id)``.
  MOST_PROFICIENT: the smallest ``(-proficiency[team, q], used_units, last_free_s, id)``.
  SKILL_PRIORITY: the smallest ``(skill_priority[team, q], used_units, last_free_s, id)``.
  RANDOM: candidates in agent-id order, index ``min(floor(u_route[c] * n), n - 1)``
  (``n`` candidates; the clamp guards against ``u * n`` rounding up to ``n``).
* if an agent is found the contact starts now; otherwise it waits in ``q`` (FIFO by
  ``(arrival_s, id)``) and, if ``abandon_at_s[c]`` is finite, an ABANDON event is scheduled
  at ``abandon_at_s[c]``; if ``overflow_after_s[q]`` is finite, an OVERFLOW event is
  scheduled at ``arrival_s[c] + overflow_after_s[q]`` (that expression, in both engines).

Start of contact ``c`` on agent ``a`` at time ``t``::

    n_before = number of contacts agent a has in hand (before this one)
    service_s = work_s[c] * time_factor[team[a], q] * (1.0 + channel_slowdown[ch] * n_before)
    end_s = t + service_s

evaluated left to right in IEEE double precision, exactly as written, in both engines;
a COMPLETION event is scheduled at ``end_s`` (even beyond the horizon; it is then simply
never processed, the contact counts as answered with its planned end).

Pull by agent ``a`` at time ``now`` (after COMPLETION or AGENT_ON, only while on duty; and
in the reservation re-check): repeat while a waiting contact fits: the candidate queues are

* the agent's eligible queues (``agent_queue_rank[a, q] >= 0``) with a waiting contact, and
* the queues it is an overflow agent for (``agent_overflow[a, q] == 1``) whose head has
  *overflowed* (its OVERFLOW event has been processed),

keeping those whose head (oldest waiting contact) needs ``units <= free capacity`` and,
for a deferred queue, only if the agent passes the reservation test now. The agent takes
the head of the candidate queue with the smallest key

* QUEUE_PRIORITY: ``(is_deferred[q], queue_priority[q], head arrival_s, head id)``
* OLDEST: ``(is_deferred[q], head arrival_s, head id)``
* SLA_URGENCY: ``(is_deferred[q], head arrival_s + sla_s[q], head id)``: the head closest
  to breaching its channel's service-level threshold, ``sla_s[q] =
  channel_sla_s[queue_channel[q]]``, or ``+inf`` when the channel has no threshold (NaN):
  such heads come last among their class, oldest id first. The sum is one IEEE addition.
* WEIGHTED_WAIT: ``(is_deferred[q], -((now - head arrival_s) * queue_weight[q]), head id)``:
  the longest waiting time scaled by the queue's weight (> 0) first; the expression is
  evaluated exactly as written (subtraction, then product, then an exact negation), so
  equal weighted waits tie exactly and go to the smaller head id.

so live work always comes before deferred work (deferred work fills idle time only).

Reservation (``reserve_for_live = N``, per scenario; 0 = off)
    An agent is *live-capable* if it is eligible (``agent_queue_rank >= 0``) for at least one
    live queue, and *live-idle* if it is live-capable, on duty and has ``used == 0``. The
    *reservation test* for agent ``a``: ``a`` is not live-capable, or the number of live-idle
    agents other than ``a`` is ``>= N``. A deferred contact starts on an agent only if the
    agent passes the test at that moment (arrival policy, pull, overflow alike); live work is
    never held back. Deferred contacts take a whole agent (``units == CAPACITY_UNITS``:
    deferred channels have concurrency 1), so only agents with ``used == 0`` can take them.
    Because the test depends on other agents, a deferred contact could otherwise wait while
    an agent that now passes the test sits idle: so after every COMPLETION of an on-duty
    agent and every AGENT_ON (once that agent has pulled) the *re-check* runs: every agent
    that is on duty with ``used == 0``, in increasing id, pulls. (The number of live-idle
    agents only grows at those two events, so no other event can unblock an agent.) Hence,
    between events, no on-duty agent has room for a waiting head it may take (for a
    deferred one: while passing the test), as without a reservation.

Overflow (``overflow_after_s[q]`` finite; ``agent_overflow[a, q] == 1`` for the agents of
the scenario's extra teams that have the channel of ``q`` and are not eligible for ``q``;
an eligible agent ignores the flag)
    OVERFLOW of contact ``c``: if ``c`` is still waiting it becomes *overflowed*: the
    arrival policy (same keys; RANDOM uses ``u_route[c]``) picks among the overflow agents
    of ``q`` that are on duty, have ``units`` free and, for a deferred ``q``, pass the
    reservation test; if one is found, ``c`` starts on it now (it leaves the queue even if
    it is not the head). Otherwise nothing: overflow agents take overflowed heads when they
    pull. An overflow agent serves with ``time_factor[team, q]`` (``1 / speed`` unless the
    rule gives a proficiency). Arriving contacts are offered to eligible agents only.

Journeys (``model.journeys`` set; otherwise every decided fate is RESOLVED or GAVE_UP and
nothing follows)
    A journey is one customer need: its first contact (a Workload row) and the follow-ups
    its contacts' ends create. Follow-ups get global ids ``FOLLOWUP_BASE + k`` (k = creation
    order), so their ARRIVAL events (kept in the heap) come after the first contacts of the
    same instant. A follow-up inherits ``journey``, ``ctype``, ``severity``, ``auth_tier``,
    ``j_arrival_s``, ``j_queue`` and the counters ``repeats``, ``retrials``, ``transfers``
    of its parent (the counter of its own kind plus one). Its draws come from the *pool*
    of its class (``model.journeys.class_*``): entry ``n`` of class ``k`` is the ``n``-th
    follow-up of that class created in the run (pools are sampled by block, see
    :mod:`sim.journeys`), giving ``delay_s, queue, work_s, patience_s, u_route,
    u_outcome``. A first contact's fields are: ``journey = id``, counters 0, ``j_arrival_s
    = arrival_s``, ``j_queue = queue``.

    Creating a follow-up of class ``k`` from contact ``c`` at time ``t`` (pool entry ``e``)::

        arrival = t + e.delay_s                 (one IEEE addition)
        queue   = e.queue, except TRANSFER: transfer_queue[ctype, channel of c],
                  TASK: task_queue[tier, severity], CALLBACK: queue of c
        if the queue's channel is live: arrival = next_open(channel, arrival)
        abandon_at_s = arrival + e.patience_s   (+inf when patience_s is +inf)

    where ``next_open(ch, x)`` is ``x`` inside an open period ``[lo, hi)`` of ``ch``, else
    the ``lo`` of the first period with ``lo > x`` (``+inf`` if none). A CALLBACK copies its
    parent's ``work_s``, ``u_route`` and ``u_outcome``, with ``delay_s = 0`` and no patience
    (the center calls the customer). Its ARRIVAL event is pushed at ``arrival`` (an
    infinite or post-horizon arrival is never processed: the follow-up stays WAITING,
    outside the measured window).

    Decisions (``u = u_outcome[c]``, ``k = ctype[c]``, thresholds of ``model.journeys``):

    * ARRIVAL of a contact with ``closed == 2``: outcome LOST_CLOSED, fate CALLBACK, and a
      CALLBACK follow-up at ``next_open`` of its channel.
    * COMPLETION of ``c`` (fate decided first, then the agent's capacity is released as
      above), by the tier of its queue, ``queue_tier[q]``:
      tier 1: ``auth_tier[c] >= 2`` -> ESCALATED, TASK for tier ``auth_tier[c]``;
      ``u < thr_escalate[k]`` -> ESCALATED, TASK for tier ``escalate_tier[k, severity]``;
      ``u < thr_transfer[k]`` -> TRANSFERRED (a TRANSFER) if ``transfers == 0`` and
      ``transfer_queue[k, ch] >= 0``, else RESOLVED;
      ``u < thr_unresolved[k]`` -> REPEAT (a REPEAT of class ``class_repeat[k, ch]``) if
      ``repeats < max_repeats[k]`` and that class exists (>= 0), else UNRESOLVED;
      otherwise RESOLVED.
      tier 2: ``auth_tier == 3`` or ``u < tier_up[2]`` (and a tier-3 task queue exists) ->
      ESCALATED, TASK for tier 3; otherwise RESOLVED. tier 3: RESOLVED.
    * ABANDON of ``c`` (when it abandons): ``retrials < max_retrials[ch]`` and
      ``u < p_retry[ch]`` and ``class_retrial[k, ch] >= 0`` -> RETRIED (a RETRIAL of that
      class), else GAVE_UP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

#: Capacity of one agent in integer units. A phone call or an e-mail takes all of it; a chat
#: on a channel with concurrency k takes ``CAPACITY_UNITS // k``. Integers keep both engines'
#: capacity arithmetic exact.
CAPACITY_UNITS = 60

#: Agent id of a contact that was never assigned.
NO_AGENT = -1


class EventKind(IntEnum):
    """Event kinds, in their processing order at one instant."""

    AGENT_OFF = 0  # first: an agent is never on duty at its segment's end (see the table)
    COMPLETION = 1
    ABANDON = 2
    AGENT_ON = 3
    ARRIVAL = 4
    OVERFLOW = 5


class Outcome(IntEnum):
    """What finally happened to a contact (``Outcomes.outcome``)."""

    WAITING = 0  # offered, still waiting when the horizon ended (or never processed)
    ANSWERED = 1  # service started; start_s/end_s/agent are set
    ABANDONED = 2  # left the queue at abandon_at_s
    LOST_CLOSED = 3  # arrived while its live channel was closed and the scenario loses those


class ContactKind(IntEnum):
    """Why a contact exists: the first contact of a journey, or one of its follow-ups."""

    FIRST = 0  # sampled up front (the Workload)
    REPEAT = 1  # the journey was not resolved: the customer comes back
    RETRIAL = 2  # the customer abandoned and tries again
    TRANSFER = 3  # passed on to another queue after service
    TASK = 4  # escalated work for a tier-2 or tier-3 team
    CALLBACK = 5  # arrived while its live channel was closed; called back at the opening


class Fate(IntEnum):
    """What a contact's end decided for its journey (``Outcomes.fate``)."""

    NONE = 0  # not decided: never served to its end inside the horizon, or lost
    RESOLVED = 1  # the journey is resolved by this contact
    REPEAT = 2  # not resolved: a REPEAT contact follows
    UNRESOLVED = 3  # not resolved and no repeat left: the journey ends unresolved
    ESCALATED = 4  # a TASK for a higher tier follows
    TRANSFERRED = 5  # a TRANSFER contact follows
    RETRIED = 6  # abandoned: a RETRIAL follows
    GAVE_UP = 7  # abandoned, no retrial: the journey ends unresolved
    CALLBACK = 8  # arrived on a closed channel: a CALLBACK contact follows


#: Severity classes, in index order (``Workload.severity``); lower is more urgent.
SEVERITY_NAMES = ("critical", "urgent", "routine")

#: Global ids of follow-up contacts start here (first contacts have ids below it), so that
#: event keys ``(time, kind, id)`` stay unique and follow-ups of an instant come after the
#: first contacts of that instant.
FOLLOWUP_BASE = 1 << 30

#: Follow-up draws are sampled in blocks of this many per pool class (see sim.journeys).
POOL_BLOCK = 256


class ArrivalPolicy(IntEnum):
    """Which idle agent takes an arriving contact."""

    LONGEST_IDLE = 0
    SKILL_PRIORITY = 1
    MOST_PROFICIENT = 2
    RANDOM = 3


class PullPolicy(IntEnum):
    """Which waiting contact an agent with free capacity takes."""

    QUEUE_PRIORITY = 0
    OLDEST = 1
    SLA_URGENCY = 2
    WEIGHTED_WAIT = 3


#: YAML spelling of each policy (the one place their names are spelled).
ARRIVAL_POLICY_NAMES = {
    "longest_idle": ArrivalPolicy.LONGEST_IDLE,
    "skill_priority": ArrivalPolicy.SKILL_PRIORITY,
    "most_proficient": ArrivalPolicy.MOST_PROFICIENT,
    "random": ArrivalPolicy.RANDOM,
}
PULL_POLICY_NAMES = {
    "queue_priority": PullPolicy.QUEUE_PRIORITY,
    "oldest": PullPolicy.OLDEST,
    "sla_urgency": PullPolicy.SLA_URGENCY,
    "weighted_wait": PullPolicy.WEIGHTED_WAIT,
}


def _frozen(*arrays: np.ndarray) -> None:
    for a in arrays:
        if isinstance(a, np.ndarray):
            a.setflags(write=False)


@dataclass(frozen=True, eq=False)
class JourneyModel:
    """Compiled journey rules (section "Journeys" above). ``K`` contact types, ``C``
    channels, ``Q`` queues; tiers index 0..3 (only 2 and 3 take tasks).

    Attributes
    ----------
    thr_escalate, thr_transfer, thr_unresolved : float64[K]
        Cumulative thresholds on ``u_outcome`` for a tier-1 contact's end: escalate below
        the first, transfer below the second, not resolved below the third.
    escalate_tier : int32[K, 3]
        Tier an escalation of contact type k and severity index s goes to.
    max_repeats : int32[K]
    transfer_queue : int32[K, C]
        Queue a transfer goes to from channel c (-1: none).
    p_retry : float64[C]
    max_retrials : int32[C]
    tier_up : float64[4]
        Share of tier-t tasks escalated to tier t + 1 (tier 2 only).
    task_queue : int32[4, 3]
        Queue of a task for tier t and severity index s (-1: none).
    queue_tier : int32[Q]
        1 for contact queues, 2 or 3 for task queues.
    open_ptr : int64[C + 1]; open_lo_s, open_hi_s : float64[M]
        Open periods ``[lo, hi)`` of each channel over the horizon, sorted (CSR by channel);
        a deferred channel has one period ``[-inf, +inf)``.
    class_repeat, class_retrial, class_transfer : int32[K, C]
        Pool class of a follow-up of contact type k from channel c (-1: none).
    class_task : int32[4]
        Pool class of a task for tier t (-1: none).
    n_classes : int
    class_names : tuple[str, ...]
    """

    thr_escalate: np.ndarray
    thr_transfer: np.ndarray
    thr_unresolved: np.ndarray
    escalate_tier: np.ndarray
    max_repeats: np.ndarray
    transfer_queue: np.ndarray
    p_retry: np.ndarray
    max_retrials: np.ndarray
    tier_up: np.ndarray
    task_queue: np.ndarray
    queue_tier: np.ndarray
    open_ptr: np.ndarray
    open_lo_s: np.ndarray
    open_hi_s: np.ndarray
    class_repeat: np.ndarray
    class_retrial: np.ndarray
    class_transfer: np.ndarray
    class_task: np.ndarray
    n_classes: int
    class_names: tuple

    def __post_init__(self):
        _frozen(*(getattr(self, k) for k in self.__dataclass_fields__))


@dataclass(frozen=True, eq=False)
class Model:
    """A scenario compiled to contiguous arrays. No randomness.

    Shapes: ``C`` channels, ``Q`` queues, ``T`` teams, ``A`` agents.

    Attributes
    ----------
    horizon_s, warmup_s, interval_s : float
        Simulated span, warm-up excluded from KPIs, reporting interval (seconds).
    channel_names, queue_names, team_names : tuple[str, ...]
    channel_live : int8[C]
        1 for live channels (patience, abandonment), 0 for deferred (backlog).
    channel_units : int32[C]
        Capacity units one contact takes (``CAPACITY_UNITS // concurrency``).
    channel_slowdown : float64[C]
        Relative handle-time increase per other contact in hand when a contact starts.
    channel_sla_s, channel_sla_target : float64[C]
        Service-level threshold (seconds; NaN if none) and target share (NaN if none).
    queue_channel : int32[Q]
    queue_priority : int32[Q]
        Lower is served first.
    team_tier : int32[T]
    team_cost_per_h : float64[T]
    time_factor : float64[T, Q]
        Service time = work content x this factor (1 / (speed x proficiency)); NaN where the
        team cannot serve the queue.
    proficiency : float64[T, Q]
        0 where the team cannot serve the queue.
    skill_priority : int32[T, Q]
        Team's own preference order for the queue (lower first); large where not eligible.
    agent_team : int32[A]
    agent_queue_rank : int32[A, Q]
        >= 0 where agent a may serve queue q, -1 otherwise.
    arrival_policy, pull_policy : int
        :class:`ArrivalPolicy` / :class:`PullPolicy` ids.
    queue_weight : float64[Q]
        Weight of each queue for WEIGHTED_WAIT (> 0; default 1).
    reserve_for_live : int
        Live-idle agents kept free of deferred work (see "Reservation"; 0 = off).
    overflow_after_s : float64[Q]
        Wait after which a contact of the queue overflows (+inf: never; the default).
    agent_overflow : int8[A, Q]
        1 where agent a takes overflowed contacts of queue q (never where it is eligible).
    """

    horizon_s: float
    warmup_s: float
    interval_s: float
    start: str
    channel_names: tuple
    queue_names: tuple
    team_names: tuple
    channel_live: np.ndarray
    channel_units: np.ndarray
    channel_slowdown: np.ndarray
    channel_sla_s: np.ndarray
    channel_sla_target: np.ndarray
    queue_channel: np.ndarray
    queue_priority: np.ndarray
    team_tier: np.ndarray
    team_cost_per_h: np.ndarray
    time_factor: np.ndarray
    proficiency: np.ndarray
    skill_priority: np.ndarray
    agent_team: np.ndarray
    agent_queue_rank: np.ndarray
    arrival_policy: int = int(ArrivalPolicy.LONGEST_IDLE)
    pull_policy: int = int(PullPolicy.QUEUE_PRIORITY)
    meta: dict = field(default_factory=dict)
    queue_weight: np.ndarray | None = None
    reserve_for_live: int = 0
    overflow_after_s: np.ndarray | None = None
    agent_overflow: np.ndarray | None = None
    journeys: JourneyModel | None = None

    def __post_init__(self):
        n_q, n_a = self.queue_channel.shape[0], self.agent_team.shape[0]
        defaults = dict(queue_weight=lambda: np.ones(n_q),
                        overflow_after_s=lambda: np.full(n_q, np.inf),
                        agent_overflow=lambda: np.zeros((n_a, n_q), dtype=np.int8))
        for name, make in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, make())
        _frozen(*(getattr(self, k) for k in self.__dataclass_fields__))

    @property
    def n_agents(self) -> int:
        return int(self.agent_team.shape[0])

    @property
    def n_queues(self) -> int:
        return int(self.queue_channel.shape[0])

    @property
    def n_channels(self) -> int:
        return int(self.channel_live.shape[0])

    @property
    def n_intervals(self) -> int:
        return int(np.ceil(self.horizon_s / self.interval_s - 1e-9))


@dataclass(frozen=True, eq=False)
class Workload:
    """Every per-contact draw, made up front by :func:`sim.workload.sample`.

    Contacts are sorted by ``(arrival_s, id)``; the id is the row index. Shape ``N``.

    Attributes
    ----------
    arrival_s : float64[N]
    queue : int32[N]
    channel : int32[N]
        ``model.queue_channel[queue]``.
    ctype : int32[N]
        Contact type (call driver) index into ``model.meta["ctype_names"]``.
    work_s : float64[N]
        Handle time (talk + wrap-up) at speed 1; > 0.
    abandon_at_s : float64[N]
        ``arrival_s + patience_s``; +inf when the contact never abandons (deferred channel,
        or no patience set).
    u_route : float64[N]
        Uniform(0, 1) draw for the RANDOM arrival policy.
    closed : int8[N]
        1 if the contact arrived while its live channel was closed and is lost; 2 if it is
        to be called back at the channel's next opening (a CALLBACK follow-up).
    u_outcome : float64[N]
        Uniform(0, 1) draw deciding the contact's fate (journeys).
    severity : int8[N]
        Severity index of the journey (:data:`SEVERITY_NAMES`).
    auth_tier : int8[N]
        Lowest tier allowed to close the journey's refund (0: no refund above the agent's
        authority; 2 or 3).
    pools : object, optional
        The follow-up pool sampler (:class:`sim.journeys.FollowupPools`): the draws of
        follow-up contacts, by class and block.
    outages : dict, optional
        Outage periods of the sampled days, ``{channel index: (lo_s, hi_s)}`` (channels with
        ``outages`` only), for the ``availability`` KPI.
    """

    arrival_s: np.ndarray
    queue: np.ndarray
    channel: np.ndarray
    ctype: np.ndarray
    work_s: np.ndarray
    abandon_at_s: np.ndarray
    u_route: np.ndarray
    closed: np.ndarray
    u_outcome: np.ndarray | None = None
    severity: np.ndarray | None = None
    auth_tier: np.ndarray | None = None
    pools: object = None
    outages: dict | None = None

    def __post_init__(self):
        n = self.arrival_s.shape[0]
        defaults = dict(u_outcome=lambda: np.full(n, 0.5), severity=lambda: np.full(
            n, SEVERITY_NAMES.index("routine"), dtype=np.int8),
            auth_tier=lambda: np.zeros(n, dtype=np.int8))
        for name, make in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, make())
        _frozen(*(getattr(self, k) for k in self.__dataclass_fields__))

    @property
    def n_contacts(self) -> int:
        return int(self.arrival_s.shape[0])

    def rows(self, sel) -> Workload:
        """The contacts ``sel`` (a slice, index or mask) as a Workload with the same pools
        and outage periods."""
        return Workload(**{k: getattr(self, k)[sel] for k in WORKLOAD_ARRAYS}, pools=self.pools,
                        outages=self.outages)


#: The per-contact array fields of :class:`Workload` (all but ``pools``).
WORKLOAD_ARRAYS = ("arrival_s", "queue", "channel", "ctype", "work_s", "abandon_at_s",
                   "u_route", "closed", "u_outcome", "severity", "auth_tier")


@dataclass(frozen=True, eq=False)
class Roster:
    """Agents' availability after shrinkage, from :func:`sim.roster.sample_roster`.

    Availability segments (shape ``S``) are sorted by ``(start_s, agent)``; the segment id is
    the row index. Segments of one agent never overlap or touch (touching ones are merged).

    Attributes
    ----------
    seg_agent : int32[S]
    seg_start_s, seg_end_s : float64[S]
        On duty in ``[seg_start_s, seg_end_s)``.
    shift_agent, shift_start_s, shift_end_s : arrays[K]
        Scheduled shifts (paid time), before shrinkage, including absent ones.
    shrink_agent, shrink_start_s, shrink_end_s, shrink_kind : arrays[M]
        Shrinkage events inside shifts (kind indexes ``SHRINK_KINDS``).
    """

    seg_agent: np.ndarray
    seg_start_s: np.ndarray
    seg_end_s: np.ndarray
    shift_agent: np.ndarray
    shift_start_s: np.ndarray
    shift_end_s: np.ndarray
    shrink_agent: np.ndarray
    shrink_start_s: np.ndarray
    shrink_end_s: np.ndarray
    shrink_kind: np.ndarray

    def __post_init__(self):
        _frozen(*(getattr(self, k) for k in self.__dataclass_fields__))

    @property
    def n_segments(self) -> int:
        return int(self.seg_agent.shape[0])


#: Shrinkage kinds, in ``Roster.shrink_kind`` order.
SHRINK_KINDS = ("break", "lunch", "meeting", "training", "absence")


@dataclass(frozen=True, eq=False)
class Outcomes:
    """What an engine decided, per contact (shape ``N``) and per roster segment (``S``).

    Attributes
    ----------
    outcome : int8[N]
        :class:`Outcome` code.
    agent : int32[N]
        Serving agent, ``NO_AGENT`` if never served.
    start_s, end_s : float64[N]
        Service start and end; NaN if never served.
    release_s : float64[S]
        When the agent of each availability segment actually stopped working (>= its end:
        contacts in hand are finished first); NaN if the segment was never reached.
    fate : int8[N]
        :class:`Fate` of each first contact.
    followups : Followups or None
        The follow-up contacts the journeys created (None when the model has no journeys).
    """

    outcome: np.ndarray
    agent: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    release_s: np.ndarray
    fate: np.ndarray | None = None
    followups: Followups | None = None

    def __post_init__(self):
        if self.fate is None:
            object.__setattr__(self, "fate", np.zeros(self.outcome.shape[0], dtype=np.int8))
        _frozen(self.outcome, self.agent, self.start_s, self.end_s, self.release_s, self.fate)


#: Columns of :class:`Followups` and their dtypes, in order.
FOLLOWUP_COLUMNS = (
    ("id", np.int64),  # global id, FOLLOWUP_BASE + creation order
    ("journey", np.int64),  # id of the journey's first contact
    ("parent", np.int64),  # id of the contact whose end created this one
    ("kind", np.int8),  # ContactKind
    ("ctype", np.int32),
    ("severity", np.int8),
    ("auth_tier", np.int8),
    ("repeats", np.int8),  # REPEAT contacts in the journey so far, this one included
    ("retrials", np.int8),
    ("transfers", np.int8),
    ("j_arrival_s", np.float64),  # arrival of the journey's first contact
    ("j_queue", np.int32),  # queue of the journey's first contact
    ("p_arrival_s", np.float64),  # arrival of the parent contact (e.g. that escalated)
    ("arrival_s", np.float64),
    ("queue", np.int32),
    ("work_s", np.float64),
    ("abandon_at_s", np.float64),
    ("u_route", np.float64),
    ("u_outcome", np.float64),
    ("outcome", np.int8),
    ("agent", np.int32),
    ("start_s", np.float64),
    ("end_s", np.float64),
    ("fate", np.int8),
)


@dataclass(frozen=True, eq=False)
class Followups:
    """Follow-up contacts created by the engines, in creation (= id) order; one array per
    :data:`FOLLOWUP_COLUMNS` entry, all of length ``F``."""

    columns: dict

    def __getattr__(self, name):
        try:
            return self.__dict__["columns"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def n(self) -> int:
        return int(self.columns["id"].shape[0])

    @classmethod
    def empty(cls) -> Followups:
        return cls({k: np.zeros(0, dtype=t) for k, t in FOLLOWUP_COLUMNS})

    @classmethod
    def concat(cls, parts) -> Followups:
        parts = list(parts)
        if not parts:
            return cls.empty()
        return cls({k: np.concatenate([p.columns[k] for p in parts])
                    for k, _ in FOLLOWUP_COLUMNS})


def empty_outcomes(n_contacts: int, n_segments: int) -> dict:
    """Writable outcome arrays in their "nothing happened yet" state."""
    return dict(
        outcome=np.full(n_contacts, int(Outcome.WAITING), dtype=np.int8),
        agent=np.full(n_contacts, NO_AGENT, dtype=np.int32),
        start_s=np.full(n_contacts, np.nan),
        end_s=np.full(n_contacts, np.nan),
        release_s=np.full(n_segments, np.nan),
        fate=np.zeros(n_contacts, dtype=np.int8),
    )
