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
    parse_opening_hours,
    scenario_base_dir,
)

#: Child streams of a replication's SeedSequence, in spawn order (never reorder: append).
STREAMS = ("day_factor", "arrivals", "contact_type", "work", "patience", "route", "roster",
           "journey", "followup", "outage")


def streams(seed) -> dict[str, np.random.Generator]:
    """One independent generator per purpose, from a seed or a SeedSequence."""
    return {name: stream(seed, name) for name in STREAMS}


def stream(seed, name: str) -> np.random.Generator:
    """``streams(seed)[name]`` alone (NOTE: seeding each generator costs ~15 us)."""
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    # Children are derived from (entropy, spawn_key) without calling ss.spawn(), which would
    # mutate ss: the same SeedSequence must always give the same streams.
    return np.random.default_rng(np.random.SeedSequence(
        ss.entropy, spawn_key=(*ss.spawn_key, STREAMS.index(name)), pool_size=ss.pool_size))


#: The seed-independent set-up of the last scenario sampled, per kind: ``{kind: (scenario,
#: model, value)}`` (see :func:`per_scenario`)
_LAST_SETUP: dict = {}


def per_scenario(kind: str, s: Scenario, model: Model, make):
    """``make()``, or its value for the same (frozen) scenario and model objects last time.

    NOTE: the replications of a run sample the same scenario; the parts of a sampler's
    set-up that depend on it alone (the rate grid, the pool classes' samplers: ~3 ms per
    CareConnect year) are worked out once per process, not per replication. One entry per
    kind, so nothing piles up; the values are only read.
    """
    last = _LAST_SETUP.get(kind)
    if last is not None and last[0] is s and last[1] is model:
        return last[2]
    value = make()
    _LAST_SETUP[kind] = (s, model, value)
    return value


def draw(dist, rng: np.random.Generator, n: int, base_dir: Path | None = None) -> np.ndarray:
    """``n`` draws (seconds) from a scenario distribution."""
    return drawer(dist, base_dir)(rng, n)


def drawer(dist, base_dir: Path | None = None) -> Drawer:
    """``f(rng, n)``, the same as ``draw(dist, rng, n, base_dir)``."""
    return Drawer(dist, base_dir)


class Drawer:
    """``n`` draws (seconds) from a scenario distribution: ``Drawer(dist, base_dir)(rng, n)``.

    NOTE: the samplers draw from a distribution once per day and contact type (or per pool
    block); its parameters are worked out once here, not at every call (the same float64
    expressions, so the same draws). A class, not a closure, so that the samplers holding
    it (and a Workload's pools) pickle.
    """

    def __init__(self, dist, base_dir: Path | None = None):
        self.dist, self.base_dir = dist, base_dir
        self.table = None  # Empirical: the values, read on the first draw
        if isinstance(dist, Exponential):
            self.method, self.params = "exponential", (dist.mean,)
        elif isinstance(dist, LogNormal):
            sigma2 = np.log1p(dist.cv ** 2)
            self.method, self.params = "lognormal", (np.log(dist.mean) - sigma2 / 2,
                                                     np.sqrt(sigma2))
        elif isinstance(dist, Gamma):
            shape = 1.0 / dist.cv ** 2
            self.method, self.params = "gamma", (shape, dist.mean / shape)
        elif isinstance(dist, Erlang):
            self.method, self.params = "gamma", (dist.k, dist.mean / dist.k)
        elif isinstance(dist, Uniform):
            self.method, self.params = "uniform", (dist.low, dist.high)
        elif isinstance(dist, Triangular):
            self.method, self.params = "triangular", (dist.low, dist.mode, dist.high)
        elif isinstance(dist, Deterministic | Empirical):
            self.method, self.params = None, ()
        else:
            raise TypeError(f"unknown distribution {dist!r}")

    def __call__(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.method is not None:
            return getattr(rng, self.method)(*self.params, n)
        dist = self.dist
        if isinstance(dist, Deterministic):
            return np.full(n, dist.value)
        if self.table is None:
            self.table = np.asarray(
                dist.values if dist.values is not None
                else _csv_column(str((self.base_dir or Path.cwd()) / dist.csv), dist.column))
        return self.table[rng.integers(0, len(self.table), n)]


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


# numpy's SeedSequence and PCG64 seeding constants (numpy/random/bit_generator.pyx,
# numpy/random/src/pcg64/pcg64.h), fixed by numpy's stream-compatibility policy
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R = 0xCA01F9DD, 0x4973F715
_PCG_MULT = (2549297995355413924 << 64) + 4865540595714422341
_M32, _M64 = (1 << 32) - 1, (1 << 64) - 1


class DayStreams:
    """The per-day child streams of a replication's SeedSequence ``ss``.

    ``rng(name, d)`` is the generator of ``SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key,
    *keys[name], d), pool_size=ss.pool_size)`` at its start (by default ``keys[name]`` is
    ``(STREAMS.index(name),)``): the same draws as ``np.random.default_rng`` of that
    SeedSequence. It stays valid until the next call (one generator is reused).

    NOTE: seeding a numpy generator costs ~15 us of Python-level numpy code (SeedSequence
    hashing, PCG64 seeding), 7 streams a day: a quarter of sampling a day. Here the same
    arithmetic is done for ``ahead`` days at once in numpy (:meth:`prepare`), and the
    generator is set to a day's state. The arithmetic follows numpy's (which its
    stream-compatibility policy keeps fixed) and is checked against numpy on construction;
    on any difference the streams are seeded by numpy itself. A state is set through
    numpy's state setter (~2 us).

    Parameters
    ----------
    ss : numpy.random.SeedSequence
    names : tuple
        The streams.
    keys : dict, optional
        Per name, its spawn-key words between ``ss.spawn_key`` and the day (ints, as many
        for every name).
    ahead : int
        Days whose states are worked out together, for every name (aligned: days ``[b *
        ahead, (b + 1) * ahead)``, when a name first takes a day there).
    """

    # NOTE: slots: a small helper with fixed attributes, one per sampler and follow-up pool
    __slots__ = ("ss", "names", "keys", "index", "gen", "bit_generator", "states",
                 "fast", "pool", "hash_const", "ahead")

    #: Days whose states are worked out together, by default.
    AHEAD = 32

    def __init__(self, ss: np.random.SeedSequence, names: tuple, keys: dict | None = None,
                 ahead: int = AHEAD):
        self.ss, self.names = ss, tuple(names)
        self.ahead = int(ahead)
        self.keys = {name: (STREAMS.index(name),) for name in self.names} if keys is None \
            else {name: tuple(keys[name]) for name in self.names}
        self.index = {name: i for i, name in enumerate(self.names)}
        self.gen = np.random.default_rng(0)
        self.bit_generator = self.gen.bit_generator
        # per name, per block of days b, the states of days [b * ahead, (b + 1) * ahead) as
        # rows (state low, high, inc low, high) of a uint64 array
        self.states: dict = {name: {} for name in self.names}
        words = [w for key in self.keys.values() for w in key]
        self.fast = (isinstance(ss.entropy, int | np.integer) and len(self.names) > 0
                     and all(isinstance(w, int | np.integer) for w in (*ss.spawn_key, *words))
                     and all(0 <= w < 1 << 32 for w in words)
                     and len({len(key) for key in self.keys.values()}) == 1
                     and len(self.keys[self.names[0]]) > 0)
        if self.fast:
            # the pool of the SeedSequence keyed (*spawn_key, *key): the hashing of every
            # word before the day's. numpy hashes the first key word (with the padding of
            # the entropy it brings); the others are mixed in here, for every name at once.
            ps = ss.pool_size
            first = {w: np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, w),
                                               pool_size=ps).pool
                     for w in sorted({key[0] for key in self.keys.values()})}
            pools = np.array([first[self.keys[name][0]] for name in self.names],
                             dtype=np.uint32)
            self.pool = [pools[:, i:i + 1] for i in range(ps)]  # (names, 1) per pool word
            # words hashed so far: the entropy (padded to the pool size), the spawn key and
            # the first key word, each int in 32-bit words
            n_words = (max(_n_words(ss.entropy), ps) + sum(_n_words(k) for k in ss.spawn_key)
                       + 1)
            for level in range(1, len(self.keys[self.names[0]])):
                word = np.array([self.keys[name][level] for name in self.names],
                                dtype=np.uint32)[:, None]
                self.pool = _mix_word(self.pool, _hash_const(n_words, ps), word)
                n_words += 1
            self.hash_const = _hash_const(n_words, ps)
            ends = (self.names[0], self.names[-1])
            check = (0, 1 << 20)
            got = self._states(check, [self.index[name] for name in ends]).tolist()
            self.fast = all(
                _state_dict(got[i][j])
                == np.random.default_rng(self._seed_seq(name, d)).bit_generator.state
                for i, name in enumerate(ends) for j, d in enumerate(check))

    def __reduce__(self):
        # rebuilt, not copied: the states are worked out again as they are needed
        return DayStreams, (self.ss, self.names, self.keys, self.ahead)

    def _seed_seq(self, name, d: int) -> np.random.SeedSequence:
        ss = self.ss
        return np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, *self.keys[name],
                                                             d),
                                      pool_size=ss.pool_size)

    def prepare(self, block: int, names=None) -> None:
        """Work out the PCG64 states of the days of ``block`` (days ``[block * ahead, (block
        + 1) * ahead)``) for ``names`` (default: every name) (in ``states``)."""
        if not self.fast:
            return
        names = self.names if names is None else tuple(names)
        first = block * self.ahead
        states = self._states(range(first, first + self.ahead),
                              [self.index[name] for name in names])
        for name, rows in zip(names, states, strict=True):
            self.states[name][block] = rows

    def _states(self, days, rows: list[int]) -> np.ndarray:
        """The PCG64 states of ``days`` (ints) for the names in ``rows`` (their positions in
        ``names``): uint64[len(rows), len(days), 4], each (state low and high 64 bits, inc
        low and high)."""
        pool = [p[rows] for p in self.pool]
        # mix the day's word into the pool (SeedSequence.mix_entropy, its last word)
        pool = _mix_word(pool, self.hash_const, np.array(days, dtype=np.uint32)[None, :])
        # SeedSequence.generate_state(4, np.uint64): 8 words from the pool
        hc = _INIT_B
        words = []
        for i in range(8):
            value = pool[i % len(pool)] ^ np.uint32(hc)
            hc = hc * _MULT_B & _M32
            value *= np.uint32(hc)
            value ^= value >> np.uint32(16)
            words.append(value.astype(np.uint64))
        s0, s1, s2, s3 = (words[2 * j] | words[2 * j + 1] << np.uint64(32) for j in range(4))
        # PCG64 seeding (pcg64_set_seed): state 0, inc = 2 seq + 1, step, add, step: the
        # state is (seed + inc) * MULT + inc. NOTE: in 64-bit halves for every stream at
        # once (numpy's uint64 arithmetic wraps, as the halves of 128-bit arithmetic do)
        one, u32, u63, m32 = np.uint64(1), np.uint64(32), np.uint64(63), np.uint64(_M32)
        inc_hi, inc_lo = s2 << one | s3 >> u63, s3 << one | one
        lo = inc_lo + s1
        hi = inc_hi + s0 + (lo < inc_lo)
        # (hi, lo) * MULT + inc: the high half of lo * MULT's low half from 32-bit halves
        a0, a1 = lo & m32, lo >> u32
        p01, p10 = a0 * np.uint64(_PCG_MULT >> 32 & _M32), a1 * np.uint64(_PCG_MULT & _M32)
        mid = (a0 * np.uint64(_PCG_MULT & _M32) >> u32) + (p01 & m32) + (p10 & m32)
        carry_hi = (a1 * np.uint64(_PCG_MULT >> 32 & _M32) + (p01 >> u32) + (p10 >> u32)
                    + (mid >> u32))
        prod_lo = lo * np.uint64(_PCG_MULT & _M64)
        new_lo = prod_lo + inc_lo
        new_hi = (carry_hi + hi * np.uint64(_PCG_MULT & _M64) + lo * np.uint64(_PCG_MULT >> 64)
                  + inc_hi + (new_lo < prod_lo))
        return np.stack([new_lo, new_hi, inc_lo, inc_hi], axis=-1)

    def __call__(self, name, d: int) -> np.random.Generator:
        if not self.fast:
            return np.random.default_rng(self._seed_seq(name, d))
        block, i = divmod(d, self.ahead)
        rows = self.states[name].get(block)
        if rows is None:
            self.prepare(block)
            rows = self.states[name][block]
        self.bit_generator.state = _state_dict(rows[i].tolist())
        return self.gen


def _state_dict(words: list[int]) -> dict:
    """A PCG64 state, as its setter takes it, from its words (state low and high 64 bits,
    inc low and high)."""
    return {"bit_generator": "PCG64",
            "state": {"state": words[1] << 64 | words[0], "inc": words[3] << 64 | words[2]},
            "has_uint32": 0, "uinteger": 0}


def _hash_const(n_words: int, pool_size: int) -> int:
    """SeedSequence's hash constant once ``n_words`` words are mixed into its pool."""
    return _INIT_A * pow(_MULT_A, n_words * pool_size, 1 << 32) & _M32


def _mix_word(pool: list[np.ndarray], hash_const: int, word: np.ndarray) -> list[np.ndarray]:
    """The pool (one uint32 array per pool word) once one more entropy word is mixed in.

    SeedSequence.mix_entropy's loop over the words past the pool size, elementwise over the
    broadcast shapes of ``pool`` and ``word``; ``hash_const``: :func:`_hash_const` of the
    words mixed in before.
    """
    hc = hash_const
    out = []
    for p in pool:
        value = word ^ np.uint32(hc)
        hc = hc * _MULT_A & _M32
        value *= np.uint32(hc)
        value ^= value >> np.uint32(16)
        mixed = np.uint32(_MIX_MULT_L) * p - np.uint32(_MIX_MULT_R) * value
        mixed ^= mixed >> np.uint32(16)
        out.append(mixed)
    return out


def _n_words(x: int) -> int:
    """32-bit words of a non-negative int in a SeedSequence's entropy."""
    return max(1, (int(x).bit_length() + 31) // 32)


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
        grid = per_scenario("rate_grid", s, model, lambda: rate_grid(s, model))
        self.grid = grid
        self.n_days = int(grid.day[-1]) + 1 if grid.day.size else 0
        self.per_day = int(round(86400.0 / grid.step_s))
        lam = grid.expected
        cv = s.demand.overdispersion
        if cv > 0:
            shape = 1.0 / cv ** 2
            day_factor = stream(self.ss, "day_factor").gamma(shape, 1.0 / shape, self.n_days)
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
        # the same as a table: cum_table[k, c] is cum_shares[c][k] (2.0: no shares)
        self.has_shares = np.array([cum is not None for cum in self.cum_shares], dtype=bool)
        self.cum_table = np.array([cum if cum is not None else np.full(len(types), 2.0)
                                   for cum in self.cum_shares]).reshape(-1, len(types)).T.copy()
        # per channel, the highest contact type (-1: the channel has no shares)
        self.type_cap = np.where(self.has_shares, len(types) - 1, -1).astype(np.int32)
        self.type_cap_i8 = self.type_cap.astype(np.int8) if len(types) < 127 else None
        qindex = {name: q for q, name in enumerate(model.queue_names)}
        self.type_queue = np.array(
            [[qindex.get(queue_key(ch, ct.queue), -1) for ch in model.channel_names]
             for ct in types], dtype=np.int32).reshape(len(types), model.n_channels)
        # the same with a row of -1 first, for the contacts of no type (ctype -1), flat:
        # type_queue_flat[(ctype + 1) * n_channels + channel]
        self.type_queue_flat = np.concatenate(
            [np.full((1, model.n_channels), -1, dtype=np.int32), self.type_queue]).ravel()
        # per channel, where its contacts go as voicemail (channels past the scenario's, as
        # the escalation channel, stay where they are)
        self.voicemail_to = np.array(
            [model.channel_names.index(c.voicemail_to) if c.voicemail_to else c_i
             for c_i, c in enumerate(self.chans)]
            + list(range(len(self.chans), model.n_channels)), dtype=np.intp)
        self.redirect_when_closed = np.array([c.when_closed == "voicemail" for c in self.chans])
        self.outage_channels = [c for c, spec in enumerate(self.chans) if spec.outages is not None]
        # per channel with outages, its scheduled outage windows per weekday
        self.scheduled_outages = {c: parse_opening_hours(self.chans[c].outages.scheduled)
                                  for c in self.outage_channels
                                  if self.chans[c].outages.scheduled}
        # closed code of a contact arriving on a closed channel: 1 lost, 2 called back
        self.closed_code = np.array([{"lost": 1, "callback": 2}.get(c.when_closed, 0)
                                     for c in self.chans], dtype=np.int8)
        # NOTE: whether open, the closed code and whether redirected as voicemail per cell
        # and channel, flattened (cell * n_channels + channel): one gather each per chunk
        # (channels past the scenario's, as the escalation channel, have no arrivals)
        n_more = model.n_channels - len(self.chans)
        self.cell_open = grid.open_.ravel()
        self.cell_closed = np.where(grid.open_, 0, np.concatenate(
            [self.closed_code, np.zeros(n_more, np.int8)])).astype(np.int8).ravel()
        self.cell_redirect = (~grid.open_ & np.concatenate(
            [self.redirect_when_closed, np.zeros(n_more, bool)])).ravel()
        # NOTE: days() works a chunk of days at a time and runs once per chunk of the
        # streaming path; the per-type and per-channel samplers are worked out once here.
        # per ctype, its handle time and wrap-up (None: no wrap-up) samplers
        self.work_draws = [(drawer(ct.handle_time, self.base),
                            None if ct.wrap_up is None else drawer(ct.wrap_up, self.base))
                           for ct in types]
        # (channel, patience sampler) of the live channels with a patience, in channel order
        self.patience_draws = [(c, drawer(ch.patience, self.base))
                               for c, ch in enumerate(self.chans)
                               if ch.kind == "live" and ch.patience is not None]
        # NOTE: a stream is only seeded when something draws from it (seeding costs ~10 us).
        self.day_streams = tuple(
            name for name in self.DAY_STREAMS
            if not (name == "journey" and model.journeys is None
                    or name == "outage" and not self.outage_channels
                    or name == "patience" and not self.patience_draws))
        self.streams = DayStreams(self.ss, self.day_streams)
        self.pools = self.first_contacts = None
        if model.journeys is not None:
            from sim.journeys import FirstContactDraws, FollowupPools

            self.pools = FollowupPools(s, model, self.ss, STREAMS.index("followup"))
            self.first_contacts = FirstContactDraws(s, model)

    def _rngs(self, day: int, names=DAY_STREAMS) -> dict[str, np.random.Generator]:
        ss = self.ss
        return {name: np.random.default_rng(np.random.SeedSequence(
                    ss.entropy, spawn_key=(*ss.spawn_key, STREAMS.index(name), day),
                    pool_size=ss.pool_size))
                for name in names}

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
            rng = self._rngs(d, ("outage",))["outage"]
        out = {}
        for c, merged in self._outage_periods(d, rng).items():
            arr = np.array(merged, dtype=np.float64).reshape(-1, 2)
            out[c] = (arr[:, 0].copy(), arr[:, 1].copy())
        return out

    def _outage_periods(self, d: int, rng: np.random.Generator) -> dict[int, list]:
        """:meth:`outages_of_day` as lists of ``[lo_s, hi_s]``, from the stream ``rng``."""
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
                for o, cl in self.scheduled_outages[c][weekday]:
                    periods.append((day0 + o, day0 + cl))
            periods.sort()
            merged: list[list[float]] = []
            for lo, hi in periods:
                if merged and lo <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], hi)
                else:
                    merged.append([lo, hi])
            out[c] = merged
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
        if day_hi <= day_lo:
            outages = None
            if self.outage_channels:
                outages = {c: (np.zeros(0), np.zeros(0)) for c in self.outage_channels}
            return Workload(**self._empty(), pools=self.pools, outages=outages)
        return Workload(**self._days(day_lo, day_hi), pools=self.pools)

    def _empty(self) -> dict:
        f8, i4 = np.float64, np.int32
        out = dict(arrival_s=np.zeros(0, f8), queue=np.zeros(0, i4), channel=np.zeros(0, i4),
                   ctype=np.zeros(0, i4), work_s=np.zeros(0, f8), abandon_at_s=np.zeros(0, f8),
                   u_route=np.zeros(0, f8), closed=np.zeros(0, np.int8))
        if self.model.journeys is not None:
            out.update(u_outcome=np.zeros(0, f8), severity=np.zeros(0, np.int8),
                       auth_tier=np.zeros(0, np.int8))
        return out

    def _days(self, day_lo: int, day_hi: int) -> dict:
        """Every draw of the contacts arriving in days ``[day_lo, day_hi)``, and the outages.

        NOTE: each day draws from its own streams, in the same order as when it is sampled
        alone, but everything that draws nothing (sorting, contact types, closed channels,
        outages, queues, putting the draws on their contacts) is done once for the whole
        chunk, not per day, and without a pass over the contacts per channel or contact type
        (~20 numpy calls per day and most boolean masks saved). The chunk's contacts are the
        days' contacts in day order: a day's arrivals lie in [d, d + 1] days, so a stable
        sort of the chunk by arrival is the days' sorts one after the other.
        """
        grid, per_day, n_types = self.grid, self.per_day, len(self.types)
        model_channels = self.model.n_channels
        n_days = day_hi - day_lo
        days = range(day_lo, day_hi)
        rng = self.streams

        # arrivals: per day, the counts per cell and channel, then the offsets in the cell
        counts, offset = [], []
        for d in days:
            arrivals = rng("arrivals", d)
            counts.append(arrivals.poisson(self.lam[d * per_day:(d + 1) * per_day]))
            offset.append(arrivals.random(int(counts[-1].sum())))
        n_day = [x.shape[0] for x in offset]
        counts = np.concatenate(counts)
        n_ch = counts.shape[1]
        per_cell = counts.sum(axis=1)
        offset = _joined(offset)
        # cell * step + offset * step (NOTE: the cells' starts repeated as floats, added in
        # place: the same sums, no per-contact cell array)
        arrival_s = offset * grid.step_s
        arrival_s += np.repeat(np.arange(day_lo * per_day, day_hi * per_day) * grid.step_s,
                               per_cell)
        order, arrival_s = _arrival_order(arrival_s, per_cell, offset)
        # the contacts' (cell, channel) index from the chunk's first cell, and channel
        flat = np.repeat(np.arange(counts.size), counts.ravel())[order]
        channel = np.tile(np.arange(n_ch), counts.shape[0])[flat]
        n = arrival_s.size
        day_first = np.cumsum([0, *n_day])  # the first row of each day (and n)

        # contact type by the channel's shares: the number of cumulative shares <= u, which
        # is searchsorted(cum, u, side="right") (NOTE: one pass per type over all contacts
        # beats a mask and a searchsorted per channel, ~10x; counted in int8 when it fits,
        # the thresholds gathered by np.take)
        u = _uniforms(rng, "contact_type", days, n_day)
        small = n_types < 127
        ctype = (u >= np.take(self.cum_table[0], channel)).view(np.int8)
        if not small:
            ctype = ctype.astype(np.int32)
        for k in range(1, n_types):
            ctype += (u >= np.take(self.cum_table[k], channel)).view(np.int8)
        np.minimum(ctype, np.take(self.type_cap_i8 if small else self.type_cap, channel),
                   out=ctype)
        # the contacts by contact type (no type first), each type's in row order, so in day
        # order: a type's draws over the days land on by_type[type_lo[k]:type_lo[k + 1]].
        # NOTE: the rows are in day order, so a stable sort by type alone sorts by (type,
        # day) (a radix sort for int8); a type's contacts per day by bisecting its rows.
        by_type = np.argsort(ctype, kind="stable")
        type_lo = np.searchsorted(ctype[by_type], np.arange(n_types + 1)).tolist()
        per_type = [np.diff(np.searchsorted(by_type[type_lo[k]:type_lo[k + 1]], day_first))
                    for k in range(n_types)]
        per_type = np.array(per_type, dtype=np.int64).reshape(n_types, n_days).T.tolist()
        ctype = ctype.astype(np.int32)

        # closed live channels: lost, or redirected to a deferred channel as voicemail
        first = day_lo * per_day * n_ch
        is_open = self.cell_open[first:first + counts.size][flat]
        closed = self.cell_closed[first:first + counts.size][flat]
        redirect = self.cell_redirect[first:first + counts.size][flat]
        outages = None
        if self.outage_channels:
            outages = self._apply_outages(days, arrival_s, day_first, channel, is_open, closed,
                                          redirect)
        serve_channel = channel
        if redirect.any():
            serve_channel = np.where(redirect, self.voicemail_to[channel], channel)
        # NOTE: one gather from the flattened table by an intp index (indexing by the
        # int32 contact types is several times slower)
        at = ctype.astype(np.intp)
        at += 1
        at *= model_channels
        at += serve_channel
        queue = np.take(self.type_queue_flat, at)

        # handle (and wrap-up) times: per day, per contact type in type order, put in
        # place for the contacts by type (NOTE: no lists of parts joined; the wrap-up added
        # in place, the same sums)
        work = np.empty(type_lo[-1] - type_lo[0])
        at = [lo - type_lo[0] for lo in type_lo[:-1]]  # per type, where its next draws go
        for d, m_day in zip(days, per_type, strict=True):
            day_rng = rng("work", d)
            for k, m in enumerate(m_day):
                if m:
                    draw_handle, draw_wrap = self.work_draws[k]
                    a = at[k]
                    at[k] = a + m
                    work[a:a + m] = draw_handle(day_rng, m)
                    if draw_wrap is not None:
                        work[a:a + m] += draw_wrap(day_rng, m)
        work_s = np.empty(n)
        work_s[by_type[type_lo[0]:]] = work

        # patience: per day, per live channel with a patience in channel order
        abandon_at_s = np.full(n, np.inf)
        if self.patience_draws:
            # per live channel with a patience, the rows of its contacts that may abandon
            # (in order, so by day) and how many there are per day
            # NOTE: the serving channel of the contacts that wait (-1: closed), in int8 when
            # it fits: one cheap comparison per channel
            waiting = serve_channel.astype(np.int8 if model_channels < 127 else np.intp)
            waiting[closed != 0] = -1
            rows = [np.flatnonzero(waiting == c) for c, _ in self.patience_draws]
            n_wait = [np.diff(np.searchsorted(r, day_first)).tolist() for r in rows]
            patience = [[] for _ in rows]
            for i, d in enumerate(days):
                day_rng = rng("patience", d)
                for j, (_, draw_patience) in enumerate(self.patience_draws):
                    if n_wait[j][i]:
                        patience[j].append(draw_patience(day_rng, n_wait[j][i]))
            # NOTE: the patience put in place, then the arrivals added to every contact at
            # once (+inf stays +inf): the same sums as arrival_s[r] + patience, without
            # gathering the arrivals per channel
            for r, parts in zip(rows, patience, strict=True):
                if parts:
                    abandon_at_s[r] = _joined(parts)
            abandon_at_s += arrival_s
        u_route = _uniforms(rng, "route", days, n_day)
        extra = {}
        if self.first_contacts is not None:
            # each day's journey stream, set up as the days are drawn in turn
            extra = self.first_contacts.days((rng("journey", d) for d in days), n_day,
                                             per_type, by_type, type_lo)
        return dict(
            arrival_s=arrival_s,
            queue=queue,
            channel=serve_channel.astype(np.int32),
            ctype=ctype,
            work_s=work_s,
            abandon_at_s=abandon_at_s,
            u_route=u_route,
            closed=closed,
            **extra,
            outages=outages,
        )

    def _apply_outages(self, days, arrival_s, day_first, channel, is_open, closed, redirect
                       ) -> dict:
        """Draw the chunk's outages; mark the contacts arriving in one (closed or redirect).

        A contact on an open channel with outages falls in an outage when a period of its
        own day holds its arrival, ``lo_s <= arrival_s < hi_s`` (the periods are disjoint).
        NOTE: the contacts in a period are found by bisecting the sorted arrivals, not by a
        pass over the contacts per channel.

        Returns
        -------
        dict
            ``{channel index: (lo_s, hi_s)}``, the chunk's periods in day order.
        """
        per_day = [self._outage_periods(d, self.streams("outage", d)) for d in days]
        outages = {}
        for c in self.outage_channels:
            periods = [p for day_periods in per_day for p in day_periods[c]]
            arr = np.array(periods, dtype=np.float64).reshape(-1, 2)
            lo_s, hi_s = arr[:, 0].copy(), arr[:, 1].copy()
            outages[c] = (lo_s, hi_s)
            if not periods:
                continue
            period_day = np.repeat(np.arange(len(per_day)),
                                   [len(day_periods[c]) for day_periods in per_day])
            first = np.searchsorted(arrival_s, lo_s, side="left")
            length = np.searchsorted(arrival_s, hi_s, side="left") - first
            # the rows in each period's [first, first + length), and the period's day
            idx = np.arange(int(length.sum())) + np.repeat(first - np.cumsum(length) + length,
                                                           length)
            idx = idx[(channel[idx] == c) & is_open[idx]
                      & (np.searchsorted(day_first, idx, side="right") - 1
                         == np.repeat(period_day, length))]
            if self.chans[c].outages.during == "lost":
                closed[idx] = 1
            else:
                redirect[idx] = True
        return outages


def _arrival_order(arrival_s: np.ndarray, per_cell: np.ndarray, offset: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_stable_argsort` of arrivals ``cell * step + offset * step`` (cells in order,
    ``per_cell`` arrivals each, offsets uniforms in [0, 1)).

    NOTE: numpy sorts 64-bit values ~2x faster than it argsorts them. The arrivals are
    sorted as integer keys (the cell, the offset's leading bits, the row in the low bits),
    which give the rows in the order of (cell, offset), the order of the arrivals (a cell's
    arrivals lie in [cell, cell + 1] steps; rounding keeps that order, or makes ties). When
    the arrivals taken in that order increase strictly, it is the one sorting permutation,
    so the stable argsort; else (ties, or offsets alike in their leading bits) the
    stable argsort itself.
    """
    n = arrival_s.shape[0]
    b_row = max(1, (n - 1).bit_length())
    b_off = 64 - b_row - max(1, (per_cell.shape[0] - 1).bit_length())
    if n > 1 and b_off >= 24:
        key = np.repeat(np.arange(per_cell.shape[0], dtype=np.uint64)
                        << np.uint64(b_off + b_row), per_cell)
        bits = (offset * float(2 ** b_off)).astype(np.uint64)  # exact, then floored
        bits <<= np.uint64(b_row)
        key |= bits
        key |= np.arange(n, dtype=np.uint64)
        key.sort()
        key &= np.uint64((1 << b_row) - 1)
        order = key.view(np.int64)  # the rows (< 2**63)
        xs = arrival_s[order]
        if (xs[1:] > xs[:-1]).all():
            return order, xs
    return _stable_argsort(arrival_s)


def _stable_argsort(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.argsort(x, kind="stable")`` for float64 ``x`` without NaN, and ``x`` sorted.

    NOTE: numpy's default (unstable) argsort is ~2x faster than its stable one; when the
    sorted values hold no tie, the sorting permutation is unique, so it is the stable one.
    Ties (rare: equal arrival times) fall back to the stable sort.
    """
    order = np.argsort(x)
    xs = x[order]
    if xs.shape[0] > 1 and (xs[1:] == xs[:-1]).any():
        order = np.argsort(x, kind="stable")
        xs = x[order]
    return order, xs


def _uniforms(rng: DayStreams, name: str, days: range, n_day: list[int]) -> np.ndarray:
    """``n_day[i]`` uniforms from the stream ``(name, days[i])`` for each day, joined.

    NOTE: drawn straight into the result (``random(out=...)`` draws the same numbers as
    ``random(n)``), not drawn per day and joined.
    """
    out = np.empty(sum(n_day))
    lo = 0
    for d, n in zip(days, n_day, strict=True):
        rng(name, d).random(out=out[lo:lo + n])
        lo += n
    return out


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    """``np.concatenate(parts)``; NOTE: no copy for one part (a chunk of one day)."""
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
