"""Journey draws: the per-journey draws of first contacts and the pools of follow-up draws.

Randomness for journeys enters here (called from :mod:`sim.workload`), like every other
draw. Engines *decide* a journey's course (resolved, repeat, escalation, transfer, retrial)
with these draws; they never draw.

* First contacts get, per day, from the stream ``("journey", day)``: ``u_outcome`` (the
  uniform deciding the contact's fate), the journey's ``severity`` (from its contact type's
  severity mix) and ``auth_tier`` (whether a refund is asked for, its amount, and so the
  lowest tier allowed to approve it).
* Follow-up contacts (repeats, retrials, transfers, tasks) exist only once an engine
  creates them, so their draws are kept in *pools*, one per class (kind x contact type x
  channel, or tier; ``JourneyModel.class_names``): the ``n``-th follow-up of class ``k``
  created in a replication takes entry ``n`` of pool ``k``. Pools are sampled in blocks of
  :data:`sim.model.POOL_BLOCK` entries, block ``b`` of class ``k`` from its own stream
  ``SeedSequence(entropy, spawn_key=(..., "followup", k, b))``, so an entry does not depend on
  which other blocks were sampled, and both engines (which create follow-ups in the same
  order, the event order) see the same draws.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from sim.model import POOL_BLOCK, SEVERITY_NAMES, Model
from sim.scenario import Scenario, scenario_base_dir


def _constant(value, dtype) -> np.ndarray:
    """A read-only pool block of ``value`` (NOTE: shared by the blocks that draw nothing
    there, not made per block; the engines only read blocks)."""
    block = np.full(POOL_BLOCK, value, dtype=dtype)
    block.flags.writeable = False
    return block


#: A pool block's patience where none is drawn, and delay where there is none
_NO_PATIENCE = _constant(np.inf, np.float64)
_NO_DELAY = _constant(0.0, np.float64)


def _mix_cum(mix: dict) -> np.ndarray:
    """Cumulative shares of ``mix`` (option -> share), normalised to end at 1."""
    cum = np.cumsum(np.array(list(mix.values()), dtype=np.float64))
    cum /= cum[-1]
    return cum


def _pick(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Position in the mix of the option each uniform ``u`` picks (``cum``: ``_mix_cum``).

    One picker for channel and severity mixes.
    """
    return np.minimum(np.searchsorted(cum, u, side="right"), cum.shape[0] - 1)


class FollowupPools:
    """The follow-up draws of one replication, block by block (see the module docstring).

    Parameters
    ----------
    s : Scenario
    model : Model
        ``compile_scenario(s)``, with ``model.journeys`` set.
    ss : numpy.random.SeedSequence
        The replication's seed sequence.
    stream : int
        Index of the purpose ``"followup"`` in :data:`sim.workload.STREAMS`.
    """

    #: Blocks whose streams are seeded together, for every class.
    AHEAD = 32

    def __init__(self, s: Scenario, model: Model, ss: np.random.SeedSequence, stream: int):
        from sim.compile import queue_key

        self.scenario, self.model, self.ss, self.stream = s, model, ss, stream
        self.base = scenario_base_dir(s)
        self._qindex = {name: q for q, name in enumerate(model.queue_names)}
        j = model.journeys
        types = list(s.contact_types.items())
        self._spec: list[tuple] = [None] * j.n_classes
        for k in range(len(types)):
            for c in range(model.n_channels):
                for kind, table in (("repeat", j.class_repeat), ("retrial", j.class_retrial),
                                    ("transfer", j.class_transfer)):
                    if table[k, c] >= 0:
                        self._spec[table[k, c]] = (kind, k, c)
        for tier in (2, 3):
            if j.class_task[tier] >= 0:
                self._spec[j.class_task[tier]] = ("task", tier, -1)
        self._types = [ct for _, ct in types]
        # per contact type, its queue on each channel (-1: none)
        self._type_queue = [np.array([self._qindex.get(queue_key(ch, ct.queue), -1)
                                      for ch in model.channel_names], dtype=np.int32)
                            for ct in self._types]

        # NOTE: each class's samplers, worked out once (block() runs ~800 times a year),
        # for every replication of the scenario
        from sim.workload import per_scenario

        self._plans = per_scenario("pool_plans", s, model,
                                   lambda: [self._plan(k) for k in range(j.n_classes)])
        # NOTE: the blocks' streams, seeded many blocks at a time (see DayStreams): blocks
        # [b * AHEAD, (b + 1) * AHEAD) of every class at once, when a class first takes a
        # block there (a CareConnect year takes 1 to ~150 blocks of a class)
        from sim.workload import DayStreams

        self._streams = DayStreams(ss, tuple(range(j.n_classes)),
                                   {k: (stream, k) for k in range(j.n_classes)},
                                   ahead=self.AHEAD)

    def _plan(self, k: int) -> tuple:
        """Class ``k``'s samplers: ``(delay, cum, queue, mix_queue, handle, wrap, patience,
        mix_patience)``.

        ``delay``, ``handle``, ``wrap``: samplers ``f(rng, n)`` (None: none); ``cum``: the
        cumulative shares of the channel mix (None: a fixed channel); ``queue``: the block
        of queues when they do not depend on the channel drawn (-1: the engine chooses),
        else ``mix_queue``: the queue per position in the mix; ``patience``: the fixed
        channel's patience sampler (None: no abandonment); ``mix_patience``: with a mix,
        ``(position in the mix, patience sampler)`` of its channels with a patience, in
        channel order.
        """
        from sim.workload import drawer

        s, model, base = self.scenario, self.model, self.base
        kind, a, c = self._spec[k]
        delay = wrap = queue = mix = None
        choice = None
        if kind == "task":
            handle = drawer(s.escalation.tiers[a].handle_time, base)
        else:
            ct = self._types[a]
            if kind == "repeat":
                delay, choice = drawer(ct.repeat.delay, base), ct.repeat.channel
            elif kind == "retrial":
                spec = s.channels[model.channel_names[c]].retrial
                delay, choice = drawer(spec.delay, base), spec.channel
            if kind != "transfer":
                queue = self._type_queue[a]
            handle = drawer(ct.handle_time, base)
            if ct.wrap_up is not None:
                wrap = drawer(ct.wrap_up, base)
        channel = c
        if isinstance(choice, str):
            channel = model.channel_names.index(choice)
        elif choice is not None:
            channel = None
            mix = (np.array([model.channel_names.index(x) for x in choice], dtype=np.int32),
                   _mix_cum(choice))
        patience = []
        for name in model.channel_names:
            spec = s.channels.get(name)
            live = spec is not None and spec.kind == "live" and spec.patience is not None
            patience.append(drawer(spec.patience, base) if live else None)
        mix_patience = ()
        if mix is not None:
            mix_patience = tuple((int(p), patience[mix[0][p]]) for p in np.argsort(mix[0])
                                 if patience[mix[0][p]] is not None)
        cum = mix_queue = None
        if queue is None:
            queue = _constant(-1, np.int32)
        elif mix is None:
            queue = _constant(queue[channel], np.int32)
        else:
            queue, mix_queue = None, queue[mix[0]]
        if mix is not None:
            cum = mix[1]
        return (delay, cum, queue, mix_queue, handle, wrap,
                patience[channel] if mix is None else None, mix_patience)

    def block(self, k: int, b: int) -> dict:
        """Entries ``[b * POOL_BLOCK, (b + 1) * POOL_BLOCK)`` of pool ``k``.

        Returns
        -------
        dict
            ``delay_s, work_s, patience_s, u_route, u_outcome`` (float64) and ``queue``
            (int32; -1 where the engine chooses the queue), each of length ``POOL_BLOCK``.
        """
        k, b = int(k), int(b)
        rng = self._streams(k, b)
        delay, cum, queue, mix_queue, handle, wrap, draw_patience, mix_patience = \
            self._plans[k]
        n = POOL_BLOCK
        # Fixed draw order within a block: u_channel, delay, work, patience, u_route, u_outcome.
        u_channel = rng.random(n)
        if cum is not None:
            # _pick(cum, u_channel) (NOTE: without its clip: the shares of a mix have a
            # positive sum (validated), so its last cumulative share is x / x = 1.0 exactly,
            # above every uniform)
            position = cum.searchsorted(u_channel, side="right")
            if queue is None:
                queue = mix_queue[position]
        delay_s = _NO_DELAY if delay is None else delay(rng, n)
        work_s = handle(rng, n)
        if wrap is not None:
            work_s += wrap(rng, n)  # NOTE: in place (a fresh array), the same sums
        # patience per channel in channel order (NOTE: one channel, the usual case, needs no
        # masks)
        if cum is None:
            patience_s = _NO_PATIENCE if draw_patience is None else draw_patience(rng, n)
        else:
            # NOTE: the channels drawn, in channel order, are those of the mix positions
            # drawn (no np.unique of the channels)
            patience_s = _NO_PATIENCE.copy()
            for p, draw_patience in mix_patience:
                mask = position == p
                m = int(np.count_nonzero(mask))
                if m:
                    patience_s[mask] = draw_patience(rng, m)
        # NOTE: u_route then u_outcome as one call (a generator's uniforms are drawn in
        # turn: the same numbers as two calls)
        u = rng.random(2 * n)
        return dict(delay_s=np.ascontiguousarray(delay_s, dtype=np.float64),
                    queue=np.ascontiguousarray(queue, dtype=np.int32),
                    work_s=np.ascontiguousarray(work_s, dtype=np.float64),
                    patience_s=np.ascontiguousarray(patience_s, dtype=np.float64),
                    u_route=u[:n], u_outcome=u[n:])


class FirstContactDraws:
    """``u_outcome``, ``severity`` and ``auth_tier`` of first contacts, days at a time.

    Draw order within a day's ``journey`` stream (fixed): ``u_outcome`` for all the day's
    contacts, then per contact type in type order the severity uniforms and the refund
    uniforms and amounts of its contacts that day.

    Parameters
    ----------
    s : Scenario
    model : Model
        ``compile_scenario(s)``, with ``model.journeys`` set.
    """

    def __init__(self, s: Scenario, model: Model):
        from sim.workload import drawer

        base = scenario_base_dir(s)
        self.authority = s.escalation.refund_authority if s.escalation is not None else None
        # NOTE: per contact type, worked out once (days() runs per chunk of days):
        # the fixed severity code (or None), the severity mix as (codes, cumulative shares)
        # (or None), and the refund as (probability, amount sampler) (or None).
        self.types: list[tuple] = []
        for ct in s.contact_types.values():
            code = mix = refund = None
            if ct.escalation is not None:
                sev = ct.escalation.severity
                if isinstance(sev, str):
                    code = SEVERITY_NAMES.index(sev)
                else:
                    mix = (np.array([SEVERITY_NAMES.index(x) for x in sev], dtype=np.int8),
                           _mix_cum(sev))
            if ct.refund is not None and self.authority is not None:
                refund = (ct.refund.probability, drawer(ct.refund.amount, base))
            self.types.append((code, mix, refund))

    def days(self, rngs: Iterable[np.random.Generator], n_day: list[int],
             per_type: list[list[int]], by_type: np.ndarray, type_lo: list[int]) -> dict:
        """The draws of consecutive days' first contacts.

        Parameters
        ----------
        rngs : iterable of numpy.random.Generator
            Each day's ``journey`` stream, in turn (each drawn from before the next is
            taken).
        n_day : list of int
            Contacts per day.
        per_type : list of list of int
            Contacts per day and contact type.
        by_type : intp[N]
            The rows of the days' contacts (in day order) sorted by contact type, stably:
            contact type ``k``'s rows in order are ``by_type[type_lo[k]:type_lo[k + 1]]``.
        type_lo : list of int

        Returns
        -------
        dict
            ``u_outcome`` (float64[N]), ``severity`` and ``auth_tier`` (int8[N]).
        """
        n = by_type.shape[0]
        types = self.types
        # NOTE: the uniforms are drawn straight into their arrays (``random(out=...)``, the
        # same numbers as ``random(m)``), not drawn per day and joined: u_outcome in day
        # order, and per contact type its severity and refund uniforms in its rows' order
        # (a type's rows are in day order). Only the types that draw are visited per day.
        u_outcome = np.empty(n)
        u_severity = [None] * len(types)
        u_asks = [None] * len(types)
        amount = [[] for _ in types]
        drawing = []  # (type, draws severities, draws refunds) of the types that draw
        for k, (_, mix, refund) in enumerate(types):
            m = type_lo[k + 1] - type_lo[k]
            if mix is not None:
                u_severity[k] = np.empty(m)
            if refund is not None:
                u_asks[k] = np.empty(m)
            if m and (mix is not None or refund is not None):
                drawing.append((k, mix is not None, refund))
        at = [0] * len(types)  # per type, its draws so far
        lo = 0
        for rng, n_d, m_day in zip(rngs, n_day, per_type, strict=True):
            rng.random(out=u_outcome[lo:lo + n_d])
            lo += n_d
            for k, severity_drawn, refund in drawing:
                m = m_day[k]
                if not m:
                    continue
                a = at[k]
                at[k] = a + m
                if severity_drawn:
                    rng.random(out=u_severity[k][a:a + m])
                if refund is not None:
                    rng.random(out=u_asks[k][a:a + m])
                    amount[k].append(refund[1](rng, m))
        routine = SEVERITY_NAMES.index("routine")
        severity = np.full(n, routine, dtype=np.int8)
        auth_tier = np.zeros(n, dtype=np.int8)
        authority = self.authority
        for k, (code, mix, refund) in enumerate(types):
            rows = by_type[type_lo[k]:type_lo[k + 1]]
            if rows.shape[0] == 0:
                continue
            if code is not None and code != routine:  # NOTE: routine is already there
                severity[rows] = code
            if mix is not None:
                codes, cum = mix
                severity[rows] = codes[_pick(cum, u_severity[k])]
            if refund is not None:
                # NOTE: a tier only for the contacts asking for a refund (the others keep
                # tier 0): the same tiers as np.where(asks, tier, 0) over all the rows
                asks = np.flatnonzero(u_asks[k] < refund[0])
                amt = (amount[k][0] if len(amount[k]) == 1 else np.concatenate(amount[k]))[asks]
                auth_tier[rows[asks]] = np.where(amt > authority.team_lead, 3,
                                                 np.where(amt > authority.agent, 2, 0))
        return dict(u_outcome=u_outcome, severity=severity, auth_tier=auth_tier)
