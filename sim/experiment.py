"""Replications: seeds, executors and the assembly of their KPIs into :class:`Results`.

Replication *i* of a run with seed *s* draws from ``SeedSequence(s).spawn(n)[i]`` (made here
without mutating state, as ``SeedSequence(s, spawn_key=(i,))``), so its numbers depend on
neither the executor nor the number of workers nor the other replications.
"""

from __future__ import annotations

import io
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
    """KPIs of one replication (and its contacts when asked for)."""

    index: int
    totals: pd.DataFrame
    intervals: pd.DataFrame
    contacts: pd.DataFrame | None
    n_contacts: int


def run_replication(scenario: Scenario, model: Model, seed: int, index: int,
                    engine: str = DEFAULT_ENGINE, keep_contacts: bool = False
                    ) -> ReplicationResult:
    """Sample, simulate and measure replication ``index``.

    The compiled kernel without ``keep_contacts`` streams the replication in chunks of days
    (:func:`sim.stream.simulate_and_measure`: memory bounded whatever the horizon, KPIs
    identical to the one-shot path); the SimPy engine, and any run that keeps its contacts,
    take the one-shot path (whole workload, then :func:`sim.kpi.measure`).
    """
    from sim.kpi import journey_windows, measure

    ss = replication_seed(seed, index)
    contacts = None
    if engine == "kernel" and not keep_contacts:
        from sim.stream import simulate_and_measure

        measured = simulate_and_measure(scenario, model, ss)
    else:
        _, workload, roster = prepare(scenario, ss, model)
        outcomes = simulate(model, workload, roster, engine=engine)
        measured = measure(model, workload, roster, outcomes,
                           journey_windows(scenario, model))
        if keep_contacts:
            contacts = contacts_frame(model, workload, outcomes, index)
    totals = measured.totals.assign(replication=index)
    intervals = measured.intervals.assign(replication=index)
    return ReplicationResult(index, totals, intervals, contacts, measured.n_contacts)


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
    """A replication's frames as Parquet bytes: what a task sends back to the client.

    # NOTE: Parquet instead of pickled frames: the tidy intervals hold string columns that
    # pickle slowly and large; the bytes are also what the client writes to the run folder.
    """

    index: int
    files: dict  # file name -> Parquet bytes
    n_contacts: int

    @classmethod
    def pack(cls, rep: ReplicationResult) -> PackedReplication:
        files = {}
        for name in ("totals", "intervals", "contacts"):
            frame = getattr(rep, name)
            if frame is not None:
                buf = io.BytesIO()
                frame.to_parquet(buf, index=False)
                files[f"{name}.parquet"] = buf.getvalue()
        return cls(rep.index, files, rep.n_contacts)

    def unpack(self) -> ReplicationResult:
        def read(name):
            data = self.files.get(f"{name}.parquet")
            return None if data is None else pd.read_parquet(io.BytesIO(data))

        return ReplicationResult(self.index, read("totals"), read("intervals"),
                                 read("contacts"), self.n_contacts)


def run_batch(payload: tuple, indices: list[int]) -> list[PackedReplication]:
    """Task body: replications ``indices`` of ``payload = (scenario, model, seed, engine,
    keep_contacts)``, in order (module level: it is pickled to the workers)."""
    scenario, model, seed, engine, keep_contacts = payload
    return [PackedReplication.pack(run_replication(scenario, model, seed, i, engine,
                                                   keep_contacts)) for i in indices]


class ReplicationStore:
    """Finished replications of a run, one folder each, under ``RUN/.replications/``.

    ``rep-000017/`` holds ``totals.parquet`` and ``intervals.parquet`` (and
    ``contacts.parquet`` when the run keeps contacts) of replication 17 and ``n_contacts``. It
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
        contacts = (pd.read_parquet(p / "contacts.parquet")
                    if (p / "contacts.parquet").exists() else None)
        return ReplicationResult(index, pd.read_parquet(p / "totals.parquet"),
                                 pd.read_parquet(p / "intervals.parquet"), contacts,
                                 int((p / "n_contacts").read_text(encoding="utf-8")))

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def run_replications(scenario: Scenario, replications: int | list[int], seed: int,
                     engine: str, workers: int = 1, keep_contacts: bool = False,
                     progress: bool = False, model: Model | None = None,
                     executor: ExecutorSpec | None = None,
                     store: ReplicationStore | None = None) -> list[ReplicationResult]:
    """Run replications ``0 .. replications-1`` (or the given indices), in index order.

    Parameters
    ----------
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

    def on_result(key, rep: PackedReplication) -> None:
        if store is not None:
            store.save(rep)
        else:
            results[rep.index] = rep.unpack()

    todo = [(0, i) for i in indices if i not in done]
    if todo:
        execute(run_batch, {0: (scenario, model, seed, engine, keep_contacts)}, todo, spec,
                on_result, progress=progress)
    if store is not None:
        return [store.load(i) for i in indices]
    return [results[i] for i in indices]


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
