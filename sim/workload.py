"""``sample_workload``: every per-contact random draw, made up front and vectorised.

Randomness enters ccsim only here and in :mod:`sim.roster`, from one
:class:`numpy.random.SeedSequence` per replication. The replication's sequence is split into
independent child streams by purpose (:data:`STREAMS`), so that, for instance, two scenarios
with the same demand see the same arrivals (common random numbers) even when their staffing
differs.
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
STREAMS = ("day_factor", "arrivals", "contact_type", "work", "patience", "route", "roster")


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
    """Sample one replication's contacts.

    Arrivals are a non-homogeneous Poisson process, exact for the piecewise-constant rate of
    :func:`sim.compile.rate_grid`, multiplied per day by a Gamma(mean 1, cv =
    ``demand.overdispersion``) factor when overdispersion is set.
    """
    rng = streams(seed)
    base = scenario_base_dir(s)
    grid = rate_grid(s, model)
    n_days = int(grid.day[-1]) + 1 if grid.day.size else 0
    lam = grid.expected
    cv = s.demand.overdispersion
    if cv > 0:
        shape = 1.0 / cv ** 2
        day_factor = rng["day_factor"].gamma(shape, 1.0 / shape, n_days)
        lam = lam * day_factor[grid.day][:, None]
    counts = rng["arrivals"].poisson(lam)
    flat = np.repeat(np.arange(counts.size), counts.ravel())
    cell, channel = np.divmod(flat, lam.shape[1])
    arrival_s = (cell * grid.step_s + rng["arrivals"].random(flat.size) * grid.step_s)
    order = np.argsort(arrival_s, kind="stable")
    arrival_s, cell, channel = arrival_s[order], cell[order], channel[order]
    n = arrival_s.size

    # contact type by the channel's shares
    ctype_names = model.meta["ctype_names"]
    ctype = np.full(n, -1, dtype=np.int32)
    u = rng["contact_type"].random(n)
    for c, ch in enumerate(model.channel_names):
        mask = channel == c
        shares = np.array([ct.share.get(ch, 0.0) for ct in s.contact_types.values()])
        if mask.any():
            cum = np.cumsum(shares) / shares.sum()
            ctype[mask] = np.minimum(np.searchsorted(cum, u[mask], side="right"),
                                     len(shares) - 1)

    # closed live channels: lost, or redirected to a deferred channel as voicemail
    is_open = grid.open_[cell, channel]
    closed = np.zeros(n, dtype=np.int8)
    serve_channel = channel.copy()
    chans = list(s.channels.values())
    for c, chspec in enumerate(chans):
        mask = (channel == c) & ~is_open
        if chspec.when_closed == "lost":
            closed[mask] = 1
        else:
            serve_channel[mask] = model.channel_names.index(chspec.voicemail_to)

    qindex = {name: q for q, name in enumerate(model.queue_names)}
    types = list(s.contact_types.values())
    queue = np.full(n, -1, dtype=np.int32)
    work_s = np.empty(n)
    for k, ct in enumerate(types):
        mask = ctype == k
        m = int(mask.sum())
        if m == 0:
            continue
        for c, ch in enumerate(model.channel_names):
            sub = mask & (serve_channel == c)
            if sub.any():
                queue[sub] = qindex[queue_key(ch, ct.queue)]
        work = draw(ct.handle_time, rng["work"], m, base)
        if ct.wrap_up is not None:
            work = work + draw(ct.wrap_up, rng["work"], m, base)
        work_s[mask] = work

    abandon_at_s = np.full(n, np.inf)
    for c, chspec in enumerate(chans):
        mask = (serve_channel == c) & (closed == 0)
        if chspec.kind == "live" and chspec.patience is not None and mask.any():
            abandon_at_s[mask] = arrival_s[mask] + draw(chspec.patience, rng["patience"],
                                                        int(mask.sum()), base)
    u_route = rng["route"].random(n)
    return Workload(
        arrival_s=np.ascontiguousarray(arrival_s),
        queue=queue,
        channel=serve_channel.astype(np.int32),
        ctype=ctype,
        work_s=work_s,
        abandon_at_s=abandon_at_s,
        u_route=u_route,
        closed=closed,
    )
