"""Replications: seeds, executors and the assembly of their KPIs into :class:`Results`.

Replication *i* of a run with seed *s* draws from ``SeedSequence(s).spawn(n)[i]`` (made here
without mutating state, as ``SeedSequence(s, spawn_key=(i,))``), so its numbers depend on
neither the executor nor the number of workers nor the other replications.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.compile import compile_scenario
from sim.engines import DEFAULT_ENGINE, simulate
from sim.errors import Problem, ScenarioError
from sim.executors import ExecutorSpec, execute
from sim.model import CAPACITY_UNITS, Model, Outcome, Outcomes, Workload
from sim.roster import intended_shrinkage, sample_roster
from sim.scenario import Scenario, distribution_mean_s
from sim.shared import SharedColumns, shareable
from sim.shared import available as shared_available
from sim.workload import sample_workload


def replication_seed(seed: int, index: int) -> np.random.SeedSequence:
    """The SeedSequence of replication ``index``: ``SeedSequence(seed).spawn(n)[index]``."""
    return np.random.SeedSequence(seed, spawn_key=(index,))


def prepare(scenario: Scenario, seed, model: Model | None = None):
    """Compile (if needed) and sample one replication: ``(model, workload, roster)``."""
    model = model if model is not None else compile_scenario(scenario)
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return model, sample_workload(scenario, model, ss), sample_roster(scenario, model, ss)


@dataclass
class ReplicationResult:
    """KPIs of one replication (and its contacts when asked for).

    ``queue_sums``: with an ``economics`` section, the per month x queue sums
    :mod:`sim.economics` reads (:func:`sim.economics.queue_month_sums`, made in the worker
    from the per-queue interval rows, kept or not); else None.
    """

    index: int
    totals: pd.DataFrame
    intervals: pd.DataFrame
    contacts: pd.DataFrame | None
    n_contacts: int
    queue_sums: pd.DataFrame | None = None


#: Auto rule of ``queue_intervals=None``: keep the per-queue interval rows when there are at
#: most this many (reporting intervals x queues) per replication.
QUEUE_INTERVALS_MAX = 100_000


def keep_queue_intervals(model: Model, queue_intervals: bool | None = None) -> bool:
    """Whether a run keeps per-queue interval rows: ``queue_intervals``, or when None (auto)
    ``model.n_intervals * model.n_queues <= QUEUE_INTERVALS_MAX`` (CareConnect's 28 days of
    half-hours x 26 queues: kept; a year: omitted)."""
    if queue_intervals is not None:
        return bool(queue_intervals)
    return int(model.n_intervals) * int(model.n_queues) <= QUEUE_INTERVALS_MAX


def economics_queue_columns(scenario: Scenario) -> tuple:
    """The per-queue KPI columns :func:`sim.economics.compute` reads from the intervals
    (``answered``, ``aht_s``, the pricing tiers' target KPIs and their weights); () without
    an ``economics`` section."""
    econ = getattr(scenario, "economics", None)
    if econ is None:
        return ()
    from sim.economics import TIER_KPIS
    from sim.kpi import KPI_KEYS

    kpis = [k for tier in econ.pricing.values() for k in tier.targets]
    cols = ["answered", "aht_s", *kpis, *(TIER_KPIS[k] for k in kpis)]
    return tuple(k for k in KPI_KEYS if k in cols)


def run_replication(scenario: Scenario, model: Model, seed: int, index: int,
                    engine: str = DEFAULT_ENGINE, keep_contacts: bool = False,
                    queue_intervals: bool = True) -> ReplicationResult:
    """Sample, simulate and measure replication ``index``.

    With ``queue_intervals=False`` the interval rows are the channels' and ``all`` only
    (totals unchanged). With an ``economics`` section, the sums it needs come in
    ``queue_sums``.

    The compiled kernel without ``keep_contacts`` streams the replication in chunks of days
    (:func:`sim.stream.simulate_and_measure`: memory bounded whatever the horizon, KPIs
    identical to the one-shot path); the SimPy engine, and any run that keeps its contacts,
    take the one-shot path (whole workload, then :func:`sim.kpi.measure`).
    """
    from sim.kpi import journey_windows, measure

    ss = replication_seed(seed, index)
    contacts = None
    econ = getattr(scenario, "economics", None) is not None
    queue_columns = () if queue_intervals or not econ else economics_queue_columns(scenario)
    if engine == "kernel" and not keep_contacts:
        from sim.stream import simulate_and_measure

        measured = simulate_and_measure(scenario, model, ss, queue_intervals=queue_intervals,
                                        queue_columns=queue_columns)
    else:
        _, workload, roster = prepare(scenario, ss, model)
        outcomes = simulate(model, workload, roster, engine=engine)
        measured = measure(model, workload, roster, outcomes,
                           journey_windows(scenario, model), queue_intervals, queue_columns)
        if keep_contacts:
            contacts = contacts_frame(model, workload, outcomes, index)
    totals = measured.totals.assign(replication=index)
    intervals = measured.intervals.assign(replication=index)
    queue_sums = None
    if econ:
        from sim.economics import queue_month_sums

        rows = (intervals if measured.queue_rows is None
                else measured.queue_rows.assign(replication=index))
        queue_sums = queue_month_sums(scenario, model, rows)
    return ReplicationResult(index, totals, intervals, contacts, measured.n_contacts,
                             queue_sums)


def contacts_frame(model: Model, workload: Workload, outcomes: Outcomes, index: int
                   ) -> pd.DataFrame:
    """One row per contact (for ``contacts.parquet``): the first contacts in id order, then
    the follow-ups (``outcomes.followups``) in id order, ``contact_id`` being their global
    id. ``journey`` is the id of the journey's first contact; ``kind``, ``fate`` and
    ``severity`` are the names of :class:`sim.model.ContactKind`, :class:`sim.model.Fate`
    and :data:`sim.model.SEVERITY_NAMES`."""
    from sim.model import SEVERITY_NAMES, ContactKind, Fate, Followups

    n = workload.n_contacts
    fu = outcomes.followups if outcomes.followups is not None else Followups.empty()

    def both(first, follow, dtype=None) -> np.ndarray:
        return np.concatenate([np.asarray(first, dtype=dtype), np.asarray(follow, dtype=dtype)])

    ident = np.arange(n, dtype=np.int64)
    queue = both(workload.queue, fu.queue, np.int32)
    arrival_s = both(workload.arrival_s, fu.arrival_s, np.float64)
    outcome = both(outcomes.outcome, fu.outcome, np.int8)
    start_s = both(outcomes.start_s, fu.start_s, np.float64)
    abandon_at_s = both(workload.abandon_at_s, fu.abandon_at_s, np.float64)
    outcome_names = np.array([o.name.lower() for o in Outcome])
    wait_end = np.where(outcome == Outcome.ANSWERED, start_s,
                        np.where(outcome == Outcome.ABANDONED, abandon_at_s, np.nan))
    return pd.DataFrame({
        "replication": np.full(n + fu.n, index, dtype=np.int32),
        "contact_id": both(ident, fu.id, np.int64),
        "journey": both(ident, fu.journey, np.int64),
        "kind": pd.Categorical.from_codes(
            both(np.full(n, int(ContactKind.FIRST)), fu.kind, np.int8),
            [k.name.lower() for k in ContactKind]),
        "arrival_s": arrival_s,
        "channel": pd.Categorical.from_codes(model.queue_channel[queue], model.channel_names),
        "queue": pd.Categorical.from_codes(queue, model.queue_names),
        "contact_type": pd.Categorical.from_codes(both(workload.ctype, fu.ctype, np.int32),
                                                  model.meta["ctype_names"]),
        "severity": pd.Categorical.from_codes(both(workload.severity, fu.severity, np.int8),
                                              list(SEVERITY_NAMES)),
        "outcome": pd.Categorical(outcome_names[outcome]),
        "fate": pd.Categorical.from_codes(both(outcomes.fate, fu.fate, np.int8),
                                          [f.name.lower() for f in Fate]),
        "agent": both(outcomes.agent, fu.agent, np.int32),
        "wait_s": wait_end - arrival_s,
        "start_s": start_s,
        "end_s": both(outcomes.end_s, fu.end_s, np.float64),
        "work_s": both(workload.work_s, fu.work_s, np.float64),
    })


def check_stability(scenario: Scenario, model: Model) -> None:
    """Refuse a scenario whose queue would grow without bound.

    With no abandonment (deferred channels, or live channels without patience) a queue is
    stable only if the offered work is below the capacity that can serve it. This check
    compares, over the whole horizon, the offered capacity-time of such channels with the
    capacity-time of the agents who can serve them (on duty, after shrinkage).
    """
    horizon_d = model.horizon_s / 86400.0
    d = scenario.demand
    volumes = d.daily or {}
    if d.daily is None and d.monthly is not None:
        volumes = {ch: v * 12 / 365.25 for ch, v in d.monthly.items()}
    problems = []
    shrink = intended_shrinkage(scenario)
    for c, ch in enumerate(model.channel_names):
        spec = scenario.channels.get(ch)  # None: the escalation channel (no demand of its own)
        if spec is None or (spec.kind == "live" and spec.patience is not None) \
                or volumes.get(ch, 0) == 0:
            continue
        # offered capacity-time per day on this channel (agent-days), at speed 1
        work_d = sum(volumes[ch] * ct.share.get(ch, 0.0)
                     * (distribution_mean_s(ct.handle_time)
                        + (distribution_mean_s(ct.wrap_up) if ct.wrap_up else 0.0))
                     for ct in scenario.contact_types.values()) / 86400.0
        load = work_d * model.channel_units[c] / CAPACITY_UNITS
        able = {t for t, team in enumerate(scenario.teams.values()) if ch in team.channels}
        staff_d = 0.0
        for t, team in enumerate(scenario.teams.values()):
            if t not in able:
                continue
            if team.shifts is None:
                staff_d += team.headcount * team.speed
            else:
                hours = sum(sh.agents * sh.length * len(sh.days) / 7.0 for sh in team.shifts)
                staff_d += hours / 86400.0 * (1.0 - shrink) * team.speed
        if load >= staff_d and not np.isnan(load):
            problems.append(Problem(
                scenario._file, scenario.line_of("demand", "daily", ch), f"demand.daily.{ch}",
                f"unstable queue: channel '{ch}' offers {load:.2f} agents' worth of work on "
                f"average but at most {staff_d:.2f} agents can serve it, and its contacts "
                "never abandon, so its queue grows without bound",
                "add agents, or give the channel patience"))
    if problems and horizon_d > 0:
        raise ScenarioError(problems)


@dataclass
class PackedReplication:
    """A replication's frames as Arrow IPC stream bytes: what a task sends back to the client
    (and what :class:`ReplicationStore` keeps on disk for a resume).

    # NOTE: Arrow IPC instead of pickled frames (the tidy intervals hold string columns that
    # pickle slowly and large) and instead of Parquet (encoding and decoding a year of
    # intervals per replication cost about 0.15 s in the worker and 0.1 s in the client;
    # IPC is a copy of the column buffers, and the client joins them without decoding).
    """

    index: int
    files: dict  # file name (``<frame>.arrow``) -> Arrow IPC stream bytes
    n_contacts: int
    shared: tuple = ()  # frames written into the client's shared columns instead

    @classmethod
    def pack(cls, rep: ReplicationResult) -> PackedReplication:
        files = {}
        for name in _FRAMES:
            frame = getattr(rep, name)
            if frame is not None:
                files[f"{name}{_SUFFIX}"] = _to_ipc(frame)
        return cls(rep.index, files, rep.n_contacts)

    def unpack(self, shared: dict | None = None) -> ReplicationResult:
        """The replication, its frames decoded from the bytes when first used.

        ``shared``: frame name -> ``(SharedColumns, position)`` for the frames the worker
        wrote into the client's shared columns (:attr:`shared`).
        """
        return _PackedResult(self.index, self.files, self.n_contacts,
                             {k: v for k, v in (shared or {}).items() if k in self.shared})


#: File suffix of a packed frame.
_SUFFIX = ".arrow"


def _to_ipc(frame: pd.DataFrame) -> bytes:
    """``frame`` as a zstd-compressed Arrow IPC stream, its row count in the schema metadata
    (``ccsim_rows``, readable without decompressing anything: :func:`_ipc_rows`).

    # NOTE: zstd: a year of CareConnect intervals is 41 MB raw and 8 MB compressed (many NaN
    # and zero columns), and writing the compressed stream is faster than the raw one (30
    # vs 85 ms: less memory touched); the client decompresses one replication at a time
    # (~14 ms each) and holds 5x less while the workers run.
    """
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           b"ccsim_rows": str(table.num_rows).encode()})
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression="zstd")
    with pa.ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _from_ipc(data: bytes):
    """The Arrow table of :func:`_to_ipc` bytes."""
    import pyarrow as pa

    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


def _ipc_rows(data: bytes) -> int:
    """The row count of :func:`_to_ipc` bytes, from the schema alone when it is there."""
    import pyarrow as pa

    rows = (pa.ipc.open_stream(pa.py_buffer(data)).schema.metadata or {}).get(b"ccsim_rows")
    return int(rows) if rows is not None else _from_ipc(data).num_rows


class _PackedResult(ReplicationResult):
    """A :class:`ReplicationResult` holding its frames as Arrow IPC bytes (``files``), each
    decoded on first access.

    # NOTE: lazy, so that :func:`concat_frames` can join the tables of many replications in
    # Arrow and convert to pandas once, instead of converting each then concatenating.
    """

    def __init__(self, index: int, files: dict, n_contacts: int, shared: dict | None = None):
        self.index = index
        self.files = files
        self.n_contacts = n_contacts
        self.shared = shared or {}  # frame name -> (SharedColumns, position)

    def __getattr__(self, name):
        if name not in _FRAMES:
            raise AttributeError(name)
        data = self.files.get(f"{name}{_SUFFIX}")
        if name in self.shared:
            columns, position = self.shared[name]
            value = columns.part(position)
        else:
            value = None if data is None else _from_ipc(data).to_pandas()
        setattr(self, name, value)
        return value


def concat_frames(reps: list, name: str, consume: bool = False) -> pd.DataFrame:
    """``pd.concat`` of the replications' frame ``name`` (same frame, same dtypes).

    Replications still holding that frame as bytes are joined from their Arrow tables, one
    at a time (faster and smaller for the large interval tables of long runs), or taken
    from the join :func:`run_replications` made while they arrived (with the parts local
    workers wrote into shared columns). With ``consume``, each one's bytes are dropped once
    joined (the caller needs them no more).
    """
    file = f"{name}{_SUFFIX}"
    if reps and all(isinstance(r, _PackedResult) and name not in vars(r)
                    and (file in r.files or name in r.shared) for r in reps):
        joiner = getattr(reps[0], "_joined", {}).get(name)
        frame = None
        if joiner is not None and [getattr(r, "_joined", {}).get(name) for r in reps] \
                == [joiner] * len(reps) and [r.index for r in reps] == joiner.order:
            frame = joiner.frame()
        if frame is None and all(file in r.files for r in reps):
            joiner = _Joiner([_ipc_rows(r.files[file]) for r in reps])
            frame = joiner.frame() if all(joiner.add(j, r.files[file])
                                          for j, r in enumerate(reps)) else None
        if frame is not None:
            if consume:
                for r in reps:
                    r.files.pop(file, None)
            return frame
    return pd.concat([getattr(r, name) for r in reps], ignore_index=True)


class _Joiner:
    """Joins the Arrow tables of :func:`_to_ipc` bytes, part by part in any order, into the
    DataFrame ``pd.concat`` of their ``to_pandas()`` (parts in position order) gives.

    ``rows``: each part's row count, or None when every part has the first added one's
    (:func:`run_replications` joins replications as they arrive, before it knows the
    others'). :meth:`add` refuses a part that differs in schema, categories or rows; then
    :meth:`frame` is None and the caller joins otherwise.

    ``shared``: a :class:`sim.shared.SharedColumns` whose arrays are the output; parts the
    workers wrote there themselves are only marked (:meth:`mark`), parts that come as bytes
    are copied in when their columns match its layout.

    # NOTE: each numeric and categorical column is allocated once at its final length and
    # filled part by part, each part decoded (decompressed) only when added and dropped once
    # copied: one copy of the data, one array per column (no 2-D blocks), and the pages of a
    # dropped part are reused for the next one. A year of intervals over 30 replications is
    # ~1.2 GB, and on the project's VMs memory touched for the first time costs several
    # times the copy (measured: 3.1 s cold vs 0.6 s for the same join). Other columns (text)
    # are converted by pandas and concatenated.
    """

    def __init__(self, rows: list[int] | None, n_parts: int | None = None,
                 order: list | None = None, shared=None):
        self.rows = rows
        self.n_parts = len(rows) if rows is not None else int(n_parts)
        self.order = order  # the replication index of each position (run_replications)
        self.done = [False] * self.n_parts
        self.failed = False
        self.first = None
        self.shared = shared
        if shared is not None:
            self.rows = [shared.rows] * self.n_parts
            self._layout(shared.sample, shared.arrays)

    def _layout(self, sample: pd.DataFrame, arrays: dict | None = None) -> None:
        """Output columns for parts with ``sample``'s columns and dtypes (``arrays``: the
        output arrays to fill, else new ones)."""
        self.sample = sample
        rows = self.rows or [self.first.num_rows] * self.n_parts
        self.bounds = np.cumsum([0, *rows])
        n = int(self.bounds[-1])
        self.out, self.kinds = {}, {}
        for name, dtype in sample.dtypes.items():
            if isinstance(dtype, pd.CategoricalDtype):
                self.kinds[name] = "codes"
                self.out[name] = arrays[name] if arrays else np.empty(n, dtype=np.int32)
            elif isinstance(dtype, np.dtype) and dtype.kind in "iufb":
                self.kinds[name] = "values"
                self.out[name] = arrays[name] if arrays else np.empty(n, dtype=dtype)
            else:
                self.kinds[name], self.out[name] = "pandas", [None] * self.n_parts

    def _start(self, table) -> None:
        import pyarrow as pa

        self.first = table
        self._layout(table.slice(0, 0).to_pandas())  # the dtypes pandas gives each column
        for i, name in enumerate(self.sample.columns):
            kind = table.schema.field(i).type
            # (a categorical stored otherwise than as a dictionary, or a number stored as
            # anything but a number, is converted by pandas)
            if (self.kinds[name] == "codes" and not pa.types.is_dictionary(kind)) or (
                    self.kinds[name] == "values" and not (
                        pa.types.is_integer(kind) or pa.types.is_floating(kind)
                        or pa.types.is_boolean(kind))):
                self.kinds[name], self.out[name] = "pandas", [None] * self.n_parts

    def _fits(self, table, position: int) -> bool:
        rows = table.num_rows == self.bounds[position + 1] - self.bounds[position]
        if self.shared is None:
            # (the pandas metadata differs only by each table's row count, which sets a
            # range index that is replaced anyway)
            return (rows and table.schema.equals(self.first.schema, check_metadata=False)
                    and _same_dictionaries([self.first, table]))
        import pyarrow as pa

        sample = table.slice(0, 0).to_pandas()
        return (rows and list(sample.columns) == list(self.sample.columns)
                and all(a == b for a, b in zip(sample.dtypes, self.sample.dtypes, strict=True))
                and _same_dictionaries([table])
                and all(pa.types.is_dictionary(f.type) == (self.kinds[f.name] == "codes")
                        for f in table.schema))

    def mark(self, position: int) -> None:
        """Part ``position`` was written into the shared output by its worker."""
        self.done[position] = self.shared is not None and not self.failed

    def add(self, position: int, data: bytes) -> bool:
        """Copy part ``position`` in; False (and the join failed) when it does not fit."""
        if self.failed:
            return False
        table = _from_ipc(data)
        if self.first is None and self.shared is None:
            self._start(table)
        lo = int(self.bounds[position])
        fits = self._fits(table, position)
        for i, name in enumerate(self.sample.columns if fits else ()):
            column = table.column(i)
            if self.kinds[name] == "values":
                if column.null_count and self.out[name].dtype.kind != "f":
                    fits = False  # an integer column with nulls: pandas makes it float
                    break
                self.out[name][lo:lo + len(column)] = column.to_numpy()  # float nulls: NaN
            elif self.kinds[name] == "codes":
                at = lo
                for chunk in column.chunks:
                    index = chunk.indices.fill_null(-1) if chunk.null_count else chunk.indices
                    self.out[name][at:at + len(chunk)] = index.to_numpy(zero_copy_only=False)
                    at += len(chunk)
            else:
                self.out[name][position] = table.select([i]).to_pandas()[name]
        self.failed = not fits
        self.done[position] = fits
        return fits

    def frame(self) -> pd.DataFrame | None:
        """The joined frame, once every part was added (else None)."""
        if self.failed or not all(self.done):
            return None
        if self.shared is not None:
            return self.shared.frame()
        out = {}
        for i, name in enumerate(self.sample.columns):
            column = self.out[name]
            if self.kinds[name] == "codes":
                column = pd.Categorical.from_codes(column, dtype=self.sample.dtypes.iloc[i])
            elif self.kinds[name] == "pandas":
                column = pd.concat(column, ignore_index=True)
            out[name] = column
        return pd.DataFrame(out, copy=False)


def _same_dictionaries(tables: list) -> bool:
    """Whether every categorical (dictionary) column has the same categories in every table
    (``pd.concat`` keeps a categorical only then; Arrow would unify them instead)."""
    import pyarrow as pa

    for i, field in enumerate(tables[0].schema):
        if not pa.types.is_dictionary(field.type):
            continue
        ref = None
        for t in tables:
            for chunk in t.column(i).chunks:
                if ref is None:
                    ref = chunk.dictionary
                elif not chunk.dictionary.equals(ref):
                    return False
    return True


def has_frame(rep: ReplicationResult, name: str) -> bool:
    """Whether the replication has the frame ``name`` (without decoding it)."""
    if isinstance(rep, _PackedResult) and name not in vars(rep):
        return f"{name}{_SUFFIX}" in rep.files
    return getattr(rep, name) is not None


#: Frames of a replication, packed as ``<name>.arrow`` when present.
_FRAMES = ("totals", "intervals", "contacts", "queue_sums")


def run_batch(payload: tuple, indices: list[int]) -> list[PackedReplication]:
    """Task body: replications ``indices`` of ``payload = (scenario, model, seed, engine,
    keep_contacts[, queue_intervals[, shared]])``, in order (module level: it is pickled to
    the workers).

    ``shared``: ``(token, positions, send)``, the client's :class:`sim.shared.SharedColumns`
    for the intervals and each replication's part in it; a worker that has it (forked after
    it was made) writes the intervals there, and sends them as bytes too only if ``send``
    (the client keeps them in a :class:`ReplicationStore`).
    """
    from sim.shared import lookup

    scenario, model, seed, engine, keep_contacts, *rest = payload
    queue_intervals = rest[0] if rest else True
    token, positions, send = rest[1] if len(rest) > 1 and rest[1] else (None, {}, True)
    columns = lookup(token)
    out = []
    for i in indices:
        rep = run_replication(scenario, model, seed, i, engine, keep_contacts, queue_intervals)
        shared = ()
        if columns is not None and rep.intervals is not None \
                and columns.write(positions[i], rep.intervals):
            shared = ("intervals",)
            if not send:
                rep.intervals = None
        packed = PackedReplication.pack(rep)
        packed.shared = shared
        out.append(packed)
    return out


def interval_sample(scenario: Scenario, model: Model, queue_intervals: bool = True
                    ) -> pd.DataFrame:
    """The interval rows of a replication of no contacts and no agents: the rows, columns
    and dtypes every replication's ``intervals`` has (the values differ)."""
    from sim.kpi import Accumulator, journey_windows
    from sim.model import Roster

    econ = getattr(scenario, "economics", None) is not None
    queue_columns = () if queue_intervals or not econ else economics_queue_columns(scenario)
    acc = Accumulator(model, journey_windows(scenario, model), queue_intervals, queue_columns)
    i4, f8 = np.zeros(0, dtype=np.int32), np.zeros(0)
    acc.add_roster(Roster(i4, f8, f8, i4, f8, f8, i4, f8, f8, np.zeros(0, dtype=np.int8)), f8)
    return acc.result().intervals.assign(replication=0)


class ReplicationStore:
    """Finished replications of a run, one folder each, under ``RUN/.replications/``.

    ``rep-000017/`` holds ``totals.arrow`` and ``intervals.arrow`` (and ``contacts.arrow``
    when the run keeps contacts; Arrow IPC streams, :class:`PackedReplication`) of
    replication 17 and ``n_contacts``. It
    is written to a temporary folder and renamed into place, so it is whole or absent.
    """

    def __init__(self, run_dir: str | Path):
        self.folder = Path(run_dir) / ".replications"

    def path(self, index: int) -> Path:
        return self.folder / f"rep-{index:06d}"

    def done(self) -> set[int]:
        if not self.folder.is_dir():
            return set()
        return {int(p.name[4:]) for p in self.folder.iterdir()
                if p.is_dir() and p.name.startswith("rep-") and p.name[4:].isdigit()}

    def save(self, rep: PackedReplication | ReplicationResult) -> None:
        if isinstance(rep, ReplicationResult):
            rep = PackedReplication.pack(rep)
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.path(rep.index)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=self.folder))
        try:
            for name, data in rep.files.items():
                (tmp / name).write_bytes(data)
            (tmp / "n_contacts").write_text(f"{rep.n_contacts}\n", encoding="utf-8")
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def load(self, index: int) -> ReplicationResult:
        p = self.path(index)
        files = {}
        for name in _FRAMES:
            if (p / f"{name}{_SUFFIX}").exists():
                files[f"{name}{_SUFFIX}"] = (p / f"{name}{_SUFFIX}").read_bytes()
            elif (p / f"{name}.parquet").exists():  # saved by an earlier ccsim (Parquet)
                files[f"{name}{_SUFFIX}"] = _to_ipc(pd.read_parquet(p / f"{name}.parquet"))
        return _PackedResult(index, files,
                             int((p / "n_contacts").read_text(encoding="utf-8")))

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def run_replications(scenario: Scenario, replications: int | list[int], seed: int,
                     engine: str, workers: int = 1, keep_contacts: bool = False,
                     progress: bool = False, model: Model | None = None,
                     executor: ExecutorSpec | None = None,
                     store: ReplicationStore | None = None,
                     queue_intervals: bool = True) -> list[ReplicationResult]:
    """Run replications ``0 .. replications-1`` (or the given indices), in index order.

    Parameters
    ----------
    queue_intervals : bool
        Per-queue interval rows (False: channels and ``all`` only; see
        :func:`run_replication`).
    executor : ExecutorSpec, optional
        Default: local processes when ``workers > 1``, else in this process.
    store : ReplicationStore, optional
        Each finished replication is saved there as it completes; replications already in
        it are loaded, not run again. The returned replications are then read back from it,
        so a resumed run assembles exactly the same frames as an uninterrupted one.
    """
    model = model if model is not None else compile_scenario(scenario)
    indices = (list(range(replications)) if isinstance(replications, int)
               else sorted(replications))
    spec = executor or ExecutorSpec.choose(workers)
    if len(indices) <= 1 and spec.kind == "processes":
        spec = ExecutorSpec("in-process")
    done = store.done() if store is not None else set()
    results: dict[int, ReplicationResult] = {}
    # NOTE: the tables are joined as the replications arrive, while the workers still run
    # (the client would otherwise join them all at the end on one core, the other idle);
    # concat_frames takes a join when it covers exactly the replications asked for.
    position = {i: p for p, i in enumerate(indices)}
    todo = [(0, i) for i in indices if i not in done]
    columns = None
    if spec.kind == "processes" and len(todo) > 1 and shared_available():
        # Local workers forked from here write the intervals into shared columns (made
        # before the pool forks them): nothing to encode, send, decode or copy (with a
        # store, they still send the bytes it keeps, but nothing is decoded or copied).
        sample = interval_sample(scenario, model, bool(queue_intervals))
        if shareable(sample) and len(sample):
            columns = SharedColumns(sample, len(sample), len(indices))
    # (contacts: each replication has its own rows; they are joined at the end)
    joiners = {name: _Joiner(None, len(indices), order=list(indices),
                             shared=columns if name == "intervals" else None)
               for name in _FRAMES if name != "contacts"}
    shared = {"intervals": columns} if columns is not None else {}

    def on_result(key, rep: PackedReplication) -> None:
        p = position[rep.index]
        for name, joiner in joiners.items():
            data = rep.files.get(f"{name}{_SUFFIX}")
            if name in rep.shared:
                joiner.mark(p)
            elif data is not None:
                joiner.add(p, data)
        if store is not None:
            store.save(rep)
        else:
            results[rep.index] = rep.unpack({k: (v, p) for k, v in shared.items()
                                             if f"{k}{_SUFFIX}" not in rep.files})

    if todo:
        payload = (scenario, model, seed, engine, keep_contacts, bool(queue_intervals),
                   (columns.register(), position, store is not None)
                   if columns is not None else None)
        try:
            execute(run_batch, {0: payload}, todo, spec, on_result, progress=progress)
        finally:
            if columns is not None:
                columns.unregister()
    out = [store.load(i) for i in indices] if store is not None else \
        [results[i] for i in indices]
    for rep in out:
        if isinstance(rep, _PackedResult):
            rep._joined = joiners
    return out


def run_jobs(jobs: dict, replications: int, seed: int, engine: str,
             executor: ExecutorSpec, progress: bool = False, desc: str = "replications"
             ) -> dict:
    """Replications ``0 .. replications-1`` of several scenarios with the same seeds.

    Parameters
    ----------
    jobs : dict
        ``key -> (scenario, model)``.

    Returns
    -------
    dict
        ``key -> list[ReplicationResult]`` in index order. Replication *i* of every job draws
        from the same ``SeedSequence(seed).spawn(n)[i]``: common random numbers.
    """
    payloads = {k: (scn, model, seed, engine, False) for k, (scn, model) in jobs.items()}
    results: dict = {k: {} for k in jobs}
    units = [(k, i) for k in jobs for i in range(replications)]
    execute(run_batch, payloads, units, executor,
            lambda key, rep: results[key].__setitem__(rep.index, rep.unpack()),
            progress=progress, desc=desc)
    return {k: [reps[i] for i in range(replications)] for k, reps in results.items()}
