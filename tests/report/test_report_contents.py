"""Every content item of issue 7 is in report.html, for both seed scenarios.

The list of the issue, item by item: headline table against targets; service level, ASA
and abandonment by interval of the day; occupancy heatmap with its band; staffed vs
required agents (the Erlang requirement, labelled as analytic); backlog and oldest-item
age; volumes and KPIs across the horizon; escalations/MTTR and pricing tiers (drawn when
the run has them, a "not in this run" note otherwise); cost per contact; the distribution
of weekly service level with P(target met); the scenario in plain words; the footer.
"""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from sim.report import load_run
from sim.report.html import (
    _ABSENT,
    _e,
    optional_figures,
    optional_figures_absent,
    render_html,
    report_figures,
)

#: figure slug -> the issue's item it shows.
ITEMS = {
    "service_level_by_interval": "service level by interval with target and CI band",
    "asa_by_interval": "ASA by interval",
    "abandonment_by_interval": "abandonment",
    "occupancy_heatmap": "occupancy heatmap weekday x hour with the band",
    "staffed_agents_by_interval": "staffed vs required agents by interval",
    "backlog": "backlog and oldest-item age for deferred channels",
    "volume_and_service_level_by_period": "volumes and KPIs across the horizon",
    "weekly_service_level": "distribution of weekly service level with P(target met)",
    "cost_per_contact": "cost per contact",
}
OPTIONAL = ("journey_kpis", "escalations_by_tier", "mttr_by_severity", "margin_by_tier")


@pytest.mark.parametrize("fixture", ["careconnect_run", "clinical_exchange_run"])
def test_every_issue_item_is_in_the_report(request, fixture, built_report):
    folder = request.getfixturevalue(fixture)
    text, _ = built_report(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    for slug in ITEMS:
        assert f'id="fig-{slug}"' in text, ITEMS[slug]
    # headline table with CIs and met/missed as colour and words
    assert 'class="headline"' in text and 'class="ci"' in text
    assert re.search(r'class="st-(met|missed|uncertain)"', text)
    assert re.search(r"✓ met|✗ missed|\? uncertain", text)
    # staffed vs required, the requirement labelled as analytic
    assert "Staffed vs required agents" in text and "Erlang requirement (analytic)" in text
    # journeys, escalations/MTTR and pricing: a figure when the run has the KPIs, else a
    # "not in this run" line, never both, never neither
    for slug in OPTIONAL:
        assert (f'id="fig-{slug}"' in text) != (_e(_ABSENT[slug]) in text), slug
    # the scenario in plain words
    for heading in ("The scenario in plain words", "<h3>Channels</h3>", "<h3>Teams</h3>",
                    "shifts", "<h3>Shrinkage</h3>", "<h3>Routing</h3>"):
        assert heading in text
    # footer: version, seed, engine, replications, scenario hash, reproduce command
    footer = text[text.index("<footer>"):]
    for item in (manifest["ccsim_version"], str(manifest["seed"]), manifest["engine"],
                 manifest["scenario_sha256"], "<dt>replications</dt>",
                 f"--seed {manifest['seed']}", "ccsim run"):
        assert str(item) in footer


def test_the_staffing_figure_draws_the_erlang_requirement(careconnect_run):
    figs = {f.slug: f for f in report_figures(load_run(careconnect_run))}
    ax = figs["staffed_agents_by_interval"].figure.axes[0]
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == "Erlang requirement (analytic)"]
    y = np.asarray(line.get_ydata(), dtype=float)
    assert np.all(y >= 1) and y.max() > y.min()  # a day profile of whole agents on duty
    assert "Erlang requirement (analytic)" in figs["staffed_agents_by_interval"].caption


def test_journey_escalation_and_pricing_figures_appear_when_the_run_has_them(
        careconnect_run, tmp_path):
    folder = tmp_path / "with_kpis"
    shutil.copytree(careconnect_run, folder,
                    ignore=shutil.ignore_patterns("figures", "report.html", "summary.md"))
    summary = json.loads((folder / "summary.json").read_text())

    def stats(mean):
        return {"mean": mean, "se": 0.01, "ci95_low": mean - 0.02, "ci95_high": mean + 0.02,
                "n": 2}

    summary["kpis"]["phone"].update(fcr=stats(0.74), repeat_rate=stats(0.2),
                                    escalation_rate=stats(0.05))
    summary["kpis"]["all"].update(mttr_h_critical=stats(3.5), mttr_h_routine=stats(40.0))
    (folder / "summary.json").write_text(json.dumps(summary))
    iv = pd.read_parquet(folder / "intervals.parquet")
    tasks = iv[iv["channel"] == "email"].copy()
    tasks["queue"] = np.where(tasks["interval"] % 2 == 0, "tier2_critical", "tier3_routine")
    pd.concat([iv, tasks], ignore_index=True).to_parquet(folder / "intervals.parquet",
                                                         index=False)
    pd.DataFrame({"replication": [0, 1, 0, 1], "month": 1,
                  "tier": ["Basic", "Basic", "Premium", "Premium"],
                  "revenue": [125.0, 125.0, 420.0, 420.0], "sla_credits": [5.0, 0.0, 0, 0],
                  "cost": [100.0, 90.0, 300.0, 310.0], "margin": [20.0, 35.0, 120.0, 110.0]}
                 ).to_parquet(folder / "economics.parquet", index=False)
    run = load_run(folder)
    figs, absent = optional_figures(run)
    assert [f.slug for f in figs] == list(OPTIONAL) and absent == []
    assert optional_figures_absent(run) == []
    esc = figs[1].figure.axes[0]
    assert [t.get_text() for t in esc.get_xticklabels()] == ["tier 2", "tier 3"]
    html = render_html(run, [(f, "") for f in figs])
    for slug in OPTIONAL:
        assert f'id="fig-{slug}"' in html
    assert "not in this run" not in html

