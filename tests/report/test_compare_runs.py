"""``ccsim compare RUN_A RUN_B`` and :func:`sim.compare.compare_runs` over run folders.

The runs are copies of one short CareConnect run with known changes written into their
``totals.parquet`` / ``summary.json``, so the expected differences and intervals can be
written down: a copy gives zero differences with zero-width intervals; a shift added to
each replication is recovered exactly, with the t-interval of the shifts; runs that do
not share seeds get Welch's interval (checked against scipy).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.cli import main
from sim.compare import RUN_COMPARE_COLUMNS, compare_runs, format_compare_runs
from sim.stats import t_interval


def copy_run(src: Path, dst: Path, shift=None, kpi="asa_s", channel="phone",
             seed=None, keep_replications=None, resummarize=False) -> Path:
    """Copy a run folder; add ``shift[i]`` to ``kpi`` of replication i; optionally change
    the seed, keep some replications, and rewrite the summary stats from the totals."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("figures", "report.html",
                                                            "summary.md"))
    totals = pd.read_parquet(dst / "totals.parquet")
    if keep_replications is not None:
        totals = totals[totals["replication"].isin(keep_replications)]
    if shift is not None:
        rows = totals["channel"] == channel
        reps = totals.loc[rows, "replication"].to_numpy()
        totals.loc[rows, kpi] = totals.loc[rows, kpi].to_numpy(float) + np.asarray(
            shift, dtype=float)[reps]
    totals.to_parquet(dst / "totals.parquet", index=False)
    if seed is not None:
        manifest = json.loads((dst / "manifest.json").read_text())
        manifest["seed"] = seed
        (dst / "manifest.json").write_text(json.dumps(manifest))
    if resummarize:
        write_summary_stats(dst, totals, kpi, channel)
    return dst


def write_summary_stats(folder: Path, totals: pd.DataFrame, kpi: str, channel: str):
    """Make summary.json's ``channel``/``kpi`` the t-interval of the totals' values."""
    summary = json.loads((folder / "summary.json").read_text())
    values = totals.loc[totals["channel"] == channel].sort_values("replication")[kpi]
    d = t_interval(values.to_numpy(float))
    summary["kpis"][channel][kpi] = {"mean": d.mean, "se": d.se, "ci95_low": d.low,
                                     "ci95_high": d.high, "n": d.n}
    (folder / "summary.json").write_text(json.dumps(summary))


def row(table: pd.DataFrame, channel: str, kpi: str) -> pd.Series:
    (i,) = np.flatnonzero((table["channel"] == channel) & (table["kpi"] == kpi))
    return table.iloc[i]


def test_identical_runs_give_zero_differences_with_zero_width_intervals(careconnect_run,
                                                                         tmp_path):
    same = copy_run(careconnect_run, tmp_path / "same")
    table = compare_runs(careconnect_run, same)
    assert list(table.columns) == list(RUN_COMPARE_COLUMNS)
    assert table.attrs["paired"] and set(table["method"]) == {"paired"}
    assert len(table) > 50 and set(table["channel"]) >= {"phone", "email", "all"}
    assert (table["diff"] == 0).all()
    two = table["n"] >= 2  # a KPI defined in one replication only has no interval
    assert two.mean() > 0.9
    assert (table.loc[two, "ci95_low"] == 0).all() and (table.loc[two, "ci95_high"] == 0).all()
    assert table.loc[~two, ["ci95_low", "ci95_high"]].isna().all().all()
    assert not table["alert"].any() and not table["significant"].any()
    assert "paired" in format_compare_runs(table)


def test_a_known_paired_shift_is_recovered_with_its_t_interval(careconnect_run, tmp_path):
    base = pd.read_parquet(careconnect_run / "totals.parquet")
    n = base["replication"].nunique()
    shifts = np.arange(1.0, n + 1.0) * 2.0  # 2 s, 4 s, ...: a noisy shift
    noisy = copy_run(careconnect_run, tmp_path / "noisy", shift=shifts)
    r = row(compare_runs(careconnect_run, noisy), "phone", "asa_s")
    d = t_interval(shifts)
    assert r["method"] == "paired" and r["n"] == n
    assert r["diff"] == pytest.approx(d.mean)
    assert (r["ci95_low"], r["ci95_high"]) == pytest.approx((d.low, d.high))
    assert r["mean"] - r["mean_baseline"] == pytest.approx(d.mean)
    # a constant shift: the paired interval has zero width and the move is flagged
    const = copy_run(careconnect_run, tmp_path / "const", shift=np.full(n, 30.0))
    table = compare_runs(careconnect_run, const)
    r = row(table, "phone", "asa_s")
    assert r["diff"] == pytest.approx(30.0)
    assert r["ci95_low"] == pytest.approx(30.0) and r["ci95_high"] == pytest.approx(30.0)
    assert r["alert"] and r["significant"] and r["verdict"] == "worse"
    assert r["change"] == pytest.approx(30.0 / r["mean_baseline"])
    others = table[~((table["channel"] == "phone") & (table["kpi"] == "asa_s"))]
    assert (others["diff"] == 0).all() and not others["alert"].any()
    text = format_compare_runs(table)
    assert re.search(r"ASA .*\+30\.0 s .*ALERT worse, significant", text)


def test_runs_with_other_seeds_get_welch_intervals(careconnect_run, tmp_path):
    base = copy_run(careconnect_run, tmp_path / "base", resummarize=True)
    n = pd.read_parquet(base / "totals.parquet")["replication"].nunique()
    shifts = np.linspace(5.0, 9.0, n)
    other = copy_run(careconnect_run, tmp_path / "other", shift=shifts, seed=12345,
                     resummarize=True)
    table = compare_runs(base, other)
    assert not table.attrs["paired"] and set(table["method"]) == {"welch"}
    assert "different seeds" in table.attrs["note"]
    a = pd.read_parquet(base / "totals.parquet").query("channel == 'phone'")
    b = pd.read_parquet(other / "totals.parquet").query("channel == 'phone'")
    ref = stats.ttest_ind(b["asa_s"].to_numpy(float), a["asa_s"].to_numpy(float),
                          equal_var=False).confidence_interval(0.95)
    r = row(table, "phone", "asa_s")
    assert r["diff"] == pytest.approx(shifts.mean())
    assert (r["ci95_low"], r["ci95_high"]) == pytest.approx((ref.low, ref.high))
    # Welch from identical summaries: zero difference, and the interval is not zero-width
    r = row(table, "phone", "offered")
    assert r["diff"] == 0 and r["ci95_low"] < 0 < r["ci95_high"]
    assert "unpaired (Welch)" in format_compare_runs(table)


def test_other_replications_are_not_paired(careconnect_run, tmp_path):
    fewer = copy_run(careconnect_run, tmp_path / "fewer", keep_replications=[0])
    table = compare_runs(careconnect_run, fewer)
    assert not table.attrs["paired"] and "different replications" in table.attrs["note"]


def test_cli_compare_run_folders_writes_html_and_markdown(careconnect_run, tmp_path,
                                                          capsys):
    n = pd.read_parquet(careconnect_run / "totals.parquet")["replication"].nunique()
    other = copy_run(careconnect_run, tmp_path / "slower", shift=np.full(n, 30.0))
    out = tmp_path / "review" / "cmp.html"
    assert main(["compare", str(careconnect_run), str(other), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "paired" in printed and "ALERT worse" in printed and f"report: {out}" in printed
    text = out.read_text(encoding="utf-8")
    assert "<script" not in text.lower() and not re.search(r"(src|href)=\"?https?:", text)
    assert text.count('<img src="data:image/png;base64,') >= 1
    assert "Alerts" in text and "st-missed" in text and "paired" in text
    md = out.with_suffix(".md").read_text(encoding="utf-8")
    assert "| phone | ASA |" in md and "**ALERT worse, significant**" in md
    md_only = tmp_path / "only.md"
    assert main(["compare", str(careconnect_run), str(other), "--out", str(md_only)]) == 0
    assert md_only.is_file() and not md_only.with_suffix(".html").exists()


@pytest.mark.parametrize("case, message", [
    ("empty", "not a ccsim run folder: missing manifest.json"),
    ("scenario", "not a mix"),
    ("three", "3 folders given"),
    ("flag", "-n only apply to scenarios"),
    ("scenario_out", "--out reports two scenarios (baseline first), not 3"),
])
def test_cli_compare_bad_input_is_a_clear_usage_error(careconnect_run, tmp_path, capsys,
                                                      case, message):
    empty = tmp_path / "empty"
    empty.mkdir()
    scenario = careconnect_run / "scenario.yaml"
    argv = {"empty": [careconnect_run, empty], "scenario": [careconnect_run, scenario],
            "three": [careconnect_run, careconnect_run, careconnect_run],
            "flag": [careconnect_run, careconnect_run, "-n", "3"],
            "scenario_out": [scenario, scenario, scenario, "--out", tmp_path / "x.html"]}[case]
    assert main(["compare", *map(str, argv)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_economics_per_pricing_tier_are_compared_too(careconnect_run, tmp_path):
    base = copy_run(careconnect_run, tmp_path / "base")
    other = copy_run(careconnect_run, tmp_path / "other")
    reps = sorted(pd.read_parquet(base / "totals.parquet")["replication"].unique())

    def economics(folder, premium_margin):
        rows = []
        for r in reps:
            for month in ("2026-01", "2026-02"):  # summed over the months
                rows.append({"replication": r, "month": month, "tier": "premium",
                             "revenue": 400.0, "sla_credits": 0.0, "cost": 300.0,
                             "margin": premium_margin[r] / 2})
        pd.DataFrame(rows).to_parquet(folder / "economics.parquet", index=False)

    economics(base, {r: 100.0 + r for r in reps})
    economics(other, {r: 80.0 + 3 * r for r in reps})
    table = compare_runs(base, other)
    r = row(table, "economics/premium", "margin")
    d = t_interval([(80.0 + 3 * i) - (100.0 + i) for i in reps])
    assert r["method"] == "paired" and r["diff"] == pytest.approx(d.mean)
    assert (r["ci95_low"], r["ci95_high"]) == pytest.approx((d.low, d.high))
    assert r["verdict"] == "worse" and r["alert"]
    assert row(table, "economics/premium", "cost")["diff"] == 0


def test_comparison_report_escapes_scenario_strings(careconnect_run, script_named_run,
                                                    tmp_path):
    from sim.report.comparison import build_compare_report
    from tests.report.helpers import SCRIPT_NAME

    html, md = build_compare_report(careconnect_run, script_named_run, tmp_path / "x.html")
    text = html.read_text(encoding="utf-8")
    assert SCRIPT_NAME not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<script" not in text.lower()
    assert "<script>" not in md.read_text(encoding="utf-8")


def test_cli_compare_two_scenarios_with_out_runs_both_and_reports_paired(tmp_path, capsys):
    base = Path(__file__).resolve().parents[2] / "scenarios" / "textbook" / "mmc_single.yaml"
    text = base.read_text(encoding="utf-8")
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(text.replace("days: 6", "days: 2"), encoding="utf-8")
    b.write_text(text.replace("days: 6", "days: 2").replace("headcount: 1",
                                                              "headcount: 2"),
                 encoding="utf-8")
    out = tmp_path / "cmp.html"
    assert main(["compare", str(a), str(b), "-n", "2", "--workers", "1", "--quiet",
                 "--out", str(out)]) == 0
    text_out = capsys.readouterr().out
    assert "paired" in text_out and out.exists()
    assert (tmp_path / "cmp-runs" / "baseline" / "summary.json").exists()
    # a second report to the same place is refused, nothing overwritten
    assert main(["compare", str(a), str(b), "-n", "2", "--quiet", "--out", str(out)]) == 2
