"""Sweeps: a grid of scenario variants, each simulated with the same replication seeds.

This module owns :func:`sweep` (``ccsim sweep``). A variant sets values at dotted paths into
the scenario's YAML data (``teams.tier1.headcount``, ``routing.on_arrival``; a number in a
path indexes a list), and is validated like a scenario file (:func:`sim.scenario.parse_scenario`).
Every grid point runs replications ``0 .. n-1`` with the same seeds (common random numbers),
so differences between points are measured with less noise than independent runs would
give. The result is one tidy table: point x channel x KPI with mean, standard error and 95%
interval, the point's parameters, whether the point meets every target, and its cost.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim import __version__
from sim.compile import compile_scenario
from sim.engines import DEFAULT_ENGINE
from sim.errors import CcsimError, ScenarioError
from sim.executors import ExecutorSpec
from sim.experiment import check_stability, run_jobs
from sim.kpi import KPI_KEYS
from sim.results import evaluate_targets
from sim.scenario import parse_scenario
from sim.stats import summarize


class SweepError(CcsimError):
    """A bad ``--set`` (unknown path, bad values): a usage error."""


def parse_set(text: str) -> tuple[str, list]:
    """``"teams.tier1.headcount=18..26"`` -> ``("teams.tier1.headcount", [18, ..., 26])``.

    Values are ``LOW..HIGH`` (whole numbers, both included) or a comma-separated list, each
    read as YAML (``12`` a number, ``30s`` and ``random`` strings).
    """
    path, sep, values = text.partition("=")
    path, values = path.strip(), values.strip()
    if not sep or not path or not values:
        raise SweepError(f"--set {text!r}: expected PATH=VALUES, e.g. "
                         "teams.tier1.headcount=18..26 or routing.on_arrival=longest_idle,random")
    m = re.fullmatch(r"(-?\d+)\.\.(-?\d+)", values)
    if m:
        lo, hi = int(m.group(1)), int(m.group(2))
        if hi < lo:
            raise SweepError(f"--set {text!r}: empty range {lo}..{hi}")
        return path, list(range(lo, hi + 1))
    return path, [yaml.safe_load(v.strip()) for v in values.split(",") if v.strip()]


def set_path(data: dict, path: str, value) -> None:
    """Set ``value`` at a dotted ``path`` of the scenario data (in place).

    Every part but the last must exist; the last may be new (the scenario schema then
    decides whether it is allowed).
    """
    parts = path.split(".")
    node = data
    for depth, part in enumerate(parts):
        where = ".".join(parts[:depth]) or "the scenario"
        last = depth == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise SweepError(f"--set {path}: {where} is a list of {len(node)}; "
                                 f"{part!r} is not an index in it")
            key = int(part)
        elif isinstance(node, dict):
            if part not in node and not last:
                have = ", ".join(map(str, node)) or "nothing"
                raise SweepError(f"--set {path}: no {part!r} in {where} (it has: {have})")
            key = part
        else:
            raise SweepError(f"--set {path}: {where} is a value ({node!r}), not a mapping")
        if last:
            node[key] = value
        else:
            node = node[key]


def sweep(scenario: str | Path, sets, replications: int = 10, seed: int | None = None,
          engine: str = DEFAULT_ENGINE, workers: int = 1, dask: str | None = None,
          progress: bool = False, out: str | Path | None = None,
          command: list[str] | None = None) -> pd.DataFrame:
    """Simulate every point of a grid of scenario variants with common random numbers.

    Parameters
    ----------
    scenario : path
        The base scenario file.
    sets : dict or list of str
        ``{path: [values]}`` or ``["path=values", ...]`` (:func:`parse_set`); the grid is
        their product, in the order given.
    replications, seed, engine, workers, dask, progress
        As for :func:`sim.run`; every point uses replications ``0 .. n-1`` of ``seed``
        (default: the scenario's seed).
    out : path, ``"auto"`` or None
        Write ``sweep.parquet``, ``sweep.csv`` and ``manifest.json`` to this folder
        (atomically; ``"auto"``: ``results/<name>-sweep-<time>``); None writes nothing.

    Returns
    -------
    pandas.DataFrame
        Tidy: ``point``, one column per swept path, ``channel, kpi, mean, se, ci95_low,
        ci95_high, n``, ``meets_targets`` (the point's mean meets every scenario target),
        ``cost`` and ``cost_measure`` (``cost_per_contact`` of ``all``, or the number of
        agents when the scenario has no costs), ``margin_per_month`` (mean over
        replications, :mod:`sim.economics`; NaN without pricing tiers). The best points
        (:func:`best_points`) meet every target with the highest margin, or without pricing
        tiers at the least cost. ``attrs["folder"]`` is the written folder.

    Raises
    ------
    SweepError
        A bad path or value list.
    ScenarioError
        A variant that is not a valid scenario (each problem names the point).
    """
    path = Path(scenario)
    text = path.read_text(encoding="utf-8-sig")
    base = yaml.safe_load(text)
    grid = [parse_set(s) for s in sets] if not isinstance(sets, dict) else \
        [(k, list(v)) for k, v in sets.items()]
    if not grid:
        raise SweepError("give at least one --set PATH=VALUES")
    names = [p for p, _ in grid]
    if len(set(names)) != len(names):
        raise SweepError("each path may be set once")
    points = list(itertools.product(*[values for _, values in grid]))
    jobs, params, skipped, problems = {}, {}, [], []
    for k, values in enumerate(points):
        data = copy.deepcopy(base)
        for name, value in zip(names, values, strict=True):
            set_path(data, name, value)
        label = ", ".join(f"{n}={v}" for n, v in zip(names, values, strict=True))
        try:
            scn = parse_scenario(yaml.safe_dump(data, sort_keys=False),
                                 f"{path} [{label}]", base_dir=path.resolve().parent)
            scn._base_dir = path.resolve().parent
            model = compile_scenario(scn)
        except ScenarioError as exc:
            problems += exc.problems
            continue
        try:
            check_stability(scn, model)
        except ScenarioError:
            skipped.append(label)
            continue
        jobs[k] = (scn, model)
        params[k] = dict(zip(names, values, strict=True))
    if problems:
        raise ScenarioError(problems)
    if not jobs:
        raise CcsimError("every point of the sweep has an unstable queue")
    first = next(iter(jobs.values()))[0]
    seed = first.seed if seed is None else int(seed)
    reps = run_jobs(jobs, replications, seed, engine, ExecutorSpec.choose(workers, dask),
                    progress=progress, desc="sweep")
    frames = []
    for k, rs in reps.items():
        scn, model = jobs[k]
        totals = pd.concat([r.totals for r in rs], ignore_index=True)
        kpis = [c for c in KPI_KEYS if c in totals.columns]
        summary = summarize(totals, by=["channel"], kpis=kpis)
        targets = evaluate_targets(scn, summary, totals)
        meets = bool(targets.met.all()) if not targets.empty else True
        cpc = summary[(summary.channel == "all") & (summary.kpi == "cost_per_contact")]
        cpc = float(cpc["mean"].iloc[0]) if not cpc.empty else math.nan
        has_cost = cpc == cpc and cpc > 0
        frame = summary.assign(point=k, meets_targets=meets,
                               cost=cpc if has_cost else float(model.n_agents),
                               cost_measure="cost_per_contact" if has_cost else "agents",
                               margin_per_month=_margin(scn, model, totals, rs))
        for name in names:
            frame[name] = [params[k][name]] * len(frame)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    for name in names:  # mixed types (e.g. 30, "1min") as text, so parquet can hold them
        if len({type(v) for v in table[name]}) > 1:
            table[name] = table[name].astype(str)
    table = table[["point", *names, "channel", "kpi", "mean", "se", "ci95_low", "ci95_high",
                   "n", "meets_targets", "cost", "cost_measure", "margin_per_month"]]
    table.attrs["skipped_unstable"] = skipped
    table.attrs["has_targets"] = bool(first.targets)
    if out is not None:
        folder = Path("results") / (f"{_slug(first.name)}-sweep-"
                                    f"{dt.datetime.now():%Y%m%d-%H%M%S}") \
            if str(out) == "auto" else Path(out)
        manifest = {"ccsim_version": __version__, "scenario_file": str(path),
                    "sets": [[n, list(v)] for n, v in grid], "points": len(points),
                    "skipped_unstable": skipped, "seed": seed, "engine": engine,
                    "replications": replications, "command_line": command or []}
        _write_folder(folder, table, manifest)
        table.attrs["folder"] = str(folder)
    return table


def _margin(scenario, model, totals: pd.DataFrame, reps: list) -> float:
    """Mean margin per month over the replications (NaN without pricing tiers)."""
    econ = getattr(scenario, "economics", None)
    if econ is None or not econ.pricing:
        return math.nan
    from sim.economics import compute
    from sim.experiment import concat_frames

    sums = concat_frames(reps, "queue_sums")
    summary = compute(scenario, model, totals, sums).summary
    row = summary[(summary.scope == "all") & (summary.kpi == "margin_per_month")]
    return float(row["mean"].iloc[0]) if not row.empty else math.nan


def best_points(table: pd.DataFrame) -> pd.DataFrame:
    """The points meeting every target with the highest margin per month (pricing tiers),
    else at the least cost (ties: all of them)."""
    points = table.drop_duplicates("point")
    ok = points[points.meets_targets]
    if ok.empty:
        return ok
    margin = ok["margin_per_month"] if "margin_per_month" in ok else None
    if margin is not None and margin.notna().all():
        return ok[np.isclose(margin, margin.max())]
    return ok[np.isclose(ok.cost, ok.cost.min())]


def format_sweep(table: pd.DataFrame) -> str:
    """Text: one line per point (parameters, service level, cost, margin, targets met), then
    the best points meeting every target (:func:`best_points`)."""
    fixed = {"point", "channel", "kpi", "mean", "se", "ci95_low", "ci95_high", "n",
             "meets_targets", "cost", "cost_measure", "margin_per_month"}
    names = [c for c in table.columns if c not in fixed]
    lines = []
    for _, rows in table.groupby("point", sort=True):
        r = rows.iloc[0]
        sl = rows[(rows.channel == "all") & (rows.kpi == "service_level")]
        sl_text = (f"service_level {sl['mean'].iloc[0]:.3f} ±"
                   f"{(sl['ci95_high'].iloc[0] - sl['ci95_low'].iloc[0]) / 2:.3f}"
                   if not sl.empty and sl['mean'].iloc[0] == sl['mean'].iloc[0] else "")
        params = ", ".join(f"{n}={r[n]}" for n in names)
        margin = _margin_text(r)
        lines.append(f"point {r.point:3d}: {params}  {sl_text}  {r.cost_measure} "
                     f"{r.cost:.4g}{margin}  "
                     f"{'meets every target' if r.meets_targets else '-'}")
    for label in table.attrs.get("skipped_unstable", []):
        lines.append(f"skipped (unstable queue): {label}")
    best = best_points(table)
    if best.empty:
        lines.append("no point meets every target")
    else:
        if not table.attrs.get("has_targets", True):
            lines.append("note: the scenario has no targets; every point meets them")
        for _, r in best.iterrows():
            params = ", ".join(f"{n}={r[n]}" for n in names)
            if _margin_text(r):
                lines.append(f"highest margin meeting every target: point {r.point} "
                             f"({params}; {_margin_text(r).strip()})")
            else:
                lines.append(f"least cost meeting every target: point {r.point} ({params}; "
                             f"{r.cost_measure} {r.cost:.4g})")
    return "\n".join(lines)


def _margin_text(row) -> str:
    margin = row.get("margin_per_month", math.nan)
    return f"  margin per month {margin:,.0f}" if margin == margin else ""


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "sweep"


def _write_folder(folder: Path, table: pd.DataFrame, manifest: dict) -> None:
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise CcsimError(f"{folder}: already exists and is not empty; choose another --out")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        table.to_parquet(tmp / "sweep.parquet", index=False)
        table.to_csv(tmp / "sweep.csv", index=False)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n",
                                           encoding="utf-8")
        if folder.exists():
            folder.rmdir()
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
