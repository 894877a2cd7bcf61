"""The comparison report of two run folders (``ccsim compare RUN_A RUN_B --out FILE``).

:func:`build_compare_report` writes a self-contained HTML page (figures embedded as base64
PNG, no scripts, nothing fetched) and/or a Markdown file from the table of
:func:`sim.compare.compare_runs`: how the intervals were made (paired over common random
numbers, or Welch), the KPIs that moved more than 10% (the seed's alert rule), a figure of
the relative changes with their intervals, service level by interval of the day for both
runs, every channel x KPI difference with its 95% interval, and what identifies each run.

Every string that comes from a run folder is HTML-escaped (or Markdown-escaped).
"""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from sim.report import figures as F
from sim.report.data import (
    RunFolder,
    fmt_delta,
    fmt_delta_ci,
    fmt_value,
    label_of,
    load_run,
)
from sim.report.html import (
    _CSS,
    ReportFigure,
    _e,
    _figures_html,
    _live,
    _sl_target,
    _write_atomic,
)
from sim.report.markdown import md_escape


def build_compare_report(baseline, run, out, table: pd.DataFrame | None = None
                         ) -> list[Path]:
    """Write the comparison report of two run folders.

    Parameters
    ----------
    baseline, run : path or RunFolder
        Differences are ``run - baseline``.
    out : path
        ``*.md``: the Markdown file only. Anything else (``*.html``): the HTML page, and the
        Markdown next to it with the suffix ``.md``.
    table : pandas.DataFrame, optional
        :func:`sim.compare.compare_runs` of the two (computed when not given).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    sim.report.data.RunFolderError
        When a folder is not a readable run folder.
    """
    from sim.compare import compare_runs

    base = baseline if isinstance(baseline, RunFolder) else load_run(baseline)
    other = run if isinstance(run, RunFolder) else load_run(run)
    if table is None:
        table = compare_runs(base, other)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = []
    if out.suffix.lower() != ".md":
        figs = compare_figures(base, other, table)
        embedded = []
        for f in figs:
            png = io.BytesIO()
            f.figure.savefig(png, format="png", dpi=100)
            embedded.append((f, base64.b64encode(png.getvalue()).decode("ascii")))
        _write_atomic(out, render_compare_html(base, other, table, embedded))
        written.append(out)
        md = out.with_suffix(".md")
    else:
        md = out
    _write_atomic(md, compare_markdown(base, other, table))
    written.append(md)
    return written


def _names(base: RunFolder, other: RunFolder) -> tuple[str, str]:
    a, b = base.scenario.name, other.scenario.name
    if a == b:
        return f"{a} (baseline)", f"{b} (run)"
    return a, b


def compare_figures(base: RunFolder, other: RunFolder, table: pd.DataFrame
                    ) -> list[ReportFigure]:
    """The comparison's figures: relative changes, service level by interval of both runs."""
    out = []
    channels = [c for c in base.channels if c in set(table["channel"])]
    rows = F.kpi_changes_table(table, channels=channels)
    if len(rows):
        fig = Figure(figsize=(10, 1.2 + 0.24 * len(rows)), layout="constrained")
        F.kpi_changes(fig.add_subplot(), table, channels=channels,
                      threshold=float(table.attrs.get("threshold", 0.10)))
        out.append(ReportFigure(
            "kpi_changes", "Relative change of each KPI",
            "Each row: (run − baseline) / baseline for one channel and KPI; the bar is the 95% "
            "interval of the difference (" + ("paired over common random numbers"
                                               if table.attrs.get("paired") else "Welch, "
                                               "independent runs")
            + "), cut at the edges of the axis when wider. Shaded: the ±10% alert band. Red: "
            "worse, green: better, grey: no preferred direction.", fig))
    live = [c for c in _live(base.scenario)
            if base.scenario.channels[c].sla is not None and c in other.scenario.channels]
    if live:
        name_a, name_b = _names(base, other)
        frames, targets, colors = [], {}, {}
        for i, c in enumerate(live):
            for run, tag, color in ((base, "baseline", F.PALETTE[(2 * i) % 8]),
                                    (other, "run", F.PALETTE[(2 * i + 1) % 8])):
                iv = run.intervals[(run.intervals["channel"] == c)
                                   & (run.intervals["queue"] == "all")].copy()
                iv["channel"] = f"{c} ({tag})"
                frames.append(iv)
                colors[f"{c} ({tag})"] = color
            targets[f"{c} (baseline)"] = _sl_target(base.scenario, c)
        iv = pd.concat(frames, ignore_index=True)
        if iv["service_level"].notna().any():
            fig = Figure(figsize=(10, 3.8), layout="constrained")
            F.service_level_by_interval(fig.add_subplot(), iv, list(colors), targets, colors,
                                        title="Service level by interval of the day: "
                                              "baseline and run")
            out.append(ReportFigure(
                "service_level_compared", "Service level by interval of the day",
                f"Baseline ({name_a}) and run ({name_b}), each with its 95% band across its "
                "replications; dashed: the baseline's target.", fig))
    return out


def _change_text(change: float) -> str:
    return "from 0" if math.isinf(change) else f"{100 * change:+.1f}%"


def render_compare_html(base: RunFolder, other: RunFolder, table: pd.DataFrame,
                        embedded) -> str:
    """The comparison page (a complete HTML document with no external resources)."""
    from sim.compare import run_flag

    name_a, name_b = _names(base, other)
    pct = f"{100 * float(table.attrs.get('threshold', 0.10)):.0f}%"
    alerts = table[table["alert"]]
    method = "paired" if table.attrs.get("paired") else "unpaired (Welch)"
    parts = [f"<h1>{_e(name_b)} vs {_e(name_a)}</h1>",
             f'<p class="lead">Comparison of two run folders: differences are run − '
             f"baseline, with 95% confidence intervals, {_e(method)}.</p>",
             f'<p class="note">{_e(table.attrs.get("note", ""))}</p>']
    if len(alerts):
        rows = "".join(
            f'<tr><td>{_e(r.channel)}</td><td>{_e(label_of(r.kpi))}</td>'
            f'<td class="num">{_e(fmt_value(r.mean_baseline, r.kpi))}</td>'
            f'<td class="num">{_e(fmt_value(r.mean, r.kpi))}</td>'
            f'<td class="num"><b>{_e(_change_text(r.change))}</b></td>'
            f'<td class="{ {"worse": "st-missed", "better": "st-met"}.get(r.verdict, "")}">'
            f'{_e(r.verdict or "—")}</td>'
            f'<td class="num">{_e(fmt_delta(r.diff, r.kpi))} '
            f'<span class="ci">{_e(fmt_delta_ci(r.ci95_low, r.ci95_high, r.kpi))}</span></td>'
            f'<td>{_e("yes" if r.significant else "no (within noise)")}</td></tr>'
            for r in alerts.itertuples())
        parts.append(
            f'<h2 id="alerts">Alerts</h2><div class="alert-box"><b>{len(alerts)} alert'
            f'{"s" if len(alerts) != 1 else ""}</b>: channel × KPI values whose mean moved '
            f"by more than {pct} from the baseline (the seed's alert rule).</div>"
            "<table><thead><tr><th>channel</th><th>KPI</th><th>baseline</th><th>run</th>"
            "<th>change</th><th>direction</th><th>difference [95% CI]</th>"
            f"<th>significant</th></tr></thead><tbody>{rows}</tbody></table>")
    else:
        parts.append(f'<h2 id="alerts">Alerts</h2><div class="ok-box">No KPI moved by more '
                     f"than {pct} ({len(table)} channel × KPI values compared).</div>")
    if embedded:
        parts += ["<h2>Figures</h2>", _figures_html(embedded)]
    parts.append('<h2 id="kpis">Every KPI by channel</h2><p class="note">Differences of '
                 "shares are in percentage points (pp).</p>")
    for channel, part in table.groupby("channel", sort=False):
        body = []
        for r in part.itertuples():
            cls = {"worse": "st-missed", "better": "st-met"}.get(r.verdict, "") \
                if r.alert else ""
            body.append(
                f'<tr><td>{_e(label_of(r.kpi))}</td>'
                f'<td class="num">{_e(fmt_value(r.mean_baseline, r.kpi))}</td>'
                f'<td class="num">{_e(fmt_value(r.mean, r.kpi))}</td>'
                f'<td class="num">{_e(fmt_delta(r.diff, r.kpi))}</td>'
                f'<td class="num">{_e(fmt_delta_ci(r.ci95_low, r.ci95_high, r.kpi) or "–")}'
                f'</td><td class="num">{_e(_change_text(r.change))}</td>'
                f'<td class="{cls}">{_e(run_flag(r) or "")}</td></tr>')
        parts.append(f"<h3>{_e(channel)}</h3><table><thead><tr><th>KPI</th><th>baseline</th>"
                     "<th>run</th><th>difference</th><th>95% CI</th><th>change</th>"
                     f"<th>flag</th></tr></thead><tbody>{''.join(body)}</tbody></table>")
    parts.append(_runs_footer(base, other))
    title = f"{name_b} vs {name_a}: ccsim comparison"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_CSS}</style></head>"
            f"<body><main>{''.join(parts)}</main></body></html>\n")


def _run_items(run: RunFolder) -> list[tuple[str, object]]:
    m = run.manifest
    return [("folder", run.path), ("scenario", run.scenario.name),
            ("scenario sha256", m.get("scenario_sha256", "?")), ("seed", run.seed),
            ("replications", run.replications), ("engine", m.get("engine", "?")),
            ("ccsim version", m.get("ccsim_version", "?")),
            ("command", " ".join(str(c) for c in m.get("command_line") or []) or "?")]


def _runs_footer(base: RunFolder, other: RunFolder) -> str:
    head = "<tr><th></th><th>baseline</th><th>run</th></tr>"
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(a)}</td><td>{_e(b)}</td></tr>"
                   for (k, a), (_, b) in zip(_run_items(base), _run_items(other),
                                             strict=True))
    return f"<footer><table><thead>{head}</thead><tbody>{rows}</tbody></table></footer>"


def compare_markdown(base: RunFolder, other: RunFolder, table: pd.DataFrame) -> str:
    """The comparison in Markdown: method, alerts, then every channel x KPI."""
    from sim.compare import run_flag

    name_a, name_b = _names(base, other)
    pct = f"{100 * float(table.attrs.get('threshold', 0.10)):.0f}%"
    n_alert = int(table["alert"].sum()) if len(table) else 0
    lines = [f"# {md_escape(name_b)} vs {md_escape(name_a)}", "",
             f"Baseline `{md_escape(base.path)}`, run `{md_escape(other.path)}`. Differences "
             f"are run − baseline with 95% CIs; {md_escape(table.attrs.get('note', ''))}",
             "", f"{n_alert} channel × KPI value{'s' if n_alert != 1 else ''} moved by more "
             f"than {pct} (**ALERT**). Differences of shares are in percentage points.", "",
             "| channel | KPI | baseline | run | difference | 95% CI | change | flag |",
             "|---|---|---:|---:|---:|---|---:|---|"]
    for r in table.itertuples():
        flag = run_flag(r)
        if r.alert:
            flag = f"**{flag}**"
        lines.append(f"| {md_escape(r.channel)} | {md_escape(label_of(r.kpi))} | "
                     f"{fmt_value(r.mean_baseline, r.kpi)} | {fmt_value(r.mean, r.kpi)} | "
                     f"{fmt_delta(r.diff, r.kpi)} | {fmt_delta_ci(r.ci95_low, r.ci95_high, r.kpi)}"
                     f" | {_change_text(r.change)} | {flag} |")
    lines += ["", "| | baseline | run |", "|---|---|---|"]
    for (k, a), (_, b) in zip(_run_items(base), _run_items(other), strict=True):
        lines.append(f"| {k} | {md_escape(a)} | {md_escape(b)} |")
    return "\n".join(lines) + "\n"
