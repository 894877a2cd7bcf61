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
    NO_AGENT,
    ArrivalPolicy,
    EventKind,
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

    # ----------------------------------------------------------------- customers

    def arrive(self, c: int) -> None:
        """A contact arrives: lost if its channel is closed, else served now or queued."""
        if self.w.closed[c]:
            self.out["outcome"][c] = Outcome.LOST_CLOSED
            return
        q = int(self.w.queue[c])
        agent = self.pick_agent(c, q, self.queue_agents[q])
        if agent != NO_AGENT:
            self.start(c, agent)
            return
        self.waiting[q].append(c)
        if np.isfinite(self.w.abandon_at_s[c]):
            self.env.process(self.patience(c))
        if np.isfinite(self.m.overflow_after_s[q]):
            self.env.process(self.overflow(c, q))

    def patience(self, c: int):
        """A waiting customer leaves when patience runs out, unless served first."""
        yield self.env.at(self.w.abandon_at_s[c], EventKind.ABANDON, c)
        if self.out["outcome"][c] == Outcome.WAITING:
            self.out["outcome"][c] = Outcome.ABANDONED

    def overflow(self, c: int, q: int):
        """After its overflow wait, a waiting contact is offered to the overflow agents."""
        yield self.env.at(self.w.arrival_s[c] + self.m.overflow_after_s[q], EventKind.OVERFLOW,
                          c)
        if self.out["outcome"][c] != Outcome.WAITING:
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
            return cands[min(int(self.w.u_route[c] * len(cands)), len(cands) - 1)]
        raise ValueError(f"unknown arrival policy {policy}")

    # ----------------------------------------------------------------- agents

    def start(self, c: int, a: int) -> None:
        """Agent a starts contact c now; its completion is scheduled."""
        m, w = self.m, self.w
        q = int(w.queue[c])
        ch = int(m.queue_channel[q])
        n_before = self.in_hand[a]
        service_s = w.work_s[c] * m.time_factor[m.agent_team[a], q] * (
            1.0 + m.channel_slowdown[ch] * n_before)
        end_s = self.env.now + service_s
        self.used[a] += self.units[q]
        self.in_hand[a] += 1
        self.max_end_s[a] = max(self.max_end_s[a], end_s)
        out = self.out
        out["outcome"][c] = Outcome.ANSWERED
        out["agent"][c] = a
        out["start_s"][c] = self.env.now
        out["end_s"][c] = end_s
        self.env.process(self.service(c, a, end_s))

    def service(self, c: int, a: int, end_s: float):
        """The contact is handled until end_s; then the agent's capacity frees."""
        yield self.env.at(end_s, EventKind.COMPLETION, c)
        self.used[a] -= self.units[int(self.w.queue[c])]
        self.in_hand[a] -= 1
        self.last_free_s[a] = self.env.now
        if self.on_duty[a]:
            self.pull(a)
            self.recheck_reservation()

    def pull(self, a: int) -> None:
        """The pull policy: the agent takes waiting work while some fits its free capacity."""
        m, arrival_s = self.m, self.w.arrival_s
        policy = m.pull_policy
        candidates = ([(q, False) for q in self.agent_queues[a]]
                      + [(q, True) for q in self.agent_ov_queues[a]])
        while True:
            best, best_key = -1, None
            free = CAPACITY_UNITS - self.used[a]
            may_defer = self.may_take_deferred(a)
            for q, via_overflow in candidates:
                fifo = self.waiting[q]
                while fifo and self.out["outcome"][fifo[0]] != Outcome.WAITING:
                    fifo.popleft()  # abandoned or overflowed to another agent: drop lazily
                if not fifo or self.units[q] > free:
                    continue
                if self.deferred[q] and not may_defer:
                    continue
                head = fifo[0]
                if via_overflow and head not in self.overflowed:
                    continue
                if policy == PullPolicy.QUEUE_PRIORITY:
                    key = (self.deferred[q], int(m.queue_priority[q]), arrival_s[head], head)
                elif policy == PullPolicy.OLDEST:
                    key = (self.deferred[q], arrival_s[head], head)
                elif policy == PullPolicy.SLA_URGENCY:
                    key = (self.deferred[q], arrival_s[head] + self.sla_s[q], head)
                elif policy == PullPolicy.WEIGHTED_WAIT:
                    key = (self.deferred[q],
                           -((self.env.now - arrival_s[head]) * m.queue_weight[q]), head)
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
    return Outcomes(**center.out)
