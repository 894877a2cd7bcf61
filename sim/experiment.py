"""Replications: seeds, executors and the assembly of their KPIs into :class:`Results`.

Replication *i* of a run with seed *s* draws from ``SeedSequence(s).spawn(n)[i]`` (made here
without mutating state, as ``SeedSequence(s, spawn_key=(i,))``), so its numbers depend on
neither the executor nor the number of workers nor the other replications.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.compile import compile_scenario
from sim.engines import DEFAULT_ENGINE, simulate
from sim.errors import Problem, ScenarioError
from sim.model import CAPACITY_UNITS, Model, Outcome, Outcomes, Workload
from sim.roster import sample_roster
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
    from sim.kpi import measure

    ss = replication_seed(seed, index)
    contacts = None
    if engine == "kernel" and not keep_contacts:
        from sim.stream import simulate_and_measure

        measured = simulate_and_measure(scenario, model, ss)
    else:
        _, workload, roster = prepare(scenario, ss, model)
        outcomes = simulate(model, workload, roster, engine=engine)
        measured = measure(model, workload, roster, outcomes)
        if keep_contacts:
            contacts = contacts_frame(model, workload, outcomes, index)
    totals = measured.totals.assign(replication=index)
    intervals = measured.intervals.assign(replication=index)
    return ReplicationResult(index, totals, intervals, contacts, measured.n_contacts)


def contacts_frame(model: Model, workload: Workload, outcomes: Outcomes, index: int
                   ) -> pd.DataFrame:
    """One row per contact (for ``contacts.parquet``)."""
    outcome_names = np.array([o.name.lower() for o in Outcome])
    wait_end = np.where(outcomes.outcome == Outcome.ANSWERED, outcomes.start_s,
                        np.where(outcomes.outcome == Outcome.ABANDONED, workload.abandon_at_s,
                                 np.nan))
    return pd.DataFrame({
        "replication": np.full(workload.n_contacts, index, dtype=np.int32),
        "contact_id": np.arange(workload.n_contacts, dtype=np.int64),
        "arrival_s": workload.arrival_s,
        "channel": pd.Categorical.from_codes(workload.channel, model.channel_names),
        "queue": pd.Categorical.from_codes(workload.queue, model.queue_names),
        "contact_type": pd.Categorical.from_codes(workload.ctype, model.meta["ctype_names"]),
        "outcome": pd.Categorical(outcome_names[outcomes.outcome]),
        "agent": outcomes.agent,
        "wait_s": wait_end - workload.arrival_s,
        "start_s": outcomes.start_s,
        "end_s": outcomes.end_s,
        "work_s": workload.work_s,
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
    shrink = _intended_shrinkage(scenario)
    for c, ch in enumerate(model.channel_names):
        spec = scenario.channels[ch]
        if (spec.kind == "live" and spec.patience is not None) or volumes.get(ch, 0) == 0:
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
                getattr(scenario, "_file", None) or "<scenario>",
                _line_of(scenario, "demand", "daily", ch), f"demand.daily.{ch}",
                f"unstable queue: channel '{ch}' offers {load:.2f} agents' worth of work on "
                f"average but at most {staff_d:.2f} agents can serve it, and its contacts "
                "never abandon, so its queue grows without bound",
                "add agents, or give the channel patience"))
    if problems and horizon_d > 0:
        raise ScenarioError(problems)


def _line_of(scenario: Scenario, *path) -> int | None:
    lines = getattr(scenario, "_lines", None) or {}
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path)


def _intended_shrinkage(scenario: Scenario) -> float:
    """Share of shift time the scenario's shrinkage events are meant to take (approx.)."""
    from sim.roster import intended_shrinkage

    return intended_shrinkage(scenario)


def _worker_init() -> None:
    # one thread per process: the engines are single-threaded and numpy's BLAS is unused
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def run_replications(scenario: Scenario, replications: int, seed: int, engine: str,
                     workers: int = 1, keep_contacts: bool = False, progress: bool = False,
                     model: Model | None = None) -> list[ReplicationResult]:
    """Run replications ``0 .. replications-1``, in-process or on local processes."""
    model = model if model is not None else compile_scenario(scenario)
    bar = _progress(replications, progress)
    results: list[ReplicationResult] = []
    try:
        if workers <= 1 or replications <= 1:
            for i in range(replications):
                results.append(run_replication(scenario, model, seed, i, engine, keep_contacts))
                bar.update(1)
        else:
            with ProcessPoolExecutor(max_workers=workers, initializer=_worker_init) as pool:
                futures = [pool.submit(run_replication, scenario, model, seed, i, engine,
                                       keep_contacts) for i in range(replications)]
                for f in futures:
                    results.append(f.result())
                    bar.update(1)
    finally:
        bar.close()
    return sorted(results, key=lambda r: r.index)


class _NoBar:
    def update(self, n):
        pass

    def close(self):
        pass


def _progress(total: int, enabled: bool):
    if not enabled or not sys.stderr.isatty():
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="rep", desc="replications", file=sys.stderr)
