"""KPIs of one replication: the definitions of ARCHITECTURE section 4.

This module owns the KPI registry (:data:`KPI_KEYS`, :data:`KPI_INFO`) and :func:`measure`,
which turns one engine run ``(model, workload, roster, outcomes)`` into per-channel totals and
tidy per-interval rows (:class:`Measured`). Both go through one :class:`Accumulator` of
additive per-interval sums, which the streaming path (:mod:`sim.stream`) feeds batch by batch
of final contacts with the same result to the last bit.

Definitions
-----------
Everything is measured on the window ``[model.warmup_s, model.horizon_s)``.

* A contact is *offered* when ``workload.closed == 0`` and it arrives inside the window; closed
  contacts arriving inside the window are counted in ``lost_closed`` instead. Per-contact KPIs
  are attributed to the interval ``floor(arrival_s / interval_s)`` of the arrival.
* ``wait_s`` = start - arrival (answered), abandon_at - arrival (abandoned), horizon - arrival
  (still waiting at the end). ``handle_s`` = end - start.
* "Within the threshold" means ``wait_s <= model.channel_sla_s[channel]``. A channel without a
  threshold (NaN) has NaN service levels; the ``all`` rows use each contact's own threshold
  and count only contacts of channels that have one (numerator and denominator alike).
  A *short abandon* is an abandoned contact with ``wait_s <= threshold``.
* ``p_wait``: offered contacts that did not start service at their arrival instant.
* Time averages (``occupancy``, ``mean_queue_len``, ``shrinkage``) are integrals over the
  window (or over the part of an interval inside it) divided by its length. Every contact
  that waits or is served inside the window counts, whatever its arrival time.
  A contact waits in ``[arrival, start | abandon_at | horizon)``.
* ``occupancy`` = busy capacity-time / available agent-time. Busy: answered contacts,
  ``channel_units / CAPACITY_UNITS`` over ``[start_s, end_s)``. Available: each roster
  segment over ``[seg_start_s, release)``, ``release = outcomes.release_s`` (NaN -> segment
  end), cut at the same agent's next segment start. A channel's occupancy is its own busy time
  over the total available time, so channel values add up to ``all``.
* Deferred channels (``channel_live == 0``): ``backlog`` = contacts waiting just before the
  interval end (``arrival < t <= stop``; at the horizon for totals), ``backlog_age_h`` = age
  of the oldest of them in hours (0 when the backlog is empty), ``sla_compliance`` =
  answered within the threshold / answered. NaN for live channels and queues; the ``all`` rows
  sum (backlog), take the oldest (age) or pool (compliance) over the deferred channels.
* ``shrinkage`` (``all`` rows): shrinkage-event time / scheduled shift time in the window.
* ``overtime_h`` (``all`` totals): time an agent keeps working after a segment ends
  (``[seg_end_s, release)``, cut at the next segment) that falls after the end of the
  scheduled shift containing the segment, in the window. Finishing a contact into a break
  is paid shift time, not overtime. A segment outside every shift counts all of it.
* ``cost_per_contact`` (``all`` totals): sum of ``team_cost_per_h`` x (shift hours in the
  window + overtime hours) over agents, divided by the answered offered contacts.

Journeys (``model.journeys`` set; the journey KPIs are NaN otherwise)
--------------------------------------------------------------------
Follow-up contacts (``Outcomes.followups``: repeats, retrials, transfers, tasks, callbacks)
are contacts like the first ones: they count in every KPI above (offered, waits, service
levels, occupancy, backlog, ...) in their own queue and arrival interval. They are never
closed; one arriving at +inf or at or after the horizon is outside the window (not offered,
never waiting). A contact is *handled* when it was answered and its end decided a fate
(``fate != NONE``).

Per contact (own arrival interval and queue, first contacts and follow-ups alike):

* ``repeat_rate``, ``escalation_rate``, ``transfer_rate``: handled contacts whose fate is
  REPEAT, ESCALATED, TRANSFERRED / handled contacts.
* ``retrial_rate``: abandoned contacts whose fate is RETRIED / abandoned contacts (with a
  decided fate: RETRIED or GAVE_UP).
* ``tier2_ack_compliance``, ``tier3_ack_compliance``: TASK contacts of that tier (the tier
  of their queue) whose severity has an acknowledge window (:func:`journey_windows`):
  answered with ``start_s - arrival_s <= window`` / answered. ``tier*_resolve_compliance``:
  the same over completed tasks (answered, ``fate != NONE``) with ``end_s - arrival_s <=``
  the resolve window. Tasks still waiting or in service at the horizon do not count.

Per journey, attributed to the interval of the journey's *first* arrival (``arrival_s`` of
a first contact, ``j_arrival_s`` of a follow-up) and to its first queue (``j_queue``); a
journey is measured when its first arrival is in the window:

* ``fcr``: first contacts handled with fate RESOLVED / first contacts handled.
* ``journey_resolution_rate``: journeys resolved (the contact with fate RESOLVED, first or
  follow-up) / journeys decided (a contact with fate RESOLVED, UNRESOLVED or GAVE_UP).
* ``contacts_per_journey``: (first contacts + their follow-ups arriving before the
  horizon) / first contacts, counting first contacts lost on a closed channel too.
* ``mttr_h``: mean of ``end_s`` of the resolving contact - first arrival, hours, over the
  resolved journeys; ``mttr_h_<severity>`` over those of one severity
  (:data:`sim.model.SEVERITY_NAMES`; ``Workload.severity`` of the first contact).
* ``time_to_supervisor_h``: mean of ``start_s`` - ``p_arrival_s`` (the arrival of the
  tier-1 contact that raised the escalation), hours, over the answered *first* tasks of
  journeys (a TASK whose parent is not a task) whose severity is in
  ``escalation.supervisor_for``; ``supervisor_compliance``: the share of them with
  ``start_s - p_arrival_s <= escalation.supervisor_within`` (NaN without a window).
  Attributed to the journey's first arrival interval and queue.

Exactness: first contacts and follow-ups keep separate float sums (the follow-ups' in an
inner :class:`Accumulator`), added together only in :meth:`Accumulator.result`, so feeding
the two kinds interleaved or one after the other gives the same KPIs to the last bit. (Integer
counts and minima are exact in any order: both add into the same arrays.)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd

from sim.model import (
    CAPACITY_UNITS,
    SEVERITY_NAMES,
    ContactKind,
    Fate,
    Followups,
    Model,
    Outcome,
    Outcomes,
    Roster,
    Workload,
)

try:
    from sim import _accumulate
except ImportError:  # not built: the numpy reference implementations below
    _accumulate = None

#: KPI columns of :attr:`Measured.totals` and :attr:`Measured.intervals`, in display order.
KPI_KEYS = (
    "offered",
    "answered",
    "abandoned",
    "asa_s",
    "mean_wait_s",
    "p_wait",
    "service_level",
    "service_level_answered",
    "service_level_excl_short_abandons",
    "abandon_rate",
    "occupancy",
    "mean_queue_len",
    "aht_s",
    "backlog",
    "backlog_age_h",
    "sla_compliance",
    "lost_closed",
    "availability",
    "shrinkage",
    "overtime_h",
    "cost_per_contact",
    "fcr",
    "repeat_rate",
    "escalation_rate",
    "transfer_rate",
    "retrial_rate",
    "journey_resolution_rate",
    "contacts_per_journey",
    "mttr_h",
    "mttr_h_critical",
    "mttr_h_urgent",
    "mttr_h_routine",
    "time_to_supervisor_h",
    "supervisor_compliance",
    "tier2_ack_compliance",
    "tier2_resolve_compliance",
    "tier3_ack_compliance",
    "tier3_resolve_compliance",
)

#: ``key -> (description, unit, better)``; better is "higher", "lower" or None.
KPI_INFO = {
    "offered": ("contacts arriving in the measured window (channel open)", "contacts", None),
    "answered": ("offered contacts whose service started", "contacts", None),
    "abandoned": ("offered contacts that left the queue", "contacts", "lower"),
    "asa_s": ("average speed of answer: mean wait of answered contacts", "s", "lower"),
    "mean_wait_s": ("mean time in queue of offered contacts", "s", "lower"),
    "p_wait": ("share of offered contacts that did not start on arrival", "share", "lower"),
    "service_level": ("answered within the threshold / offered", "share", "higher"),
    "service_level_answered": ("answered within the threshold / answered", "share", "higher"),
    "service_level_excl_short_abandons": (
        "answered within / (offered - abandoned within the threshold)",
        "share",
        "higher",
    ),
    "abandon_rate": ("abandoned / offered", "share", "lower"),
    "occupancy": ("capacity-time handling / agent-time available", "share", None),
    "mean_queue_len": ("time-average number of contacts waiting", "contacts", "lower"),
    "aht_s": ("average handle time of answered contacts", "s", "lower"),
    "backlog": ("deferred contacts waiting at the end", "contacts", "lower"),
    "backlog_age_h": ("age of the oldest deferred contact waiting at the end", "h", "lower"),
    "sla_compliance": (
        "deferred contacts answered within their response window / answered",
        "share",
        "higher",
    ),
    "lost_closed": ("contacts lost because their channel was closed or out of order",
                    "contacts", "lower"),
    "availability": ("share of the time a channel with outages was up", "share", "higher"),
    "shrinkage": ("shrinkage-event time / scheduled shift time", "share", None),
    "overtime_h": ("agent time worked after the end of a shift", "h", "lower"),
    "cost_per_contact": ("agent cost (shifts + overtime) / answered", "currency", "lower"),
    "fcr": ("journeys resolved at their first contact / first contacts handled", "share",
            "higher"),
    "repeat_rate": ("handled contacts followed by a repeat / handled", "share", "lower"),
    "escalation_rate": ("handled contacts escalated to a higher tier / handled", "share",
                        "lower"),
    "transfer_rate": ("handled contacts transferred / handled", "share", "lower"),
    "retrial_rate": ("abandoned contacts followed by a retrial / abandoned", "share", None),
    "journey_resolution_rate": ("journeys resolved / journeys decided", "share", "higher"),
    "contacts_per_journey": ("contacts (first + follow-ups) per journey", "contacts", "lower"),
    "mttr_h": ("mean time from a journey's first arrival to its resolution", "h", "lower"),
    "mttr_h_critical": ("mean time to resolve critical journeys", "h", "lower"),
    "mttr_h_urgent": ("mean time to resolve urgent journeys", "h", "lower"),
    "mttr_h_routine": ("mean time to resolve routine journeys", "h", "lower"),
    "time_to_supervisor_h": (
        "mean time from the contact raising an escalation to the start of the first "
        "escalated task (supervised severities)", "h", "lower"),
    "supervisor_compliance": (
        "first escalated tasks (supervised severities) started within the supervisor "
        "window / started", "share", "higher"),
    "tier2_ack_compliance": ("tier-2 tasks started within their acknowledge window / started",
                             "share", "higher"),
    "tier2_resolve_compliance": (
        "tier-2 tasks completed within their resolve window / completed", "share", "higher"),
    "tier3_ack_compliance": ("tier-3 tasks started within their acknowledge window / started",
                             "share", "higher"),
    "tier3_resolve_compliance": (
        "tier-3 tasks completed within their resolve window / completed", "share", "higher"),
}

_COUNT_KEYS = ("offered", "answered", "abandoned", "lost_closed")
#: Per-contact sums (:meth:`Accumulator._contact_sums`) that are not whole numbers.
_FLOAT_SUMS = ("wait_s", "wait_answered_s", "handle_s")
#: KPIs that :class:`Accumulator` can give per queue when the per-queue rows are omitted
#: (``queue_columns``): the ratios of per-contact sums.
_QUEUE_COLUMN_KEYS = (*_COUNT_KEYS, "asa_s", "mean_wait_s", "p_wait", "service_level",
                      "service_level_answered", "service_level_excl_short_abandons",
                      "abandon_rate", "aht_s", "sla_compliance")


#: The count sums ``(key, mask)`` (of :meth:`Accumulator._contact_sums`; masks of queues:
#: None, ``"sla"``, ``"deferred"``, ``"sla_deferred"``) each KPI of _QUEUE_COLUMN_KEYS reads
#: (:meth:`Accumulator._contact_kpis` sums them in one batch).
_COUNT_INPUTS = {
    **{k: [(k, None)] for k in _COUNT_KEYS},
    "asa_s": [("answered", None)],
    "mean_wait_s": [("offered", None)],
    "p_wait": [("waited", None), ("offered", None)],
    "service_level": [("within", None), ("offered", "sla")],
    "service_level_answered": [("within", None), ("answered", "sla")],
    "service_level_excl_short_abandons": [("within", None), ("offered", "sla"),
                                          ("short_abandoned", None)],
    "abandon_rate": [("abandoned", None), ("offered", None)],
    "aht_s": [("answered", None)],
    "sla_compliance": [("within", "deferred"), ("answered", "sla_deferred")],
}


@dataclass(frozen=True, eq=False)
class Measured:
    """KPIs of one replication.

    Attributes
    ----------
    totals : pandas.DataFrame
        One row per channel (model order) and a last row ``"all"``; columns ``channel`` and
        :data:`KPI_KEYS`.
    intervals : pandas.DataFrame
        One row per reporting interval in the window x group, where the groups are every
        queue (``channel`` = its channel), every channel (``queue == "all"``) and
        ``channel == queue == "all"``; columns ``interval``, ``interval_start`` (s),
        ``channel``, ``queue`` and :data:`KPI_KEYS` (``overtime_h`` and ``cost_per_contact``
        are NaN per interval). Measured with ``queue_intervals=False``: the channel and
        ``all`` groups only.
    n_contacts : int
        Contacts measured (every row of the workload and every follow-up, inside the
        window or not).
    queue_rows : pandas.DataFrame or None
        With ``queue_intervals=False`` and ``queue_columns``: the per-queue rows the
        intervals omit, with those KPI columns only (same values as in a full table).
    """

    totals: pd.DataFrame
    intervals: pd.DataFrame
    n_contacts: int = 0
    queue_rows: pd.DataFrame | None = None


@dataclass(frozen=True, eq=False)
class JourneyWindows:
    """The escalation windows the journey KPIs check (from the scenario's ``escalation``).

    Attributes
    ----------
    supervisor_within_s : float
        Time from a journey's first arrival within which its first escalated task must
        start (seconds; NaN: no window).
    supervisor_for : bool[3]
        Severities (index of :data:`sim.model.SEVERITY_NAMES`) the supervisor window is for.
    acknowledge_s, resolve_s : float64[4, 3]
        Per (tier, severity index): window from a task's arrival to its start (acknowledge)
        and to its end (resolve), seconds; NaN where the scenario sets none.
    """

    supervisor_within_s: float = np.nan
    supervisor_for: np.ndarray = None
    acknowledge_s: np.ndarray = None
    resolve_s: np.ndarray = None

    def __post_init__(self):
        n_sev = len(SEVERITY_NAMES)
        defaults = dict(
            supervisor_for=lambda: np.array([v == "critical" for v in SEVERITY_NAMES]),
            acknowledge_s=lambda: np.full((4, n_sev), np.nan),
            resolve_s=lambda: np.full((4, n_sev), np.nan))
        for name, make in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, make())


def journey_windows(scenario, model: Model | None = None) -> JourneyWindows:
    """The windows of ``scenario.escalation`` as :class:`JourneyWindows`.

    Parameters
    ----------
    scenario : Scenario
    model : Model, optional
        Unused (the windows depend on the scenario only); accepted for symmetry.

    Returns
    -------
    JourneyWindows
        The defaults of the schema (supervisor window for ``critical``, no windows) when the
        scenario has no ``escalation`` section.
    """
    esc = getattr(scenario, "escalation", None)
    if esc is None:
        return JourneyWindows()
    n_sev = len(SEVERITY_NAMES)
    ack = np.full((4, n_sev), np.nan)
    res = np.full((4, n_sev), np.nan)
    for tier, spec in esc.tiers.items():
        for sev, window in spec.windows.items():
            v = SEVERITY_NAMES.index(sev)
            if window.acknowledge is not None:
                ack[int(tier), v] = float(window.acknowledge)
            if window.resolve is not None:
                res[int(tier), v] = float(window.resolve)
    within = esc.supervisor_within
    return JourneyWindows(
        supervisor_within_s=np.nan if within is None else float(within),
        supervisor_for=np.array([v in esc.supervisor_for for v in SEVERITY_NAMES]),
        acknowledge_s=ack, resolve_s=res)


def measure(model: Model, workload: Workload, roster: Roster, outcomes: Outcomes,
            windows: JourneyWindows | None = None, queue_intervals: bool = True,
            queue_columns: tuple = ()) -> Measured:
    """Compute every KPI of one replication (see the module docstring for definitions).

    One :class:`Accumulator` fed the whole run: all first contacts, then all follow-ups
    (the streaming path feeds the same one batch by batch, with the same result to the
    last bit).

    Parameters
    ----------
    model : Model
    workload : Workload
        ``N`` contacts.
    roster : Roster
        ``S`` availability segments, shifts and shrinkage events.
    outcomes : Outcomes
        The engine's decisions for ``workload`` and ``roster`` (and its follow-ups).
    windows : JourneyWindows, optional
        Escalation windows (:func:`journey_windows`); default: none.
    queue_intervals : bool
        Per-queue interval rows (False: the channels and ``all`` only; totals unchanged).
    queue_columns : tuple of str
        Without per-queue rows: these per-contact KPIs per queue in ``Measured.queue_rows``.

    Returns
    -------
    Measured
        ``totals`` (C + 1 rows) and ``intervals`` (K x (Q + C + 1) rows, or K x (C + 1)).
    """
    acc = Accumulator(model, windows, queue_intervals, queue_columns)
    acc.add_contacts(workload, outcomes)
    if outcomes.followups is not None:
        acc.add_followups(outcomes.followups)
    if workload.outages is not None:
        acc.add_outages(workload.outages)
    acc.add_roster(roster, outcomes.release_s)
    return acc.result()


class Accumulator:
    """Additive per-interval sums of one replication's KPIs, fed final contacts in batches.

    Every KPI is a function (in :meth:`result`) of sums over contacts per (interval, queue)
    or per (time bin, group): counts by category, sums of waits and handle times, the
    binned sums of the time integrals (queue length, busy capacity), and per interval end
    the backlog count and its oldest arrival (a minimum). Each contact adds to them on its
    own, so a run may be fed batch by batch once its contacts are final.

    Exactness: counts are integers and the oldest arrival a minimum, so any batching gives
    the same values. Float sums are accumulated *sequentially in contact order* into their
    cells (``numpy.add.at``, which adds item by item, like ``numpy.bincount``): feeding the
    contacts in id order, in batches of consecutive ids, performs exactly the same floating
    point additions in the same order as feeding them all at once, so :meth:`result` is the
    same to the last bit. (Batches out of id order would still give the same KPIs up to
    rounding, not bit for bit.)

    The per-contact loops, and the group sums and integral parts of :meth:`result`, run
    compiled (``sim._accumulate``, from ``ext/_accumulate.pyx``) when the extension is
    built; the numpy code of each helper is the reference (and the fallback), and the
    compiled twin performs the same operations in the same order, so the sums are the same
    to the last bit either way (``tests/unit/test_accumulate.py``).

    Follow-up contacts (:meth:`add_followups`, also in id order, in batches of consecutive
    ids) have a second, separate set of sums (an inner accumulator), added elementwise to the
    first contacts' only in :meth:`result`: feeding first contacts and follow-ups interleaved
    (streaming) or all first contacts then all follow-ups (one shot) gives the same floating
    point additions, so the same result to the last bit.

    Parameters
    ----------
    model : Model
    windows : JourneyWindows, optional
        Escalation windows of the journey KPIs (:func:`journey_windows`). Default: no
        windows (supervisor KPIs for critical journeys, compliances NaN).
    queue_intervals : bool
        Measure per-queue interval rows (False: channel and ``all`` groups only; the KPIs
        of those groups and the totals are the same either way).
    queue_columns : tuple of str
        With ``queue_intervals=False``: per-contact KPIs (counts and their ratios, e.g.
        ``answered``, ``aht_s``) still given per queue, in ``Measured.queue_rows`` (what
        :mod:`sim.economics` reads).

    Examples
    --------
    >>> acc = Accumulator(model, journey_windows(scenario))  # doctest: +SKIP
    >>> for workload, outcomes in batches_in_id_order:        # doctest: +SKIP
    ...     acc.add_contacts(workload, outcomes)
    ...     acc.add_followups(final_followups_in_id_order)
    >>> acc.add_roster(roster, release_s)                     # doctest: +SKIP
    >>> measured = acc.result()                               # doctest: +SKIP
    """

    def __init__(self, model: Model, windows: JourneyWindows | None = None,
                 queue_intervals: bool = True, queue_columns: tuple = (), *,
                 _counts_of: Accumulator | None = None):
        # ``_counts_of``: the first contacts' accumulator, when this is its follow-ups' one.
        self.model = model
        self.windows = windows if windows is not None else JourneyWindows()
        self._grid = grid = _Grid(model)
        # NOTE: without per-queue rows the KPIs are computed on the channel and ``all``
        # groups only (a year of half-hours x many queues is most of the cost otherwise).
        self._groups = _Groups(model, queues=queue_intervals)
        unknown = set(queue_columns) - set(_QUEUE_COLUMN_KEYS)
        if unknown:
            raise ValueError(f"queue_columns: not per-contact KPIs: {sorted(unknown)}")
        self._queue_columns = tuple(queue_columns) if not queue_intervals else ()
        n_q, n_k = model.n_queues, grid.n_intervals
        self._deferred = model.channel_live[model.queue_channel] == 0
        self._threshold_s = model.channel_sla_s[model.queue_channel]  # per queue
        shared = _counts_of

        def counts(name, shape, dtype=_COUNT_DTYPE, fill=0):
            """New integer sums, or the first contacts' (:attr:`_SHARED`)."""
            # NOTE: integer counts (and the oldest arrival, a minimum) are exact in any
            # order, so the follow-ups add into the same arrays; only float sums are apart.
            if shared is not None:
                return getattr(shared, name)
            return np.full(shape, fill, dtype=dtype) if fill else np.zeros(shape, dtype)

        # per (category code, queue) x interval counts (see _add_cells); wait sums by
        # (interval, queue, answered); handle-time sums by (interval, queue)
        self._counts = counts("_counts", (_N_CODES * n_q, n_k))
        self._wait_s = np.zeros(n_k * n_q * 2)
        self._handle_s = np.zeros(n_k * n_q)
        self._queue_time = _Integral(grid, n_q, shared and shared._queue_time)
        self._busy = _Integral(grid, model.n_channels, shared and shared._busy)
        # backlog just before each interval end (and at the horizon): count, oldest arrival
        self._ends_s = np.append(grid.bounds[1:], grid.horizon_s)
        n_ends = self._ends_s.shape[0]
        self._backlog = counts("_backlog", (n_ends, n_q), np.int64)
        self._oldest_s = counts("_oldest_s", (n_ends, n_q), np.float64, np.inf)
        self._roster: dict | None = None
        # outage time per channel (channels with outages only; the others' availability NaN)
        self._outage = _Integral(grid, model.n_channels)
        self._has_outages = np.zeros(model.n_channels, dtype=bool)
        self.n_contacts = 0
        # Journeys. Counts per (code, queue) x interval: by the contact's own arrival and
        # queue (_C_*), or by its journey's first arrival and queue (_J_*); resolved
        # journeys per (severity, queue) x interval and the sum of their times to resolve
        # per (interval, queue, severity); the sum of times to the supervisor per
        # (interval, queue).
        self._journeys = model.journeys is not None
        self._queue_tier = (model.journeys.queue_tier if self._journeys
                            else np.ones(n_q, dtype=np.int32))
        self._ccounts = counts("_ccounts", (_N_C * n_q, n_k))
        self._jcounts = counts("_jcounts", (_N_J * n_q, n_k))
        self._resolved = counts("_resolved", (_N_SEV * n_q, n_k))
        self._resolve_s = np.zeros(n_k * n_q * _N_SEV)
        self._supervisor_s = np.zeros(n_k * n_q)
        self._followups: Accumulator | None = None  # the follow-ups' sums
        self._escalated_tasks = np.zeros(0, dtype=np.int64)  # ids of TASKs with fate ESCALATED

    # ----------------------------------------------------------------------------------------
    # feeding

    def add_contacts(self, workload: Workload, outcomes: Outcomes) -> None:
        """Add a batch of final contacts (their outcomes will not change any more).

        Parameters
        ----------
        workload : Workload
            The batch's contacts (``release_s`` of ``outcomes`` is not read here). For
            bit-identical results across batchings, give the contacts in id order.
        outcomes : Outcomes
            Their outcomes (per-contact fields, same rows as ``workload``).
        """
        n = workload.n_contacts
        if outcomes.outcome.shape[0] != n:
            raise ValueError(f"outcomes have {outcomes.outcome.shape[0]} contacts, "
                             f"workload {n}")
        window = self._add(workload, outcomes)
        if self._journeys and n:
            self._add_first_journeys(workload, outcomes, window)

    def add_outages(self, outages: dict) -> None:
        """Add outage periods ``{channel index: (lo_s, hi_s)}`` (a channel listed, even with
        no period, has an availability; the others' is NaN). Any batching gives the same
        availability up to rounding of the time sums (periods are added in their order)."""
        for c, (lo_s, hi_s) in outages.items():
            self._has_outages[c] = True
            if len(lo_s):
                self._outage.add(np.asarray(lo_s, dtype=np.float64),
                                 np.asarray(hi_s, dtype=np.float64),
                                 np.full(len(lo_s), c, dtype=np.intp))

    def add_followups(self, followups: Followups) -> None:
        """Add a batch of final follow-up contacts (:class:`sim.model.Followups`).

        They count as contacts of their own queue and arrival interval (never closed), and
        in the journey KPIs; their sums are kept apart from the first contacts' (see the
        class docstring).

        Parameters
        ----------
        followups : Followups
            Follow-ups whose outcome and fate will not change any more. For bit-identical
            results across batchings, give them in id order, in batches of consecutive ids
            (a follow-up's parent then always comes before it).
        """
        n = followups.n
        if n == 0:
            return
        inner = self._followups
        if inner is None:
            inner = self._followups = Accumulator(self.model, self.windows, _counts_of=self)
        f = followups
        contacts = SimpleNamespace(
            n_contacts=n, arrival_s=f.arrival_s, queue=f.queue,
            channel=self.model.queue_channel[f.queue], abandon_at_s=f.abandon_at_s,
            closed=np.zeros(n, dtype=np.int8))
        outcomes = SimpleNamespace(outcome=f.outcome, start_s=f.start_s, end_s=f.end_s)
        window = inner._add(contacts, outcomes)
        if self._journeys:
            inner._add_followup_journeys(f, window)

    def _add(self, workload, outcomes) -> tuple | None:
        """The per-contact sums of a batch (``workload`` / ``outcomes`` or their follow-up
        look-alikes); returns the batch's :meth:`_window` (None if empty)."""
        n = workload.n_contacts
        self.n_contacts += n
        if n == 0:
            return None
        grid = self._grid
        stop_s = _wait_end(workload, outcomes, grid.horizon_s)
        window = self._window(workload.arrival_s)
        self._add_contact_sums(workload, outcomes, stop_s, window)
        self._queue_time.add(workload.arrival_s, stop_s, workload.queue)
        # NOTE: only answered contacts are busy. Giving the others as [warm-up, warm-up)
        # (as this did) adds exactly nothing: x0 = 0 adds +0.0 to a float sum (never -0.0)
        # and counts in bin 1, which only changes S[0] by 0 * count (see _Integral).
        answered = np.flatnonzero(outcomes.outcome == Outcome.ANSWERED)
        self._busy.add(outcomes.start_s, outcomes.end_s, workload.channel, answered)
        if self._deferred.any():
            self._add_backlog(workload, stop_s)
        return window

    def _window(self, arrival_s: np.ndarray) -> tuple:
        """``(sel, interval)``: the contacts arriving in the window (:meth:`_Grid.window`) and
        their interval rows (:meth:`_Grid.local_interval`)."""
        # NOTE: once per batch, for the contact sums and the journey sums alike.
        sel = self._grid.window(arrival_s)
        return sel, self._grid.local_interval(arrival_s[sel])

    def add_roster(self, roster: Roster, release_s: np.ndarray) -> None:
        """Add the roster (once) and each segment's release time (``Outcomes.release_s``)."""
        if self._roster is not None:
            raise ValueError("Accumulator.add_roster: the roster was already added")
        model, grid = self.model, self._grid
        seg_end_s, overtime_s = _segment_work(roster, release_s, grid)
        parts = {}
        for key, (lo, hi) in {
            "available_s": (roster.seg_start_s, seg_end_s),
            "shift_s": (roster.shift_start_s, roster.shift_end_s),
            "shrink_s": (roster.shrink_start_s, roster.shrink_end_s),
        }.items():
            integral = _Integral(grid, 1)
            integral.add(lo, hi, None)
            parts[key] = integral.parts()[:, 0]
        seg_cost = model.team_cost_per_h[model.agent_team[roster.seg_agent]]
        shift_cost = model.team_cost_per_h[model.agent_team[roster.shift_agent]]
        # NOTE: products summed by np.sum, not a dot product: a BLAS dot of more than ~10k
        # elements runs on several threads, and its last bit then depends on the machine's
        # thread count (and its spinning threads take CPU from the other workers).
        shift_len_s = grid.clip_len(roster.shift_start_s, roster.shift_end_s)
        parts["cost"] = (float(np.sum(shift_cost * shift_len_s))
                         + float(np.sum(seg_cost * overtime_s))) / 3600.0
        parts["overtime_s"] = float(overtime_s.sum())
        self._roster = parts

    # ----------------------------------------------------------------------------------------
    # per-contact sums

    def _add_contact_sums(self, workload: Workload, outcomes: Outcomes, stop_s,
                          window: tuple | None = None) -> None:
        n_q = self.model.n_queues
        sel, interval = window if window is not None else self._window(workload.arrival_s)
        arrival_s = workload.arrival_s[sel]
        if arrival_s.shape[0] == 0:
            return
        queue = workload.queue[sel]
        outcome = outcomes.outcome[sel]
        if _accumulate is not None and _is_int8(outcome, workload.closed):
            # NOTE: compiled: codes, counts and float sums in one pass per contact, the same
            # comparisons and float operations in the same order (see
            # _accumulate.add_contact_sums), no per-contact temporaries.
            _accumulate.add_contact_sums(
                self._counts, self._wait_s, self._handle_s,
                interval, queue, outcome, workload.closed[sel],
                arrival_s, stop_s[sel], outcomes.start_s[sel], outcomes.end_s[sel],
                self._threshold_s, int(Outcome.ANSWERED), _LOST)
            return
        answered = outcome == Outcome.ANSWERED
        wait_s = stop_s[sel] - arrival_s
        threshold_s = self._threshold_s[queue]

        # NOTE: one bincount over (category, queue, interval) counts every count KPI at once.
        cell = interval * n_q + queue
        code = outcome.astype(np.intp) * 4
        code += ((wait_s > 0) | ~answered) * 2
        code += wait_s <= threshold_s  # False where the threshold is NaN
        code[workload.closed[sel] != 0] = _LOST
        if code.max() > _LOST:
            raise ValueError("outcomes: a contact that is not closed has outcome LOST_CLOSED")
        code *= n_q
        code += queue
        _add_cells(self._counts, interval, code)
        # Float sums item by item in contact order (see the class docstring).
        _add_at(self._wait_s, cell * 2 + answered, wait_s)
        handle_s = np.where(answered, outcomes.end_s[sel] - outcomes.start_s[sel], 0.0)
        _add_at(self._handle_s, cell, handle_s)

    def _add_backlog(self, workload: Workload, stop_s) -> None:
        """Backlog count and oldest arrival at each interval end, from this batch.

        A contact is in the backlog at ``t`` when ``arrival_s < t <= stop_s``; only
        deferred queues count.
        """
        ends_s = self._ends_s
        deferred = self._deferred
        n_q = deferred.shape[0]
        mine = deferred[workload.queue] & (workload.closed == 0)
        mine &= workload.arrival_s < self._grid.horizon_s
        idx = np.flatnonzero(mine)
        if idx.shape[0] == 0:
            return
        # NOTE: every deferred queue at once, on end rows instead of times: a contact is
        # waiting at end ``r`` when ``first_r <= r < stop_r``, with ``first_r`` = #(ends <=
        # arrival) and ``stop_r`` = #(ends <= stop). Integer counts and a minimum: exact.
        queue = workload.queue[idx].astype(np.intp)
        a, s = workload.arrival_s[idx], stop_s[idx]
        # ends_s: the inner bounds, then the horizon twice (and a < horizon)
        first_r = self._grid.count_le(a)
        stop_r = self._grid.count_le(s)
        stop_r += 2 * (s >= self._grid.horizon_s)
        lo, hi = int(first_r.min()), int(stop_r.max())
        if hi <= lo:
            return
        if _accumulate is not None:
            # NOTE: compiled, one pass over the contacts (see _accumulate.add_backlog): no
            # sort when the arrivals are sorted, no searches; the same counts and minima.
            order = None if _is_sorted(a) else _lexsort_small(queue, a)
            _accumulate.add_backlog(self._backlog, self._oldest_s, first_r, stop_r, queue, a,
                                    order, np.zeros((hi - lo + 1, n_q), np.int64),
                                    np.empty(n_q, np.int64), lo)
            return
        # Backlog: +1 from the first row, -1 from the stop row, cumulated down the rows.
        n_rows = hi - lo + 1
        steps = np.bincount((first_r - lo) * n_q + queue, minlength=n_rows * n_q)
        steps -= np.bincount((stop_r - lo) * n_q + queue, minlength=n_rows * n_q)
        self._backlog[lo:hi] += np.cumsum(steps.reshape(n_rows, n_q), axis=0)[:-1]
        # Oldest: in (queue, arrival) order, the first contact whose running maximum stop
        # row passes r is the oldest waiting at r, if it arrived before (first row <= r).
        # Offsetting rows by queue * span keeps the queues apart in one sorted array.
        span = ends_s.shape[0] + 2
        if _is_sorted(a):
            # Stable: keeps arrival order within a queue. NOTE: int16 keys sort by radix.
            small = queue.astype(np.int16) if n_q <= np.iinfo(np.int16).max else queue
            order = np.argsort(small, kind="stable")
        else:
            order = np.lexsort((a, queue))
        base = queue[order] * span
        first_key = base + first_r[order]
        stop_key = np.maximum.accumulate(base + stop_r[order])
        queues = np.flatnonzero(np.bincount(queue, minlength=n_q))
        rows = np.arange(lo, hi)
        query = (queues[:, None] * span + rows).ravel()
        first = np.searchsorted(stop_key, query, side="right")
        found = first < first_key.shape[0]
        found[found] = first_key[first[found]] <= query[found]
        q_found = np.repeat(queues, rows.shape[0])[found]
        r_found = np.tile(rows, queues.shape[0])[found]
        oldest = self._oldest_s
        oldest[r_found, q_found] = np.minimum(oldest[r_found, q_found],
                                              a[order][first[found]])

    # ----------------------------------------------------------------------------------------
    # journey sums

    def _add_first_journeys(self, workload: Workload, outcomes: Outcomes,
                            window: tuple | None = None) -> None:
        """Journey sums of a batch of first contacts (each starts its own journey)."""
        n_q = self.model.n_queues
        sel, interval = window if window is not None else self._window(workload.arrival_s)
        arrival_s = workload.arrival_s[sel]
        if arrival_s.shape[0] == 0:
            return
        queue = workload.queue[sel]
        outcome, fate = outcomes.outcome[sel], outcomes.fate[sel]
        _add_fate_codes(self._ccounts, interval, queue, n_q, outcome, fate, _fate_flags)
        _add_fate_codes(self._jcounts, interval, queue, n_q, outcome, fate,
                        _first_journey_flags)
        self._add_resolutions(interval, queue, workload.severity[sel], fate == Fate.RESOLVED,
                              outcomes.end_s[sel] - arrival_s)

    def _add_followup_journeys(self, f: Followups, window: tuple | None = None) -> None:
        """Journey sums of a batch of follow-ups (this is the inner accumulator)."""
        grid, n_q, windows = self._grid, self.model.n_queues, self.windows
        # Per contact: own arrival interval and queue.
        own, interval = window if window is not None else self._window(f.arrival_s)
        arrival_s = f.arrival_s[own]
        if arrival_s.shape[0]:
            queue = f.queue[own]
            outcome, fate = f.outcome[own], f.fate[own]
            _add_fate_codes(self._ccounts, interval, queue, n_q, outcome, fate, _fate_flags)
            # Task windows by (tier of the queue, severity); NaN: no window. NOTE: only the
            # answered tasks of tier-2 and -3 queues can count, so only they are looked at.
            tier = self._queue_tier[queue]
            t = np.flatnonzero((f.kind[own] == ContactKind.TASK) & (tier >= 2)
                               & (outcome == Outcome.ANSWERED))
            tier, severity = tier[t], f.severity[own][t].astype(np.intp)
            ack_s = windows.acknowledge_s[tier, severity]
            res_s = windows.resolve_s[tier, severity]
            ack = np.isfinite(ack_s)
            res = (fate[t] != Fate.NONE) & np.isfinite(res_s)  # handled
            _add_codes(self._ccounts, interval[t], queue[t], n_q, {
                _C_ACK: ack,
                _C_ACK_WITHIN: ack & (f.start_s[own][t] - arrival_s[t] <= ack_s),
                _C_RESOLVE: res,
                _C_RESOLVE_WITHIN: res & (f.end_s[own][t] - arrival_s[t] <= res_s),
            })

        # Per journey: its first arrival interval and queue.
        is_task = f.kind == ContactKind.TASK
        escalated = f.id[is_task & (f.fate == Fate.ESCALATED)]
        if escalated.shape[0]:
            # Only an escalated task has a task as its follow-up: a task whose parent is not
            # one of these is the journey's first (it comes from a tier-1 contact).
            self._escalated_tasks = np.concatenate([self._escalated_tasks, escalated])
        sel = grid.window(f.j_arrival_s)
        j_arrival_s = f.j_arrival_s[sel]
        if j_arrival_s.shape[0] == 0:
            return
        interval, queue = grid.local_interval(j_arrival_s), f.j_queue[sel]
        cell = interval * n_q + queue
        fate, severity = f.fate[sel], f.severity[sel]
        first_task = is_task[sel].copy()
        if self._escalated_tasks.shape[0]:
            rows = np.flatnonzero(first_task)
            first_task[rows] = ~_isin(f.parent[sel][rows], self._escalated_tasks)
        supervised = first_task & (f.outcome[sel] == Outcome.ANSWERED)
        supervised &= windows.supervisor_for[severity]
        # NOTE: from the arrival of the contact that raised the escalation (the task's
        # parent), not the journey's first arrival: a concern raised on a repeat contact a
        # day later starts its own 30-minute clock then.
        to_supervisor_s = f.start_s[sel] - f.p_arrival_s[sel]
        _add_fate_codes(self._jcounts, interval, queue, n_q, f.outcome[sel], fate,
                        _decided_flags)
        _add_codes(self._jcounts, interval, queue, n_q, {
            _J_FOLLOWUPS: f.arrival_s[sel] < grid.horizon_s,
            _J_SUPERVISED: supervised,
            _J_SUPERVISED_WITHIN: supervised & (to_supervisor_s
                                                <= windows.supervisor_within_s),
        })
        # Float sums item by item in id order (see the class docstring).
        _add_at(self._supervisor_s, cell[supervised], to_supervisor_s[supervised])
        self._add_resolutions(interval, queue, severity, fate == Fate.RESOLVED,
                              f.end_s[sel] - j_arrival_s)

    def _add_resolutions(self, interval, queue, severity, resolved, time_s) -> None:
        """Count resolved journeys and sum their times to resolve per (interval, queue,
        severity)."""
        n_q = self.model.n_queues
        if _accumulate is not None and _is_int8(severity):
            # NOTE: compiled: one pass over the flags, no masked copies (see _add_cells).
            _accumulate.add_resolutions(self._resolved, self._resolve_s, interval, queue,
                                        severity, resolved.view(np.int8), time_s, n_q,
                                        _N_SEV)
            return
        interval, queue = interval[resolved], queue[resolved]
        severity = severity[resolved].astype(np.intp)
        _add_cells(self._resolved, interval, severity * n_q + queue)
        key = (interval * n_q + queue) * _N_SEV + severity
        _add_at(self._resolve_s, key, time_s[resolved])

    # ----------------------------------------------------------------------------------------
    # result

    def result(self) -> Measured:
        """Every KPI from the sums so far (the run's, once every contact and the roster
        were added)."""
        if self._roster is None:
            raise ValueError("Accumulator.result: add_roster was not called")
        model, grid, groups = self.model, self._grid, self._groups
        rows = grid.n_intervals + 1  # the intervals, then the whole window (totals)
        st = self._state()

        per_contact = self._contact_sums(st)
        kpi, answered = self._contact_kpis(per_contact, groups)

        # Time averages over each interval's part of the window, and over the whole window.
        length_s = np.append(np.diff(grid.bounds), grid.bounds[-1] - grid.bounds[0])
        queue_time_s = st.queue_time.parts()
        kpi["mean_queue_len"] = _ratio(groups.aggregate(queue_time_s), length_s[:, None])
        kpi["backlog"], kpi["backlog_age_h"] = self._backlog_kpis(st)

        share = model.channel_units.astype(np.float64) / CAPACITY_UNITS
        busy_s = st.busy.parts() * share
        roster = self._roster
        available_s = roster["available_s"]
        occupancy = np.full((rows, groups.n), np.nan)
        for g in range(groups.n):
            if groups.kind[g] == _CHANNEL:
                occupancy[:, g] = _ratio(busy_s[:, groups.channel[g]], available_s)
            elif groups.kind[g] == _ALL:
                occupancy[:, g] = _ratio(busy_s.sum(axis=1), available_s)
        kpi["occupancy"] = occupancy
        down_s = self._outage.parts()
        availability = np.full((rows, groups.n), np.nan)
        for g in range(groups.n):
            c = groups.channel[g]
            if groups.kind[g] == _CHANNEL and self._has_outages[c]:
                availability[:, g] = 1.0 - _ratio(down_s[:, c], length_s)
        kpi["availability"] = availability
        kpi["shrinkage"] = groups.only_all(_ratio(roster["shrink_s"], roster["shift_s"]))

        # Totals only: overtime and cost.
        only_total = np.full(rows, np.nan)
        only_total[-1] = 1.0
        kpi["overtime_h"] = groups.only_all(only_total * roster["overtime_s"] / 3600.0)
        answered_all = answered[-1, groups.all_index]
        kpi["cost_per_contact"] = groups.only_all(
            only_total * _ratio(roster["cost"], answered_all))
        kpi.update(self._journey_kpis(st, rows))

        queue_rows = None
        if self._queue_columns:
            # NOTE: only the per-contact KPIs asked for, on the queue groups alone (the same
            # arithmetic as on the queue rows of a full table, so the same values).
            q_groups = _Groups(model, only_queues=True)
            q_kpi, _ = self._contact_kpis(per_contact, q_groups, self._queue_columns)
            queue_rows = _intervals_frame(q_kpi, q_groups, grid, self._queue_columns)
        return Measured(
            totals=_totals_frame(kpi, groups),
            intervals=_intervals_frame(kpi, groups, grid),
            n_contacts=st.n_contacts,
            queue_rows=queue_rows,
        )

    def _contact_kpis(self, per_contact: dict, groups: _Groups, keys=_QUEUE_COLUMN_KEYS
                      ) -> tuple[dict, np.ndarray]:
        """The KPIs ``keys`` (of :data:`_QUEUE_COLUMN_KEYS`: ratios of per-contact sums),
        float64[K + 1, G] each, on ``groups``; and the answered counts (float64[K + 1, G])."""
        n_q = self.model.n_queues
        has_sla = np.isfinite(self._threshold_s)[:, None]
        deferred = self._deferred[:, None]
        masks = {"sla": has_sla, "deferred": deferred, "sla_deferred": has_sla & deferred}
        sums = {}

        def count_request(key, mask):
            return per_contact[key], None if mask is None else masks[mask][:, 0]

        # NOTE: the count sums of the KPIs asked for, in one batch (one pass over the count
        # table for all of them); any other is computed on demand below.
        batch = list(dict.fromkeys(
            [("answered", None)] + [need for k in keys for need in _COUNT_INPUTS[k]]))
        sums.update(zip(batch, groups.count_sums_many(
            per_contact["counts"], [count_request(*need) for need in batch], n_q),
            strict=True))

        def agg(key, mask=None) -> np.ndarray:
            """Group sums of ``per_contact[key]`` (of the queues in ``masks[mask]``), once."""
            # NOTE: computed on demand: the per-queue rows ask for a few KPIs only.
            if (key, mask) not in sums:
                if key in _FLOAT_SUMS:
                    sums[key, mask] = groups.aggregate(per_contact[key])
                else:
                    sums[key, mask] = groups.count_sums_many(
                        per_contact["counts"], [count_request(key, mask)], n_q)[0]
            return sums[key, mask]

        formulas = {
            "asa_s": lambda: _ratio(agg("wait_answered_s"), agg("answered")),
            "mean_wait_s": lambda: _ratio(agg("wait_s"), agg("offered")),
            "p_wait": lambda: _ratio(agg("waited"), agg("offered")),
            "service_level": lambda: _ratio(agg("within"), agg("offered", "sla")),
            "service_level_answered": lambda: _ratio(agg("within"), agg("answered", "sla")),
            "service_level_excl_short_abandons": lambda: _ratio(
                agg("within"), agg("offered", "sla") - agg("short_abandoned")),
            "abandon_rate": lambda: _ratio(agg("abandoned"), agg("offered")),
            "aht_s": lambda: _ratio(agg("handle_s"), agg("answered")),
            "sla_compliance": lambda: _ratio(agg("within", "deferred"),
                                             agg("answered", "sla_deferred")),
        }
        kpi = {k: agg(k) if k in _COUNT_KEYS else formulas[k]() for k in keys}
        return kpi, agg("answered")

    _SUMS = ("_counts", "_wait_s", "_handle_s", "_backlog", "_ccounts", "_jcounts",
             "_resolved", "_resolve_s", "_supervisor_s")
    #: Sums shared with the follow-ups' inner accumulator (exact whatever the order).
    _SHARED = ("_counts", "_backlog", "_ccounts", "_jcounts", "_resolved", "_oldest_s")

    #: Float sums per interval that :meth:`_state` gives with a last row for the window.
    _WITH_TOTAL = ("_handle_s", "_resolve_s", "_supervisor_s")

    def _state(self) -> SimpleNamespace:
        """The sums of the first contacts plus (elementwise) those of the follow-ups.

        Attributes are the sums' names without the underscore, ``queue_time`` and ``busy``
        (:class:`_Integral`), ``oldest_s`` and ``n_contacts``. The sums of
        :attr:`_WITH_TOTAL` are float64[K + 1, ...]: the intervals, then their sum over the
        intervals (as :func:`_with_total`).
        """
        fu = self._followups
        st = {name[1:]: getattr(self, name) for name in self._SUMS}
        st.update(queue_time=self._queue_time, busy=self._busy, oldest_s=self._oldest_s,
                  n_contacts=self.n_contacts)
        n_k = self._grid.n_intervals
        for name in self._SUMS:
            plus = None if fu is None or name in self._SHARED else getattr(fu, name)
            if name in self._WITH_TOTAL:
                # NOTE: the follow-ups' sums added straight into the rows of the table with
                # the window row (no full-size sum, then a copy of it).
                st[name[1:]] = _plus_with_total(st[name[1:]], plus, n_k)
            elif plus is not None:
                st[name[1:]] = st[name[1:]] + plus
        if fu is None:
            return SimpleNamespace(**st)
        st.update(queue_time=self._queue_time.merged(fu._queue_time),
                  busy=self._busy.merged(fu._busy),
                  n_contacts=self.n_contacts + fu.n_contacts)
        return SimpleNamespace(**st)

    def _journey_kpis(self, st: SimpleNamespace, rows: int) -> dict:
        """The journey KPIs (NaN without journeys), float64[K + 1, G] each."""
        groups = self._groups
        if not self._journeys:
            return {k: np.full((rows, groups.n), np.nan) for k in _JOURNEY_KEYS}
        n_q, n_k = self.model.n_queues, self._grid.n_intervals

        tiers = (2, 3)
        keep = {None: None, **{tier: self._queue_tier == tier for tier in tiers}}

        def batch(table, requests) -> dict:
            """``(codes, tier) -> `` integer counts of ``table`` (code, queue) x interval
            (see _add_cells) over ``codes`` as float64[K + 1, G] (of the queues of ``tier``
            only), for each request."""
            # NOTE: one batch per table: one pass over it for every request.
            return dict(zip(requests, groups.count_sums_many(
                table, [(codes, keep[tier]) for codes, tier in requests], n_q), strict=True))

        tier_codes = (_C_ACK, _C_ACK_WITHIN, _C_RESOLVE, _C_RESOLVE_WITHIN)
        cc = batch(st.ccounts, [((c,), None) for c in range(_N_C) if c not in tier_codes]
                   + [((c,), tier) for tier in tiers for c in tier_codes])
        jc = batch(st.jcounts, [((c,), None) for c in range(_N_J)])
        by_severity = batch(st.resolved, [((v,), None) for v in range(_N_SEV)]
                            + [(tuple(range(_N_SEV)), None)])

        def c(code, tier=None) -> np.ndarray:
            return cc[(code,), tier]

        def j(code) -> np.ndarray:
            return jc[(code,), None]

        # float64[K + 1, Q, n] of float sums: the intervals, then the window
        resolve_s = st.resolve_s.reshape(n_k + 1, n_q, _N_SEV)
        supervisor_s = st.supervisor_s
        handled = c(_C_HANDLED)
        n_resolved = by_severity[tuple(range(_N_SEV)), None]
        journeys = j(_J_JOURNEYS)
        supervised = j(_J_SUPERVISED)
        windows = self.windows
        kpi = {
            "fcr": _ratio(j(_J_FIRST_RESOLVED), j(_J_FIRST_HANDLED)),
            "repeat_rate": _ratio(c(_C_REPEAT), handled),
            "escalation_rate": _ratio(c(_C_ESCALATED), handled),
            "transfer_rate": _ratio(c(_C_TRANSFERRED), handled),
            "retrial_rate": _ratio(c(_C_RETRIED), c(_C_ABANDONED)),
            "journey_resolution_rate": _ratio(n_resolved, j(_J_DECIDED)),
            "contacts_per_journey": _ratio(journeys + j(_J_FOLLOWUPS), journeys),
            "mttr_h": _ratio(groups.aggregate(_sum_last(resolve_s)), n_resolved) / 3600.0,
            "time_to_supervisor_h": _ratio(groups.aggregate(supervisor_s),
                                           supervised) / 3600.0,
            "supervisor_compliance": (
                _ratio(j(_J_SUPERVISED_WITHIN), supervised)
                if np.isfinite(windows.supervisor_within_s)
                else np.full((rows, groups.n), np.nan)),
        }
        for v, severity in enumerate(SEVERITY_NAMES):
            kpi[f"mttr_h_{severity}"] = _ratio(groups.aggregate(resolve_s[:, :, v]),
                                               by_severity[(v,), None]) / 3600.0
        for tier in tiers:
            kpi[f"tier{tier}_ack_compliance"] = _ratio(
                c(_C_ACK_WITHIN, tier), c(_C_ACK, tier))
            kpi[f"tier{tier}_resolve_compliance"] = _ratio(
                c(_C_RESOLVE_WITHIN, tier), c(_C_RESOLVE, tier))
        return kpi

    def _contact_sums(self, st: SimpleNamespace) -> dict:
        """Per-contact quantities summed per (interval, queue), plus a last row for the window.

        Returns
        -------
        dict of str -> float64[K + 1, Q] (:data:`_FLOAT_SUMS`) or the category codes whose
        counts ``st.counts`` (code, queue) x interval add up to it (counts: summed per group
        by :meth:`_Groups.count_sums`); ``"counts"``: that table
        """
        n_q, n_k = self.model.n_queues, self._grid.n_intervals
        # NOTE: counts are summed as integers (exact: the same floats as converting first),
        # per group straight from the category planes (see _Groups.count_sums).

        def category(codes) -> np.ndarray:
            return np.asarray(codes)

        wait_by_answered = st.wait_s.reshape(n_k, n_q, 2)
        wait_s = np.empty((n_k + 1, n_q))
        _with_total(_sum_last(wait_by_answered, out=wait_s[:n_k]), out=wait_s)
        sums = {
            "offered": category(np.arange(12)),
            "answered": category(_codes(outcome=Outcome.ANSWERED)),
            "abandoned": category(_codes(outcome=Outcome.ABANDONED)),
            "lost_closed": category([_LOST]),
            "wait_s": wait_s,
            "wait_answered_s": wait_by_answered[:, :, 1],
            "waited": category(_codes(waited=True)),
            "within": category(_codes(outcome=Outcome.ANSWERED, within=True)),
            "short_abandoned": category(_codes(outcome=Outcome.ABANDONED, within=True)),
            "handle_s": st.handle_s,  # with its window row (see _state)
        }
        # NOTE: float sums with their window row, without stacking copies.
        out = {k: v if v is wait_s or v is st.handle_s else _with_total(v)
               if k in _FLOAT_SUMS else v for k, v in sums.items()}
        out["counts"] = st.counts
        return out

    def _backlog_kpis(self, st: SimpleNamespace):
        """Backlog and age of its oldest contact just before each interval end and the horizon.

        Only deferred queues count; groups without any are NaN. The age is 0 when the backlog
        is empty.

        Returns
        -------
        backlog, backlog_age_h : float64[K + 1, G]
        """
        groups, deferred, ends_s = self._groups, self._deferred, self._ends_s
        backlog = groups.aggregate(st.backlog.astype(np.float64))
        age_h = np.full((ends_s.shape[0], groups.n), np.nan)
        for g, members in enumerate(groups.members):
            members = members[deferred[members]]
            if members.shape[0] == 0:
                backlog[:, g] = np.nan
                continue
            oldest = st.oldest_s[:, members].min(axis=1)
            age_h[:, g] = np.where(np.isfinite(oldest), (ends_s - oldest) / 3600.0, 0.0)
        return backlog, age_h


# --------------------------------------------------------------------------------------------
# Grid of reporting intervals and groups of queues


def _sum_last(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a.sum(axis=-1)`` (float64) for a last axis of 2 to 7 values, the same floats.

    NOTE: numpy sums fewer than 8 values left to right onto +0.0; adding them left to right,
    then +0.0 (which only turns a -0.0 sum into +0.0, as starting from +0.0 does) gives the
    same floats with whole-array adds, several times faster than numpy's reduction over a
    short inner axis (checked by the tests for every sign of zero, infinities and NaN).
    """
    n = a.shape[-1]
    assert 2 <= n < 8, n
    out = np.add(a[..., 0], a[..., 1], out=out)
    for i in range(2, n):
        out += a[..., i]
    out += 0.0
    return out


def _with_total(v: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``np.vstack([v, v.sum(axis=0)])`` of a float64 ``(K, Q)``, or with ``out`` (a
    ``(K + 1, Q)`` array whose first K rows are ``v``): its last row filled in place."""
    n_k = v.shape[0]
    if out is None:
        out = np.empty((n_k + 1, v.shape[1]))
        out[:n_k] = v
    # NOTE: the sum over the intervals of a C-ordered table, row after row (numpy reduces
    # an outer axis sequentially): the floats of v.sum(axis=0).
    np.sum(out[:n_k], axis=0, out=out[n_k])
    return out


def _plus_with_total(a: np.ndarray, plus: np.ndarray | None, n_k: int) -> np.ndarray:
    """``_with_total`` of ``a + plus`` (or of ``a``), float64 sums of ``n_k`` intervals (flat,
    interval-major), as float64[K + 1, a.size // K]."""
    row = a.shape[0] // n_k
    out = np.empty((n_k + 1, row))
    if plus is None:
        np.copyto(out[:n_k], a.reshape(n_k, row))
    else:
        np.add(a.reshape(n_k, row), plus.reshape(n_k, row), out=out[:n_k])
    return _with_total(out[:n_k], out=out)


def _is_int8(*arrays) -> bool:
    """Whether every array is int8 (the model's outcome, closed, severity arrays), as the
    compiled loops take them."""
    return all(a.dtype == np.int8 for a in arrays)


def _is_sorted(a: np.ndarray) -> bool:
    return bool(np.all(a[1:] >= a[:-1]))


def _isin(x: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``np.isin(x, table)`` for integer arrays."""
    if table.shape[0] == 0 or not _is_sorted(table):
        return np.isin(x, table)
    # NOTE: ``table`` (the escalated tasks' ids, gathered in id order) is sorted: a binary
    # search per item, where np.isin sorts both arrays on every call (a year's escalated
    # tasks, once per batch of follow-ups).
    pos = np.searchsorted(table, x)
    np.minimum(pos, table.shape[0] - 1, out=pos)
    return table[pos] == x


class _Grid:
    """Reporting intervals that meet the window.

    ``bounds`` (float64[K + 1]) are ``[warmup_s, (k0 + 1) * interval_s, ..., horizon_s]``, so
    interval ``k0 + i`` is measured over ``[bounds[i], bounds[i + 1])``.
    """

    def __init__(self, model: Model):
        self.interval_s = float(model.interval_s)
        self.warmup_s = float(model.warmup_s)
        self.horizon_s = float(model.horizon_s)
        if not self.horizon_s > self.warmup_s:
            raise ValueError(
                f"empty measured window: warmup_s={self.warmup_s} >= horizon_s={self.horizon_s}"
            )
        self.k0 = int(np.floor(self.warmup_s / self.interval_s + 1e-9))
        k1 = max(model.n_intervals, self.k0 + 1)
        self.n_intervals = k1 - self.k0
        inner = np.arange(self.k0 + 1, k1, dtype=np.float64) * self.interval_s
        self.bounds = np.concatenate([[self.warmup_s], inner, [self.horizon_s]])
        self.index = np.arange(self.k0, k1, dtype=np.int64)

    def window(self, arrival_s: np.ndarray):
        """Selects the contacts arriving in the window (a slice when arrivals are sorted)."""
        if _is_sorted(arrival_s):
            lo, hi = np.searchsorted(arrival_s, [self.warmup_s, self.horizon_s], side="left")
            return slice(int(lo), int(hi))
        return (arrival_s >= self.warmup_s) & (arrival_s < self.horizon_s)

    def local_interval(self, arrival_s: np.ndarray) -> np.ndarray:
        """Row (0..K-1) of the interval of window arrivals: ``i`` with
        ``bounds[i] <= arrival_s < bounds[i + 1]`` (exact comparisons, whatever the order)."""
        inner = self.bounds[1:-1]
        if arrival_s.shape[0] and _is_sorted(arrival_s):
            # NOTE: sorted arrivals: the interval is a run length, no per-contact search;
            # only the bounds between the first and the last arrival are searched.
            lo, hi = np.searchsorted(inner, arrival_s[[0, -1]], side="right")
            cuts = np.searchsorted(arrival_s, inner[lo:hi], side="left")
            sizes = np.diff(np.concatenate([[0], cuts, [arrival_s.shape[0]]]))
            return np.repeat(np.arange(lo, hi + 1, dtype=np.intp), sizes)
        return self.count_le(arrival_s)

    def count_le(self, x: np.ndarray) -> np.ndarray:
        """``#(bounds[1:-1] <= x)`` (intp), exactly, for any x but NaN (in the window: the
        row of ``x``)."""
        # NOTE: the regular grid's floor as a guess, moved by one where a bound says so,
        # and checked against the bounds exactly (a binary search over a year of bounds
        # costs cache misses per item); any guess still off is searched.
        inner = self.bounds[1:-1]
        if _accumulate is not None and x.dtype == np.float64:
            # NOTE: compiled, the same search per item without temporaries (the count is
            # defined by comparisons: the same integers whatever the search).
            row = np.empty(x.shape[0], dtype=np.intp)
            _accumulate.count_le(inner, x, row, self.k0 * self.interval_s,
                                 1.0 / self.interval_s)
            return row
        last = self.n_intervals - 1
        guess = x - self.k0 * self.interval_s
        guess *= 1.0 / self.interval_s
        np.clip(guess, 0, last, out=guess)
        row = guess.astype(np.intp)
        if last == 0:
            return row
        padded = np.concatenate([[-np.inf], inner, [np.inf]])  # padded[i]: start of row i
        row -= x < padded[row]
        row += x >= padded[row + 1]
        off = (x < padded[row]) | (x >= padded[row + 1])
        if off.any():
            row[off] = np.searchsorted(inner, x[off], side="right")
        return row

    def bin_at_or_above(self, x0: np.ndarray) -> np.ndarray:
        """For ``x = x0 + warmup_s`` in the window: a ``j`` with ``bounds[j-1] <= x <= bounds[j]``.

        ``j`` is in ``1..K+1`` (``bounds[K + 1]`` reads as +inf).
        """
        # NOTE: the bounds are a regular grid (but for the first and last), so the bin is
        # floor + 1 instead of a binary search. An x on (or within rounding of) a bound may
        # land on either side of it, where min(x, bound) is the same: sums are unchanged.
        y = x0 + (self.warmup_s - self.k0 * self.interval_s)
        y *= 1.0 / self.interval_s
        j = y.astype(np.intp)  # truncation = floor for y >= 0
        j += 1
        return j

    def parts(self, f: np.ndarray) -> np.ndarray:
        """Per-interval parts ``(K, G)`` of an integral at the bounds, plus the window total."""
        return np.vstack([np.diff(f, axis=0), f[-1] - f[0]])

    def clip_len(self, start_s, end_s) -> np.ndarray:
        """Length of each ``[start_s, end_s)`` inside the window (seconds)."""
        lo = np.maximum(start_s, self.warmup_s)
        hi = np.minimum(end_s, self.horizon_s)
        return np.maximum(hi - lo, 0.0)


_QUEUE, _CHANNEL, _ALL = 0, 1, 2


class _Groups:
    """Output groups in display order: per channel its queues then ``(channel, "all")``;
    finally ``("all", "all")``. ``members[g]`` are the queue ids summed into group g.

    Parameters
    ----------
    model : Model
    queues : bool
        Include the per-queue groups (False: the channels and ``all`` only).
    only_queues : bool
        The per-queue groups only (no channel or ``all`` group).
    """

    def __init__(self, model: Model, queues: bool = True, only_queues: bool = False):
        names_c, names_q, kind, channel, members = [], [], [], [], []
        for c, cname in enumerate(model.channel_names):
            queues_c = [q for q in range(model.n_queues) if model.queue_channel[q] == c]
            if queues or only_queues:
                for q in queues_c:
                    names_c.append(cname)
                    names_q.append(model.queue_names[q])
                    kind.append(_QUEUE)
                    channel.append(c)
                    members.append([q])
            if not only_queues:
                names_c.append(cname)
                names_q.append("all")
                kind.append(_CHANNEL)
                channel.append(c)
                members.append(queues_c)
        if not only_queues:
            names_c.append("all")
            names_q.append("all")
            kind.append(_ALL)
            channel.append(-1)
            members.append(list(range(model.n_queues)))
        self.n = len(kind)
        self.channel_name = np.array(names_c, dtype=object)
        self.queue_name = np.array(names_q, dtype=object)
        self.kind = np.array(kind, dtype=np.intp)
        self.channel = np.array(channel, dtype=np.intp)
        self.all_index = self.n - 1 if not only_queues else -1
        self.members = [np.array(m, dtype=np.intp) for m in members]
        # the members of every group, concatenated, and each group's offsets in them
        self._flat = np.concatenate(self.members)
        self._starts = np.cumsum([0] + [len(m) for m in members], dtype=np.intp)
        # Groups that are the union of groups before them (a channel of its queues' groups,
        # ``all`` of the channels'): their parts, concatenated, and each group's offsets.
        parts = [[] for _ in kind]
        for g, k in enumerate(kind):
            if k == _CHANNEL and queues and not only_queues:
                parts[g] = [h for h in range(g) if kind[h] == _QUEUE and channel[h] == channel[g]]
            elif k == _ALL:
                parts[g] = [h for h in range(g) if kind[h] == _CHANNEL]
        self._parts = np.array([h for p in parts for h in p], dtype=np.intp)
        self._part_starts = np.cumsum([0] + [len(p) for p in parts], dtype=np.intp)

    def aggregate(self, per_queue: np.ndarray) -> np.ndarray:
        """Sum ``(rows, Q)`` per-queue values into ``(rows, G)`` group values (the floats of
        ``per_queue[:, members].sum(axis=1)``)."""
        if _accumulate is not None and per_queue.dtype == np.float64:
            # NOTE: compiled, the same additions in the same order per element, read in
            # place and written row-major (no transposed copies: the intervals frame
            # takes the rows as they are).
            out = np.empty((per_queue.shape[0], self.n))
            _accumulate.group_sums(per_queue, self._flat, self._starts, out)
            return out
        # NOTE: the groups are rows of a (G, rows) array filled from the queues' rows of a
        # transposed copy: contiguous vector adds instead of strided column reads. The
        # queues are added in order onto the first, then 0.0 (-0.0 -> +0.0): the floats of
        # ``per_queue[:, m].sum(axis=1)``, which numpy sums left to right for fewer than 8
        # values (its pairwise sum's base case, onto +0.0) and, for more, column after
        # column, since the fancy-indexed copy is laid out queue-major (checked by the
        # tests' reference hashes); whole numbers are exact in any order anyway.
        out = np.empty((self.n, per_queue.shape[0]))
        by_queue = np.ascontiguousarray(per_queue.T)
        with np.errstate(over="ignore", invalid="ignore"):  # inf and NaN sums, as numpy's
            for g, m in enumerate(self.members):
                row = out[g]
                np.copyto(row, by_queue[m[0]])
                for q in m[1:]:
                    row += by_queue[q]
                row += 0.0
        return out.T

    def aggregate_counts(self, by_queue: np.ndarray) -> np.ndarray:
        """Sum integer per-interval counts ``(Q, K)`` (by queue) into ``(K + 1, G)`` group
        values (float64), the last row being the sum over the intervals.

        Integer sums are exact in any order: the same floats as :meth:`aggregate` of the
        converted counts with their window row.
        """
        n_k = by_queue.shape[1]
        out = np.empty((self.n, n_k + 1))
        for g, m in enumerate(self.members):
            row = by_queue[m[0]].copy()
            for q in m[1:]:
                row += by_queue[q]
            out[g, :n_k] = row
            out[g, n_k] = row.sum(dtype=np.int64)
        return out.T

    def count_sums(self, table: np.ndarray, planes, n_q: int, keep: np.ndarray | None = None
                   ) -> np.ndarray:
        """Group sums (float64[K + 1, G], as :meth:`aggregate_counts`) of the integer counts
        ``table`` (``(P * n_q, K)``: planes of per-queue rows) added over the planes
        ``planes``, of the queues where ``keep`` (bool[Q]; None: all) only."""
        return self.count_sums_many(table, [(planes, keep)], n_q)[0]

    def count_sums_many(self, table: np.ndarray, requests, n_q: int) -> list[np.ndarray]:
        """:meth:`count_sums` of each ``(planes, keep)`` of ``requests`` on one table."""
        if not (_accumulate is not None and table.dtype == np.int32
                and table.flags.c_contiguous):
            return [self._count_sums_numpy(table, np.asarray(planes, dtype=np.intp), n_q,
                                           keep) for planes, keep in requests]
        # NOTE: compiled: the planes and masked queues of each group summed straight from
        # the table (integers: exact in any order), no per-category, per-mask or per-group
        # copies; a channel and ``all`` add up their parts' columns instead of reading the
        # table again; and every request of the batch in one pass over the table (see
        # _accumulate.group_counts).
        rows, starts = [], [0]
        for planes, keep in requests:
            planes = np.asarray(planes, dtype=np.intp)
            for g, m in enumerate(self.members):
                if self._part_starts[g + 1] > self._part_starts[g]:
                    m = m[:0]
                elif keep is not None:
                    m = m[keep[m]]
                rows.append((planes[:, None] * n_q + m[None, :]).ravel())
                starts.append(starts[-1] + rows[-1].shape[0])
        out = np.empty((len(requests), table.shape[1] + 1, self.n))
        _accumulate.group_counts(table, np.concatenate(rows).astype(np.intp),
                                 np.array(starts, dtype=np.intp), self._parts,
                                 self._part_starts, out)
        return list(out)

    def _count_sums_numpy(self, table, planes, n_q, keep) -> np.ndarray:
        by_code = table.reshape(-1, n_q, table.shape[1])
        by_queue = by_code[planes[0]].copy()
        for p in planes[1:]:
            by_queue += by_code[p]
        if keep is not None:
            by_queue *= keep[:, None]
        return self.aggregate_counts(by_queue)

    def only_all(self, values: np.ndarray) -> np.ndarray:
        """``(rows,)`` values on the ``("all", "all")`` group, NaN on the others."""
        out = np.full((values.shape[0], self.n), np.nan)
        out[:, self.all_index] = values
        return out


# --------------------------------------------------------------------------------------------
# Per-contact sums


def _wait_end(workload: Workload, outcomes: Outcomes, horizon_s: float) -> np.ndarray:
    """End of each contact's wait (float64[N]): start, abandon time or horizon.

    Closed contacts never wait: their wait ends at their arrival.
    """
    outcome = outcomes.outcome
    if _accumulate is not None and _is_int8(outcome, workload.closed):
        # NOTE: compiled, one pass: the same values copied, no masks.
        stop_s = np.empty(outcome.shape[0])
        _accumulate.wait_end(outcome, workload.closed, outcomes.start_s, workload.abandon_at_s,
                             workload.arrival_s, horizon_s, int(Outcome.ANSWERED),
                             int(Outcome.ABANDONED), stop_s)
        return stop_s
    stop_s = np.full(outcome.shape[0], horizon_s)
    np.copyto(stop_s, outcomes.start_s, where=outcome == Outcome.ANSWERED)
    np.copyto(stop_s, workload.abandon_at_s, where=outcome == Outcome.ABANDONED)
    np.copyto(stop_s, workload.arrival_s, where=workload.closed != 0)
    return stop_s


# Per-contact category codes: outcome (WAITING 0, ANSWERED 1, ABANDONED 2) * 4
# + waited * 2 + within threshold; closed contacts are _LOST.
_LOST = 12
_N_CODES = 13
#: Per-cell counts (a cell: one interval x queue x code) stay far below 2**31.
# NOTE: half the memory (and memory traffic) of int64; the window totals are summed in
# int64.
_COUNT_DTYPE = np.int32


def _codes(*, outcome=None, waited=None, within=None) -> np.ndarray:
    """Category codes (of the 12 offered ones) matching the given conditions."""
    codes = np.arange(12)
    keep = np.ones(12, bool)
    if outcome is not None:
        keep &= codes // 4 == int(outcome)
    if waited is not None:
        keep &= (codes // 2) % 2 == int(waited)
    if within is not None:
        keep &= codes % 2 == int(within)
    return codes[keep]


def _add_cells(counts: np.ndarray, interval: np.ndarray, row: np.ndarray) -> None:
    """``counts[row, interval] += 1`` for each item (``counts``: int64[R, K]), binning only
    the intervals present.

    NOTE: counts are kept row (category x queue) by interval, so that :meth:`Accumulator.result`
    sums categories and groups of queues with contiguous row adds, without transposing the
    whole table; a batch spans few intervals, binned locally then added as a block.
    """
    if interval.shape[0] == 0:
        return
    if _accumulate is not None:
        # NOTE: compiled, one increment per item: no dense block of the batch's intervals
        # (with four-week batches it has more cells than the batch has items).
        _accumulate.add_cells(counts, interval, row)
        return
    lo, hi = int(interval.min()), int(interval.max()) + 1
    n = hi - lo
    key = np.multiply(row, n, dtype=np.intp)
    key += interval
    key -= lo
    counts[:, lo:hi] += np.bincount(key, minlength=counts.shape[0] * n).reshape(-1, n)


def _add_counts(counts: np.ndarray, key: np.ndarray) -> None:
    """``counts[k] += #(key == k)``, binning only the range of keys present."""
    if key.shape[0] == 0:
        return
    lo, hi = int(key.min()), int(key.max()) + 1
    counts[lo:hi] += np.bincount(key - lo, minlength=hi - lo)


def _add_at(acc: np.ndarray, key: np.ndarray, value: np.ndarray) -> None:
    """``numpy.add.at(acc, key, value)`` for float64 ``acc`` and ``value`` and intp keys >= 0:
    item by item, in item order (the float sums of :class:`Accumulator`)."""
    if _accumulate is not None:
        # NOTE: compiled, the same additions in the same order (``acc[k] = acc[k] + v``):
        # the same bits, without numpy's per-call index machinery.
        _accumulate.add_at(acc, key, value)
    else:
        np.add.at(acc, key, value)


# Journey count codes, by the contact's own arrival and queue (_C_*) ...
(_C_HANDLED, _C_REPEAT, _C_ESCALATED, _C_TRANSFERRED, _C_ABANDONED, _C_RETRIED,
 _C_ACK, _C_ACK_WITHIN, _C_RESOLVE, _C_RESOLVE_WITHIN) = range(10)
_N_C = 10
# ... and by the journey's first arrival and queue (_J_*).
(_J_JOURNEYS, _J_FIRST_HANDLED, _J_FIRST_RESOLVED, _J_DECIDED, _J_FOLLOWUPS, _J_SUPERVISED,
 _J_SUPERVISED_WITHIN) = range(7)
_N_J = 7
_N_SEV = len(SEVERITY_NAMES)
#: Fates that end a journey.
_TERMINAL = (int(Fate.RESOLVED), int(Fate.UNRESOLVED), int(Fate.GAVE_UP))
_JOURNEY_KEYS = KPI_KEYS[KPI_KEYS.index("fcr"):]
#: ``_IS_TERMINAL[fate.view(np.uint8)]`` is ``np.isin(fate, _TERMINAL)`` for int8 fates.
_IS_TERMINAL = np.zeros(256, dtype=bool)
_IS_TERMINAL[np.array(_TERMINAL, dtype=np.int8).view(np.uint8)] = True


def _terminal(fate: np.ndarray) -> np.ndarray:
    """Whether each fate ends a journey (bool[n])."""
    if fate.dtype == np.int8:
        # NOTE: a table look-up over every int8 value: np.isin sorts or hashes.
        return _IS_TERMINAL[fate.view(np.uint8)]
    return np.isin(fate, _TERMINAL)


def _fate_flags(outcome: np.ndarray, fate: np.ndarray) -> dict:
    """Per-contact journey flags (code -> bool[n]) of contacts by their fate."""
    handled = (outcome == Outcome.ANSWERED) & (fate != Fate.NONE)
    abandoned = outcome == Outcome.ABANDONED
    abandoned &= (fate == Fate.RETRIED) | (fate == Fate.GAVE_UP)
    return {
        _C_HANDLED: handled,
        _C_REPEAT: handled & (fate == Fate.REPEAT),
        _C_ESCALATED: handled & (fate == Fate.ESCALATED),
        _C_TRANSFERRED: handled & (fate == Fate.TRANSFERRED),
        _C_ABANDONED: abandoned,
        _C_RETRIED: abandoned & (fate == Fate.RETRIED),
    }


def _first_journey_flags(outcome: np.ndarray, fate: np.ndarray) -> dict:
    """Per-contact journey flags (code -> bool[n]; None: every contact) of first contacts,
    by their journey (their own arrival and queue)."""
    handled = (outcome == Outcome.ANSWERED) & (fate != Fate.NONE)
    return {
        _J_JOURNEYS: None,
        _J_FIRST_HANDLED: handled,
        _J_FIRST_RESOLVED: handled & (fate == Fate.RESOLVED),
        _J_DECIDED: _terminal(fate),
    }


def _decided_flags(outcome: np.ndarray, fate: np.ndarray) -> dict:
    """Whether each contact's fate ends its journey, as a journey flag."""
    return {_J_DECIDED: _terminal(fate)}


@functools.cache
def _fate_codes(flags_of) -> np.ndarray:
    """The codes ``flags_of(outcome, fate)`` flags for each (outcome, fate) pair, as bit
    sets: uint32[len(Outcome), len(Fate)] (bit ``c``: code ``c``)."""
    outcome, fate = np.meshgrid(np.arange(len(Outcome), dtype=np.int8),
                                np.arange(len(Fate), dtype=np.int8), indexing="ij")
    bits = np.zeros(outcome.shape, dtype=np.uint32)
    for code, flag in flags_of(outcome, fate).items():
        bits |= np.where(True if flag is None else flag, np.uint32(1 << code), np.uint32(0))
    return bits


def _add_fate_codes(counts: np.ndarray, interval: np.ndarray, queue: np.ndarray, n_q: int,
                    outcome: np.ndarray, fate: np.ndarray, flags_of) -> None:
    """``_add_codes(counts, interval, queue, n_q, flags_of(outcome, fate))``, for flags that
    depend on each contact's outcome and fate only."""
    if _accumulate is not None and _is_int8(outcome, fate):
        # NOTE: compiled, one pass over the contacts for every code: each contact's codes
        # are a table look-up by its (outcome, fate) (the flags of every pair, computed
        # once), no flag arrays; the same integer counts.
        _accumulate.add_coded(counts, interval, queue, n_q, outcome, fate,
                              _fate_codes(flags_of))
        return
    _add_codes(counts, interval, queue, n_q, flags_of(outcome, fate))


def _add_codes(counts: np.ndarray, interval: np.ndarray, queue: np.ndarray, n_q: int,
               flags: dict) -> None:
    """``counts[code * n_q + queue, interval] += 1`` for each contact whose flag of ``code``
    is set (None: every contact); as :func:`_add_cells`."""
    if interval.shape[0] == 0 or not flags:
        return
    if _accumulate is not None:
        # NOTE: compiled, as in _add_cells: one pass per code over the flags, no keys.
        for code, flag in flags.items():
            _accumulate.add_code(counts, interval, queue, n_q, code,
                                 None if flag is None else flag.view(np.int8))
        return
    # one binning of every code's cells (integer counts: the order of the additions does
    # not matter)
    queue = queue.astype(np.intp, copy=False)
    rows = [queue + code * n_q if flag is None else queue[flag] + code * n_q
            for code, flag in flags.items()]
    intervals = [interval if flag is None else interval[flag] for flag in flags.values()]
    _add_cells(counts, np.concatenate(intervals), np.concatenate(rows))


# --------------------------------------------------------------------------------------------
# Time integrals


class _Integral:
    """``F[k, g] = sum_i |[lo_i, hi_i) n [bounds[0], bounds[k])|`` over items ``i`` of group
    ``g`` (shape ``(K + 1, n_groups)``), accumulated over batches of items, so that
    ``F[k + 1] - F[k]`` is the time in ``[bounds[k], bounds[k + 1])``. ``hi`` below ``lo``
    counts as empty.
    """

    def __init__(self, grid: _Grid, n_groups: int, counts_of: _Integral | None = None):
        """``counts_of``: an integral whose item counts this one adds into (exact in any
        order) while keeping its own float sums (see :meth:`merged`)."""
        self.grid = grid
        self.n_groups = n_groups
        size = (grid.bounds.shape[0] + 1) * n_groups
        if counts_of is None:
            # NOTE: int32 counts per (bin, group), as the count tables (_COUNT_DTYPE: far
            # below 2**31), cumulated in int64: a smaller table to fill (the queue-time
            # integral is one of the largest of a year), the same integers.
            counts_hi = np.zeros(size, _COUNT_DTYPE)
            counts_lo = np.zeros(size, _COUNT_DTYPE)
        else:
            counts_hi, counts_lo = counts_of._hi[1], counts_of._lo[1]
        self._hi = (np.zeros(size), counts_hi)  # sum of x, count
        self._lo = (np.zeros(size), counts_lo)

    def add(self, lo, hi, group, index: np.ndarray | None = None) -> None:
        """Add items ``[lo_i, hi_i)`` of groups ``group`` (None: all in group 0); only the
        items ``index`` (intp), in that order, if given."""
        # NOTE: sum_i min(x_i, b) = (sum of x_i <= b) + b * #(x_i > b). Binning each x once
        # and cumulating the bins gives it at every bound for every group in O(N), with no
        # sort. Times are shifted to the window start and clipped to the window first:
        # smaller sums (precision), and +inf or pre-warm-up times are harmless.
        grid = self.grid
        span = grid.horizon_s - grid.warmup_s
        if group is None:
            group = np.zeros(np.shape(lo)[0], dtype=np.intp)
        if _accumulate is not None:
            # NOTE: compiled: clip, bin, sum and count each item in one pass, the same float
            # operations as below (see _accumulate.integral_add), no temporaries; the items
            # of ``index`` read in place (no gathered copies).
            _accumulate.integral_add(
                self._hi[0], self._hi[1], self._lo[0], self._lo[1],
                np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64), group,
                self.n_groups, grid.warmup_s, span,
                grid.warmup_s - grid.k0 * grid.interval_s, 1.0 / grid.interval_s, index)
            return
        if index is not None:
            lo, hi, group = np.asarray(lo)[index], np.asarray(hi)[index], group[index]
        lo0 = np.subtract(lo, grid.warmup_s, dtype=np.float64)
        np.clip(lo0, 0.0, span, out=lo0)
        hi0 = np.subtract(hi, grid.warmup_s, dtype=np.float64)
        np.clip(hi0, 0.0, span, out=hi0)
        np.maximum(hi0, lo0, out=hi0)
        self._bin(self._hi, hi0, group)
        self._bin(self._lo, lo0, group)

    def _bin(self, sums, x0, group) -> None:
        key = self.grid.bin_at_or_above(x0)
        key *= self.n_groups
        key += group
        # Float sums item by item, in item order (see Accumulator): batching-independent.
        np.add.at(sums[0], key, x0)
        _add_counts(sums[1], key)

    def merged(self, other: _Integral) -> _Integral:
        """The sums of this integral's items and of ``other``'s (added elementwise; counts
        shared through ``counts_of`` are already both's)."""
        def add(a, b):
            return a if a is b else a + b

        # NOTE: no zero-filled arrays for the result (a year x groups, four of them).
        out = object.__new__(_Integral)
        out.grid, out.n_groups = self.grid, self.n_groups
        if _accumulate is not None:
            # NOTE: the float sums added only where used, by parts() in one pass (see
            # _accumulate.integral_parts), not as new full-size arrays here.
            out._hi = (self._hi[0], add(self._hi[1], other._hi[1]))
            out._lo = (self._lo[0], add(self._lo[1], other._lo[1]))
            out._plus = (other._hi[0], other._lo[0])
            return out
        out._hi = (self._hi[0] + other._hi[0], add(self._hi[1], other._hi[1]))
        out._lo = (self._lo[0] + other._lo[0], add(self._lo[1], other._lo[1]))
        return out

    #: Float sums (hi, lo) still to add to ``_hi[0]``, ``_lo[0]`` (a lazily merged integral).
    _plus = (None, None)

    def parts(self) -> np.ndarray:
        """``grid.parts(value())``: the integral's part in each interval, then the window."""
        if _accumulate is not None:
            # NOTE: compiled, the same operations per element in one pass (no cumulative
            # sums, products and differences as full-size temporaries).
            n_b = self.grid.bounds.shape[0]
            shape = (n_b + 1, self.n_groups)

            def table(a):
                return None if a is None else a.reshape(shape)

            out = np.empty((n_b, self.n_groups))
            _accumulate.integral_parts(
                table(self._hi[0]), table(self._plus[0]), table(self._hi[1]),
                table(self._lo[0]), table(self._plus[1]), table(self._lo[1]),
                self.grid.bounds - self.grid.bounds[0], out)
            return out
        return self.grid.parts(self.value())

    def value(self) -> np.ndarray:
        """``F`` (float64[K + 1, n_groups]) of the items added so far."""
        if self._plus[0] is not None:  # lazily merged
            return (self._sum_min((self._hi[0] + self._plus[0], self._hi[1]))
                    - self._sum_min((self._lo[0] + self._plus[1], self._lo[1])))
        return self._sum_min(self._hi) - self._sum_min(self._lo)

    def _sum_min(self, sums) -> np.ndarray:
        """``S[k, g] = sum_i min(x0_i, bounds[k] - bounds[0])`` over the items of group g."""
        bounds = self.grid.bounds
        n_b = bounds.shape[0]
        sum_x = sums[0].reshape(n_b + 1, self.n_groups)
        count = sums[1].reshape(n_b + 1, self.n_groups)
        below_x = np.cumsum(sum_x, axis=0)[:n_b]
        # NOTE: counts cumulated as integers: exact, the same floats as converting first.
        above_n = np.cumsum(count, axis=0)[:n_b]
        np.subtract(count.sum(axis=0), above_n, out=above_n)
        b0 = bounds - bounds[0]
        return below_x + b0[:, None] * above_n.astype(np.float64)


def _segment_work(roster: Roster, release_s: np.ndarray, grid: _Grid):
    """Effective end of each availability segment and its overtime in the window.

    Returns
    -------
    end_s : float64[S]
        ``release_s`` (NaN -> ``seg_end_s``), cut at the same agent's next segment start.
    overtime_s : float64[S]
        Part of ``[seg_end_s, end_s)`` after the end of the shift containing the segment,
        inside the window.
    """
    n_seg = roster.seg_agent.shape[0]
    release = np.where(np.isnan(release_s), roster.seg_end_s, release_s)
    order = _lexsort_small(roster.seg_agent, roster.seg_start_s)
    agent_sorted = roster.seg_agent[order]
    next_start = np.full(n_seg, np.inf)
    same = agent_sorted[1:] == agent_sorted[:-1]
    next_start[order[:-1][same]] = roster.seg_start_s[order[1:][same]]
    end_s = np.maximum(np.minimum(release, next_start), roster.seg_start_s)

    # Shift containing each segment: the last shift of the agent starting at or before it.
    n_shift = roster.shift_agent.shape[0]
    agent = np.concatenate([roster.shift_agent, roster.seg_agent])
    time_s = np.concatenate([roster.shift_start_s, roster.seg_start_s])
    is_seg = np.concatenate([np.zeros(n_shift, bool), np.ones(n_seg, bool)])
    # a shift sorts before a segment it starts (NOTE: by (agent, time) only: the sort is
    # stable and the shifts come first, so the same order as with is_seg as the last key)
    merged = _lexsort_small(agent, time_s)
    position = np.where(is_seg[merged], -1, np.arange(merged.shape[0]))
    last = np.maximum.accumulate(position) if merged.shape[0] else position
    seg_rows = np.flatnonzero(is_seg[merged])
    seg_ids = merged[seg_rows] - n_shift
    has = last[seg_rows] >= 0
    shift_ids = merged[last[seg_rows][has]]
    seg_has = seg_ids[has]
    ok = roster.shift_agent[shift_ids] == roster.seg_agent[seg_has]
    ok &= roster.seg_start_s[seg_has] < roster.shift_end_s[shift_ids]
    shift_end = roster.seg_end_s.astype(np.float64)  # no shift found: all of it is overtime
    shift_end[seg_has[ok]] = roster.shift_end_s[shift_ids[ok]]
    overtime_from = np.maximum(roster.seg_end_s, shift_end)
    return end_s, grid.clip_len(overtime_from, end_s)


def _lexsort_small(major: np.ndarray, minor: np.ndarray) -> np.ndarray:
    """``np.lexsort((minor, major))`` (by ``major``, then ``minor``, then position) for a
    ``major`` key of small non-negative integers (agents, queues)."""
    if major.shape[0] == 0 or not (0 <= major.min() and major.max() <= np.iinfo(np.int16).max):
        return np.lexsort((minor, major))
    # NOTE: the same stable sorts, one key after the other, but the major key as int16, which
    # numpy sorts by radix (a year of roster segments); no sort of ``minor`` when it is
    # sorted already.
    by_minor = None if _is_sorted(minor) else np.argsort(minor, kind="stable")
    small = major.astype(np.int16)
    if by_minor is None:
        return np.argsort(small, kind="stable")
    return by_minor[np.argsort(small[by_minor], kind="stable")]


# --------------------------------------------------------------------------------------------
# Frames


def _ratio(num, den) -> np.ndarray:
    """``num / den`` with NaN where ``den == 0`` (or either is NaN)."""
    if (_accumulate is not None and isinstance(num, np.ndarray) and isinstance(den, np.ndarray)
            and num.shape == den.shape and num.dtype == den.dtype == np.float64
            and num.flags.c_contiguous and den.flags.c_contiguous):
        # NOTE: compiled, one pass over tables of one shape (the group sums): the same
        # quotients, NaN where den == 0, no quotient-then-mask temporaries.
        out = np.empty(num.shape)
        _accumulate.ratio(num.reshape(-1), den.reshape(-1), out.reshape(-1))
        return out
    # NOTE: one division and a masked fill, not a masked division into a new array: the
    # output takes the inputs' memory order (column-major (K + 1, G) tables), so no
    # strided copy; the quotients are the same floats.
    den = np.asarray(den, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(np.divide(np.asarray(num, np.float64), den))
    out = out.copy() if not out.flags.writeable else out
    np.copyto(out, np.nan, where=den == 0)
    return out


def _columns(kpi: dict, rows: slice, cols: np.ndarray, keys=KPI_KEYS) -> dict:
    out = {}
    for key in keys:
        values = kpi[key][rows][:, cols].ravel()
        out[key] = values.astype(np.int64) if key in _COUNT_KEYS else values
    return out


def _totals_frame(kpi: dict, groups: _Groups) -> pd.DataFrame:
    cols = np.flatnonzero(groups.kind != _QUEUE)
    frame = {"channel": groups.channel_name[cols].tolist()}
    frame.update(_columns(kpi, slice(-1, None), cols))
    return pd.DataFrame(frame)


def _intervals_frame(kpi: dict, groups: _Groups, grid: _Grid, keys=KPI_KEYS
                     ) -> pd.DataFrame:
    """Tidy interval rows (interval-major, groups in order) with the KPI columns ``keys``.

    NOTE: one array per column, taken as the frame's columns (``copy=False``): no
    consolidation into 2-D blocks (a copy of the whole table) and no reordering copy.
    """
    n_k, n_g = grid.n_intervals, groups.n
    interval = np.repeat(grid.index, n_g)
    frame = {
        "interval": interval,
        # NOTE: the product per interval, then repeated (the same floats, a year of
        # per-queue rows is not multiplied row by row).
        "interval_start": np.repeat(grid.index * grid.interval_s, n_g),
        "channel": _tiled_category(groups.channel_name, n_k),
        "queue": _tiled_category(groups.queue_name, n_k),
    }
    for key in keys:
        values = np.ascontiguousarray(kpi[key][:n_k]).ravel()  # row-major: interval, group
        frame[key] = values.astype(np.int64) if key in _COUNT_KEYS else values
    return pd.DataFrame(frame, copy=False)


def _tiled_category(names: np.ndarray, reps: int) -> pd.Categorical:
    """``np.tile(names, reps)`` as a categorical with the names in group order.

    NOTE: a year of 30-minute intervals x 20 queues is ~450k rows per replication; string
    columns made the frames ~10x larger to pickle between processes and to concatenate.
    Categories are the same for every replication of a model, so concatenation keeps them.
    """
    categories, codes = np.unique(np.asarray(names, dtype=str), return_inverse=True)
    order = pd.unique(np.asarray(names, dtype=str))
    remap = np.searchsorted(categories, order)
    inverse = np.empty(len(categories), dtype=np.int64)
    inverse[remap] = np.arange(len(order))
    # NOTE: the codes tiled in the smallest integer type that holds them (pandas stores
    # them so anyway): no int64 tile of a year of rows, then its conversion.
    dtype = np.int8 if len(order) < 2**7 else np.int16 if len(order) < 2**15 else np.int64
    small = inverse[codes].astype(dtype)
    return pd.Categorical.from_codes(np.tile(small, reps), categories=list(order))
