"""Shift schedules as an integer program, and the staffed scenario that runs them.

This module owns the step from a per-interval requirement to shifts:

* :func:`shift_templates`: the allowed shifts (lengths x start times on a grid), each with
  the breaks and lunch of the scenario's ``shrinkage`` at their offsets;
* :func:`coverage_matrix`: the share of each interval of the (cyclic) day an agent on each
  template is on shift and not on a break;
* :func:`solve_schedule`: integer agents per template that minimise paid hours (or cost)
  subject to ``coverage @ agents >= requirement / (1 - other_shrinkage)`` in every interval
  (:func:`scipy.optimize.milp`);
* :func:`staffed_scenario` / :func:`write_staffed_scenario`: the scenario with each
  scheduled team's ``shifts`` replaced by the schedule (the same day every day), as YAML
  that ``ccsim run`` accepts.

Breaks and lunch are timed events in the roster (:mod:`sim.roster`), so the program models
them exactly as the roster places them (``after`` from the shift start, on shifts long
enough to hold them; their jitter is ignored). The other shrinkage (meetings, training,
absence) falls at random times; the program covers it on average by inflating the
requirement with the share of shift time it takes, *measured* from sampled rosters
(:func:`sim.staffing.measured_shrinkage`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from sim.errors import CcsimError
from sim.scenario import Scenario, parse_scenario, scenario_base_dir

DAY_S = 86400.0


@dataclass(frozen=True)
class ShiftTemplate:
    """One allowed shift: start (time of day), paid length, and its breaks.

    Attributes
    ----------
    start_s : float
        Start, seconds after midnight (the day repeats: a shift may run past midnight).
    length_s : float
        Paid length [s].
    breaks : tuple of (after_s, length_s)
        Unavailable spans from the shift start (only those that fit in the shift).
    """

    start_s: float
    length_s: float
    breaks: tuple[tuple[float, float], ...] = ()

    @property
    def label(self) -> str:
        t = int(round(self.start_s))
        return f"{t // 3600:02d}:{t % 3600 // 60:02d}+{self.length_s / 3600:g}h"


@dataclass(frozen=True)
class Schedule:
    """Solution of :func:`solve_schedule`.

    Attributes
    ----------
    templates : tuple of ShiftTemplate
    agents : int64[J]
        Agents working each template (every day).
    requirement : float64[P]
        Agents needed on the floor in each interval, as given.
    target : float64[P]
        What the program covers: ``requirement / (1 - other_shrinkage)``.
    coverage : float64[P]
        Agents on the floor (time averages over each interval, before the other shrinkage).
    paid_hours : float
        Paid hours per day.
    interval_s : float
    other_shrinkage : float
    """

    templates: tuple[ShiftTemplate, ...]
    agents: np.ndarray
    requirement: np.ndarray
    target: np.ndarray
    coverage: np.ndarray
    paid_hours: float
    interval_s: float
    other_shrinkage: float

    def shifts(self) -> list[dict]:
        """The schedule as scenario ``shifts:`` entries (every day), in start order."""
        out = []
        pairs = sorted(zip(self.templates, self.agents, strict=True),
                       key=lambda p: (p[0].start_s, p[0].length_s))
        for tpl, n in pairs:
            if n <= 0:
                continue
            t = int(round(tpl.start_s))
            out.append({"start": f"{t // 3600:02d}:{t % 3600 // 60:02d}",
                        "length": float(tpl.length_s), "days": "daily", "agents": int(n)})
        return out


def shift_templates(lengths_s, start_step_s: float, breaks=(), *,
                    period_s: float = DAY_S) -> list[ShiftTemplate]:
    """Every allowed shift: each length starting at every multiple of ``start_step_s``.

    Parameters
    ----------
    lengths_s : iterable of float
        Allowed paid lengths [s] (each in (0, period_s]).
    start_step_s : float
        Grid of start times [s]; must divide ``period_s``.
    breaks : iterable of (after_s, length_s)
        Breaks and lunch from the shift start; a template keeps those with
        ``after + length <= length_s`` (as :func:`sim.roster.sample_roster` does).
    period_s : float
        Length of the repeating period (a day).

    Raises
    ------
    ValueError
        One line on a bad length or grid.
    """
    lengths = sorted({float(x) for x in lengths_s})
    if not lengths:
        raise ValueError("--shift-lengths: give at least one shift length, e.g. 8h,6h")
    for x in lengths:
        if not 0 < x <= period_s:
            raise ValueError(f"--shift-lengths: a shift is longer than 0 and at most "
                             f"{period_s / 3600:g}h, got {x / 3600:g}h")
    n = period_s / start_step_s if start_step_s > 0 else math.nan
    if not start_step_s > 0 or abs(n - round(n)) > 1e-9:
        raise ValueError(f"--start-step: {start_step_s:g}s does not divide the day; use 15min, "
                         "30min or 60min")
    breaks = tuple((float(a), float(b)) for a, b in breaks)
    return [ShiftTemplate(k * start_step_s, x, tuple(b for b in breaks if b[0] + b[1] <= x))
            for x in lengths for k in range(int(round(n)))]


def _cyclic_overlap(lo: float, hi: float, edges: np.ndarray, period_s: float) -> np.ndarray:
    """Length of ``[lo, hi)`` (wrapped into one period) inside each interval of ``edges``."""
    out = np.zeros(edges.size - 1)
    for shift in (-period_s, 0.0, period_s):
        a, b = lo + shift, hi + shift
        out += np.clip(np.minimum(edges[1:], b) - np.maximum(edges[:-1], a), 0.0, None)
    return out


def coverage_matrix(templates, interval_s: float, n_intervals: int) -> np.ndarray:
    """Share of each interval an agent on each template is on shift and not on a break.

    The period is ``n_intervals x interval_s`` and repeats (a shift running past its end
    covers the start of the period: the same day every day).

    Returns
    -------
    float64[n_intervals, J]
    """
    period_s = n_intervals * interval_s
    edges = np.arange(n_intervals + 1) * interval_s
    a = np.zeros((n_intervals, len(templates)))
    for j, tpl in enumerate(templates):
        cover = _cyclic_overlap(tpl.start_s, tpl.start_s + tpl.length_s, edges, period_s)
        for after_s, length_s in tpl.breaks:
            lo = tpl.start_s + after_s
            cover -= _cyclic_overlap(lo, lo + length_s, edges, period_s)
        a[:, j] = cover / interval_s
    return a


def solve_schedule(requirement, templates, interval_s: float, *, other_shrinkage: float = 0.0,
                   cost_per_hour: float = 1.0, time_limit_s: float = 60.0) -> Schedule:
    """Fewest paid hours of shifts covering ``requirement`` in every interval.

    Minimises ``sum_j cost_per_hour x length_j x agents_j`` over whole ``agents_j >= 0``
    subject to ``sum_j coverage[t, j] x agents_j >= requirement[t] / (1 - other_shrinkage)``
    for every interval ``t`` of the repeating day.

    Parameters
    ----------
    requirement : array_like of float, shape (P,)
        Agents needed on the floor in each interval of the period (>= 0).
    templates : list of ShiftTemplate
    interval_s : float
    other_shrinkage : float
        Share of shift time lost to shrinkage not modelled in the templates (meetings,
        training, absence), in [0, 1).
    cost_per_hour : float
        Cost of a paid hour (the same for every template of one team; scales the objective).
    time_limit_s : float
        Solver time limit.

    Raises
    ------
    CcsimError
        When no combination of templates covers some interval, or the solver fails.
    """
    r = np.asarray(requirement, dtype=float).ravel()
    if r.size == 0 or not np.all(np.isfinite(r)) or np.any(r < 0):
        raise ValueError("requirement must be finite and >= 0 in every interval")
    if not 0.0 <= other_shrinkage < 1.0:
        raise ValueError(f"other_shrinkage must be in [0, 1), got {other_shrinkage:g}")
    from scipy.optimize import Bounds, LinearConstraint, milp

    templates = tuple(templates)
    a = coverage_matrix(templates, interval_s, r.size)
    target = r / (1.0 - other_shrinkage)
    uncovered = np.flatnonzero((target > 1e-9) & (a.max(axis=1, initial=0.0) <= 0))
    if uncovered.size:
        t = int(uncovered[0] * interval_s)
        raise CcsimError(f"no allowed shift covers the interval at {t // 3600:02d}:"
                         f"{t % 3600 // 60:02d}; allow more start times or lengths")
    lengths_h = np.array([tpl.length_s / 3600.0 for tpl in templates])
    c = cost_per_hour * lengths_h if cost_per_hour > 0 else lengths_h
    # NOTE: coverage values are multiples of 1/interval fractions; a tiny slack keeps a
    # requirement that is met exactly (e.g. 3.0 >= 3.0) from failing on rounding.
    res = milp(c, integrality=np.ones(len(templates)), bounds=Bounds(0, np.inf),
               constraints=LinearConstraint(a, lb=target - 1e-9, ub=np.inf),
               options={"time_limit": time_limit_s})
    if res.x is None or res.status not in (0, 1):
        raise CcsimError(f"the shift schedule could not be solved: {res.message}")
    agents = np.round(res.x).astype(np.int64)
    coverage = a @ agents
    if np.any(coverage < target - 1e-6):
        raise CcsimError("the shift schedule solver returned a plan that misses the "
                         "requirement; raise its time limit")
    return Schedule(templates, agents, r, target, coverage,
                    float(lengths_h @ agents), float(interval_s), float(other_shrinkage))


# --------------------------------------------------------------------------- staffed scenario


def staffed_scenario(scenario: Scenario, shifts: dict[str, list[dict]]) -> tuple[dict, Scenario]:
    """The scenario with the ``shifts`` of the given teams replaced.

    Parameters
    ----------
    scenario : Scenario
    shifts : dict
        ``team -> list of shift entries`` (as :meth:`Schedule.shifts`); a team with an
        empty list keeps no agents and is refused (a team needs a shift).

    Returns
    -------
    data : dict
        The resolved scenario (JSON types) with the new shifts; a relative
        ``demand.forecast_csv`` is made absolute so the file runs from any folder.
    scenario : Scenario
        ``data`` validated.
    """
    data = scenario.model_dump(mode="json")
    for team, entries in shifts.items():
        if team not in data["teams"]:
            raise ValueError(f"unknown team {team!r}")
        if not entries:
            raise CcsimError(f"teams.{team}: the schedule has no shift (the requirement is "
                             "zero everywhere); keep the team's own shifts or remove it")
        data["teams"][team]["headcount"] = None
        data["teams"][team]["shifts"] = [dict(e) for e in entries]
    csv = data.get("demand", {}).get("forecast_csv")
    if csv and not Path(csv).is_absolute():
        data["demand"]["forecast_csv"] = str((scenario_base_dir(scenario) / csv).resolve())
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return data, parse_scenario(text, "<staffed>", base_dir=scenario_base_dir(scenario))


def write_staffed_scenario(path: str | Path, scenario: Scenario,
                           shifts: dict[str, list[dict]], header: str = "") -> Path:
    """Write :func:`staffed_scenario` as YAML to ``path`` (loadable by ``ccsim run``)."""
    data, _ = staffed_scenario(scenario, shifts)
    path = Path(path)
    lines = ["# Staffed by `ccsim staff --schedule`: the scenario as resolved (defaults filled "
             "in, durations in seconds)", "# with the scheduled teams' shifts replaced."]
    lines += [f"# {h}" for h in header.splitlines() if h.strip()]
    try:
        path.write_text("\n".join(lines) + "\n" + yaml.safe_dump(
            data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    except OSError as exc:
        raise CcsimError(f"cannot write {path}: {exc.strerror}") from None
    return path
