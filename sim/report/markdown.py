"""``summary.md``: the headline KPI table of a run in Markdown, for pasting into documents.

One row per channel x KPI with the mean, its 95% interval, the target and its status (as
words, so the table reads the same without colour), then the baseline alerts when a
comparison is given. Text from the scenario is backslash-escaped so that Markdown renders
it literally (no raw HTML, no broken tables).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from sim.report.data import (
    ALERT_THRESHOLD,
    Comparison,
    RunFolder,
    fmt_ci,
    fmt_delta,
    fmt_delta_ci,
    fmt_value,
    headline_rows,
    label_of,
    target_counts,
)

# Characters that could start markup, raw HTML or break a table cell; an underscore only
# where it could open or close emphasis (not inside a word such as clinical_triage).
_MD_SPECIAL = re.compile(r"([\\`*<>|\[\]]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")


def md_escape(text) -> str:
    """Backslash-escape Markdown markup characters (and fold newlines) in ``text``."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _status(cell) -> str:
    return {"met": "met", "missed": "**MISSED**", "uncertain": "uncertain"}.get(
        cell.status, cell.status)


def summary_markdown(run: RunFolder, comparison: Comparison | None = None) -> str:
    """The Markdown text of ``summary.md``.

    Parameters
    ----------
    run : RunFolder
    comparison : Comparison, optional
        Alerts against a baseline run (:func:`sim.report.data.compare_runs`).

    Returns
    -------
    str
    """
    name = md_escape(run.scenario.name)
    n = run.replications
    counts = target_counts(run)
    lines = [
        f"# {name}: KPI summary",
        "",
        f"{n} replication{'s' if n != 1 else ''}, seed {run.seed}, engine "
        f"{md_escape(run.manifest.get('engine', '?'))}, ccsim "
        f"{md_escape(run.manifest.get('ccsim_version', '?'))}. Mean over replications with "
        "its 95% confidence interval (cut at 0 and 100% where it reaches past them).",
    ]
    if sum(counts.values()):
        lines.append(f"Targets: {counts['met']} met, {counts['missed']} missed, "
                     f"{counts['uncertain']} uncertain (uncertain: the 95% interval "
                     "straddles the target).")
    lines += ["", "| channel | KPI | mean | 95% CI | target | status | P(met) |",
              "|---|---|---:|---|---|---|---:|"]
    for channel, row in headline_rows(run).items():
        for key, cell in row.items():
            p = "" if not math.isfinite(cell.p_met) else f"{100 * cell.p_met:.0f}%"
            lines.append(
                f"| {md_escape(channel)} | {md_escape(label_of(key))} | "
                f"{fmt_value(cell.mean, key)} | {fmt_ci(cell.low, cell.high, key)} | "
                f"{cell.target} | {_status(cell)} | {p} |")
    lines += ["", "P(met): share of replications whose own value meets the target."]
    if comparison is not None:
        lines += ["", f"## Changes against the baseline ({md_escape(comparison.baseline_path)})",
                  ""]
        if not comparison.alerts:
            lines.append(f"No KPI moved by more than {100 * ALERT_THRESHOLD:.0f}% "
                         f"({comparison.n_compared} compared).")
        else:
            lines += [f"KPIs whose mean moved by more than {100 * ALERT_THRESHOLD:.0f}%. "
                      + comparison.note, "",
                      "| channel | KPI | baseline | now | change | | paired difference "
                      "[95% CI] |", "|---|---|---:|---:|---:|---|---|"]
            for a in comparison.alerts:
                lines.append(
                    f"| {md_escape(a.channel)} | {md_escape(label_of(a.kpi))} | "
                    f"{fmt_value(a.baseline, a.kpi)} | {fmt_value(a.current, a.kpi)} | "
                    f"{fmt_change(a)} | {a.verdict} | {fmt_paired(a)} |")
    notes = list(run.summary.get("notes", []))
    if notes:
        lines += ["", "Notes:", ""] + [f"- {md_escape(x)}" for x in notes]
    return "\n".join(lines) + "\n"


def fmt_change(alert) -> str:
    """Relative change of an alert: ``+12.3%``, or ``new`` when the baseline was 0."""
    if math.isinf(alert.change):
        return "from 0"
    return f"{100 * alert.change:+.1f}%"


def fmt_paired(alert) -> str:
    """``+1.2 s [0.4 s, 2.0 s]`` (shares in percentage points) or the reason there is no
    difference."""
    if math.isfinite(alert.diff):
        ci = fmt_delta_ci(alert.diff_low, alert.diff_high, alert.kpi)
        text = fmt_delta(alert.diff, alert.kpi)
        return f"{text} {ci}".strip() + (f" ({alert.diff_note})" if alert.diff_note else "")
    return alert.diff_note


def write_summary_md(run: RunFolder, path: str | Path,
                     comparison: Comparison | None = None) -> Path:
    """Write :func:`summary_markdown` to ``path`` and return it."""
    path = Path(path)
    path.write_text(summary_markdown(run, comparison), encoding="utf-8")
    return path
