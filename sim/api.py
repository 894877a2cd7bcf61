"""``sim.run``: a scenario in, :class:`~sim.results.Results` out (the CLI's ``run`` verb)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import platform
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim import __version__
from sim.compile import compile_scenario
from sim.economics import run_economics
from sim.engines import DEFAULT_ENGINE, ENGINES
from sim.errors import CcsimError
from sim.executors import ExecutorSpec
from sim.experiment import (
    ReplicationStore,
    check_stability,
    concat_frames,
    has_frame,
    keep_queue_intervals,
    run_replications,
)
from sim.results import (
    Results,
    batch_frame,
    evaluate_targets,
    write_json_atomic,
    write_resolved_scenario,
)
from sim.scenario import Scenario, load_scenario, unsimulated

#: The ``notes`` entry of a run without per-queue interval rows.
QUEUE_INTERVALS_NOTE = (
    "intervals.parquet holds the channel and 'all' rows only: per-queue interval rows were "
    "omitted (the default when reporting intervals x queues exceed 100,000 per replication, "
    "as for a year of half-hours); totals, summary, targets and economics do not depend on "
    "it. To get them: ccsim run --queue-intervals (sim.run(..., queue_intervals=True))")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Precision:
    """Stop adding replications when the 95% CI half-width of ``kpi`` on ``channel`` is
    at most ``relative * |mean|`` (or ``absolute``), or at ``max_replications``."""

    kpi: str = "service_level"
    channel: str = "all"
    relative: float | None = 0.01
    absolute: float | None = None
    max_replications: int = 200

    @classmethod
    def parse(cls, text: str, kpi: str = "service_level", channel: str = "all",
              max_replications: int = 200) -> Precision:
        """``"0.01"`` (relative) or ``"abs:0.005"`` (absolute)."""
        absolute = text.startswith("abs:")
        try:
            value = float(text[4:] if absolute else text)
        except ValueError:
            raise ValueError(f"--precision: expected a number or abs:NUMBER, got {text!r}"
                             ) from None
        if not value > 0:
            raise ValueError("--precision must be positive")
        return cls(kpi, channel, None if absolute else value, value if absolute else None,
                   max_replications)

    def goal(self, mean: float) -> float:
        return self.absolute if self.absolute is not None else self.relative * abs(mean)

    def to_dict(self) -> dict:
        return {"kpi": self.kpi, "channel": self.channel, "relative": self.relative,
                "absolute": self.absolute, "max_replications": self.max_replications}


def run(scenario: Scenario | str | Path, replications: int = 10, seed: int | None = None,
        engine: str = DEFAULT_ENGINE, workers: int = 1, contacts: bool = False,
        progress: bool = False, command: list[str] | None = None,
        out: str | Path | None = None, dask: str | None = None,
        precision: Precision | None = None, batch_means: int | None = None,
        queue_intervals: bool | None = None) -> Results:
    """Simulate a scenario over independent replications and measure its KPIs.

    Parameters
    ----------
    scenario : Scenario or path
    replications : int
        Number of independent replications (with ``precision``: the first batch); replication
        i uses ``SeedSequence(seed).spawn(n)[i]``.
    seed : int, optional
        Defaults to the scenario's ``seed``.
    engine : {"kernel", "simpy"}
    workers : int
        Local processes (1 = in this process), or LocalCluster workers with ``dask="local"``.
        Results do not depend on it.
    contacts : bool
        Keep one row per contact (``Results.contacts``).
    out : path, optional
        Run folder, written incrementally: each finished replication is saved under
        ``out/.replications/`` as it completes and the final files are built from them at
        the end (see ``results/README.md``); an interrupted run finishes with :func:`resume`.
    dask : str, optional
        ``tcp://host:port`` of a Dask scheduler, or ``"local"`` for a LocalCluster.
    precision : Precision, optional
        Add replications in batches until the KPI's 95% half-width reaches the goal.
    batch_means : int, optional
        Steady state from one long replication (``replications`` must be 1): the measured
        window (after the warm-up) is cut into this many equal batches of consecutive
        intervals, and the summary's mean, standard error and t-interval are over the batch
        values (``n`` = batches; :func:`sim.results.batch_frame`). Choose batches long
        compared with the queue's relaxation time (10 to 30 batches is usual).
    queue_intervals : bool, optional
        Keep per-queue rows in ``Results.intervals`` (the channel and ``all`` rows are
        always there). None (auto): keep them when reporting intervals x queues is at most
        :data:`sim.experiment.QUEUE_INTERVALS_MAX` (100,000) per replication, e.g. a month
        of half-hours, not a year. Totals, summary, targets and economics do not depend on
        it; when omitted, ``manifest["notes"]`` says so.

    Returns
    -------
    Results
    """
    if isinstance(scenario, (str, Path)):
        scenario = load_scenario(scenario)
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if replications < 1:
        raise ValueError("replications must be at least 1")
    if batch_means is not None and (batch_means < 2 or replications != 1 or precision):
        raise ValueError("batch means need one replication, at least 2 batches and no "
                         "precision goal")
    seed = scenario.seed if seed is None else int(seed)
    spec = ExecutorSpec.choose(workers, dask)
    if queue_intervals is None:
        queue_intervals = keep_queue_intervals(compile_scenario(scenario))
    file = scenario._file
    manifest = {
        "ccsim_version": __version__,
        "scenario": scenario.name,
        "scenario_file": file,
        "scenario_sha256": _sha256(file) or hashlib.sha256(
            scenario.model_dump_json().encode()).hexdigest(),
        "seed": seed,
        "engine": engine,
        "replications": replications,
        "contacts": bool(contacts),
        "queue_intervals": bool(queue_intervals),
        "precision": precision.to_dict() if precision is not None else None,
        "batch_means": batch_means,
        "executor": spec.label,
        "workers": spec.workers,
        "command_line": command if command is not None else [],
        "python": platform.python_version(),
        "started": _now(),
        "status": "running",
    }
    store = None
    if out is not None:
        out = Path(out)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise CcsimError(f"{out}: already exists and is not empty; choose another --out")
        out.mkdir(parents=True, exist_ok=True)
        write_resolved_scenario(out / "scenario.yaml", scenario)
        write_json_atomic(out / "manifest.json", manifest)
        store = ReplicationStore(out)
    return _execute(scenario, manifest, spec, progress, store, out, precision)


def resume(run_dir: str | Path, workers: int = 1, dask: str | None = None,
           progress: bool = False) -> Results:
    """Finish an interrupted run folder: run only the replications it lacks.

    The scenario (the folder's resolved ``scenario.yaml``), seed, engine, replications and
    precision come from its ``manifest.json``; the final files are byte-identical to those
    of an uninterrupted run.
    """
    run_dir = Path(run_dir)
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CcsimError(f"{run_dir}: not a run folder (manifest.json: {exc})") from None
    if manifest.get("status") == "finished" or (run_dir / "summary.json").exists():
        raise CcsimError(f"{run_dir}: this run is already complete")
    scenario = load_scenario(run_dir / "scenario.yaml")
    spec = ExecutorSpec.choose(workers, dask)
    manifest = {**manifest, "executor": spec.label, "workers": spec.workers,
                "resumed": _now()}
    precision = manifest.get("precision")
    precision = Precision(**precision) if precision else None
    return _execute(scenario, manifest, spec, progress, ReplicationStore(run_dir), run_dir,
                    precision)


def _execute(scenario, manifest, spec, progress, store, out, precision) -> Results:
    from sim.stats import t_interval

    model = compile_scenario(scenario)
    check_stability(scenario, model)
    seed, engine = manifest["seed"], manifest["engine"]
    n = int(manifest["replications"])
    reps: list = []
    while True:
        reps += run_replications(scenario, list(range(len(reps), n)), seed, engine,
                                 keep_contacts=manifest["contacts"], progress=progress,
                                 model=model, executor=spec, store=store,
                                 queue_intervals=manifest.get("queue_intervals", True))
        if precision is None:
            break
        totals = pd.concat([r.totals for r in reps], ignore_index=True)
        values = totals.loc[totals.channel == precision.channel, precision.kpi]
        iv = t_interval(values)
        half = (iv.high - iv.low) / 2
        goal = precision.goal(iv.mean)
        reached = bool(half <= goal)
        manifest["precision"] = {**precision.to_dict(), "mean": _num(iv.mean),
                                 "half_width": _num(half), "goal": _num(goal),
                                 "reached": reached}
        if reached or n >= precision.max_replications:
            break
        # batch: the replications the current variance says are needed, at least a few more
        need = math.ceil(n * (half / goal) ** 2) if goal > 0 and half == half else 2 * n
        n = min(precision.max_replications, max(need, n + max(2, n // 4)))
    manifest["replications"] = len(reps)
    manifest["contacts_simulated"] = int(sum(r.n_contacts for r in reps))
    manifest["notes"] = unsimulated(scenario)
    if not manifest.get("queue_intervals", True):
        manifest["notes"] = [*manifest["notes"], QUEUE_INTERVALS_NOTE]
    manifest["finished"] = _now()
    manifest["status"] = "finished"
    results = assemble(scenario, model, reps, manifest)
    if out is not None:
        results.write_final(out)
        store.remove()
    return results


def assemble(scenario: Scenario, model, reps: list, manifest: dict) -> Results:
    """:class:`Results` from replications in index order."""
    from sim.kpi import KPI_KEYS
    from sim.stats import summarize

    totals = concat_frames(reps, "totals")
    intervals = concat_frames(reps, "intervals", consume=True)
    # Economics reads the per-queue sums the workers made (or, failing them, the per-queue
    # interval rows).
    econ_intervals = intervals
    if reps and all(has_frame(r, "queue_sums") for r in reps):
        econ_intervals = concat_frames(reps, "queue_sums")
    kpis = [k for k in KPI_KEYS if k in totals.columns]
    basis = totals  # what the summary's n counts: replications, or batches of one
    if manifest.get("batch_means"):
        basis = batch_frame(intervals, [*model.channel_names, "all"], kpis,
                            int(manifest["batch_means"]))
    summary = summarize(basis, by=["channel"], kpis=kpis)
    order = {c: i for i, c in enumerate([*model.channel_names, "all"])}
    summary = summary.sort_values(["channel", "kpi"], key=lambda s: s.map(order)
                                  if s.name == "channel" else s.map(kpis.index)
                                  ).reset_index(drop=True)
    targets = evaluate_targets(scenario, summary, basis, intervals)
    alerts = [f"{t.channel} {t.kpi}: {t.status} (mean {t.mean:.4g}, target "
              f"{_bounds(t)})" for t in targets.itertuples() if t.status != "met"]
    keep = manifest.get("contacts")
    return Results(scenario=scenario, summary=summary, totals=totals, intervals=intervals,
                   targets=targets,
                   contacts=concat_frames(reps, "contacts") if keep else None,
                   manifest=manifest, alerts=alerts,
                   **run_economics(scenario, model, totals, econ_intervals))


def _num(x: float):
    return None if x != x else float(x)


def _bounds(t) -> str:
    parts = []
    if t.min is not None and t.min == t.min:
        parts.append(f">= {t.min:g}")
    if t.max is not None and t.max == t.max:
        parts.append(f"<= {t.max:g}")
    return " and ".join(parts)


def _sha256(file: str) -> str | None:
    try:
        return hashlib.sha256(Path(file).read_bytes()).hexdigest()
    except OSError:
        return None


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else (os.cpu_count() or 1))
