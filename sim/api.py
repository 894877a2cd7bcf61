"""``sim.run``: a scenario in, :class:`~sim.results.Results` out (the CLI's ``run`` verb)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import platform
from pathlib import Path

import pandas as pd

from sim import __version__
from sim.compile import compile_scenario
from sim.engines import DEFAULT_ENGINE, ENGINES
from sim.experiment import check_stability, run_replications
from sim.results import Results, evaluate_targets
from sim.scenario import Scenario, load_scenario, unsimulated


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def run(scenario: Scenario | str | Path, replications: int = 10, seed: int | None = None,
        engine: str = DEFAULT_ENGINE, workers: int = 1, contacts: bool = False,
        progress: bool = False, command: list[str] | None = None) -> Results:
    """Simulate a scenario over independent replications and measure its KPIs.

    Parameters
    ----------
    scenario : Scenario or path
    replications : int
        Number of independent replications; replication i uses
        ``SeedSequence(seed).spawn(replications)[i]``.
    seed : int, optional
        Defaults to the scenario's ``seed``.
    engine : {"kernel", "simpy"}
    workers : int
        Local processes (1 = in this process). Results do not depend on it.
    contacts : bool
        Keep one row per contact (``Results.contacts``).

    Returns
    -------
    Results
    """
    from sim.kpi import KPI_KEYS
    from sim.stats import summarize

    if isinstance(scenario, (str, Path)):
        scenario = load_scenario(scenario)
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if replications < 1:
        raise ValueError("replications must be at least 1")
    seed = scenario.seed if seed is None else int(seed)
    started = _now()
    model = compile_scenario(scenario)
    check_stability(scenario, model)
    reps = run_replications(scenario, replications, seed, engine, workers=workers,
                            keep_contacts=contacts, progress=progress, model=model)
    totals = pd.concat([r.totals for r in reps], ignore_index=True)
    intervals = pd.concat([r.intervals for r in reps], ignore_index=True)
    kpis = [k for k in KPI_KEYS if k in totals.columns]
    summary = summarize(totals, by=["channel"], kpis=kpis)
    order = {c: i for i, c in enumerate([*model.channel_names, "all"])}
    summary = summary.sort_values(["channel", "kpi"], key=lambda s: s.map(order)
                                  if s.name == "channel" else s.map(kpis.index)
                                  ).reset_index(drop=True)
    targets = evaluate_targets(scenario, summary, totals)
    alerts = [f"{t.channel} {t.kpi}: {t.status} (mean {t.mean:.4g}, target "
              f"{_bounds(t)})" for t in targets.itertuples() if t.status != "met"]
    file = getattr(scenario, "_file", None) or "<scenario>"
    manifest = {
        "ccsim_version": __version__,
        "scenario": scenario.name,
        "scenario_file": file,
        "scenario_sha256": _sha256(file) or hashlib.sha256(
            scenario.model_dump_json().encode()).hexdigest(),
        "seed": seed,
        "engine": engine,
        "replications": replications,
        "executor": "in-process" if workers <= 1 or replications <= 1 else "processes",
        "workers": workers,
        "command_line": command if command is not None else [],
        "contacts_simulated": int(sum(r.n_contacts for r in reps)),
        "notes": unsimulated(scenario),
        "python": platform.python_version(),
        "started": started,
        "finished": _now(),
    }
    return Results(scenario=scenario, summary=summary, totals=totals, intervals=intervals,
                   targets=targets,
                   contacts=pd.concat([r.contacts for r in reps], ignore_index=True)
                   if contacts else None, manifest=manifest, alerts=alerts)


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
