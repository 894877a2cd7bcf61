"""Economics of a run: costs, pricing tiers, SLA credits and margin, per replication x month.

This module owns the arithmetic of a scenario's ``economics`` section
(:class:`sim.scenario.Economics`) and its cross-checks (:func:`check_economics`). It reads
only what a run already measured (the per-replication ``totals`` and tidy ``intervals`` of
:mod:`sim.kpi`) and the scheduled shifts (which depend on the scenario, not on the seed):
each worker sums its replication's per-queue rows by month (:func:`queue_month_sums`), and
the rest runs once on the client when the replications are assembled (:func:`run_economics`).

Definitions
-----------
Everything is measured on the window ``[warmup_s, horizon_s)`` cut into calendar *months*;
``coverage`` is the share of a month inside the window (a partial month at either end bills
and costs in proportion). Money is in ``economics.currency``.

* ``labour_cost``: sum over teams of ``cost_per_hour`` x scheduled shift hours in the month
  (paid time, absent shifts included, as :mod:`sim.kpi`), plus overtime. The overtime cost of
  a replication at the base rate is what the KPI ``cost_per_contact`` counted beyond the
  shifts (``cost_per_contact x answered - shift cost``, exact), times
  ``costs.overtime_multiplier`` (``overtime_cost`` is the whole overtime pay). It is spread
  over months and teams in proportion to their shift cost: the streaming engine path does not
  keep overtime per team and month (an approximation; totals per replication are exact).
* ``licence_cost``: ``seats`` or the sum of ``seats_by_team`` (default: every agent) x the
  sum of ``licences_per_seat_per_month`` x coverage.
* ``fixed_cost``: LMS (``lms_per_agent_per_year`` x agents / 12), onboarding
  (new agents a year x ``hours_per_new_agent`` x cost per hour / 12), QA audits
  (``qa_audit_per_year`` / 12), each x coverage, and the implementation cost / ``months`` in
  each of the first ``months`` calendar months of the horizon (x coverage).
* ``cost`` = labour + licences + fixed.
* Work of a tier: the tier covers the compiled queues (channel x skill queue) of its
  ``channels`` (default: all) and of its ``queues`` and ``contact_types``' queues (default:
  all). A queue covered by several tiers is shared among them in proportion to their
  ``placements_per_month`` (without demand segments, :mod:`sim.segments`, the simulation
  does not tell one tier's contacts from another's; with them each tier has its own queues).
  ``work_h`` = answered x AHT x the capacity share of one contact (1/concurrency: hours of
  a whole agent), ``answered`` likewise allocated.
* Cost of a tier = the month's ``cost`` x the tier's share of the tiers' work that month (by
  placements when no tier handled anything), so tier costs add up to the total cost.
* ``revenue`` = ``placements_per_month`` x ``fee_per_placement`` x coverage.
* A tier's KPI in a month pools its queues' intervals (those of the target's ``channels``
  when given), weighted by the KPI's denominator (:data:`TIER_KPIS`: service level by
  offered, SLA compliance by answered, ...); NaN when nothing was offered. A target is
  *met* when the value is inside its bounds; NaN values are neither met nor credited.
* ``sla_credits``: per KPI of the tier's targets, the largest ``share`` of the rules for it
  whose ``miss_by`` the shortfall exceeds (shortfall = how far outside its bound, in the
  KPI's units; ``miss_by: 0`` means any miss) and whose ``months_running`` the run of
  consecutive missed months (this one included) reaches; summed over KPIs, capped at
  ``max_share``, times the month's ``revenue``. A tier's own ``sla_credits`` replace the section's.
* ``margin`` = revenue - sla_credits - cost, per tier and overall (``tier == "all"``: sums).
* ``full_cost_per_contact`` = cost / answered (overall, per tier, and per channel with the
  cost spread over channels by work share per month).
* ``p_met`` of a contractual target: share of (replication, month) pairs whose value meets it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from sim.model import CAPACITY_UNITS, Model

try:
    from sim import _accumulate
except ImportError:  # not built: the numpy reference implementations
    _accumulate = None
from sim.scenario import Economics, PricingTier, Scenario, SlaCredits

#: KPIs a pricing tier can target, with the count that weights them when pooled over
#: intervals and queues (as :data:`sim.results.PERIOD_WEIGHTS`).
TIER_KPIS = {
    "service_level": "offered",
    "service_level_excl_short_abandons": "offered",
    "abandon_rate": "offered",
    "p_wait": "offered",
    "mean_wait_s": "offered",
    "asa_s": "answered",
    "service_level_answered": "answered",
    "aht_s": "answered",
    "sla_compliance": "answered",
}

#: Money columns of the economics frame, summed over months per replication.
MONEY = ("revenue", "sla_credits", "cost", "labour_cost", "overtime_cost", "licence_cost",
         "fixed_cost", "margin")

#: KPIs of the summary, by scope.
SUMMARY_KPIS = {
    "all": (*MONEY, "margin_per_month", "answered", "work_h", "full_cost_per_contact"),
    "tier": ("revenue", "sla_credits", "cost", "margin", "margin_per_month", "answered",
             "work_h", "full_cost_per_contact"),
    "channel": ("cost", "answered", "full_cost_per_contact"),
    "team": ("labour_cost", "paid_h"),
}


# --------------------------------------------------------------------------------------------
# cross-checks (called by sim.scenario._cross_check on the file's own data)


def check_economics(data: dict, add) -> None:
    """Names in ``economics`` that must exist elsewhere, and tier targets and credit rules.

    Parameters
    ----------
    data : dict
        The scenario file's data (possibly invalid).
    add : callable
        ``add(path, message, hint)`` records a problem at a key path.
    """
    econ = data.get("economics")
    if not isinstance(econ, dict):
        return

    def names(raw) -> list[str]:
        return [k for k in raw if isinstance(k, str)] if isinstance(raw, dict) else []

    def d(raw) -> dict:
        return raw if isinstance(raw, dict) else {}

    def ref(path, name, known, what):
        if not isinstance(name, str) or name in known:
            return
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        add(path, f"unknown {what} '{name}'",
            f"did you mean '{close[0]}'?" if close else
            (f"known: {', '.join(known)}" if known else f"no {what} is defined"))

    channels = names(data.get("channels"))
    if isinstance(data.get("escalation"), dict):
        channels.append("escalation")
    cts = d(data.get("contact_types"))
    queues = names(data.get("queues")) if d(data.get("queues")) else list(dict.fromkeys(
        ct["queue"] for ct in cts.values() if isinstance(ct, dict)
        and isinstance(ct.get("queue"), str)))
    teams = names(data.get("teams"))

    seats = d(econ.get("costs")).get("seats_by_team")
    for tname in names(seats):
        ref(("economics", "costs", "seats_by_team", tname), tname, teams, "team")

    allowed = ", ".join(TIER_KPIS)
    pricing = d(econ.get("pricing"))
    for tier, raw in pricing.items():
        raw = d(raw)
        base = ("economics", "pricing", tier)
        for key, known, what in (("channels", channels, "channel"), ("queues", queues, "queue"),
                                 ("contact_types", names(cts), "contact type")):
            items = raw.get(key)
            if isinstance(items, list):
                if not items:
                    add(base + (key,), f"{key} is empty",
                        f"list the tier's {key}, or leave the key out to cover them all")
                for i, name in enumerate(items):
                    ref(base + (key, i), name, known, what)
        tier_channels = raw.get("channels")
        tier_channels = [c for c in tier_channels if c in channels] if isinstance(
            tier_channels, list) else channels
        for kpi, target in d(raw.get("targets")).items():
            if kpi not in TIER_KPIS:
                close = difflib.get_close_matches(str(kpi), list(TIER_KPIS), n=1)
                add(base + ("targets", kpi), f"'{kpi}' cannot be a tier target",
                    f"did you mean '{close[0]}'?" if close else f"use one of: {allowed}")
            on = d(target).get("channels")
            for i, name in enumerate(on if isinstance(on, list) else ()):
                if isinstance(name, str) and name in channels and name not in tier_channels:
                    add(base + ("targets", kpi, "channels", i),
                        f"channel '{name}' is not one of the tier's channels",
                        f"the tier has: {', '.join(tier_channels)}")
                else:
                    ref(base + ("targets", kpi, "channels", i), name, channels, "channel")

    def rules_of(path, credits, targeted: set[str], where: str):
        rules = d(credits).get("rules")
        for i, rule in enumerate(rules if isinstance(rules, list) else ()):
            kpi = d(rule).get("kpi")
            if not isinstance(kpi, str):
                continue
            if kpi not in TIER_KPIS:
                close = difflib.get_close_matches(kpi, list(TIER_KPIS), n=1)
                add(path + ("rules", i, "kpi"), f"'{kpi}' cannot be a tier target",
                    f"did you mean '{close[0]}'?" if close else f"use one of: {allowed}")
            elif kpi not in targeted:
                add(path + ("rules", i, "kpi"), f"{where} for '{kpi}'",
                    f"add {kpi} to the targets of {'that' if where[0] == 'p' else 'a'} tier")

    shared: set[str] = set()
    for tier, raw in pricing.items():
        raw = d(raw)
        targeted = set(names(raw.get("targets")))
        if raw.get("sla_credits") is not None:
            rules_of(("economics", "pricing", tier, "sla_credits"), raw["sla_credits"],
                     targeted, f"pricing.{tier} has no target")
        else:
            shared |= targeted
    if econ.get("sla_credits") is not None:
        rules_of(("economics", "sla_credits"), econ["sla_credits"], shared,
                 "no tier using these credits has a target")


# --------------------------------------------------------------------------------------------
# months and shifts


@dataclass(frozen=True)
class Months:
    """Calendar months meeting the measured window.

    Attributes
    ----------
    label : tuple of str
        ``"YYYY-MM"``.
    bounds_s : float64[M + 1]
        Month starts (s from the horizon start) clipped to the window, then the window end.
    coverage : float64[M]
        Share of each calendar month inside the window.
    index : int64[M]
        Calendar months since the horizon's first month (0 = that month).
    """

    label: tuple
    bounds_s: np.ndarray
    coverage: np.ndarray
    index: np.ndarray

    @property
    def n(self) -> int:
        return len(self.label)


def months_of(scenario: Scenario, model: Model) -> Months:
    """The calendar months of the measured window ``[model.warmup_s, model.horizon_s)``."""
    start = scenario.horizon.start
    lo_s, hi_s = float(model.warmup_s), float(model.horizon_s)
    labels, bounds, coverage, index = [], [], [], []
    year, month, k = start.year, start.month, 0
    while True:
        first = dt.date(year, month, 1)
        days = calendar.monthrange(year, month)[1]
        m_lo = (first - start).days * 86400.0
        m_hi = m_lo + days * 86400.0
        if m_lo >= hi_s:
            break
        a, b = max(m_lo, lo_s), min(m_hi, hi_s)
        if b > a:
            labels.append(f"{year:04d}-{month:02d}")
            bounds.append(a)
            coverage.append((b - a) / (days * 86400.0))
            index.append(k)
        year, month, k = year + (month == 12), month % 12 + 1, k + 1
    return Months(tuple(labels), np.array([*bounds, hi_s], dtype=np.float64),
                  np.array(coverage, dtype=np.float64), np.array(index, dtype=np.int64))


def shift_hours(scenario: Scenario, model: Model, months: Months) -> np.ndarray:
    """Scheduled (paid) shift hours per team x month inside the window, float64[T, M].

    The scheduled shifts do not depend on the seed (only shrinkage and absence do), so any
    replication's roster gives them.
    """
    from sim.roster import sample_roster

    roster = sample_roster(scenario, model, np.random.SeedSequence(0))
    team = model.agent_team[roster.shift_agent]
    out = np.zeros((len(model.team_names), months.n))
    for m in range(months.n):
        lo, hi = months.bounds_s[m], months.bounds_s[m + 1]
        length = np.maximum(np.minimum(roster.shift_end_s, hi)
                            - np.maximum(roster.shift_start_s, lo), 0.0)
        out[:, m] = np.bincount(team, weights=length, minlength=out.shape[0]) / 3600.0
    return out


# --------------------------------------------------------------------------------------------
# the computation


@dataclass(frozen=True)
class _Cells:
    """Per (replication, month, compiled queue) sums from the tidy intervals."""

    reps: np.ndarray  # replication ids, sorted, [R]
    queue_names: list
    queue_channel: list
    answered: np.ndarray  # [R, M, C]
    work_s: np.ndarray  # [R, M, C]
    wv: dict  # kpi -> [R, M, C] sum of value x weight
    w: dict  # kpi -> [R, M, C] sum of weight


def _codes(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes and names of a (categorical or text) column."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), [str(c) for c in column.cat.categories]
    codes, uniques = pd.factorize(column, sort=False)
    return codes, [str(u) for u in uniques]


def queue_month_sums(scenario: Scenario, model: Model, rows: pd.DataFrame,
                     months: Months | None = None) -> pd.DataFrame:
    """The per (replication, month, compiled queue) sums :func:`compute` reads, from per-queue
    interval rows (tidy intervals; ``queue == "all"`` and ``channel == "all"`` rows are
    ignored).

    Returns
    -------
    DataFrame
        One row per replication x month (index into :func:`months_of`) x queue, in that
        order: ``replication, month, queue, channel, answered, work_s`` (answered x AHT) and,
        per pricing-tier KPI, ``<kpi>.wv`` and ``<kpi>.w`` (value x weight and weight over
        the intervals with a value and a positive weight, :data:`TIER_KPIS`). ``queue`` is
        categorical, in the order of the rows' queue codes.

    # NOTE: each worker sums its own replication's rows (a year of per-queue intervals is
    # ~450k rows per replication; these sums are ~300). Every sum is sequential over the rows
    # of its cell in row order, starting from zero (np.bincount), so one replication's rows
    # summed alone give the same bits as all replications' rows summed together.
    """
    months = months if months is not None else months_of(scenario, model)
    kpis = list(dict.fromkeys(k for t in scenario.economics.pricing.values()
                              for k in t.targets))
    q_code, q_names = _codes(rows["queue"])
    c_code, c_names = _codes(rows["channel"])
    blocks = _interval_blocks(rows, q_code, c_code, q_names, c_names)
    if blocks is not None:
        # NOTE: the workers' rows (one replication, a block of the same queues per
        # interval): month sums of whole blocks, no per-row keys (see _interval_blocks).
        n_b, present, codes = blocks
        first = np.zeros(len(present), dtype=np.int64)
        first[codes] = np.arange(n_b)
        reps = rows["replication"].to_numpy()[:1].copy()
        x = rows["interval_start"].to_numpy(dtype=float)[::n_b]
        bounds = np.searchsorted(_month_of(months.bounds_s, x, months.n),
                                 np.arange(months.n + 1))
        sel = slice(None)
    else:
        keep = q_code >= 0
        for code, names_ in ((q_code, q_names), (c_code, c_names)):
            if "all" in names_:
                keep &= code != names_.index("all")
        # NOTE: a slice when every row is kept (the workers' per-queue rows): no row copies.
        sel = slice(None) if keep.all() else np.flatnonzero(keep)
        present, codes = _unique_codes(q_code[sel], len(q_names))
        first = np.zeros(len(present), dtype=np.int64)
        first[codes[::-1]] = np.arange(len(codes))[::-1]  # first row of each queue
        reps, r = _unique_reps(rows["replication"].to_numpy()[sel])
    names = [q_names[i] for i in present]
    chans = [c_names[i] for i in c_code[sel][first]]
    n_r, n_m, n_c = len(reps), months.n, len(names)

    raw = {name: rows[name].to_numpy()
           for name in ("interval_start", "answered", "aht_s", *kpis,
                        *(TIER_KPIS[k] for k in kpis))}

    def col(name, part=slice(None)) -> np.ndarray:
        return np.asarray(raw[name][sel][part], dtype=float)

    def values(part) -> dict:
        """The summed quantities (output column -> float64 per row) of the rows ``part``."""
        answered = col("answered", part)
        out = {"answered": answered, "work_s": _work_s(answered, col("aht_s", part))}
        for kpi in kpis:
            v = col(kpi, part)
            weight = col(TIER_KPIS[kpi], part)
            ok = ~np.isnan(v) & (weight > 0)
            out[f"{kpi}.wv"] = np.where(ok, v * weight, 0.0)
            out[f"{kpi}.w"] = np.where(ok, weight, 0.0)
        return out

    size = n_r * n_m * n_c
    if blocks is None:
        m = _month_of(months.bounds_s, col("interval_start"), n_m)
        # NOTE: one replication (the workers' rows): r is 0, the same keys with fewer passes.
        key = m * n_c + codes if n_r == 1 else (r * n_m + m) * n_c + codes
        sums = {k: np.bincount(key, weights=v, minlength=size)
                for k, v in values(slice(None)).items()}
    else:
        # NOTE: np.bincount adds each cell's values in row order onto 0.0; here each
        # month's blocks are summed down the rows (numpy reduces an outer axis of a
        # C-ordered array sequentially, row after row), then + 0.0 (which only turns a
        # -0.0 sum into +0.0, as starting from 0.0 does): the same floats. The quantities
        # are computed a month at a time: small temporaries, reused, not a year of rows.
        sums = {}
        for month in range(n_m):
            lo, hi = bounds[month], bounds[month + 1]
            if hi <= lo:
                continue
            for k, v in values(slice(lo * n_b, hi * n_b)).items():
                if k not in sums:
                    sums[k] = np.zeros((n_m, n_c))
                part = np.sum(v.reshape(-1, n_b), axis=0)
                part += 0.0
                sums[k][month, codes] = part
        sums = {k: sums[k].ravel() if k in sums else np.zeros(size)
                for k in values(slice(0, 0))}
    return pd.DataFrame({
        "replication": np.repeat(reps, n_m * n_c),
        "month": np.tile(np.repeat(np.arange(n_m), n_c), n_r),
        "queue": pd.Categorical.from_codes(np.tile(np.arange(n_c), n_r * n_m), names),
        "channel": np.tile(np.array(chans, dtype=object), n_r * n_m),
        **sums,
    })


def _work_s(answered: np.ndarray, aht_s: np.ndarray) -> np.ndarray:
    """``np.where(answered > 0, answered * np.nan_to_num(aht_s), 0.0)`` (float64)."""
    if _accumulate is not None:
        # NOTE: compiled, one pass (see _accumulate.work_s): numpy's masked where branches
        # on an unpredictable mask, and nan_to_num copies and scans the array four times.
        out = np.empty(answered.shape[0])
        _accumulate.work_s(answered, aht_s, out)
        return out
    return np.where(answered > 0, answered * np.nan_to_num(aht_s), 0.0)


def _interval_blocks(rows: pd.DataFrame, q_code: np.ndarray, c_code: np.ndarray,
                     q_names: list, c_names: list) -> tuple | None:
    """``(n_b, present, codes)`` when ``rows`` are one replication's per-queue interval rows
    in blocks of ``n_b`` rows, one block per interval (one ``interval_start`` each, in
    increasing order), every block with the same queues in the same order (none of them
    ``"all"``); ``present, codes`` are :func:`_unique_codes` of one block. None otherwise."""
    n = q_code.shape[0]
    x = rows["interval_start"].to_numpy()
    rep = rows["replication"].to_numpy()
    if n == 0 or x.dtype != np.float64 or rep.min() != rep.max():
        return None
    n_b = int(np.searchsorted(x[:len(q_names) + 1], x[0], side="right"))
    if n % n_b or (q_code[:n_b] < 0).any():
        return None
    present, codes = _unique_codes(q_code[:n_b], len(q_names))
    if len(present) != n_b or ("all" in q_names and q_names.index("all") in present):
        return None
    if "all" in c_names and (c_code[:n_b] == c_names.index("all")).any():
        return None
    by_block = x.reshape(-1, n_b)
    if not ((q_code.reshape(-1, n_b) == q_code[:n_b]).all()
            and (c_code.reshape(-1, n_b) == c_code[:n_b]).all()
            and (by_block == by_block[:, :1]).all()
            and bool(np.all(by_block[1:, 0] > by_block[:-1, 0]))):
        return None
    return n_b, present, codes


def _unique_codes(code: np.ndarray, n_codes: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(code, return_inverse=True)`` of codes in ``0 .. n_codes - 1``."""
    # NOTE: a count per code instead of sorting a year of rows (the same sorted values and
    # indices into them).
    present = np.flatnonzero(np.bincount(code, minlength=n_codes))
    index = np.zeros(n_codes, dtype=np.intp)
    index[present] = np.arange(present.shape[0])
    return present, index[code]


def _unique_reps(rep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(rep, return_inverse=True)``."""
    if rep.shape[0] and rep.min() == rep.max():
        # NOTE: one replication (the workers' rows): nothing to sort.
        return rep[:1].copy(), np.zeros(rep.shape[0], dtype=np.intp)
    return np.unique(rep, return_inverse=True)


def _month_of(bounds: np.ndarray, x: np.ndarray, n_m: int) -> np.ndarray:
    """``clip(np.searchsorted(bounds, x, side="right") - 1, 0, n_m - 1)`` (intp): the month
    of each interval start (the months' ``bounds_s``; outside them: the first or last)."""
    last = max(n_m - 1, 0)
    if x.shape[0] < 2 or not bool(np.all(x[1:] >= x[:-1])):
        return np.clip(np.searchsorted(bounds, x, side="right") - 1, 0, last)
    # NOTE: sorted x (interval-major rows): #(bounds <= x) is constant between the positions
    # of the bounds in x, so a search per bound and runs instead of a search per row.
    cuts = np.searchsorted(x, bounds, side="left")  # #(x < bound)
    sizes = np.diff(np.concatenate([[0], cuts, [x.shape[0]]]))
    month = np.clip(np.arange(-1, bounds.shape[0], dtype=np.intp), 0, last)
    return np.repeat(month, sizes)


def _is_sums(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` is :func:`queue_month_sums` output (not interval rows)."""
    return "work_s" in frame.columns and "month" in frame.columns


def _cells(sums: pd.DataFrame, reps: np.ndarray, months: Months, kpis) -> _Cells:
    """The arrays of :func:`queue_month_sums` rows (of one or more replications)."""
    codes, names = _codes(sums["queue"])
    first = pd.unique(codes)  # queues in order of first appearance
    order = np.empty(len(names), dtype=np.int64)
    order[first] = np.arange(len(first))
    c = order[codes]
    names = [names[i] for i in first]
    first_row = np.zeros(len(first), dtype=np.int64)
    first_row[c[::-1]] = np.arange(len(c))[::-1]
    chans = [str(x) for x in sums["channel"].to_numpy()[first_row]]
    n_r, n_m, n_c = len(reps), months.n, len(names)
    r = np.searchsorted(reps, sums["replication"].to_numpy())
    m = sums["month"].to_numpy()

    def grid(name) -> np.ndarray:
        out = np.zeros((n_r, n_m, n_c))
        out[r, m, c] = sums[name].to_numpy(dtype=float)
        return out

    return _Cells(reps, names, chans, grid("answered"), grid("work_s"),
                  {k: grid(f"{k}.wv") for k in kpis}, {k: grid(f"{k}.w") for k in kpis})


def _covers(tier: PricingTier, scenario: Scenario, cells: _Cells) -> np.ndarray:
    """Which compiled queues a tier covers, bool[C]."""
    skills = None
    if tier.queues is not None or tier.contact_types is not None:
        skills = set(tier.queues or ()) | {scenario.contact_types[c].queue
                                           for c in (tier.contact_types or ())}
    out = np.zeros(len(cells.queue_names), dtype=bool)
    for c, (name, ch) in enumerate(zip(cells.queue_names, cells.queue_channel, strict=True)):
        skill = name[len(ch) + 1:] if name.startswith(ch + "/") else name
        out[c] = ((tier.channels is None or ch in tier.channels)
                  and (skills is None or skill in skills))
    return out


def _credit_share(value: np.ndarray, bound, rules) -> tuple[np.ndarray, np.ndarray,
                                                             np.ndarray]:
    """``(met, shortfall, share)`` of one target over values [R, M] (NaN -> met NaN, share
    0)."""
    lo = -np.inf if bound.min is None else bound.min
    hi = np.inf if bound.max is None else bound.max
    with np.errstate(invalid="ignore"):
        shortfall = np.maximum(np.maximum(lo - value, value - hi), 0.0)
    defined = ~np.isnan(value)
    met = np.where(defined, shortfall <= 0, np.nan)
    # misses in a row, month by month (axis 1); a month without a value breaks the run
    missed = defined & (np.nan_to_num(shortfall) > 0)
    running = np.zeros(value.shape, dtype=np.int64)
    for m in range(value.shape[1]):
        running[:, m] = np.where(missed[:, m], (running[:, m - 1] if m else 0) + 1, 0)
    share = np.zeros(value.shape)
    for rule in rules:
        hit = defined & (np.nan_to_num(shortfall) > rule.miss_by)
        hit &= running >= rule.months_running
        share = np.where(hit, np.maximum(share, rule.share), share)
    return met, np.where(defined, shortfall, np.nan), share


@dataclass
class EconomicsResult:
    """The economics of a run.

    Attributes
    ----------
    frame : DataFrame
        Per replication x month x tier (and ``tier == "all"``): money columns, ``answered``,
        ``work_h``, each targeted KPI and ``<kpi>_met``, and ``labour_cost.<team>`` on the
        ``all`` rows.
    summary : DataFrame
        ``scope, name, kpi, mean, se, ci95_low, ci95_high, n`` over replications (window
        totals per replication); scopes ``all``, ``tier``, ``channel``, ``team``.
    targets : DataFrame
        Per tier x targeted KPI: bounds, mean monthly value, ``p_met`` over replication x
        months and ``n`` (those pairs with a value), ``p_credit`` (share with a credit).
    """

    frame: pd.DataFrame
    summary: pd.DataFrame
    targets: pd.DataFrame


def compute(scenario: Scenario, model: Model, totals: pd.DataFrame,
            intervals: pd.DataFrame) -> EconomicsResult:
    """The economics of a run from its per-replication totals and intervals.

    Parameters
    ----------
    scenario : Scenario
        With an ``economics`` section.
    model : Model
        ``compile_scenario(scenario)``.
    totals : DataFrame
        As assembled in :class:`sim.results.Results` (several replications).
    intervals : DataFrame
        Their per-queue interval rows (as in :class:`sim.results.Results`), or the
        replications' :func:`queue_month_sums` (what the workers send).
    """
    econ: Economics = scenario.economics
    costs = econ.costs
    months = months_of(scenario, model)
    reps = np.unique(totals["replication"].to_numpy())
    n_r, n_m = len(reps), months.n
    cov = months.coverage

    # ---- labour: shifts exact; overtime per replication from the cost KPI
    hours = shift_hours(scenario, model, months)  # [T, M]
    rate = np.asarray(model.team_cost_per_h, dtype=float)
    shift_cost = rate[:, None] * hours  # [T, M]
    all_rows = totals[totals["channel"] == "all"].set_index("replication").reindex(reps)
    kpi_cost = (all_rows["cost_per_contact"].to_numpy(dtype=float)
                * all_rows["answered"].to_numpy(dtype=float))
    agents_rate = float(rate[model.agent_team].mean()) if len(model.agent_team) else 0.0
    ot_fallback = np.nan_to_num(all_rows["overtime_h"].to_numpy(dtype=float)) * agents_rate
    ot_base = np.where(np.isnan(kpi_cost), ot_fallback,
                       np.maximum(kpi_cost - shift_cost.sum(), 0.0))  # [R]
    spread = shift_cost / shift_cost.sum() if shift_cost.sum() > 0 else \
        np.full(shift_cost.shape, 1.0 / shift_cost.size)
    overtime_tm = costs.overtime_multiplier * ot_base[:, None, None] * spread[None]  # [R,T,M]
    labour_tm = shift_cost[None] + overtime_tm
    labour = labour_tm.sum(axis=1)  # [R, M]
    overtime = overtime_tm.sum(axis=1)

    # ---- licences and fixed costs per month
    n_agents = len(model.agent_team)
    seats = (costs.seats if costs.seats is not None else
             sum(costs.seats_by_team.values()) if costs.seats_by_team is not None
             else n_agents)
    licence = seats * sum(costs.licences_per_seat_per_month.values()) * cov
    fixed = (n_agents * costs.lms_per_agent_per_year + costs.qa_audit_per_year) / 12.0 * cov
    if costs.onboarding is not None:
        ob = costs.onboarding
        new = (ob.new_agents_per_year if ob.new_agents_per_year is not None
               else ob.attrition_per_year * n_agents)
        ob_rate = ob.cost_per_hour if ob.cost_per_hour is not None else agents_rate
        fixed = fixed + new * ob.hours_per_new_agent * ob_rate / 12.0 * cov
    if costs.implementation is not None:
        imp = costs.implementation
        fixed = fixed + np.where(months.index < imp.months, imp.cost / imp.months, 0.0) * cov
    cost = labour + licence[None] + fixed[None]  # [R, M]

    # ---- tiers
    tiers = econ.pricing
    kpis = list(dict.fromkeys(k for t in tiers.values() for k in t.targets))
    sums = (intervals if _is_sums(intervals)
            else queue_month_sums(scenario, model, intervals, months))
    cells = _cells(sums, reps, months, kpis)
    # NOTE: handled work is capacity-time: a chat on a channel with concurrency k holds 1/k
    # of an agent, so its handle time counts 1/k towards the cost a tier or channel carries.
    units = np.array([model.channel_units[model.channel_names.index(ch)] / CAPACITY_UNITS
                      if ch in model.channel_names else 1.0 for ch in cells.queue_channel])
    cells = replace(cells, work_s=cells.work_s * units)
    n_c = len(cells.queue_names)
    names = list(tiers)
    placements = np.array([t.placements_per_month for t in tiers.values()], dtype=float)
    cover = (np.array([_covers(t, scenario, cells) for t in tiers.values()], dtype=float)
             if tiers else np.zeros((0, n_c)))  # [K, C]
    weight = cover * placements[:, None]
    den = weight.sum(axis=0)
    n_cover = cover.sum(axis=0)
    alloc = np.where(den > 0, weight / np.where(den > 0, den, 1.0),
                     cover / np.maximum(n_cover, 1.0))  # [K, C]: share of each queue
    tier_work = np.einsum("rmc,kc->rmk", cells.work_s, alloc)
    tier_answered = np.einsum("rmc,kc->rmk", cells.answered, alloc)
    work_total = tier_work.sum(axis=2, keepdims=True)
    by_place = (placements / placements.sum() if placements.sum() > 0
                else np.full(len(names), 1.0 / max(len(names), 1)))
    share = np.where(work_total > 0, tier_work / np.where(work_total > 0, work_total, 1.0),
                     by_place[None, None, :])  # [R, M, K]

    rows = []
    target_rows = []
    for k, (tname, tier) in enumerate(tiers.items()):
        revenue = tier.placements_per_month * tier.fee_per_placement * cov  # [M]
        credits_spec: SlaCredits | None = tier.sla_credits or econ.sla_credits
        credit = np.zeros((n_r, n_m))
        extra = {}
        for kpi, bound in tier.targets.items():
            mine = cover[k] * (bound.channels is None or np.isin(cells.queue_channel,
                                                                  bound.channels))
            num = np.einsum("rmc,c->rm", cells.wv[kpi], mine)
            wsum = np.einsum("rmc,c->rm", cells.w[kpi], mine)
            value = np.full((n_r, n_m), np.nan)
            np.divide(num, wsum, out=value, where=wsum > 0)
            rules = [r for r in (credits_spec.rules if credits_spec else ()) if r.kpi == kpi]
            met, _, kshare = _credit_share(value, bound, rules)
            credit = credit + kshare
            extra[kpi], extra[f"{kpi}_met"] = value, met
            defined = ~np.isnan(met)
            target_rows.append({
                "tier": tname, "kpi": kpi, "min": bound.min, "max": bound.max,
                "mean": float(np.nanmean(value)) if defined.any() else np.nan,
                "p_met": float(met[defined].mean()) if defined.any() else np.nan,
                "n": int(defined.sum()),
                "p_credit": float((kshare[defined] > 0).mean()) if defined.any() else np.nan})
        cap = credits_spec.max_share if credits_spec else 0.0
        credit_share = np.minimum(credit, cap)
        credits = credit_share * revenue[None]
        tier_cost = cost * share[:, :, k]
        frame = {
            "tier": tname, "revenue": np.broadcast_to(revenue, (n_r, n_m)),
            "sla_credits": credits, "credit_share": credit_share, "cost": tier_cost,
            "labour_cost": labour * share[:, :, k], "overtime_cost": overtime * share[:, :, k],
            "licence_cost": licence[None] * share[:, :, k],
            "fixed_cost": fixed[None] * share[:, :, k],
            "margin": revenue[None] - credits - tier_cost,
            "answered": tier_answered[:, :, k], "work_h": tier_work[:, :, k] / 3600.0,
            "placements": np.broadcast_to(tier.placements_per_month * cov, (n_r, n_m)),
            **extra}
        rows.append(frame)
    revenue_all = sum((r["revenue"] for r in rows), np.zeros((n_r, n_m)))
    credits_all = sum((r["sla_credits"] for r in rows), np.zeros((n_r, n_m)))
    everything = {
        "tier": "all", "revenue": revenue_all, "sla_credits": credits_all,
        "credit_share": np.full((n_r, n_m), np.nan), "cost": cost, "labour_cost": labour,
        "overtime_cost": overtime, "licence_cost": np.broadcast_to(licence, (n_r, n_m)),
        "fixed_cost": np.broadcast_to(fixed, (n_r, n_m)),
        "margin": revenue_all - credits_all - cost,
        "answered": cells.answered.sum(axis=2), "work_h": cells.work_s.sum(axis=2) / 3600.0,
        "placements": np.broadcast_to(placements.sum() * cov, (n_r, n_m)),
        **{f"labour_cost.{t}": labour_tm[:, i, :] for i, t in enumerate(model.team_names)}}
    frame = _tidy([*rows, everything], reps, months)

    summary = _summary(frame, cells, cost, hours, labour_tm, reps, model)
    targets = pd.DataFrame(target_rows, columns=["tier", "kpi", "min", "max", "mean", "p_met",
                                                 "n", "p_credit"])
    return EconomicsResult(frame, summary, targets)


def _tidy(parts: list[dict], reps: np.ndarray, months: Months) -> pd.DataFrame:
    n_r, n_m = len(reps), months.n
    base = {"replication": np.repeat(reps, n_m), "month": np.tile(months.label, n_r),
            "coverage": np.tile(months.coverage, n_r)}
    frames = []
    for part in parts:
        cols = dict(base)
        for key, value in part.items():
            cols[key] = value if isinstance(value, str) else np.asarray(value, float).ravel()
        frames.append(pd.DataFrame(cols))
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["replication", "month"], kind="stable").reset_index(drop=True)


def _summary(frame, cells: _Cells, cost, hours, labour_tm, reps, model) -> pd.DataFrame:
    from sim.stats import summarize

    per_rep = frame.groupby(["tier", "replication"], sort=False)[
        [*MONEY, "answered", "work_h", "coverage"]].sum().reset_index()
    with np.errstate(invalid="ignore", divide="ignore"):
        per_rep["margin_per_month"] = per_rep["margin"] / per_rep["coverage"]
        per_rep["full_cost_per_contact"] = np.where(
            per_rep["answered"] > 0, per_rep["cost"] / per_rep["answered"], np.nan)
    out = []
    for scope, sel in (("all", per_rep["tier"] == "all"), ("tier", per_rep["tier"] != "all")):
        part = per_rep[sel]
        if part.empty:
            continue
        s = summarize(part, by=["tier"], kpis=list(SUMMARY_KPIS[scope]))
        out.append(s.rename(columns={"tier": "name"}).assign(scope=scope))

    # channels: each month's cost spread by work share (equally when nothing was handled)
    channels = list(dict.fromkeys(cells.queue_channel))
    if channels:
        ch_of = np.array([channels.index(c) for c in cells.queue_channel])
        work = np.stack([cells.work_s[:, :, ch_of == j].sum(axis=2)
                         for j in range(len(channels))], axis=2)  # [R, M, Ch]
        answered = np.stack([cells.answered[:, :, ch_of == j].sum(axis=2)
                             for j in range(len(channels))], axis=2)
        tot = work.sum(axis=2, keepdims=True)
        wshare = np.where(tot > 0, work / np.where(tot > 0, tot, 1.0), 1.0 / len(channels))
        ch_cost = (cost[:, :, None] * wshare).sum(axis=1)  # [R, Ch]
        ch_answered = answered.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            cpc = np.where(ch_answered > 0, ch_cost / np.where(ch_answered > 0, ch_answered, 1),
                           np.nan)
        part = pd.DataFrame({"name": np.tile(channels, len(reps)),
                             "replication": np.repeat(reps, len(channels)),
                             "cost": ch_cost.ravel(), "answered": ch_answered.ravel(),
                             "full_cost_per_contact": cpc.ravel()})
        out.append(summarize(part, by=["name"], kpis=list(SUMMARY_KPIS["channel"]))
                   .assign(scope="channel"))

    teams = list(model.team_names)
    part = pd.DataFrame({"name": np.tile(teams, len(reps)),
                         "replication": np.repeat(reps, len(teams)),
                         "labour_cost": labour_tm.sum(axis=2).ravel(),
                         "paid_h": np.tile(hours.sum(axis=1), len(reps))})
    out.append(summarize(part, by=["name"], kpis=list(SUMMARY_KPIS["team"]))
               .assign(scope="team"))
    summary = pd.concat(out, ignore_index=True)
    return summary[["scope", "name", "kpi", "mean", "se", "ci95_low", "ci95_high", "n"]]


# --------------------------------------------------------------------------------------------
# hooks for sim.api / sim.results


def run_economics(scenario: Scenario, model: Model, totals: pd.DataFrame,
                  intervals: pd.DataFrame) -> dict:
    """``Results`` fields ``economics``, ``economics_summary``, ``economics_targets`` (empty
    without an ``economics`` section)."""
    if getattr(scenario, "economics", None) is None:
        return {}
    result = compute(scenario, model, totals, intervals)
    return {"economics": result.frame, "economics_summary": result.summary,
            "economics_targets": result.targets}


def csv_rows(summary: pd.DataFrame) -> pd.DataFrame:
    """Summary rows for ``summary.csv``: ``channel`` is ``all``, a channel name,
    ``tier:<name>`` or ``team:<name>``."""
    label = np.where(summary["scope"].isin(["tier", "team"]),
                     summary["scope"] + ":" + summary["name"], summary["name"])
    return summary.drop(columns=["scope", "name"]).assign(channel=label)[
        ["channel", "kpi", "mean", "se", "ci95_low", "ci95_high", "n"]]


def json_section(scenario: Scenario, summary: pd.DataFrame, targets: pd.DataFrame,
                 number) -> dict:
    """The ``economics`` object of ``summary.json`` (``number`` makes values JSON-safe)."""
    out: dict = {"currency": scenario.economics.currency, "all": {}, "tiers": {},
                 "channels": {}, "teams": {}}
    key = {"all": None, "tier": "tiers", "channel": "channels", "team": "teams"}
    for row in summary.itertuples(index=False):
        stats = {k: number(getattr(row, k))
                 for k in ("mean", "se", "ci95_low", "ci95_high", "n")}
        if row.scope == "all":
            out["all"][row.kpi] = stats
        else:
            out[key[row.scope]].setdefault(row.name, {})[row.kpi] = stats
    out["targets"] = [{k: number(v) for k, v in r.items()}
                      for r in targets.to_dict(orient="records")]
    return out
