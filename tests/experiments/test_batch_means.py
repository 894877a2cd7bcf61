"""Batch means: one long replication of the M/M/10 textbook queue cut into 20 batches."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.erlang import erlang_c_measures
from sim.scenario import distribution_mean_s, load_scenario

ROOT = Path(__file__).resolve().parents[2]


def test_batch_means_interval_contains_the_exact_value(tmp_path):
    # 21 days, 1-day warm-up (deleted), 20 batches of one day: each batch is ~1,000 relaxation
    # times of this queue long, so batch values are nearly independent. Tolerance 4 SE.
    text = (ROOT / "scenarios" / "textbook" / "mmc_medium.yaml").read_text()
    path = tmp_path / "long.yaml"
    path.write_text(text.replace("days: 8, warmup: 1d", "days: 21, warmup: 1d"))
    scenario = load_scenario(path)
    (ct,) = scenario.contact_types.values()
    exact = erlang_c_measures(10, 2880 / 86400.0, distribution_mean_s(ct.handle_time),
                              20.0)
    r = sim.run(scenario, replications=1, batch_means=20)
    for kpi in ("service_level", "asa_s"):
        est = r.kpi(kpi, "phone")
        assert est["n"] == 20
        assert abs(est["mean"] - getattr(exact, kpi)) <= 4 * est["se"], (kpi, est)
    # a batch's offered count is a day's arrivals
    assert r.kpi("offered", "phone")["mean"] == pytest.approx(2880, rel=0.05)
    with pytest.raises(ValueError):
        sim.run(scenario, replications=2, batch_means=20)
