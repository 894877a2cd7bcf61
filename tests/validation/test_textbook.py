"""The textbook scenarios reproduce exact Erlang C (M/M/c) and Erlang A (M/M/c+M) results.

Method: each scenario has a constant arrival rate, exponential service (and patience), a
fixed headcount and no shrinkage; its first hours are discarded (warm-up deletion, stated in
each YAML file) and R independent replications give R independent estimates of every KPI.
Tolerance: |mean - exact| <= 4 standard errors of the replication mean. For an unbiased
estimator this fails with probability about 6e-5 per comparison (normal tail), so a failure
means a real error of the model, not bad luck; the remaining biases (warm-up residue, ratio
estimators such as waits / answered over ~10^4 contacts) are well under one standard error.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.erlang import erlang_a_measures, erlang_c_measures
from sim.scenario import distribution_mean_s, load_scenario

TEXTBOOK = Path(__file__).resolve().parents[2] / "scenarios" / "textbook"
KPIS = ("p_wait", "asa_s", "mean_wait_s", "service_level", "service_level_answered",
        "service_level_excl_short_abandons", "abandon_rate", "occupancy", "mean_queue_len")
Z = 4.0

# (file, replications): enough replications that 4 SE is a tight band (a few % of the value)
CASES = [("mmc_single.yaml", 30), ("mmc_medium.yaml", 20), ("mmc_large.yaml", 20),
         ("mmcm_medium.yaml", 20), ("mmcm_large.yaml", 20)]


def exact(scenario):
    """Exact steady-state KPIs of a one-queue textbook scenario."""
    phone = scenario.channels["phone"]
    (ct,) = scenario.contact_types.values()
    (team,) = scenario.teams.values()
    rate_per_s = scenario.demand.daily["phone"] / 86400.0
    aht_s = distribution_mean_s(ct.handle_time)
    if phone.patience is None:
        return erlang_c_measures(team.headcount, rate_per_s, aht_s, phone.sla.threshold)
    return erlang_a_measures(team.headcount, rate_per_s, aht_s,
                             distribution_mean_s(phone.patience), phone.sla.threshold)


@pytest.mark.parametrize(("file", "replications"), CASES, ids=[c[0] for c in CASES])
def test_textbook_matches_exact(file, replications):
    scenario = load_scenario(TEXTBOOK / file)
    truth = exact(scenario)
    results = sim.run(scenario, replications=replications, workers=1)
    failures = []
    for kpi in KPIS:
        est = results.kpi(kpi, "phone")
        target = getattr(truth, kpi)
        tol = Z * est["se"] + 1e-12  # abandonment is exactly 0 without patience: se = 0
        off = abs(est["mean"] - target)
        if not off <= tol:
            failures.append(f"{kpi}: simulated {est['mean']:.6g} (se {est['se']:.3g}), "
                            f"exact {target:.6g}, off by {off / max(est['se'], 1e-300):.1f} se")
    assert not failures, f"{file}:\n" + "\n".join(failures)
