"""``sample_workload``: every per-contact random draw, made up front and vectorised.

Randomness enters ccsim only here and in :mod:`sim.roster`, from one
:class:`numpy.random.SeedSequence` per replication. The replication's sequence is split into
independent child streams by purpose (:data:`STREAMS`), so that, for instance, two scenarios
with the same demand see the same arrivals (common random numbers) even when their staffing
differs. The per-contact draws are further split by day (child streams keyed by (purpose,
day), :class:`WorkloadSampler`), so any range of days can be sampled on its own
(:func:`sample_workload_days`, used by the streaming path :mod:`sim.stream`) and the whole
horizon (:func:`sample_workload`) is exactly the concatenation of its days.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import numpy as np

from sim.compile import queue_key, rate_grid
from sim.errors import Problem, ScenarioError
from sim.model import Model, Workload
from sim.scenario import (
    Deterministic,
    Empirical,
    Erlang,
    Exponential,
    Gamma,
    LogNormal,
    Scenario,
    Triangular,
    Uniform,
    scenario_base_dir,
)

#: Child streams of a replication's SeedSequence, in spawn order (never reorder: append).
STREAMS = ("day_factor", "arrivals", "contact_type", "work", "patience", "route", "roster",
           "journey", "followup", "outage")


def streams(seed) -> dict[str, np.random.Generator]:
    """One independent generator per purpose, from a seed or a SeedSequence."""
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    # Children are derived from (entropy, spawn_key) without calling ss.spawn(), which would
    # mutate ss: the same SeedSequence must always give the same streams.
    return {name: np.random.default_rng(np.random.SeedSequence(
                ss.entropy, spawn_key=(*ss.spawn_key, i), pool_size=ss.pool_size))
            for i, name in enumerate(STREAMS)}


def draw(dist, rng: np.random.Generator, n: int, base_dir: Path | None = None) -> np.ndarray:
    """``n`` draws (seconds) from a scenario distribution."""
    if isinstance(dist, Exponential):
        return rng.exponential(dist.mean, n)
    if isinstance(dist, LogNormal):
        sigma2 = np.log1p(dist.cv ** 2)
        return rng.lognormal(np.log(dist.mean) - sigma2 / 2, np.sqrt(sigma2), n)
    if isinstance(dist, Gamma):
        shape = 1.0 / dist.cv ** 2
        return rng.gamma(shape, dist.mean / shape, n)
    if isinstance(dist, Erlang):
        return rng.gamma(dist.k, dist.mean / dist.k, n)
    if isinstance(dist, Deterministic):
        return np.full(n, dist.value)
    if isinstance(dist, Uniform):
        return rng.uniform(dist.low, dist.high, n)
    if isinstance(dist, Triangular):
        return rng.triangular(dist.low, dist.mode, dist.high, n)
    if isinstance(dist, Empirical):
        values = np.asarray(dist.values if dist.values is not None
                            else _csv_column(str((base_dir or Path.cwd()) / dist.csv),
                                             dist.column))
        return values[rng.integers(0, len(values), n)]
    raise TypeError(f"unknown distribution {dist!r}")


@cache
def _csv_column(path: str, column: str) -> tuple[float, ...]:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise ScenarioError([Problem(path, None, "", f"cannot read: {exc.strerror}")]) from None
    if not rows or column not in rows[0]:
        raise ScenarioError([Problem(path, 1, column, f"no column '{column}'")])
    try:
        values = tuple(float(r[column]) for r in rows if r[column] != "")
    except ValueError as exc:
        raise ScenarioError([Problem(path, None, column, f"not a number: {exc}")]) from None
    if not values or min(values) < 0:
        raise ScenarioError([Problem(path, None, column, "needs non-negative values")])
    return values


def sample_workload(s: Scenario, model: Model, seed) -> Workload:
    """Sample one replication's contacts over the whole horizon.

    The same arrays as :func:`sample_workload_days` over all days (the days concatenated).
    """
    sampler = WorkloadSampler(s, model, seed)
    return sampler.days(0, sampler.n_days)


def sample_workload_days(s: Scenario, model: Model, seed, day_lo: int, day_hi: int
                         ) -> Workload:
    """Sample the contacts arriving in days ``[day_lo, day_hi)`` of one replication.

    Row ``i`` of the result is the contact with global id ``i + (number of contacts in days
    < day_lo)``: :func:`sample_workload` is the concatenation of consecutive day ranges.
    """
    return WorkloadSampler(s, model, seed).days(day_lo, day_hi)


class WorkloadSampler:
    """Samples a replication's contacts day by day, the same whatever the days asked for.

    Arrivals are a non-homogeneous Poisson process, exact for the piecewise-constant rate of
    :func:`sim.compile.rate_grid`, multiplied per day by a Gamma(mean 1, cv =
    ``demand.overdispersion``) factor when overdispersion is set.

    Every per-contact draw of day ``d`` comes from child streams keyed by (purpose, day),
    ``SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, STREAMS.index(purpose), d))``, so a
    day's contacts do not depend on which other days are sampled, or in which chunks. The
    day factors are one vector per replication (stream ``day_factor``). Within a day the
    contacts are sorted by ``(arrival_s, draw order)``; the contacts of day ``d`` follow those
    of the days before it, so their concatenation is sorted by arrival too (a day's arrivals
    lie in ``[d, d + 1)`` days, the last one possibly rounded up onto the next midnight).

    Parameters
    ----------
    s : Scenario
    model : Model
        ``compile_scenario(s)``.
    seed : int or SeedSequence
        The replication's seed.
    """

    #: Purposes drawn per (purpose, day); their index in :data:`STREAMS` keys the stream.
    DAY_STREAMS = ("arrivals", "contact_type", "work", "patience", "route", "journey", "outage")

    def __init__(self, s: Scenario, model: Model, seed):
        self.scenario = s
        self.model = model
        self.ss = seed if isinstance(seed, np.random.SeedSequence) else \
            np.random.SeedSequence(seed)
        self.base = scenario_base_dir(s)
        grid = rate_grid(s, model)
        self.grid = grid
        self.n_days = int(grid.day[-1]) + 1 if grid.day.size else 0
        self.per_day = int(round(86400.0 / grid.step_s))
        lam = grid.expected
        cv = s.demand.overdispersion
        if cv > 0:
            shape = 1.0 / cv ** 2
            day_factor = streams(self.ss)["day_factor"].gamma(shape, 1.0 / shape, self.n_days)
            lam = lam * day_factor[grid.day][:, None]
        self.lam = lam
        # per channel, the cumulative contact-type shares; per ctype, its queue per channel
        types = list(s.contact_types.values())
        self.types = types
        self.chans = list(s.channels.values())
        self.cum_shares = []
        for ch in model.channel_names:
            shares = np.array([ct.share.get(ch, 0.0) for ct in types])
            total = shares.sum()
            self.cum_shares.append(np.cumsum(shares) / total if total > 0 else None)
        qindex = {name: q for q, name in enumerate(model.queue_names)}
        self.type_queue = np.array(
            [[qindex.get(queue_key(ch, ct.queue), -1) for ch in model.channel_names]
             for ct in types], dtype=np.int32).reshape(len(types), model.n_channels)
        self.voicemail_to = np.array(
            [model.channel_names.index(c.voicemail_to) if c.voicemail_to else c_i
             for c_i, c in enumerate(self.chans)], dtype=np.intp)
        self.redirect_when_closed = np.array([c.when_closed == "voicemail" for c in self.chans])
        self.outage_channels = [c for c, spec in enumerate(self.chans) if spec.outages is not None]
        # closed code of a contact arriving on a closed channel: 1 lost, 2 called back
        self.closed_code = np.array([{"lost": 1, "callback": 2}.get(c.when_closed, 0)
                                     for c in self.chans], dtype=np.int8)
        self.pools = None
        if model.journeys is not None:
            from sim.journeys import FollowupPools

            self.pools = FollowupPools(s, model, self.ss, STREAMS.index("followup"))

    def _rngs(self, day: int) -> dict[str, np.random.Generator]:
        ss = self.ss
        return {name: np.random.default_rng(np.random.SeedSequence(
                    ss.entropy, spawn_key=(*ss.spawn_key, STREAMS.index(name), day),
                    pool_size=ss.pool_size))
                for name in self.DAY_STREAMS}

    def outages_of_day(self, d: int, rng: np.random.Generator | None = None) -> dict:
        """Outage periods of day ``d``, per channel with outages: ``{c: (lo_s, hi_s)}``,
        sorted and disjoint, in seconds from the horizon start, clipped to the day.

        Random outages: an alternating process, up ~ Exp(mean_duration * a / (1 - a)), down
        ~ Exp(mean_duration), started in its stationary state (down with probability 1 - a,
        remaining time exponential) at the day's start; then the scheduled windows.
        """
        if not self.outage_channels:
            return {}
        if rng is None:
            rng = self._rngs(d)["outage"]
        from sim.scenario import parse_opening_hours

        day0, day1 = d * 86400.0, (d + 1) * 86400.0
        weekday = (self.scenario.horizon.start.weekday() + d) % 7
        out = {}
        for c in self.outage_channels:
            spec = self.chans[c].outages
            periods = []
            a = spec.availability
            if a < 1.0:
                down_mean = float(spec.mean_duration)
                up_mean = down_mean * a / (1.0 - a)
                t = day0
                down = rng.random() < 1.0 - a
                while t < day1:
                    length = rng.exponential(down_mean if down else up_mean)
                    if down:
                        periods.append((t, min(t + length, day1)))
                    t += length
                    down = not down
            if spec.scheduled:
                for o, cl in parse_opening_hours(spec.scheduled)[weekday]:
                    periods.append((day0 + o, day0 + cl))
            periods.sort()
            merged: list[list[float]] = []
            for lo, hi in periods:
                if merged and lo <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], hi)
                else:
                    merged.append([lo, hi])
            arr = np.array(merged, dtype=np.float64).reshape(-1, 2)
            out[c] = (arr[:, 0].copy(), arr[:, 1].copy())
        return out

    def outages(self, day_lo: int, day_hi: int) -> dict:
        """Outage periods of days ``[day_lo, day_hi)``: ``{channel index: (lo_s, hi_s)}``."""
        parts: dict[int, list] = {c: [] for c in self.outage_channels}
        for d in range(max(day_lo, 0), min(day_hi, self.n_days)):
            for c, period in self.outages_of_day(d).items():
                parts[c].append(period)
        return {c: (np.concatenate([p[0] for p in ps]) if ps else np.zeros(0),
                    np.concatenate([p[1] for p in ps]) if ps else np.zeros(0))
                for c, ps in parts.items()}

    def days(self, day_lo: int, day_hi: int) -> Workload:
        """The contacts arriving in days ``[day_lo, day_hi)`` (clipped to the horizon)."""
        day_lo, day_hi = max(int(day_lo), 0), min(int(day_hi), self.n_days)
        parts = [self._day(d) for d in range(day_lo, day_hi)]
        outages = None
        if self.outage_channels:
            per_day = [p.pop("_outages") for p in parts]
            outages = {c: (np.concatenate([o[c][0] for o in per_day] or [np.zeros(0)]),
                           np.concatenate([o[c][1] for o in per_day] or [np.zeros(0)]))
                       for c in self.outage_channels}
        if not parts:
            parts = [self._empty()]
        # One field at a time, each day's copy released once joined: the peak is the days'
        # arrays plus one joined field, not twice the workload.
        arrays = {k: np.concatenate([p.pop(k) for p in parts]) for k in list(parts[0])}
        return Workload(**arrays, pools=self.pools, outages=outages)

    def _empty(self) -> dict:
        f8, i4 = np.float64, np.int32
        out = dict(arrival_s=np.zeros(0, f8), queue=np.zeros(0, i4), channel=np.zeros(0, i4),
                   ctype=np.zeros(0, i4), work_s=np.zeros(0, f8), abandon_at_s=np.zeros(0, f8),
                   u_route=np.zeros(0, f8), closed=np.zeros(0, np.int8))
        if self.model.journeys is not None:
            out.update(u_outcome=np.zeros(0, f8), severity=np.zeros(0, np.int8),
                       auth_tier=np.zeros(0, np.int8))
        return out

    def _day(self, d: int) -> dict:
        """Every draw of the contacts arriving in day ``d``."""
        model, grid = self.model, self.grid
        rng = self._rngs(d)
        lo, hi = d * self.per_day, (d + 1) * self.per_day
        lam = self.lam[lo:hi]
        counts = rng["arrivals"].poisson(lam)
        flat = np.repeat(np.arange(counts.size), counts.ravel())
        cell, channel = np.divmod(flat, lam.shape[1])
        cell += lo
        arrival_s = (cell * grid.step_s + rng["arrivals"].random(flat.size) * grid.step_s)
        order = np.argsort(arrival_s, kind="stable")
        arrival_s, cell, channel = arrival_s[order], cell[order], channel[order]
        n = arrival_s.size

        # contact type by the channel's shares
        ctype = np.full(n, -1, dtype=np.int32)
        u = rng["contact_type"].random(n)
        n_types = len(self.types)
        for c in range(model.n_channels):
            mask = channel == c
            cum = self.cum_shares[c]
            if cum is not None and mask.any():
                ctype[mask] = np.minimum(np.searchsorted(cum, u[mask], side="right"),
                                         n_types - 1)

        # closed live channels: lost, or redirected to a deferred channel as voicemail
        is_open = grid.open_[cell, channel]
        shut = ~is_open
        closed = np.where(shut, self.closed_code[channel], 0).astype(np.int8)
        redirect = shut & self.redirect_when_closed[channel]
        # outages (on open channels): lost, or voicemail
        day_outages = self.outages_of_day(d, rng["outage"])
        for c, (lo_s, hi_s) in day_outages.items():
            mask = (channel == c) & is_open
            if not mask.any() or lo_s.shape[0] == 0:
                continue
            k = np.searchsorted(hi_s, arrival_s[mask], side="right")
            hit = (k < lo_s.shape[0]) & (lo_s[np.minimum(k, lo_s.shape[0] - 1)]
                                         <= arrival_s[mask])
            idx = np.flatnonzero(mask)[hit]
            if self.chans[c].outages.during == "lost":
                closed[idx] = 1
            else:
                redirect[idx] = True
        serve_channel = np.where(redirect, self.voicemail_to[channel], channel)

        queue = np.full(n, -1, dtype=np.int32)
        work_s = np.empty(n)
        for k, ct in enumerate(self.types):
            mask = ctype == k
            m = int(np.count_nonzero(mask))
            if m == 0:
                continue
            queue[mask] = self.type_queue[k][serve_channel[mask]]
            work = draw(ct.handle_time, rng["work"], m, self.base)
            if ct.wrap_up is not None:
                work = work + draw(ct.wrap_up, rng["work"], m, self.base)
            work_s[mask] = work

        abandon_at_s = np.full(n, np.inf)
        for c, chspec in enumerate(self.chans):
            if chspec.kind != "live" or chspec.patience is None:
                continue
            mask = (serve_channel == c) & (closed == 0)
            if mask.any():
                abandon_at_s[mask] = arrival_s[mask] + draw(chspec.patience, rng["patience"],
                                                            int(mask.sum()), self.base)
        u_route = rng["route"].random(n)
        extra = {}
        if self.model.journeys is not None:
            from sim.journeys import first_contact_draws

            extra = first_contact_draws(self.scenario, model, rng["journey"], ctype)
        return dict(
            arrival_s=np.ascontiguousarray(arrival_s),
            queue=queue,
            channel=serve_channel.astype(np.int32),
            ctype=ctype,
            work_s=work_s,
            abandon_at_s=abandon_at_s,
            u_route=u_route,
            closed=closed,
            **extra,
            **({"_outages": day_outages} if self.outage_channels else {}),
        )
