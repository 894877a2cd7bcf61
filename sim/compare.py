"""Policy comparisons with common random numbers: paired differences against a baseline.

This module owns :func:`compare` (``ccsim compare``). Every scenario is simulated with the
same replication seeds: replication *i* of each draws from ``SeedSequence(seed).spawn(n)[i]``,
and the sampler splits that sequence into streams by purpose and by day
(:mod:`sim.workload`), so scenarios that share demand see the same arrivals, handle times
and patience, and differ only where their configurations differ. The difference of a KPI
between a scenario and the baseline (the first) is then measured per replication; its
variance is smaller than the sum of the two variances that independent runs would give,
by the factor reported as ``variance_ratio``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.compile import compile_scenario
from sim.engines import DEFAULT_ENGINE
from sim.executors import ExecutorSpec
from sim.experiment import check_stability, run_jobs
from sim.kpi import KPI_INFO, KPI_KEYS
from sim.scenario import Scenario, load_scenario
from sim.stats import paired_difference

#: Columns of :func:`compare`'s table.
COMPARE_COLUMNS = ("scenario", "baseline", "channel", "kpi", "mean_baseline", "mean",
                   "diff", "se", "ci95_low", "ci95_high", "n", "better", "significant",
                   "var_paired", "var_independent", "variance_ratio")


def compare(scenarios, replications: int = 10, seed: int | None = None,
            engine: str = DEFAULT_ENGINE, workers: int = 1, dask: str | None = None,
            progress: bool = False, kpis=None) -> pd.DataFrame:
    """Paired differences of every KPI between each scenario and the first one.

    Parameters
    ----------
    scenarios : sequence of Scenario or path
        Two or more; the first is the baseline.
    replications : int
        Replications per scenario (the same seeds for all).
    seed : int, optional
        Default: the baseline's ``seed``.
    kpis : sequence of str, optional
        Default: every KPI.

    Returns
    -------
    pandas.DataFrame
        One row per other scenario x channel x KPI (:data:`COMPARE_COLUMNS`): the two means,
        ``diff`` = mean of (scenario - baseline) per replication with its standard error and
        95% t-interval, ``better`` (the scenario's name, the baseline's, or ``""`` when equal
        or the KPI has no better direction), ``significant`` (the interval excludes 0),
        ``var_paired`` (variance of the per-replication differences), ``var_independent``
        (sum of the two variances: what independent runs would give) and their ratio.
    """
    loaded = [load_scenario(s) if isinstance(s, (str, Path)) else s for s in scenarios]
    if len(loaded) < 2:
        raise ValueError("compare needs at least two scenarios")
    names = _unique_names(loaded, scenarios)
    seed = loaded[0].seed if seed is None else int(seed)
    jobs = {}
    for name, scn in zip(names, loaded, strict=True):
        model = compile_scenario(scn)
        check_stability(scn, model)
        jobs[name] = (scn, model)
    reps = run_jobs(jobs, replications, seed, engine, ExecutorSpec.choose(workers, dask),
                    progress=progress)
    totals = {k: pd.concat([r.totals for r in v], ignore_index=True) for k, v in reps.items()}
    return paired_table(totals, names, kpis)


def paired_table(totals: dict, names: list[str], kpis=None) -> pd.DataFrame:
    """The comparison table from per-replication totals (``name -> totals frame``)."""
    base_name = names[0]
    base = totals[base_name]
    kpis = [k for k in (kpis or KPI_KEYS) if k in base.columns]
    rows = []
    for name in names[1:]:
        other = totals[name]
        for channel in dict.fromkeys(base.channel):
            a = base[base.channel == channel].sort_values("replication")
            b = other[other.channel == channel].sort_values("replication")
            if b.empty:
                continue
            for kpi in kpis:
                x = a[kpi].to_numpy(dtype=float)
                y = b[kpi].to_numpy(dtype=float)
                ok = ~np.isnan(x) & ~np.isnan(y)
                d = paired_difference(y[ok], x[ok])
                var_p = float(np.var(y[ok] - x[ok], ddof=1)) if ok.sum() > 1 else np.nan
                var_i = (float(np.var(x[ok], ddof=1) + np.var(y[ok], ddof=1))
                         if ok.sum() > 1 else np.nan)
                direction = KPI_INFO[kpi][2]
                better = ""
                if direction and d.mean == d.mean and d.mean != 0:
                    up = d.mean > 0
                    better = name if up == (direction == "higher") else base_name
                significant = bool(d.low > 0 or d.high < 0)
                rows.append({
                    "scenario": name, "baseline": base_name, "channel": channel, "kpi": kpi,
                    "mean_baseline": float(np.mean(x[ok])) if ok.any() else np.nan,
                    "mean": float(np.mean(y[ok])) if ok.any() else np.nan,
                    "diff": d.mean, "se": d.se, "ci95_low": d.low, "ci95_high": d.high,
                    "n": d.n, "better": better, "significant": significant,
                    "var_paired": var_p, "var_independent": var_i,
                    "variance_ratio": var_p / var_i if var_i and var_i > 0 else np.nan})
    return pd.DataFrame(rows, columns=list(COMPARE_COLUMNS))


def _unique_names(loaded: list[Scenario], given) -> list[str]:
    names = [s.name for s in loaded]
    if len(set(names)) == len(names):
        return names
    return [str(g) if isinstance(g, (str, Path)) else f"{s.name} #{i + 1}"
            for i, (g, s) in enumerate(zip(given, loaded, strict=True))]


def format_compare(table: pd.DataFrame, kpis=("service_level", "asa_s", "abandon_rate",
                                               "occupancy", "backlog", "cost_per_contact"),
                   channels=None) -> str:
    """Text: per scenario, channel and KPI the difference with its CI, the better side,
    significance, and the variance reduction from common random numbers."""
    lines = []
    rows = table[table.kpi.isin(kpis)]
    if channels is not None:
        rows = rows[rows.channel.isin(channels)]
    header = (f"{'scenario':24} {'channel':8} {'kpi':16} {'baseline':>10} {'value':>10} "
              f"{'diff [95% CI]':>30}  {'better':20} {'sig':3} {'CRN var':>8}")
    lines.append(header)
    for r in rows.itertuples():
        if r.n == 0:
            continue
        ci = f"{r.diff:+.4g} [{r.ci95_low:+.4g}, {r.ci95_high:+.4g}]"
        ratio = "-" if r.variance_ratio != r.variance_ratio else f"{r.variance_ratio:.2f}"
        lines.append(f"{r.scenario[:24]:24} {r.channel[:8]:8} {r.kpi[:16]:16} "
                     f"{r.mean_baseline:>10.4g} {r.mean:>10.4g} {ci:>30}  "
                     f"{(r.better or '-')[:20]:20} {'yes' if r.significant else 'no':3} "
                     f"{ratio:>8}")
    shown = table[table.kpi.isin(kpis)]
    for name, part in shown.groupby("scenario", sort=False):
        ratios = part.variance_ratio.replace([np.inf, -np.inf], np.nan).dropna()
        if not ratios.empty:
            lines.append(f"common random numbers, {name}: the paired differences have "
                         f"{100 * ratios.median():.0f}% of the variance independent runs "
                         "would give (median over the KPIs shown)")
    return "\n".join(lines)
