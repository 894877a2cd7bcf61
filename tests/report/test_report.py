"""report.html, summary.md, alerts and the ``ccsim report`` verb, on short runs."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
from sim.cli import main
from sim.report import build_report, compare_runs, load_run
from sim.report.data import staffing_by_interval
from sim.report.html import report_figures
from sim.scenario import load_scenario, parse_scenario
from tests.report.helpers import SCENARIOS, SCRIPT_NAME, short_scenario, write_run

MMC = SCENARIOS / "textbook" / "mmc_medium.yaml"
ALL_FIGURES = {"service_level_by_interval", "asa_by_interval", "abandonment_by_interval",
               "occupancy_heatmap", "staffed_agents_by_interval", "backlog",
               "volume_and_service_level_by_period", "weekly_service_level",
               "cost_per_contact"}
OPTIONAL_FIGURES = {"journey_kpis", "escalations_by_tier", "mttr_by_severity", "margin_by_tier",
                    "cost_per_contact_by_channel"}


def built(run: Path) -> tuple[str, Path]:
    path = build_report(run)
    return path.read_text(encoding="utf-8"), path


def assert_self_contained(text: str) -> None:
    assert "<script" not in text.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text, re.I)
    assert "url(" not in text and "@import" not in text


@pytest.mark.parametrize("fixture, slugs", [
    ("careconnect_run", ALL_FIGURES),
    ("clinical_exchange_run", ALL_FIGURES),
])
def test_report_builds_for_the_seed_scenarios(request, fixture, slugs, built_report):
    run = request.getfixturevalue(fixture)
    text, path = built_report(run)
    assert path == run / "report.html"
    assert_self_contained(text)
    saved = {p.stem for p in (run / "figures").glob("*.png")}
    # the figures of journeys, escalations and pricing tiers come when the run has them
    assert slugs <= saved and saved - slugs <= OPTIONAL_FIGURES
    assert saved == {p.stem for p in (run / "figures").glob("*.svg")}
    assert text.count('<img src="data:image/png;base64,') == len(saved)
    manifest = json.loads((run / "manifest.json").read_text())
    for needle in (manifest["scenario_sha256"], str(manifest["seed"]), "ccsim run",
                   "Headline KPIs", "The scenario in plain words", "Teams", "Shrinkage",
                   "Routing"):
        assert needle in text
    summary = json.loads((run / "summary.json").read_text())
    for target in summary["targets"]:
        assert f"st-{target['status']}" in text
    md = (run / "summary.md").read_text(encoding="utf-8")
    assert md.startswith("# ") and "| channel | KPI | mean | 95% CI |" in md


def test_monthly_figures_for_a_long_horizon(clinical_exchange_run):
    run = load_run(clinical_exchange_run)
    figs = {f.slug: f for f in report_figures(run)}
    volume_ax = figs["volume_and_service_level_by_period"].figure.axes[0]
    assert len(volume_ax.containers[0]) == 3  # January, February, March
    assert "per month" in volume_ax.get_ylabel()
    weekly, monthly = figs["weekly_service_level"].figure.axes[:2]
    assert "weekly" in weekly.get_ylabel() and "monthly" in monthly.get_ylabel()


def test_figures_whose_data_is_absent_are_skipped(tmp_path):
    # one live phone queue, no patience, no deferred channel, no cost, no targets
    run = write_run(short_scenario(MMC, days=3), tmp_path / "mmc")
    figs = report_figures(load_run(run))
    slugs = {f.slug for f in figs}
    assert "backlog" not in slugs and "abandonment_by_interval" not in slugs
    assert "cost_per_contact" not in slugs and "weekly_service_level" in slugs
    for f in figs:  # never an empty axes (colour bars aside)
        for ax in f.figure.axes:
            if ax.get_label() != "<colorbar>":
                assert ax.has_data(), (f.slug, ax.get_title(loc="left"))
    text, _ = built(run)
    assert "backlog" not in {s for s in re.findall(r'id="fig-([a-z_]+)"', text)}


def test_scenario_strings_are_escaped(script_named_run):
    text, _ = built(script_named_run)
    assert "<script>alert" not in text and "<img src=x" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in text
    assert_self_contained(text)
    md = (script_named_run / "summary.md").read_text(encoding="utf-8")
    assert "<script>" not in md and r"\<script\>" in md
    assert load_run(script_named_run).scenario.name == SCRIPT_NAME


def test_out_file_and_summary_next_to_it(careconnect_run, tmp_path):
    out = build_report(careconnect_run, out=tmp_path / "qbr" / "q1.html")
    assert out == tmp_path / "qbr" / "q1.html" and out.is_file()
    assert (tmp_path / "qbr" / "summary.md").is_file()


# --------------------------------------------------------------------------- alerts

def fewer_agents(tmp_path: Path) -> Path:
    """CareConnect (8 days) with two fewer agents on the 08:00 patient-access line."""
    data = short_scenario(SCENARIOS / "careconnect.yaml", days=8).model_dump(mode="json")
    data["teams"]["patient_access"]["shifts"][3]["agents"] = 3
    scenario = parse_scenario(yaml.safe_dump(data, sort_keys=False), "fewer.yaml")
    return write_run(scenario, tmp_path / "fewer")


def test_alerts_against_a_baseline_with_paired_differences(careconnect_run, tmp_path):
    now = load_run(fewer_agents(tmp_path))
    base = load_run(careconnect_run)
    cmp = compare_runs(now, base)
    assert cmp.paired and cmp.n_compared > 0
    flagged = {(a.channel, a.kpi): a for a in cmp.alerts}
    for a in cmp.alerts:
        assert abs(a.change) > 0.10
    # same seed, same arrivals: the offered counts did not move
    assert ("phone", "offered") not in flagged
    abandoned = flagged[("all", "abandoned")]
    assert abandoned.verdict == "worse" and abandoned.current > abandoned.baseline
    a = now.per_replication("abandoned")["all"].to_numpy(float)
    b = base.per_replication("abandoned")["all"].to_numpy(float)
    assert abandoned.diff == pytest.approx(np.mean(a - b))
    assert abandoned.diff_low < abandoned.diff < abandoned.diff_high
    # with totals.parquet in the run folder, ratio KPIs are paired too
    ratio = flagged[("all", "abandon_rate")]
    ra = now.per_replication("abandon_rate")["all"].to_numpy(float)
    rb = base.per_replication("abandon_rate")["all"].to_numpy(float)
    assert ratio.diff == pytest.approx(np.mean(ra - rb))
    assert ratio.diff_low < ratio.diff < ratio.diff_high
    text = build_report(now.path, baseline_dir=base.path).read_text(encoding="utf-8")
    assert "Changes against the baseline" in text and "worse" in text
    assert "abandon rate" in (now.path / "summary.md").read_text(encoding="utf-8")


def test_no_alert_against_itself_and_no_pairing_across_seeds(careconnect_run, tmp_path):
    run = load_run(careconnect_run)
    same = compare_runs(run, run)
    assert same.alerts == [] and same.paired
    other = tmp_path / "other"
    shutil.copytree(careconnect_run, other)
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["seed"] += 1
    (other / "manifest.json").write_text(json.dumps(manifest))
    summary = json.loads((other / "summary.json").read_text())
    summary["kpis"]["phone"]["asa_s"]["mean"] *= 2.0
    (other / "summary.json").write_text(json.dumps(summary))
    cmp = compare_runs(load_run(other), run)
    assert not cmp.paired
    (alert,) = cmp.alerts
    assert (alert.channel, alert.kpi, alert.verdict) == ("phone", "asa_s", "worse")
    assert alert.change == pytest.approx(1.0) and "unpaired" in alert.diff_note
    # unpaired: Welch's interval around the difference of the means
    assert alert.diff == pytest.approx(alert.current - alert.baseline)
    assert alert.diff_low < alert.diff < alert.diff_high


def test_per_replication_counts_match_the_run_totals(tmp_path):
    scenario = short_scenario(MMC, days=2)
    results = sim.run(scenario, replications=3, seed=5, workers=1)
    run = load_run(results.write(tmp_path / "run"))
    for key in ("offered", "answered", "abandoned", "asa_s", "service_level"):
        got = run.per_replication(key)
        want = results.totals.pivot_table(index="replication", columns="channel", values=key)
        pd.testing.assert_frame_equal(got.astype(float), want.astype(float),
                                      check_names=False, check_like=True)


# --------------------------------------------------------------------------- staffing

def test_staffing_follows_the_roster():
    s = load_scenario(SCENARIOS / "careconnect.yaml")
    staffing = staffing_by_interval(s, s.seed)
    pa = staffing[staffing.team == "patient_access"]
    at_8 = pa[pa.interval_start % 86400 == 8 * 3600]
    # every daily shift line covering 08:00-08:30 (from the scenario, which the seed's
    # authors retune) is on shift then
    expected = sum(sh.agents for sh in s.teams["patient_access"].shifts
                   if len(sh.days) == 7 and sh.from_date is None and sh.until_date is None
                   and any(
                       sh.start + d * 86400 <= 8 * 3600 and 8.5 * 3600 <= sh.start
                       + sh.length + d * 86400 for d in (-1, 0)))
    assert expected > 0 and (at_8.scheduled == expected).all()
    assert (staffing.on_duty <= staffing.scheduled + 1e-9).all()
    assert staffing.on_duty.sum() < staffing.scheduled.sum()  # shrinkage takes time
    mmc = staffing_by_interval(load_scenario(MMC), 1)
    assert np.allclose(mmc.on_duty, 10.0) and np.allclose(mmc.scheduled, 10.0)


# --------------------------------------------------------------------------- CLI

def test_cli_report_verb(careconnect_run, tmp_path, capsys):
    assert main(["report", str(careconnect_run)]) == 0
    out = capsys.readouterr().out
    assert f"report: {careconnect_run / 'report.html'}" in out
    assert main(["report", str(careconnect_run), "--baseline", str(careconnect_run),
                 "--out", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").is_file()


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "missing", "not a folder"),
    (lambda p: p, "missing manifest.json"),
])
def test_cli_report_rejects_what_is_not_a_run_folder(tmp_path, capsys, make, message):
    assert main(["report", str(make(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_cli_report_rejects_a_missing_baseline(careconnect_run, tmp_path, capsys):
    assert main(["report", str(careconnect_run), "--baseline", str(tmp_path / "no")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_cli_run_with_report(tmp_path, capsys):
    path = tmp_path / "small.yaml"
    path.write_text(MMC.read_text().replace("days: 8, warmup: 1d", "days: 2, warmup: 6h"))
    out = tmp_path / "run"
    assert main(["run", str(path), "-n", "2", "--out", str(out), "--workers", "1", "--quiet",
                 "--report"]) == 0
    assert (out / "report.html").is_file() and (out / "summary.md").is_file()
    assert f"report: {out / 'report.html'}" in capsys.readouterr().out
