"""The SimPy engine: the readable reference implementation of the model.

Customers, agents and their shifts are SimPy processes; the contact center's routing state
lives in :class:`Center`. The semantics (event order at one instant, routing policies, the
arithmetic of every event time) are those documented in :mod:`sim.model`; the compiled
kernel implements the same, and ``tests/engines`` checks that both agree contact by contact.

SimPy orders simultaneous events by insertion. To follow the model's documented order, the
environment here keys every model event by ``(time, kind, id)``; SimPy's own bookkeeping
events (process start and end) go first at their instant and change no model state.
A new routing policy is written here first, then in the kernel.
"""

from __future__ import annotations

from collections import deque
from heapq import heappush

import numpy as np
import simpy
from simpy.events import NORMAL, Event

from sim.model import (
    CAPACITY_UNITS,
    FOLLOWUP_BASE,
    FOLLOWUP_COLUMNS,
    NO_AGENT,
    POOL_BLOCK,
    ArrivalPolicy,
    ContactKind,
    EventKind,
    Fate,
    Followups,
    Model,
    Outcome,
    Outcomes,
    PullPolicy,
    Roster,
    Workload,
    empty_outcomes,
)

_BOOKKEEPING = -1  # sorts before every EventKind at the same instant


class OrderedEnvironment(simpy.Environment):
    """A SimPy environment whose model events are processed in ``(time, kind, id)`` order."""

    def schedule(self, event, priority=NORMAL, delay=0):
        heappush(self._queue, (self._now + delay, _BOOKKEEPING, (priority, next(self._eid)),
                               event))

    def at(self, time_s: float, kind: EventKind, ident: int) -> Event:
        """An event that fires at absolute ``time_s``, ordered by ``(time_s, kind, ident)``."""
        event = Event(self)
        event._ok = True
        event._value = None
        heappush(self._queue, (time_s, int(kind), (int(ident), next(self._eid)), event))
        return event


class Center:
    """Routing state: agents' capacity and duty, and the waiting contacts of each queue."""

    def __init__(self, env: OrderedEnvironment, model: Model, workload: Workload,
                 roster: Roster):
        self.env, self.m, self.w, self.r = env, model, workload, roster
        n_agents = model.n_agents
        self.out = empty_outcomes(workload.n_contacts, roster.n_segments)
        self.used = [0] * n_agents  # capacity units in use
        self.in_hand = [0] * n_agents  # contacts in service
        self.on_duty = [False] * n_agents
        self.last_free_s = [0.0] * n_agents
        self.max_end_s = [-np.inf] * n_agents
        self.waiting = [deque() for _ in range(model.n_queues)]  # FIFO; lazy heads
        # eligibility lists, in id order
        rank = model.agent_queue_rank
        self.queue_agents = [np.flatnonzero(rank[:, q] >= 0).tolist()
                             for q in range(model.n_queues)]
        self.agent_queues = [np.flatnonzero(rank[a] >= 0).tolist() for a in range(n_agents)]
        self.units = [int(model.channel_units[model.queue_channel[q]])
                      for q in range(model.n_queues)]
        self.deferred = [int(model.channel_live[model.queue_channel[q]] == 0)
                         for q in range(model.n_queues)]
        # routing-policy library
        live_q = model.channel_live[model.queue_channel] == 1
        self.live_capable = [bool((rank[a] >= 0)[live_q].any()) for a in range(n_agents)]
        ov = model.agent_overflow
        only_ov = (ov == 1) & (rank < 0)  # an eligible agent is never an overflow agent
        self.overflow_agents = [np.flatnonzero(only_ov[:, q]).tolist()
                                for q in range(model.n_queues)]
        self.agent_ov_queues = [np.flatnonzero(only_ov[a]).tolist() for a in range(n_agents)]
        self.overflowed: set[int] = set()  # waiting contacts whose OVERFLOW was processed
        sla = model.channel_sla_s[model.queue_channel]
        self.sla_s = [float(x) if np.isfinite(x) else np.inf for x in sla]
        # journeys: follow-up contacts (ids FOLLOWUP_BASE + k) and their pools
        self.fu: dict[str, list] = {name: [] for name, _ in FOLLOWUP_COLUMNS}
        self.pool_used = [0] * (model.journeys.n_classes if model.journeys else 0)
        self.pool_blocks: dict[tuple[int, int], dict] = {}

    # ----------------------------------------------------------------- contacts
    # A contact's fields: first contacts in the workload / outcome arrays, follow-ups in
    # the lists of self.fu (sim.model: "Journeys").

    def get(self, name: str, c: int):
        if c >= FOLLOWUP_BASE:
            return self.fu[name][c - FOLLOWUP_BASE]
        if name in self.out:
            return self.out[name][c]
        return getattr(self.w, name)[c]

    def put(self, name: str, c: int, value) -> None:
        if c >= FOLLOWUP_BASE:
            self.fu[name][c - FOLLOWUP_BASE] = value
        else:
            self.out[name][c] = value

    def journey_fields(self, c: int) -> dict:
        """The journey fields a follow-up of contact c inherits (sim.model: "Journeys")."""
        if c >= FOLLOWUP_BASE:
            i = c - FOLLOWUP_BASE
            return {k: self.fu[k][i] for k in ("journey", "ctype", "severity", "auth_tier",
                                                "repeats", "retrials", "transfers",
                                                "j_arrival_s", "j_queue")}
        w = self.w
        return dict(journey=c, ctype=int(w.ctype[c]), severity=int(w.severity[c]),
                    auth_tier=int(w.auth_tier[c]), repeats=0, retrials=0, transfers=0,
                    j_arrival_s=float(w.arrival_s[c]), j_queue=int(w.queue[c]))

    def pool_entry(self, k: int) -> dict:
        """The next entry of pool class k (blocks sampled on first use)."""
        n = self.pool_used[k]
        self.pool_used[k] = n + 1
        b, i = divmod(n, POOL_BLOCK)
        if (k, b) not in self.pool_blocks:
            self.pool_blocks[(k, b)] = self.w.pools.block(k, b)
        block = self.pool_blocks[(k, b)]
        return {name: block[name][i] for name in block}

    def next_open(self, ch: int, x: float) -> float:
        """x if channel ch is open at x, else its next opening (+inf if none)."""
        j = self.m.journeys
        for p in range(int(j.open_ptr[ch]), int(j.open_ptr[ch + 1])):
            if x < j.open_hi_s[p]:
                return x if j.open_lo_s[p] <= x else float(j.open_lo_s[p])
        return np.inf

    def spawn(self, c: int, t: float, kind: ContactKind, k: int, queue: int = -1) -> None:
        """Create the follow-up of contact c at time t (sim.model: "Journeys")."""
        m = self.m
        f = self.journey_fields(c)
        if kind == ContactKind.CALLBACK:
            e = dict(delay_s=0.0, queue=-1, work_s=self.get("work_s", c), patience_s=np.inf,
                     u_route=self.get("u_route", c), u_outcome=self.get("u_outcome", c))
        else:
            e = self.pool_entry(k)
        arrival = t + e["delay_s"]
        q = int(e["queue"]) if queue < 0 else queue
        ch = int(m.queue_channel[q])
        if m.channel_live[ch]:
            arrival = self.next_open(ch, arrival)
        abandon_at = arrival + e["patience_s"]
        if kind == ContactKind.REPEAT:
            f["repeats"] += 1
        elif kind == ContactKind.RETRIAL:
            f["retrials"] += 1
        elif kind == ContactKind.TRANSFER:
            f["transfers"] += 1
        ident = FOLLOWUP_BASE + len(self.fu["id"])
        row = dict(f, id=ident, parent=c, p_arrival_s=self.get("arrival_s", c),
                   kind=int(kind), arrival_s=arrival, queue=q,
                   work_s=e["work_s"], abandon_at_s=abandon_at, u_route=e["u_route"],
                   u_outcome=e["u_outcome"], outcome=int(Outcome.WAITING), agent=NO_AGENT,
                   start_s=np.nan, end_s=np.nan, fate=int(Fate.NONE))
        for name, _ in FOLLOWUP_COLUMNS:
            self.fu[name].append(row[name])
        self.env.process(self.arrival(ident, arrival))

    def arrival(self, c: int, t: float):
        yield self.env.at(t, EventKind.ARRIVAL, c)
        self.arrive(c)

    def decide_completion(self, c: int, t: float) -> None:
        """A served contact ends: its fate, and the follow-up it creates."""
        j = self.m.journeys
        if j is None:
            self.put("fate", c, int(Fate.RESOLVED))
            return
        q = int(self.get("queue", c))
        ch = int(self.m.queue_channel[q])
        k = int(self.get("ctype", c))
        f = self.journey_fields(c)
        u = self.get("u_outcome", c)
        tier = int(j.queue_tier[q])
        fate = Fate.RESOLVED
        if tier == 1:
            if f["auth_tier"] >= 2:
                fate = Fate.ESCALATED
                self.spawn(c, t, ContactKind.TASK, int(j.class_task[f["auth_tier"]]),
                           int(j.task_queue[f["auth_tier"], f["severity"]]))
            elif u < j.thr_escalate[k]:
                fate = Fate.ESCALATED
                tier_to = int(j.escalate_tier[k, f["severity"]])
                self.spawn(c, t, ContactKind.TASK, int(j.class_task[tier_to]),
                           int(j.task_queue[tier_to, f["severity"]]))
            elif u < j.thr_transfer[k]:
                if f["transfers"] == 0 and j.transfer_queue[k, ch] >= 0:
                    fate = Fate.TRANSFERRED
                    self.spawn(c, t, ContactKind.TRANSFER, int(j.class_transfer[k, ch]),
                               int(j.transfer_queue[k, ch]))
            elif u < j.thr_unresolved[k]:
                if f["repeats"] < j.max_repeats[k] and j.class_repeat[k, ch] >= 0:
                    fate = Fate.REPEAT
                    self.spawn(c, t, ContactKind.REPEAT, int(j.class_repeat[k, ch]))
                else:
                    fate = Fate.UNRESOLVED
        elif tier == 2 and j.task_queue[3, f["severity"]] >= 0 and (
                f["auth_tier"] == 3 or u < j.tier_up[2]):
            fate = Fate.ESCALATED
            self.spawn(c, t, ContactKind.TASK, int(j.class_task[3]),
                       int(j.task_queue[3, f["severity"]]))
        self.put("fate", c, int(fate))

    def decide_abandon(self, c: int, t: float) -> None:
        """A contact abandons: a retrial follows, or the customer gives up."""
        j = self.m.journeys
        if j is None:
            self.put("fate", c, int(Fate.GAVE_UP))
            return
        q = int(self.get("queue", c))
        ch = int(self.m.queue_channel[q])
        f = self.journey_fields(c)
        if (f["retrials"] < j.max_retrials[ch] and self.get("u_outcome", c) < j.p_retry[ch]
                and j.class_retrial[f["ctype"], ch] >= 0):
            self.put("fate", c, int(Fate.RETRIED))
            self.spawn(c, t, ContactKind.RETRIAL, int(j.class_retrial[f["ctype"], ch]))
        else:
            self.put("fate", c, int(Fate.GAVE_UP))

    # ----------------------------------------------------------------- customers

    def arrive(self, c: int) -> None:
        """A contact arrives: lost if its channel is closed, else served now or queued."""
        if c < FOLLOWUP_BASE and self.w.closed[c]:
            self.out["outcome"][c] = Outcome.LOST_CLOSED
            if self.w.closed[c] == 2 and self.m.journeys is not None:
                self.out["fate"][c] = Fate.CALLBACK
                self.spawn(c, self.env.now, ContactKind.CALLBACK, -1, int(self.w.queue[c]))
            return
        q = int(self.get("queue", c))
        agent = self.pick_agent(c, q, self.queue_agents[q])
        if agent != NO_AGENT:
            self.start(c, agent)
            return
        self.waiting[q].append(c)
        if np.isfinite(self.get("abandon_at_s", c)):
            self.env.process(self.patience(c))
        if np.isfinite(self.m.overflow_after_s[q]):
            self.env.process(self.overflow(c, q))

    def patience(self, c: int):
        """A waiting customer leaves when patience runs out, unless served first."""
        yield self.env.at(self.get("abandon_at_s", c), EventKind.ABANDON, c)
        if self.get("outcome", c) == Outcome.WAITING:
            self.put("outcome", c, int(Outcome.ABANDONED))
            self.decide_abandon(c, self.env.now)

    def overflow(self, c: int, q: int):
        """After its overflow wait, a waiting contact is offered to the overflow agents."""
        yield self.env.at(self.get("arrival_s", c) + self.m.overflow_after_s[q],
                          EventKind.OVERFLOW, c)
        if self.get("outcome", c) != Outcome.WAITING:
            return
        self.overflowed.add(c)
        agent = self.pick_agent(c, q, self.overflow_agents[q])
        if agent != NO_AGENT:
            self.start(c, agent)  # leaves its queue (dropped lazily: no longer WAITING)

    def live_idle(self, a: int) -> bool:
        return self.live_capable[a] and self.on_duty[a] and self.used[a] == 0

    def may_take_deferred(self, a: int) -> bool:
        """The reservation test: enough other live-idle agents stay free for live work."""
        if self.m.reserve_for_live <= 0 or not self.live_capable[a]:
            return True
        others = sum(self.live_idle(b) for b in range(self.m.n_agents) if b != a)
        return others >= self.m.reserve_for_live

    def recheck_reservation(self) -> None:
        """Agents the reservation held back may now pass it: every idle agent pulls."""
        if self.m.reserve_for_live <= 0:
            return
        for b in range(self.m.n_agents):
            if self.on_duty[b] and self.used[b] == 0:
                self.pull(b)

    def pick_agent(self, c: int, q: int, agents: list[int]) -> int:
        """The arrival policy: which on-duty agent of ``agents`` with room takes contact c."""
        need = self.units[q]
        cands = [a for a in agents
                 if self.on_duty[a] and CAPACITY_UNITS - self.used[a] >= need
                 and (not self.deferred[q] or self.may_take_deferred(a))]
        if not cands:
            return NO_AGENT
        policy = self.m.arrival_policy
        team = self.m.agent_team
        if policy == ArrivalPolicy.LONGEST_IDLE:
            return min(cands, key=lambda a: (self.used[a], self.last_free_s[a], a))
        if policy == ArrivalPolicy.MOST_PROFICIENT:
            prof = self.m.proficiency
            return min(cands, key=lambda a: (-prof[team[a], q], self.used[a],
                                             self.last_free_s[a], a))
        if policy == ArrivalPolicy.SKILL_PRIORITY:
            prio = self.m.skill_priority
            return min(cands, key=lambda a: (prio[team[a], q], self.used[a],
                                             self.last_free_s[a], a))
        if policy == ArrivalPolicy.RANDOM:
            # u_route < 1, but u * n can round up to n: clamp, as the kernel does
            return cands[min(int(self.get("u_route", c) * len(cands)), len(cands) - 1)]
        raise ValueError(f"unknown arrival policy {policy}")

    # ----------------------------------------------------------------- agents

    def start(self, c: int, a: int) -> None:
        """Agent a starts contact c now; its completion is scheduled."""
        m = self.m
        q = int(self.get("queue", c))
        ch = int(m.queue_channel[q])
        n_before = self.in_hand[a]
        service_s = self.get("work_s", c) * m.time_factor[m.agent_team[a], q] * (
            1.0 + m.channel_slowdown[ch] * n_before)
        end_s = self.env.now + service_s
        self.used[a] += self.units[q]
        self.in_hand[a] += 1
        self.max_end_s[a] = max(self.max_end_s[a], end_s)
        self.put("outcome", c, int(Outcome.ANSWERED))
        self.put("agent", c, a)
        self.put("start_s", c, self.env.now)
        self.put("end_s", c, end_s)
        self.env.process(self.service(c, a, end_s))

    def service(self, c: int, a: int, end_s: float):
        """The contact is handled until end_s; then the agent's capacity frees."""
        yield self.env.at(end_s, EventKind.COMPLETION, c)
        self.decide_completion(c, self.env.now)
        self.used[a] -= self.units[int(self.get("queue", c))]
        self.in_hand[a] -= 1
        self.last_free_s[a] = self.env.now
        if self.on_duty[a]:
            self.pull(a)
            self.recheck_reservation()

    def pull(self, a: int) -> None:
        """The pull policy: the agent takes waiting work while some fits its free capacity."""
        m, get = self.m, self.get
        policy = m.pull_policy
        candidates = ([(q, False) for q in self.agent_queues[a]]
                      + [(q, True) for q in self.agent_ov_queues[a]])
        while True:
            best, best_key = -1, None
            free = CAPACITY_UNITS - self.used[a]
            may_defer = self.may_take_deferred(a)
            for q, via_overflow in candidates:
                fifo = self.waiting[q]
                while fifo and get("outcome", fifo[0]) != Outcome.WAITING:
                    fifo.popleft()  # abandoned or overflowed to another agent: drop lazily
                if not fifo or self.units[q] > free:
                    continue
                if self.deferred[q] and not may_defer:
                    continue
                head = fifo[0]
                if via_overflow and head not in self.overflowed:
                    continue
                arrival_s = get("arrival_s", head)
                if policy == PullPolicy.QUEUE_PRIORITY:
                    key = (self.deferred[q], int(m.queue_priority[q]), arrival_s, head)
                elif policy == PullPolicy.OLDEST:
                    key = (self.deferred[q], arrival_s, head)
                elif policy == PullPolicy.SLA_URGENCY:
                    key = (self.deferred[q], arrival_s + self.sla_s[q], head)
                elif policy == PullPolicy.WEIGHTED_WAIT:
                    key = (self.deferred[q],
                           -((self.env.now - arrival_s) * m.queue_weight[q]), head)
                else:
                    raise ValueError(f"unknown pull policy {policy}")
                if best_key is None or key < best_key:
                    best, best_key = q, key
            if best < 0:
                return
            self.start(self.waiting[best].popleft(), a)

    def shifts(self, a: int, segments: list[int]):
        """An agent's duty: on at each availability segment's start, off at its end."""
        r = self.r
        for s in segments:
            yield self.env.at(r.seg_start_s[s], EventKind.AGENT_ON, s)
            self.on_duty[a] = True
            self.last_free_s[a] = self.env.now
            self.pull(a)
            self.recheck_reservation()
            yield self.env.at(r.seg_end_s[s], EventKind.AGENT_OFF, s)
            self.on_duty[a] = False
            self.out["release_s"][s] = max(r.seg_end_s[s], self.max_end_s[a])


def _arrivals(env: OrderedEnvironment, center: Center):
    """Customers arrive in (arrival_s, id) order."""
    for c, t in enumerate(center.w.arrival_s):
        yield env.at(t, EventKind.ARRIVAL, c)
        center.arrive(c)


def simulate(model: Model, workload: Workload, roster: Roster) -> Outcomes:
    """Simulate one replication with SimPy; see :mod:`sim.model` for the semantics."""
    env = OrderedEnvironment()
    center = Center(env, model, workload, roster)
    env.process(_arrivals(env, center))
    by_agent: dict[int, list[int]] = {}
    for s, a in enumerate(roster.seg_agent.tolist()):
        by_agent.setdefault(a, []).append(s)
    for a, segments in by_agent.items():
        segments.sort(key=lambda s: roster.seg_start_s[s])
        env.process(center.shifts(a, segments))
    env.run(until=model.horizon_s)
    followups = None
    if model.journeys is not None:
        followups = Followups({name: np.array(center.fu[name], dtype=dtype)
                               for name, dtype in FOLLOWUP_COLUMNS})
    return Outcomes(**center.out, followups=followups)
