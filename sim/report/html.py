"""``report.html``: one self-contained page for planners and quarterly business reviews.

:func:`build_report` reads a run folder (and optionally a baseline run folder) and writes:

* ``report.html``: the headline KPI table against the targets (value with its 95% interval,
  met / missed / uncertain in colour *and* words), baseline alerts, the figures of
  :mod:`sim.report.figures` embedded as base64 PNG (those of journeys, escalations, MTTR and
  pricing tiers only when the run has their KPIs, :func:`optional_figures`; a "not in this
  run" line otherwise), the scenario in plain words, notes, and a footer with everything
  needed to reproduce the run. No scripts, no external CSS, fonts or
  images: it opens offline.
* ``summary.md`` next to it (:mod:`sim.report.markdown`).
* every figure as PNG and SVG in ``RUN_DIR/figures/``.

Every string that comes from the scenario or the run folder is HTML-escaped.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import math
import os
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from sim.report import figures as F
from sim.report.data import (
    ALERT_THRESHOLD,
    Comparison,
    RunFolder,
    compare_runs,
    economics_table,
    escalation_table,
    fmt_bounds,
    fmt_ci,
    fmt_value,
    headline_kpis,
    headline_rows,
    journey_table,
    label_of,
    load_run,
    mttr_table,
    required_by_time_of_day,
    staffing_by_interval,
    target_counts,
    unit_of,
)
from sim.report.markdown import fmt_change, fmt_paired, write_summary_md
from sim.scenario import Scenario, distribution_mean_s

_STATUS_TEXT = {"met": "✓ met", "missed": "✗ missed", "uncertain": "? uncertain"}


def _e(text) -> str:
    """HTML-escape any value (quotes included)."""
    return html.escape(str(text), quote=True)


@dataclass
class ReportFigure:
    """A figure of the report: file stem, heading, caption and the matplotlib figure."""

    slug: str
    title: str
    caption: str
    figure: Figure


def build_report(run_dir: str | Path, baseline_dir: str | Path | None = None,
                 out: str | Path | None = None) -> Path:
    """Build ``report.html`` (and ``summary.md`` and the figure files) for a run folder.

    Parameters
    ----------
    run_dir : path
        A run folder written by ``ccsim run`` or :meth:`sim.results.Results.write`.
    baseline_dir : path, optional
        An earlier run folder: every KPI whose mean moved more than 10% from it is flagged,
        with the paired difference and its 95% interval when both runs share their seed and
        replication count (for KPIs with per-replication values in the folders).
    out : path, optional
        The HTML file to write (default ``RUN_DIR/report.html``); ``summary.md`` is written
        next to it.

    Returns
    -------
    Path
        The HTML file.

    Raises
    ------
    sim.report.data.RunFolderError
        When a folder is not a readable run folder.
    """
    run = load_run(run_dir)
    comparison = compare_runs(run, load_run(baseline_dir)) if baseline_dir else None
    out = Path(out) if out else run.path / "report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    figs = report_figures(run)
    fig_dir = run.path / "figures"
    fig_dir.mkdir(exist_ok=True)
    embedded = []
    for f in figs:
        png = io.BytesIO()
        f.figure.savefig(png, format="png", dpi=100)
        (fig_dir / f"{f.slug}.png").write_bytes(png.getvalue())
        f.figure.savefig(fig_dir / f"{f.slug}.svg", format="svg", metadata={"Date": None})
        embedded.append((f, base64.b64encode(png.getvalue()).decode("ascii")))
    text = render_html(run, embedded, comparison)
    _write_atomic(out, text)
    write_summary_md(run, out.parent / "summary.md", comparison)
    return out


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- figures

def _live(s: Scenario) -> list[str]:
    return [c for c, ch in s.channels.items() if ch.kind == "live"]


def _deferred(s: Scenario) -> list[str]:
    return [c for c, ch in s.channels.items() if ch.kind == "deferred"]


def _target(s: Scenario, channel: str, kpi: str, bound: str):
    b = s.targets.get(channel, {}).get(kpi)
    value = getattr(b, bound) if b is not None else None
    return None if value is None else float(value)


def _sl_target(s: Scenario, channel: str):
    """The channel's service-level target: ``targets`` first, else its ``sla.target``."""
    t = _target(s, channel, "service_level", "min")
    if t is None and s.channels[channel].sla is not None:
        t = s.channels[channel].sla.target
    return t


def _has(intervals, channels, kpi) -> bool:
    rows = intervals[(intervals["queue"] == "all") & intervals["channel"].isin(channels)]
    return bool(len(rows)) and bool(rows[kpi].notna().any())


def report_figures(run: RunFolder) -> list[ReportFigure]:
    """The report's figures for a run, skipping those whose data is absent.

    Returns
    -------
    list of ReportFigure
    """
    s, iv = run.scenario, run.intervals
    start = s.horizon.start
    colors = F.channel_colors(list(s.channels))
    live = _live(s)
    live_sla = [c for c in live if s.channels[c].sla is not None]
    sla_channels = [c for c in s.channels if s.channels[c].sla is not None]
    sl_targets = {c: _sl_target(s, c) for c in sla_channels}
    out: list[ReportFigure] = []

    def new(height=3.8, rows=1, sharex=False):
        fig = Figure(figsize=(10, height), layout="constrained")
        if rows == 1:
            return fig, fig.add_subplot()
        return fig, fig.subplots(rows, 1, sharex=sharex)

    if live_sla and _has(iv, live_sla, "service_level"):
        fig, ax = new()
        F.service_level_by_interval(ax, iv, live_sla, sl_targets, colors)
        out.append(ReportFigure(
            "service_level_by_interval", "Service level by interval of the day",
            "Share of offered contacts answered within the channel's threshold, by the "
            "interval in which they arrived, pooled over the days of the horizon. Shaded: "
            "95% confidence band across replications; dashed: target.", fig))
    if live and _has(iv, live, "asa_s"):
        fig, ax = new()
        F.asa_by_interval(ax, iv, live, {c: _target(s, c, "asa_s", "max") for c in live},
                          colors)
        out.append(ReportFigure(
            "asa_by_interval", "Average speed of answer by interval of the day",
            "Mean wait of answered contacts (seconds) on the live channels, by arrival "
            "interval. Shaded: 95% confidence band; dashed: target.", fig))
    abandoning = [c for c in live if s.channels[c].patience is not None]
    if abandoning and _has(iv, abandoning, "abandon_rate"):
        fig, ax = new()
        F.abandonment_by_interval(ax, iv, abandoning,
                                  {c: _target(s, c, "abandon_rate", "max")
                                   for c in abandoning}, colors)
        out.append(ReportFigure(
            "abandonment_by_interval", "Abandonment by interval of the day",
            "Share of offered contacts that hung up or left before being answered, by "
            "arrival interval. Shaded: 95% confidence band; dashed: target.", fig))
    if _has(iv, ["all"], "occupancy"):
        lo, hi = _target(s, "all", "occupancy", "min"), _target(s, "all", "occupancy", "max")
        band = (lo if lo is not None else 0.0, hi if hi is not None else 1.0) if (
            lo is not None or hi is not None) else None
        fig, ax = new(4.2)
        F.occupancy_heatmap(ax, iv, start, band=band)
        caption = ("Mean occupancy of the whole center (time handling contacts / time "
                   "available), by weekday and hour, over the weeks and replications. ")
        caption += (f"Outlined cells lie inside the target band {fmt_bounds(lo, hi, 'occupancy')}."
                    if band else "The scenario sets no occupancy target.")
        out.append(ReportFigure("occupancy_heatmap", "Occupancy by weekday and hour", caption,
                                fig))
    staffing = staffing_by_interval(s, int(run.seed)) if s.teams else None
    if staffing is not None and len(staffing) and staffing["scheduled"].sum() > 0:
        why_not = "no live channel has a target to staff for"
        try:
            required = required_by_time_of_day(s, staffing["interval"].unique())
        except Exception as exc:  # the analytic layer cannot staff this scenario: no line
            required, why_not = None, f"the Erlang layer could not compute it ({exc})"
        fig, ax = new()
        F.staffed_agents_by_interval(ax, staffing, required,
                                     title="Staffed vs required agents by interval of the "
                                           "day")
        caption = ("Agents available to take contacts (on shift and not on a break, in "
                   "training, in a meeting or absent), stacked by team, averaged over the days "
                   "of the measured window, from replication 0's roster. Dashed: agents "
                   "scheduled on shift before shrinkage.")
        if required is not None:
            caption += (" Solid: Erlang requirement (analytic), the agents needed on duty to "
                        "meet each live channel's targets under the expected demand (Erlang A "
                        "where callers abandon, else Erlang C; each live channel its own pool, "
                        "summed; deferred work and multi-skill pooling left out), as "
                        "'ccsim staff' computes it.")
        else:
            caption += f" No analytic requirement line: {why_not}."
        out.append(ReportFigure(
            "staffed_agents_by_interval", "Staffed vs required agents by interval of the day",
            caption, fig))
    deferred = [c for c in _deferred(s) if _has(iv, [c], "backlog")]
    if deferred:
        fig, (a1, a2) = new(6.4, rows=2, sharex=True)
        F.backlog_over_horizon(a1, iv, deferred, start, colors)
        F.backlog_age_over_horizon(a2, iv, deferred, start,
                                   {c: _target(s, c, "backlog_age_h", "max")
                                    for c in deferred}, colors)
        a1.set_xlabel("")
        peak = F.choose_period(iv) == "M"
        out.append(ReportFigure(
            "backlog", "Backlog and oldest-item age (deferred channels)",
            "Deferred contacts (email, SMS, portal...) waiting at the end of each interval, "
            "and the age of the oldest of them, mean over replications"
            + ("; over a long horizon each day's peak is drawn" if peak else "")
            + "; dashed: target.", fig))
    if _has(iv, list(s.channels), "offered"):
        period = F.choose_period(iv)
        word = "month" if period == "M" else "day"
        with_sl = [c for c in sla_channels if _has(iv, [c], "service_level")]
        fig, axes = new(6.6 if with_sl else 3.8, rows=2 if with_sl else 1)
        a1 = axes[0] if with_sl else axes
        F.volume_by_period(a1, iv, list(s.channels), start, period, colors)
        if with_sl:
            F.service_level_by_period(axes[1], iv, with_sl, start, period, sl_targets,
                                      colors)
        out.append(ReportFigure(
            "volume_and_service_level_by_period",
            f"Volumes and service level per {word}",
            f"Offered contacts per {word} by channel (mean over replications) and the "
            f"service level of each {word} with its 95% confidence band; dashed: target.",
            fig))
    targeted = {c: t for c, t in sl_targets.items() if t is not None}
    if targeted and _has(iv, list(targeted), "service_level"):
        monthly = F.choose_period(iv) == "M"
        fig, axes = new(7.6 if monthly else 4.0, rows=2 if monthly else 1)
        ax = axes[0] if monthly else axes
        F.weekly_service_level_distribution(ax, iv, list(targeted), targeted, colors)
        if monthly:
            F.weekly_service_level_distribution(axes[1], iv, list(targeted), targeted,
                                                colors, period="M", start=start)
        out.append(ReportFigure(
            "weekly_service_level",
            "Weekly" + (" and monthly" if monthly else "")
            + " service level: how often is the target met?",
            "Each dot is one week" + (" (below: one calendar month)" if monthly else "")
            + " of one replication. P(met) is the share of those weeks"
            + (" (months)" if monthly else "") + " whose service level reaches the target: "
            "the chance that a given week" + (" or month" if monthly else "")
            + " meets it.", fig))
    cost = run.kpi("all", "cost_per_contact")
    if cost is not None and math.isfinite(cost["mean"]) and cost["mean"] > 0:
        shares = {}
        if staffing is not None and len(staffing):
            shares = F.team_cost_shares(staffing, {t: team.cost_per_hour
                                                   for t, team in s.teams.items()})
        fig, ax = new(2.6)
        F.cost_per_contact(ax, cost["mean"], cost["ci95_low"], cost["ci95_high"],
                           shares or None)
        out.append(ReportFigure(
            "cost_per_contact", "Cost per answered contact",
            "Agent cost (paid shift hours and overtime, at each team's hourly cost) divided "
            "by answered contacts, with its 95% confidence interval; split by team in "
            "proportion to each team's scheduled paid cost.", fig))
    by_channel = (run.summary.get("economics") or {}).get("channels") or {}
    values = {ch: (v["full_cost_per_contact"]["mean"], v["full_cost_per_contact"]["ci95_low"],
                   v["full_cost_per_contact"]["ci95_high"])
              for ch, v in by_channel.items()
              if isinstance(v, dict) and isinstance(v.get("full_cost_per_contact"), dict)
              and math.isfinite(v["full_cost_per_contact"].get("mean", math.nan))}
    if values:
        fig, ax = new(0.6 + 0.45 * len(values))
        F.cost_per_contact_by_channel(ax, values,
                                      (run.summary.get("economics") or {}).get("currency", ""))
        out.append(ReportFigure(
            "cost_per_contact_by_channel", "Full cost per contact by channel",
            "Every cost of the economics section (labour with overtime, licences, training, "
            "QA, amortised implementation) allocated to channels by handled work, divided by "
            "each channel's answered contacts, with 95% confidence intervals.", fig))
    out += optional_figures(run)[0]
    return out


#: What the report says instead of each optional figure when the run lacks its KPIs.
_ABSENT = {
    "journey_kpis": "First-contact resolution, repeat and escalation rates: not in this run "
                    "(no fcr, repeat_rate or escalation_rate KPI).",
    "escalations_by_tier": "Escalations by tier and severity with response-window "
                           "compliance: not in this run (no escalation-task queues).",
    "mttr_by_severity": "Mean time to resolve (MTTR) by severity: not in this run (no mttr_h "
                        "KPI).",
    "margin_by_tier": "Revenue, SLA credits and margin per pricing tier: not in this run (no "
                      "pricing tiers in the scenario).",
}


def optional_tables(run: RunFolder) -> tuple[dict, dict[str, str]]:
    """The tables of the optional figures, by figure slug (None where the run lacks them).

    A table the run has but that cannot be read (an unexpected shape) is None too, with the
    reason in the second dict, so the report still builds and says why.
    """
    readers = {"journey_kpis": journey_table, "escalations_by_tier": escalation_table,
               "mttr_by_severity": mttr_table, "margin_by_tier": economics_table}
    tables, problems = {}, {}
    for slug, read in readers.items():
        try:
            table = read(run)
        except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
            table, problems[slug] = None, f"{type(exc).__name__}: {exc}"
        if slug == "escalations_by_tier" and table is not None and not (
                table["tasks"].sum() > 0):
            table = None
        tables[slug] = table
    return tables, problems


def _absent_note(slug: str, problems: dict[str, str], run: RunFolder | None = None) -> str:
    if (slug == "escalations_by_tier" and run is not None
            and run.manifest.get("queue_intervals") is False
            and "escalation" in run.summary.get("kpis", {})):
        # the tasks were simulated; only their per-queue rows were left out (long horizon)
        return ("Escalations by tier and severity with response-window compliance: this run "
                "kept no per-queue interval rows (a long horizon); run it with "
                "--queue-intervals to draw them. The escalation channel's totals and the tier "
                "compliance KPIs are in summary.json and summary.csv.")
    if slug in problems:
        return (f"{_ABSENT[slug].split(':', 1)[0]}: could not be read from this run "
                f"({problems[slug]}).")
    return _ABSENT[slug]


def optional_figures(run: RunFolder) -> tuple[list[ReportFigure], list[str]]:
    """Figures of KPIs that only some runs have (journeys, escalations, pricing tiers).

    Returns
    -------
    (figures, absent) : list of ReportFigure, list of str
        The figures the run has data for, and one short "not in this run" note for each
        one it does not.
    """
    s = run.scenario
    figs: list[ReportFigure] = []
    absent: list[str] = []

    def new(height=3.8):
        fig = Figure(figsize=(10, height), layout="constrained")
        return fig, fig.add_subplot()

    tables, problems = optional_tables(run)
    journeys = tables["journey_kpis"]
    if journeys is not None:
        targets = {}
        for c in set(journeys["channel"]):
            for k in set(journeys["kpi"]):
                t = _target(s, c, k, "min" if k == "fcr" else "max")
                if t is not None:
                    targets[(c, k)] = t
        fig, ax = new()
        F.journey_kpis(ax, journeys, targets)
        figs.append(ReportFigure(
            "journey_kpis", "First-contact resolution, repeats and escalations",
            "Per channel: journeys resolved at their first contact (FCR), repeat contacts and "
            "escalations as shares of handled contacts, mean over replications with 95% "
            "confidence intervals; black tick: target.", fig))
    else:
        absent.append(_absent_note("journey_kpis", problems))
    esc = tables["escalations_by_tier"]
    if esc is not None:
        fig, ax = new()
        F.escalations_by_tier(ax, esc)
        figs.append(ReportFigure(
            "escalations_by_tier", "Escalations by tier and severity",
            "Escalation tasks reaching each tier, by severity (mean per replication over the "
            "measured window); the label on each bar is the share answered within the "
            "tier's response window.", fig))
    else:
        absent.append(_absent_note("escalations_by_tier", problems, run))
    mttr = tables["mttr_by_severity"]
    if mttr is not None:
        fig, ax = new(3.4)
        F.mttr_by_severity(ax, mttr, {sev: _target(s, "all", "mttr_h" if sev == "all"
                                                    else f"mttr_h_{sev}", "max")
                                      for sev in mttr["severity"]})
        figs.append(ReportFigure(
            "mttr_by_severity", "Mean time to resolve by severity",
            "Hours from a journey's first arrival to its resolution, by severity (all: every "
            "resolved journey), mean over replications with 95% confidence intervals; dashed: "
            "target.", fig))
    else:
        absent.append(_absent_note("mttr_by_severity", problems))
    eco = tables["margin_by_tier"]
    if eco is not None:
        fig, ax = new()
        economics = run.summary.get("economics")
        currency = economics.get("currency", "") if isinstance(economics, dict) else ""
        F.margin_by_tier(ax, eco, currency=str(currency or ""))
        figs.append(ReportFigure(
            "margin_by_tier", "Revenue, SLA credits, cost and margin per pricing tier",
            "Per pricing tier over the horizon: revenue, SLA credits paid when contractual "
            "targets were missed, cost and margin (revenue − credits − cost), mean over "
            "replications with 95% confidence intervals.", fig))
    else:
        absent.append(_absent_note("margin_by_tier", problems))
    return figs, absent


# --------------------------------------------------------------------------- HTML parts

_CSS = """
:root { --ink:#1d232b; --muted:#5b6570; --line:#d5dae0; --met:#1e6b34; --met-bg:#dcf1e2;
  --missed:#8f1d21; --missed-bg:#fbe0e1; --unc:#7a4f00; --unc-bg:#fff1cc; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  color: var(--ink); margin: 0; background: #f6f7f9; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 40px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 30px 0 10px; padding-bottom: 4px;
  border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 18px 0 6px; }
p.lead { color: var(--muted); margin: 0 0 12px; }
.meta { color: var(--muted); font-size: 13px; }
.chips { margin: 12px 0 4px; }
.chip { display: inline-block; padding: 3px 10px; border-radius: 12px; margin-right: 6px;
  font-weight: 600; font-size: 14px; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 13.5px; }
th, td { border: 1px solid var(--line); padding: 5px 8px; vertical-align: top; }
th { background: #eef1f4; text-align: left; }
td.num { text-align: right; white-space: nowrap; }
.scroll { overflow-x: auto; }
table.headline td { text-align: right; white-space: nowrap; min-width: 96px; }
table.headline th { white-space: nowrap; }
.ci { display: block; color: var(--muted); font-size: 11.5px; }
.status { display: block; font-size: 11.5px; font-weight: 700; margin-top: 2px; }
.st-met { background: var(--met-bg); color: var(--met); }
.st-missed { background: var(--missed-bg); color: var(--missed); }
.st-uncertain { background: var(--unc-bg); color: var(--unc); }
td.st-met .val, td.st-missed .val, td.st-uncertain .val { color: var(--ink); }
.tgt { display: block; font-size: 11px; color: var(--muted); }
figure { margin: 18px 0 26px; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 13px; margin-top: 6px; max-width: 920px; }
.alert-box { border-left: 5px solid var(--missed); background: var(--missed-bg);
  padding: 8px 14px; margin: 10px 0; }
.ok-box { border-left: 5px solid var(--met); background: var(--met-bg); padding: 8px 14px; }
.note { color: var(--muted); font-size: 13px; }
code, pre { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: #f1f3f5; padding: 8px 10px; overflow-x: auto; white-space: pre-wrap;
  word-break: break-all; }
footer { margin-top: 36px; border-top: 2px solid var(--line); padding-top: 10px;
  font-size: 13px; color: var(--muted); }
footer dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
footer dt { font-weight: 600; color: var(--ink); }
footer dd { margin: 0; word-break: break-all; }
nav.toc { font-size: 13.5px; margin: 10px 0 0; }
nav.toc a { margin-right: 12px; color: #0b5cad; }
@media print { body { background: #fff; } main { padding: 0; } figure { break-inside: avoid; } }
"""


def _status_span(status: str) -> str:
    if not status:
        return ""
    return (f'<span class="status">{_e(_STATUS_TEXT.get(status, status))}</span>')


def _headline_html(run: RunFolder) -> str:
    """KPIs as rows, channels as columns (so the table stays narrow)."""
    rows = headline_rows(run)
    channels = list(rows)
    head = "".join(f"<th>{_e(c)}</th>" for c in channels)
    body = []
    for key in headline_kpis(run):
        cells = [f"<th>{_e(label_of(key))}{_unit_suffix(key)}</th>"]
        for channel in channels:
            cell = rows[channel].get(key)
            if cell is None:
                cells.append('<td class="na">–</td>')
                continue
            cls = f' class="st-{_e(cell.status)}"' if cell.status else ""
            ci = fmt_ci(cell.low, cell.high, key)
            parts = [f'<span class="val">{_e(fmt_value(cell.mean, key))}</span>']
            if ci and key not in ("offered",):
                parts.append(f'<span class="ci">{_e(ci)}</span>')
            if cell.status:
                parts.append(_status_span(cell.status))
                parts.append(f'<span class="tgt">target {_e(cell.target)}</span>')
            cells.append(f"<td{cls}>{''.join(parts)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<div class="scroll"><table class="headline"><thead><tr><th>KPI</th>{head}</tr>'
            f"</thead><tbody>{''.join(body)}</tbody></table></div>")


def _unit_suffix(key: str) -> str:
    return {"s": " (s)", "h": " (h)"}.get(unit_of(key), "")


def _targets_html(run: RunFolder) -> str:
    targets = run.summary.get("targets", [])
    if not targets:
        return '<p class="note">The scenario sets no targets.</p>'
    rows = []
    for t in targets:
        key = str(t.get("kpi"))
        status = str(t.get("status") or "")
        p = t.get("p_met")
        rows.append(
            f"<tr><td>{_e(t.get('channel'))}</td><td>{_e(label_of(key))}</td>"
            f"<td>{_e(fmt_bounds(t.get('min'), t.get('max'), key))}</td>"
            f'<td class="num">{_e(fmt_value(t.get("mean"), key))} '
            f'<span class="ci">{_e(fmt_ci(t.get("ci95_low"), t.get("ci95_high"), key))}'
            "</span></td>"
            f'<td class="st-{_e(status)}"><b>{_e(_STATUS_TEXT.get(status, status))}</b></td>'
            f'<td class="num">{"–" if p is None else f"{100 * float(p):.0f}%"}</td></tr>')
    return ("<table><thead><tr><th>channel</th><th>KPI</th><th>target</th>"
            "<th>mean [95% CI]</th><th>status</th><th>P(met) over replications</th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table>"
            '<p class="note"><b>met</b>: the whole 95% interval meets the target; '
            "<b>missed</b>: the whole interval misses it; <b>uncertain</b>: the interval "
            "straddles it (more replications would tell). P(met): share of replications whose "
            "own value meets the target.</p>")


def _alerts_html(comparison: Comparison) -> str:
    base = _e(comparison.baseline_path)
    pct = f"{100 * ALERT_THRESHOLD:.0f}%"
    if not comparison.alerts:
        return (f'<div class="ok-box">No KPI moved by more than {pct} from the baseline '
                f"<code>{base}</code> ({comparison.n_compared} channel × KPI values "
                "compared).</div>")
    rows = []
    for a in comparison.alerts:
        cls = {"worse": "st-missed", "better": "st-met"}.get(a.verdict, "")
        rows.append(
            f"<tr><td>{_e(a.channel)}</td><td>{_e(label_of(a.kpi))}</td>"
            f'<td class="num">{_e(fmt_value(a.baseline, a.kpi))}</td>'
            f'<td class="num">{_e(fmt_value(a.current, a.kpi))}</td>'
            f'<td class="num"><b>{_e(fmt_change(a))}</b></td>'
            f'<td class="{cls}">{_e(a.verdict or "—")}</td>'
            f"<td>{_e(fmt_paired(a))}</td></tr>")
    return (f'<div class="alert-box"><b>{len(comparison.alerts)} alert'
            f'{"s" if len(comparison.alerts) != 1 else ""}</b>: KPIs whose mean moved by more '
            f"than {pct} from the baseline <code>{base}</code> (the seed's alert rule).</div>"
            "<table><thead><tr><th>channel</th><th>KPI</th><th>baseline</th><th>now</th>"
            "<th>change</th><th>direction</th><th>difference now − baseline "
            "[95% CI]</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            f'<p class="note">{_e(comparison.note)} Paired intervals use each run\'s '
            "per-replication values (totals.parquet; in older folders without it only the "
            "counts, rebuilt from intervals.parquet). Unpaired runs get Welch intervals from "
            "each run's mean, standard error and replication count. Differences of shares "
            "are in percentage points (pp).</p>")


def optional_figures_absent(run: RunFolder) -> list[str]:
    """The "not in this run" notes of :func:`optional_figures` (without drawing)."""
    tables, problems = optional_tables(run)
    return [_absent_note(slug, problems, run) for slug, table in tables.items()
            if table is None]


def _absent_html(notes: list[str]) -> str:
    if not notes:
        return ""
    return ('<div id="absent" class="note"><p>Figures left out because the run does not '
            "have their KPIs:</p><ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes)
            + "</ul></div>")


def _figures_html(embedded) -> str:
    parts = []
    for f, b64 in embedded:
        parts.append(
            f'<figure id="fig-{_e(f.slug)}">'
            f'<img src="data:image/png;base64,{b64}" alt="{_e(f.title)}" '
            f'width="{int(f.figure.get_figwidth() * 100)}" '
            f'height="{int(f.figure.get_figheight() * 100)}">'
            f"<figcaption>{_e(f.caption)}</figcaption></figure>")
    return "".join(parts)


# --------------------------------------------------------------------------- scenario

def _dur(seconds) -> str:
    """A duration for people: ``20 s``, ``3 min``, ``8.5 h``, ``2 d``."""
    if seconds is None or not math.isfinite(float(seconds)):
        return "–"
    s = float(seconds)
    if s >= 86400 and s % 86400 == 0:
        return f"{s / 86400:g} d"
    if s >= 3600:
        return f"{s / 3600:.3g} h"
    if s >= 60:
        return f"{s / 60:.3g} min"
    return f"{s:.3g} s"


def _clock(seconds: float) -> str:
    s = int(round(seconds)) % 86400
    return f"{s // 3600:02d}:{(s % 3600) // 60:02d}"


_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _days(days) -> str:
    days = sorted(days)
    if days == list(range(7)):
        return "daily"
    if days == list(range(5)):
        return "Mon–Fri"
    if days == [5, 6]:
        return "Sat–Sun"
    return ", ".join(_DAY_NAMES[d] for d in days)


def _hours(spec) -> str:
    if spec == "24/7":
        return "24/7"
    return "; ".join(f"{k} {v}" for k, v in spec.items())


def _demand(s: Scenario, channel: str) -> str:
    d = s.demand
    if d.daily is not None and channel in d.daily:
        return f"{d.daily[channel]:,.0f} per day"
    if d.monthly is not None and channel in d.monthly:
        return f"{d.monthly[channel]:,.0f} per month"
    if d.forecast_csv:
        return "from the forecast file"
    return "–"


def scenario_html(s: Scenario) -> str:
    """The scenario in plain words: horizon, channels, contact types, teams, shrinkage,
    routing. Every value is escaped."""
    from sim.roster import intended_shrinkage

    h = s.horizon
    span = f"{h.days} days" if h.days is not None else f"{h.months} months"
    parts = [f"<p>{_e(s.description.strip())}</p>" if s.description.strip() else "",
             f"<p><b>Horizon:</b> {_e(span)} from {_e(h.start.strftime('%a %d %b %Y'))} to "
             f"{_e((h.end - dt.timedelta(days=1)).strftime('%a %d %b %Y'))}"
             + (f"; the first {_e(_dur(h.warmup))} is a warm-up, not measured" if h.warmup
                else "")
             + f"; KPIs by {_e(_dur(h.interval))} interval.</p>"]
    # channels
    rows = []
    for name, ch in s.channels.items():
        sla = (f"{_dur(ch.sla.threshold)}"
               + (f", target {100 * ch.sla.target:.0f}%" if ch.sla.target is not None else "")
               if ch.sla else "–")
        closed = ""
        if ch.hours != "24/7":
            closed = (f"; when closed: voicemail to {ch.voicemail_to}"
                      if ch.when_closed == "voicemail" else "; when closed: lost")
        patience = (f"mean {_dur(distribution_mean_s(ch.patience))}" if ch.patience
                    else ("never abandons" if ch.kind == "live" else "–"))
        conc = f"{ch.concurrency} at once" + (
            f", +{100 * ch.slowdown:.0f}% handle time per extra" if ch.slowdown else "")
        rows.append(f"<tr><td>{_e(name)}</td><td>{_e(ch.kind)}</td>"
                    f"<td>{_e(_hours(ch.hours) + closed)}</td><td>{_e(_demand(s, name))}</td>"
                    f"<td>{_e(patience)}</td><td>{_e(conc)}</td><td>{_e(sla)}</td></tr>")
    parts.append("<h3>Channels</h3><table><thead><tr><th>channel</th><th>kind</th>"
                 "<th>hours</th><th>volume</th><th>patience</th><th>per agent</th>"
                 "<th>SLA threshold</th></tr></thead>"
                 f"<tbody>{''.join(rows)}</tbody></table>")
    d = s.demand
    shape = []
    if d.weekday:
        shape.append("weekday factors " + ", ".join(f"{k} {v:g}" for k, v in d.weekday.items()))
    if d.month_factor:
        shape.append("month factors " + ", ".join(f"{k} {v:g}"
                                                  for k, v in d.month_factor.items()))
    if d.special_days:
        shape.append(f"{len(d.special_days)} special days")
    if d.overdispersion:
        shape.append(f"day-to-day variation ±{100 * d.overdispersion:.0f}% beyond Poisson")
    if shape:
        parts.append(f"<p><b>Demand shape:</b> {_e('; '.join(shape))}.</p>")
    # contact types
    rows = []
    for name, ct in s.contact_types.items():
        aht = distribution_mean_s(ct.handle_time) + (
            distribution_mean_s(ct.wrap_up) if ct.wrap_up else 0.0)
        share = ", ".join(f"{c} {100 * v:.0f}%" for c, v in ct.share.items())
        rows.append(f"<tr><td>{_e(name)}</td><td>{_e(ct.queue)}</td><td>{_e(share)}</td>"
                    f'<td class="num">{_e(_dur(aht))}</td></tr>')
    parts.append("<h3>Contact types</h3><table><thead><tr><th>type</th><th>queue</th>"
                 "<th>share of each channel</th><th>mean handle time (incl. wrap-up)</th>"
                 f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    # teams
    rows = []
    for name, team in s.teams.items():
        skills = ", ".join(
            f"{q}" + (f" (proficiency {sk.proficiency:g})" if sk.proficiency != 1 else "")
            + (f" (priority {sk.priority})" if sk.priority != 1 else "")
            for q, sk in team.skills.items())
        if team.shifts is None:
            rota = f"{team.headcount} agents on duty around the clock, no shrinkage"
            n = team.headcount
        else:
            rota = "; ".join(
                f"{sh.agents} × {_clock(sh.start)}–{_clock(sh.start + sh.length)} "
                f"{_days(sh.days)}"
                + (f" from {sh.from_date}" if sh.from_date else "")
                + (f" until {sh.until_date}" if sh.until_date else "")
                for sh in team.shifts)
            n = sum(sh.agents for sh in team.shifts)
        rows.append(f"<tr><td>{_e(name)}</td><td class=\"num\">{_e(team.tier)}</td>"
                    f"<td>{_e(', '.join(team.channels))}</td><td>{_e(skills)}</td>"
                    f'<td class="num">{_e(n)}</td><td>{_e(rota)}</td>'
                    f'<td class="num">{_e(f"{team.cost_per_hour:g}")}</td></tr>')
    parts.append("<h3>Teams</h3><table><thead><tr><th>team</th><th>tier</th>"
                 "<th>channels</th><th>skills (queues)</th><th>agents</th>"
                 "<th>shifts (agents × hours, days)</th><th>cost per hour</th></tr></thead>"
                 f"<tbody>{''.join(rows)}</tbody></table>")
    # shrinkage
    sh = s.shrinkage
    items = []
    if sh.breaks:
        items.append(f"{len(sh.breaks)} break{'s' if len(sh.breaks) != 1 else ''} of "
                     + ", ".join(f"{_dur(b.length)} after {_dur(b.after)}" for b in sh.breaks))
    if sh.lunch:
        items.append(f"lunch {_dur(sh.lunch.length)} after {_dur(sh.lunch.after)}")
    for label, w in (("meetings", sh.meetings), ("training", sh.training)):
        if w and w.per_week:
            items.append(f"{label} {_dur(w.length)} × {w.per_week:g} per week")
    if sh.absence:
        items.append(f"unplanned absence of {100 * sh.absence:.0f}% of shifts")
    intended = intended_shrinkage(s)
    parts.append("<h3>Shrinkage</h3><p>"
                 + (_e("; ".join(items)) + f" (intended {100 * intended:.1f}% of paid time, "
                    "modelled as events on each agent's timeline)." if items
                    else "None.") + "</p>")
    # routing
    arrive = {"longest_idle": "the eligible agent idle longest",
              "skill_priority": "the eligible agent whose team ranks the queue first",
              "most_proficient": "the most proficient eligible agent",
              "random": "a random eligible agent"}[s.routing.on_arrival]
    free = {"queue_priority": "the head of its highest-priority queue (then the oldest)",
            "oldest": "the oldest waiting contact across its queues",
            "sla_urgency": "the waiting contact closest to breaching its channel's SLA "
                           "threshold",
            "weighted_wait": "the contact with the longest waiting time times its queue's "
                             "weight"}[s.routing.on_free]
    queues = ", ".join(f"{q} {s.queue_priority(q)}" for q in s.queue_names)
    extra = ""
    if s.routing.on_free == "weighted_wait":
        extra += " Queue weights: " + ", ".join(
            f"{q} {s.queues[q].weight:g}" if s.queues and q in s.queues else f"{q} 1"
            for q in s.queue_names) + "."
    if s.routing.reserve_for_live:
        extra += (f" Nobody starts deferred work unless {s.routing.reserve_for_live} other "
                  "agents with a live skill stay idle for live work.")
    for rule in s.routing.overflow:
        extra += (f" Contacts of {rule.queue} that waited {_dur(rule.after)} also go "
                  f"to {', '.join(rule.teams)}.")
    parts.append("<h3>Routing</h3><p>"
                 + _e(f"An arriving contact goes to {arrive}; an agent who frees up takes "
                      f"{free}. Live work always comes before deferred work. Queue "
                      f"priorities (lower first): {queues}.{extra}") + "</p>")
    return "".join(parts)


# --------------------------------------------------------------------------- page

def _footer_html(run: RunFolder) -> str:
    m = run.manifest
    cmd = m.get("command_line") or []
    again = ["ccsim", "run", str(run.path / "scenario.yaml"), "-n", str(run.replications),
             "--seed", str(run.seed), "--engine", str(m.get("engine", "kernel")),
             "--out", "NEW_DIR"]
    items = [
        ("ccsim version", m.get("ccsim_version", "?")),
        ("scenario", f"{m.get('scenario', run.scenario.name)} ({m.get('scenario_file', '?')})"),
        ("scenario sha256", m.get("scenario_sha256", "?")),
        ("seed", run.seed),
        ("engine", m.get("engine", "?")),
        ("replications", run.replications),
        ("executor", f"{m.get('executor', '?')} ({m.get('workers', '?')} workers)"),
        ("contacts simulated", f"{m.get('contacts_simulated', 0):,}"
         if isinstance(m.get("contacts_simulated"), int) else "?"),
        ("run", f"{m.get('started', '?')} → {m.get('finished', '?')} (UTC)"),
        ("report built", dt.datetime.now(dt.UTC).isoformat(timespec="seconds")),
    ]
    dl = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items)
    cmds = ""
    if cmd:
        cmds += ("<p>The command that made this run:</p>"
                 f"<pre>{_e(shlex.join(str(c) for c in cmd))}</pre>")
    cmds += ("<p>The same numbers from this run folder alone (the resolved scenario, the same "
             f"seed, replications and engine):</p><pre>{_e(shlex.join(again))}</pre>")
    return f"<footer><dl>{dl}</dl>{cmds}</footer>"


def render_html(run: RunFolder, embedded, comparison: Comparison | None = None) -> str:
    """The whole report page.

    Parameters
    ----------
    run : RunFolder
    embedded : list of (ReportFigure, str)
        Figures with their base64 PNG.
    comparison : Comparison, optional

    Returns
    -------
    str
        A complete HTML document with no external resources and no scripts.
    """
    s = run.scenario
    n = run.replications
    counts = target_counts(run)
    chips = ""
    if sum(counts.values()):
        chips = ('<div class="chips">'
                 + "".join(f'<span class="chip st-{k}">{counts[k]} '
                           f"{_e(_STATUS_TEXT[k].split(' ', 1)[1])}</span>"
                           for k in ("met", "missed", "uncertain"))
                 + "</div>")
    notes = list(run.summary.get("notes", []))
    notes.append("Figures by interval of the day pool every day of the measured window; "
                 "confidence bands are 95% t-intervals across replications.")
    if embedded and any(f.slug == "staffed_agents_by_interval" for f, _ in embedded):
        notes.append("Agents on duty are shown for replication 0's roster (shrinkage events "
                     "differ from one replication to the next).")
    toc = "".join(f'<a href="#fig-{_e(f.slug)}">{_e(f.title)}</a>' for f, _ in embedded)
    sections = [
        f"<h1>{_e(s.name)}</h1>",
        f'<p class="lead">Simulation report: {n} replication{"s" if n != 1 else ""}, seed '
        f"{_e(run.seed)}, engine {_e(run.manifest.get('engine', '?'))}; "
        f"{_e(s.horizon.start.isoformat())} to "
        f"{_e((s.horizon.end - dt.timedelta(days=1)).isoformat())}.</p>",
        chips,
        '<nav class="toc"><a href="#kpis">Headline KPIs</a>'
        + ('<a href="#alerts">Alerts</a>' if comparison is not None else "")
        + f'<a href="#targets">Targets</a>{toc}<a href="#scenario">Scenario</a>'
        '<a href="#notes">Notes</a></nav>',
    ]
    if comparison is not None:
        sections.append(f'<h2 id="alerts">Changes against the baseline</h2>'
                        f"{_alerts_html(comparison)}")
    sections += [
        '<h2 id="kpis">Headline KPIs by channel</h2>',
        '<p class="note">Mean over replications, with its 95% confidence interval underneath '
        "(cut at 0 and 100% where a few replications stretch it past them). Cells with a "
        "target are coloured and labelled: met, missed or uncertain.</p>",
        _headline_html(run),
        '<h2 id="targets">Targets</h2>',
        _targets_html(run),
        "<h2>Figures</h2>" if embedded else "",
        _figures_html(embedded),
        _absent_html(optional_figures_absent(run)),
        '<h2 id="scenario">The scenario in plain words</h2>',
        scenario_html(s),
        '<h2 id="notes">Notes</h2><ul>' + "".join(f"<li>{_e(x)}</li>" for x in notes)
        + "</ul>",
        _footer_html(run),
    ]
    title = f"{s.name}: ccsim report"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_CSS}</style></head>"
            f"<body><main>{''.join(sections)}</main></body></html>\n")
