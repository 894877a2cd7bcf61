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


def _from_mix(mix: dict, u: np.ndarray) -> np.ndarray:
    """Position in ``list(mix)`` of the option each uniform ``u`` picks (by the shares)."""
    return _pick(_mix_cum(mix), u)


def _mix_cum(mix: dict) -> np.ndarray:
    """Cumulative shares of ``mix``, normalised to end at 1."""
    cum = np.cumsum(np.array(list(mix.values()), dtype=np.float64))
    cum /= cum[-1]
    return cum


def _pick(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Position of the option each uniform ``u`` picks, by cumulative shares ``cum``."""
    return np.minimum(np.searchsorted(cum, u, side="right"), cum.shape[0] - 1)


def _channel_index(model: Model, choice, default: int, u: np.ndarray) -> np.ndarray:
    """Channel per draw: ``default`` (None), one channel, or a mix chosen by ``u``."""
    names = model.channel_names
    if choice is None:
        return np.full(u.shape[0], default, dtype=np.int32)
    if isinstance(choice, str):
        return np.full(u.shape[0], names.index(choice), dtype=np.int32)
    chans = np.array([names.index(c) for c in choice], dtype=np.int32)
    return chans[_from_mix(choice, u)]


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

    def block(self, k: int, b: int) -> dict:
        """Entries ``[b * POOL_BLOCK, (b + 1) * POOL_BLOCK)`` of pool ``k``.

        Returns
        -------
        dict
            ``delay_s, work_s, patience_s, u_route, u_outcome`` (float64) and ``queue``
            (int32; -1 where the engine chooses the queue), each of length ``POOL_BLOCK``.
        """
        from sim.workload import draw

        ss = self.ss
        rng = np.random.default_rng(np.random.SeedSequence(
            ss.entropy, spawn_key=(*ss.spawn_key, self.stream, int(k), int(b)),
            pool_size=ss.pool_size))
        kind, a, c = self._spec[k]
        n = POOL_BLOCK
        s, model = self.scenario, self.model
        # Fixed draw order within a block: u_channel, delay, work, patience, u_route, u_outcome.
        u_channel = rng.random(n)
        delay_s = np.zeros(n)
        queue = np.full(n, -1, dtype=np.int32)
        channel = np.full(n, c, dtype=np.int32)
        if kind == "task":
            tier = s.escalation.tiers[a]
            work_s = draw(tier.handle_time, rng, n, self.base)
        else:
            ct = self._types[a]
            if kind == "repeat":
                delay_s = draw(ct.repeat.delay, rng, n, self.base)
                channel = _channel_index(model, ct.repeat.channel, c, u_channel)
            elif kind == "retrial":
                spec = s.channels[model.channel_names[c]].retrial
                delay_s = draw(spec.delay, rng, n, self.base)
                channel = _channel_index(model, spec.channel, c, u_channel)
            if kind != "transfer":
                queue = self._type_queue[a][channel]
            work_s = draw(ct.handle_time, rng, n, self.base)
            if ct.wrap_up is not None:
                work_s = work_s + draw(ct.wrap_up, rng, n, self.base)
        patience_s = np.full(n, np.inf)
        for x in np.unique(channel):
            name = model.channel_names[x]
            spec = s.channels.get(name)
            if spec is not None and spec.kind == "live" and spec.patience is not None:
                mask = channel == x
                patience_s[mask] = draw(spec.patience, rng, int(mask.sum()), self.base)
        return dict(delay_s=np.ascontiguousarray(delay_s, dtype=np.float64),
                    queue=np.ascontiguousarray(queue, dtype=np.int32),
                    work_s=np.ascontiguousarray(work_s, dtype=np.float64),
                    patience_s=np.ascontiguousarray(patience_s, dtype=np.float64),
                    u_route=rng.random(n), u_outcome=rng.random(n))


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
        u_outcome = []
        # per contact type, its draws over the days (for its rows in order)
        u_severity = [[] for _ in self.types]
        u_asks = [[] for _ in self.types]
        amount = [[] for _ in self.types]
        for rng, n_d, m_day in zip(rngs, n_day, per_type, strict=True):
            u_outcome.append(rng.random(n_d))
            for k, m in enumerate(m_day):
                if not m:
                    continue
                _, mix, refund = self.types[k]
                if mix is not None:
                    u_severity[k].append(rng.random(m))
                if refund is not None:
                    u_asks[k].append(rng.random(m))
                    amount[k].append(refund[1](rng, m))
        u_outcome = u_outcome[0] if len(u_outcome) == 1 else np.concatenate(u_outcome)
        severity = np.full(n, SEVERITY_NAMES.index("routine"), dtype=np.int8)
        auth_tier = np.zeros(n, dtype=np.int8)
        authority = self.authority
        for k, (code, mix, refund) in enumerate(self.types):
            rows = by_type[type_lo[k]:type_lo[k + 1]]
            if rows.shape[0] == 0:
                continue
            if code is not None:
                severity[rows] = code
            if mix is not None:
                codes, cum = mix
                severity[rows] = codes[_pick(cum, np.concatenate(u_severity[k]))]
            if refund is not None:
                asks = np.concatenate(u_asks[k]) < refund[0]
                amt = np.concatenate(amount[k])
                tier = np.where(amt > authority.team_lead, 3,
                                np.where(amt > authority.agent, 2, 0))
                auth_tier[rows] = np.where(asks, tier, 0).astype(np.int8)
        return dict(u_outcome=u_outcome, severity=severity, auth_tier=auth_tier)
