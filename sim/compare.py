"""Comparisons: scenarios simulated with common random numbers, or two existing run folders.

This module owns :func:`compare` (``ccsim compare A.yaml B.yaml``) and :func:`compare_runs`
(``ccsim compare RUN_A RUN_B``: no simulation; paired differences when the folders share
seed and replications, Welch intervals otherwise; see its docstring).

For :func:`compare` every scenario is simulated with the same replication seeds:
replication *i* of each draws from ``SeedSequence(seed).spawn(n)[i]``, and the sampler
splits that sequence into streams by purpose and by day
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


# --------------------------------------------------------------------------- run folders

#: Columns of :func:`compare_runs`'s table.
RUN_COMPARE_COLUMNS = ("baseline", "run", "channel", "kpi", "mean_baseline", "mean", "diff",
                       "se", "ci95_low", "ci95_high", "n", "method", "change", "alert",
                       "better", "verdict", "significant")

#: The seed's alert rule (as in the report): a KPI whose mean moved by more than this share.
RUN_ALERT_THRESHOLD = 0.10


def is_run_folder(path) -> bool:
    """Whether ``path`` is a folder (``ccsim compare`` then compares run folders)."""
    return Path(path).is_dir()


def compare_runs(baseline, run, kpis=None, threshold: float = RUN_ALERT_THRESHOLD
                 ) -> pd.DataFrame:
    """Differences of every KPI between two existing run folders (``run - baseline``).

    Paired when both runs share the seed and the same replication indices: replication *i*
    of each then drew from ``SeedSequence(seed).spawn(n)[i]`` (common random numbers), so
    the 95% t-interval is over the per-replication differences read from each folder's
    ``totals.parquet``. Otherwise (other seed, other replications, or no ``totals.parquet``)
    the runs are independent samples and the interval is Welch's, from each run's mean,
    standard error and number of replications in ``summary.json``.

    Parameters
    ----------
    baseline, run : path or sim.report.data.RunFolder
        Run folders written by ``ccsim run``; differences are ``run - baseline``.
    kpis : sequence of str, optional
        Default: every KPI of :data:`sim.kpi.KPI_KEYS` both runs have, then any other
        per-replication column they share (KPIs added later are compared too), then
        revenue, SLA credits, cost and margin (:data:`ECONOMICS_DIRECTIONS`) when both
        runs have economics: as "channel" ``economics`` (the whole center) and
        ``economics/<tier>`` (each pricing tier), summed over the horizon.
    threshold : float
        Relative change of the mean that raises an alert (0.10 = the seed's 10% rule).

    Returns
    -------
    pandas.DataFrame
        One row per channel x KPI defined in both runs (:data:`RUN_COMPARE_COLUMNS`):
        ``mean_baseline``, ``mean``, ``diff`` (mean of the paired differences, or the
        difference of the means) with ``se`` and its 95% interval ``ci95_low``,
        ``ci95_high``; ``n`` (pairs, or the smaller replication count); ``method``
        (``"paired"`` or ``"welch"``); ``change`` = diff / |mean_baseline| (+/-inf from 0);
        ``alert`` (|change| > threshold); ``better`` (``"run"``, ``"baseline"`` or ``""``);
        ``verdict`` (``better``/``worse``/``""`` for the run); ``significant`` (the interval
        excludes 0). ``attrs`` holds ``paired``, ``note``, ``baseline``, ``run`` (paths) and
        ``threshold``.

    Raises
    ------
    sim.report.data.RunFolderError
        When a folder is not a readable run folder.
    """
    from sim.report.data import RunFolder, load_run

    base = baseline if isinstance(baseline, RunFolder) else load_run(baseline)
    other = run if isinstance(run, RunFolder) else load_run(run)
    paired, note = _pairing(base, other)
    keys = _run_kpis(base, other, kpis, paired)
    channels = [c for c in base.channels if c in other.channels]
    rows = []
    for channel in channels:
        for kpi in keys:
            row = (_paired_row(base, other, channel, kpi) if paired
                   else _welch_row(base, other, channel, kpi))
            if row is None:
                continue
            rows.append({"baseline": str(base.path), "run": str(other.path),
                         "channel": channel, "kpi": kpi, **row,
                         **_judge(kpi, row, threshold)})
    if kpis is None:
        for channel, kpi, row in _economics_rows(base, other, paired):
            rows.append({"baseline": str(base.path), "run": str(other.path),
                         "channel": channel, "kpi": kpi, **row,
                         **_judge(kpi, row, threshold)})
    table = pd.DataFrame(rows, columns=list(RUN_COMPARE_COLUMNS))
    table.attrs.update(paired=paired, note=note, baseline=str(base.path),
                       run=str(other.path), threshold=threshold)
    return table


#: Economics measures compared per pricing tier (and overall), with their better direction.
ECONOMICS_DIRECTIONS = {"revenue": "higher", "sla_credits": "lower", "cost": "lower",
                        "margin": "higher"}


def _economics_per_rep(run) -> pd.DataFrame | None:
    """Per replication x tier sums over the months of ``economics.parquet`` (or None)."""
    path = run.path / "economics.parquet"
    if not path.is_file():
        return None
    try:
        eco = pd.read_parquet(path)
    except Exception:  # a damaged optional file: compare without it
        return None
    cols = [c for c in ECONOMICS_DIRECTIONS if c in eco.columns]
    if not cols or not {"tier", "replication"} <= set(eco.columns):
        return None
    eco = eco.assign(tier=eco["tier"].astype(str))
    return eco.groupby(["tier", "replication"], sort=False)[cols].sum()


def _economics_rows(base, other, paired: bool):
    """``(channel, kpi, row)`` of revenue, SLA credits, cost and margin per pricing tier.

    The "channel" is ``economics`` for the whole center and ``economics/<tier>`` for a
    pricing tier. Paired from ``economics.parquet`` (sums over the months of each
    replication); otherwise Welch from the ``economics`` part of ``summary.json``.
    """
    def label(tier):
        return "economics" if str(tier) == "all" else f"economics/{tier}"

    if paired:
        a, b = _economics_per_rep(base), _economics_per_rep(other)
        if a is None or b is None:
            return
        tiers = [t for t in dict.fromkeys(a.index.get_level_values(0))
                 if t in set(b.index.get_level_values(0))]
        for tier in tiers:
            x_all, y_all = a.loc[tier].sort_index(), b.loc[tier]
            for kpi in ECONOMICS_DIRECTIONS:
                if kpi not in x_all or kpi not in y_all:
                    continue
                x = x_all[kpi]
                y = y_all[kpi].reindex(x.index)
                ok = x.notna().to_numpy() & y.notna().to_numpy()
                if not ok.any():
                    continue
                xv, yv = x.to_numpy(float)[ok], y.to_numpy(float)[ok]
                d = paired_difference(yv, xv)
                yield label(tier), kpi, {
                    "mean_baseline": float(xv.mean()), "mean": float(yv.mean()),
                    "diff": d.mean, "se": d.se, "ci95_low": d.low, "ci95_high": d.high,
                    "n": d.n, "method": "paired"}
        return

    def sections(run):
        eco = run.summary.get("economics")
        if not isinstance(eco, dict):
            return {}
        out = {"all": eco.get("all")} if isinstance(eco.get("all"), dict) else {}
        for tier, values in (eco.get("tiers") or {}).items():
            if isinstance(values, dict):
                out[str(tier)] = values
        return out

    sa, sb = sections(base), sections(other)
    for tier in [t for t in sa if t in sb]:
        for kpi in ECONOMICS_DIRECTIONS:
            va, vb = sa[tier].get(kpi), sb[tier].get(kpi)
            if not (isinstance(va, dict) and isinstance(vb, dict)):
                continue
            ma, mb = va.get("mean"), vb.get("mean")
            if ma is None or mb is None or not (np.isfinite(ma) and np.isfinite(mb)):
                continue
            se_a = np.nan if va.get("se") is None else float(va["se"])
            se_b = np.nan if vb.get("se") is None else float(vb["se"])
            na, nb = _count(va.get("n")), _count(vb.get("n"))
            diff, se, low, high = welch_difference(ma, se_a, na, mb, se_b, nb)
            yield label(tier), kpi, {
                "mean_baseline": float(ma), "mean": float(mb), "diff": diff, "se": se,
                "ci95_low": low, "ci95_high": high, "n": min(na, nb), "method": "welch"}


def _replication_ids(run) -> tuple | None:
    if run.totals is None or "replication" not in run.totals.columns:
        return None
    return tuple(sorted(int(r) for r in pd.unique(run.totals["replication"])))


def _pairing(base, other) -> tuple[bool, str]:
    ids_a, ids_b = _replication_ids(base), _replication_ids(other)
    same_seed = base.seed is not None and base.seed == other.seed
    if same_seed and ids_a is not None and ids_a == ids_b:
        return True, (f"paired: both runs use seed {base.seed} and replications "
                      f"{_ids_text(ids_a)}, so replication i of each saw the same random "
                      "numbers; 95% t-intervals of the per-replication differences "
                      "(totals.parquet).")
    if not same_seed:
        why = f"different seeds ({base.seed} vs {other.seed})"
    elif ids_a is None or ids_b is None:
        why = "no per-replication values (totals.parquet) in a run folder"
    else:
        why = f"different replications ({_ids_text(ids_a)} vs {_ids_text(ids_b)})"
    return False, (f"unpaired (Welch): {why}, so the runs are treated as independent; "
                   "95% Welch intervals from each run's mean, standard error and "
                   "replication count (summary.json).")


def _ids_text(ids: tuple) -> str:
    if ids and ids == tuple(range(ids[0], ids[-1] + 1)):
        return f"{ids[0]}–{ids[-1]}" if len(ids) > 1 else str(ids[0])
    return ", ".join(map(str, ids))


def _run_kpis(base, other, kpis, paired: bool) -> list[str]:
    if kpis is not None:
        return list(kpis)
    if paired:
        common = [c for c in base.totals.columns if c in other.totals.columns
                  and c not in ("channel", "replication")
                  and pd.api.types.is_numeric_dtype(base.totals[c])]
    else:
        def keys(run):
            return {k for stats in run.summary.get("kpis", {}).values()
                    if isinstance(stats, dict) for k in stats}
        found = keys(base) & keys(other)
        common = sorted(found)
    return [k for k in KPI_KEYS if k in common] + [k for k in common if k not in KPI_KEYS]


def _paired_row(base, other, channel: str, kpi: str) -> dict | None:
    a, b = base.per_replication(kpi), other.per_replication(kpi)
    if a is None or b is None or channel not in a or channel not in b:
        return None
    x = a[channel].sort_index()
    y = b[channel].reindex(x.index)
    ok = x.notna().to_numpy() & y.notna().to_numpy()
    if not ok.any():
        return None
    x, y = x.to_numpy(float)[ok], y.to_numpy(float)[ok]
    d = paired_difference(y, x)
    return {"mean_baseline": float(np.mean(x)), "mean": float(np.mean(y)), "diff": d.mean,
            "se": d.se, "ci95_low": d.low, "ci95_high": d.high, "n": d.n,
            "method": "paired"}


def welch_difference(mean_a: float, se_a: float, n_a: int, mean_b: float, se_b: float,
                     n_b: int) -> tuple[float, float, float, float]:
    """Welch's 95% interval of ``mean_b - mean_a`` for two independent samples.

    Parameters
    ----------
    mean_a, se_a, n_a, mean_b, se_b, n_b : float, float, int
        Each sample's mean, standard error of the mean and size.

    Returns
    -------
    (diff, se, low, high) : tuple of float
        ``se = sqrt(se_a^2 + se_b^2)``; the t quantile has the Welch-Satterthwaite degrees
        of freedom. ``low == high == diff`` when both standard errors are 0; NaN bounds when
        a sample has fewer than 2 values.
    """
    from scipy import stats as _stats

    diff = float(mean_b) - float(mean_a)
    if n_a < 2 or n_b < 2 or not (np.isfinite(se_a) and np.isfinite(se_b)):
        return diff, np.nan, np.nan, np.nan
    va, vb = float(se_a) ** 2, float(se_b) ** 2
    se = float(np.sqrt(va + vb))
    if se == 0.0:
        return diff, 0.0, diff, diff
    dof = (va + vb) ** 2 / (va ** 2 / (n_a - 1) + vb ** 2 / (n_b - 1))
    half = float(_stats.t.ppf(0.975, dof)) * se
    return diff, se, diff - half, diff + half


def _welch_row(base, other, channel: str, kpi: str) -> dict | None:
    sa, sb = base.kpi(channel, kpi), other.kpi(channel, kpi)
    if sa is None or sb is None:
        return None
    if not (np.isfinite(sa["mean"]) and np.isfinite(sb["mean"])):
        return None
    na, nb = _count(sa.get("n")), _count(sb.get("n"))
    diff, se, low, high = welch_difference(sa["mean"], sa.get("se", np.nan), na,
                                           sb["mean"], sb.get("se", np.nan), nb)
    return {"mean_baseline": float(sa["mean"]), "mean": float(sb["mean"]), "diff": diff,
            "se": se, "ci95_low": low, "ci95_high": high, "n": min(na, nb),
            "method": "welch"}


def _count(value) -> int:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return 0
    return int(value) if np.isfinite(value) else 0


def _judge(kpi: str, row: dict, threshold: float) -> dict:
    ref, diff = row["mean_baseline"], row["diff"]
    if ref == 0.0:
        change = 0.0 if diff == 0.0 else float(np.copysign(np.inf, diff))
    else:
        change = diff / abs(ref)
    direction = KPI_INFO.get(kpi, ("", "", ECONOMICS_DIRECTIONS.get(kpi)))[2]
    better = verdict = ""
    if direction and diff == diff and diff != 0:
        run_better = (diff > 0) == (direction == "higher")
        better = "run" if run_better else "baseline"
        verdict = "better" if run_better else "worse"
    low, high = row["ci95_low"], row["ci95_high"]
    return {"change": change, "alert": bool(abs(change) > threshold), "better": better,
            "verdict": verdict,
            "significant": bool(np.isfinite(low) and np.isfinite(high)
                                and (low > 0 or high < 0))}


def run_flag(row) -> str:
    """``ALERT worse, significant``, ``ALERT better, within noise``, ``significant`` or ``""``
    for one row of :func:`compare_runs`."""
    if row.alert:
        word = f"ALERT {row.verdict}".strip()
        return f"{word}, {'significant' if row.significant else 'within noise'}"
    return "significant" if row.significant else ""


def format_compare_runs(table: pd.DataFrame, all_kpis: bool = True) -> str:
    """Text of :func:`compare_runs`: how the CIs were made, then per channel every KPI with
    both means, the difference and its 95% CI, the relative change, and ``ALERT`` on a move
    beyond the threshold (``better``/``worse`` where the KPI has a preferred direction;
    ``significant`` when the interval excludes 0, ``within noise`` when it does not).
    Differences of shares are in percentage points (pp)."""
    from sim.report.data import fmt_delta, fmt_delta_ci, fmt_value, label_of

    attrs = table.attrs
    pct = f"{100 * attrs.get('threshold', RUN_ALERT_THRESHOLD):.0f}%"
    lines = [f"baseline: {attrs.get('baseline', '?')}",
             f"run:      {attrs.get('run', '?')}",
             f"differences are run - baseline; {attrs.get('note', '')}"]
    n_alert = int(table["alert"].sum()) if len(table) else 0
    lines.append(f"{n_alert} channel x KPI value{'s' if n_alert != 1 else ''} moved more "
                 f"than {pct} from the baseline (marked ALERT)")
    header = (f"  {'kpi':24} {'baseline':>12} {'run':>12} {'diff':>12} "
              f"{'95% CI':>26} {'change':>8}  flag")
    for channel, part in table.groupby("channel", sort=False):
        shown = [r for r in part.itertuples() if all_kpis or r.alert]
        if not shown:
            continue
        lines += ["", f"{channel}", header]
        for r in shown:
            change = ("from 0" if np.isinf(r.change) else f"{100 * r.change:+.1f}%")
            lines.append(
                f"  {label_of(r.kpi)[:24]:24} {fmt_value(r.mean_baseline, r.kpi):>12} "
                f"{fmt_value(r.mean, r.kpi):>12} {fmt_delta(r.diff, r.kpi):>12} "
                f"{fmt_delta_ci(r.ci95_low, r.ci95_high, r.kpi) or '–':>26} "
                f"{change:>8}  {run_flag(r)}".rstrip())
    return "\n".join(lines)
