"""Coverage of the 95% t-intervals on a textbook queue with a known answer.

Scenario: M/M/10 of ``scenarios/textbook/mmc_medium.yaml`` (load 8 Erlangs, Erlang C),
shortened to 2 days with a 1-day warm-up (steady state by warm-up deletion; the queue
relaxes within minutes at this load). 200 independent small runs of 5 replications each:
run k uses replications 5k .. 5k+4 of one seed, which are independent streams
(``SeedSequence(seed).spawn(n)[i]``), so the runs are independent. Each run's 95% interval of
the phone service level should cover the exact Erlang C value in 95% of runs: the count of
covering runs is Binomial(200, 0.95), standard deviation sqrt(200 * 0.95 * 0.05) = 3.1 runs
(1.5 points); we accept 0.95 +/- 4 SE, i.e. 178..200 runs
(89%..100%). Observed with seed 7: 190 of 200 (95%).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.compile import compile_scenario
from sim.erlang import erlang_c_measures
from sim.experiment import run_replications
from sim.scenario import distribution_mean_s, load_scenario
from sim.stats import t_interval

ROOT = Path(__file__).resolve().parents[2]
RUNS, PER_RUN = 200, 5


def test_t_intervals_cover_the_exact_erlang_c_value(tmp_path):
    text = (ROOT / "scenarios" / "textbook" / "mmc_medium.yaml").read_text()
    path = tmp_path / "mmc.yaml"
    path.write_text(text.replace("days: 8, warmup: 1d", "days: 2, warmup: 1d"))
    scenario = load_scenario(path)
    (ct,) = scenario.contact_types.values()
    exact = erlang_c_measures(10, scenario.demand.daily["phone"] / 86400.0,
                              distribution_mean_s(ct.handle_time),
                              scenario.channels["phone"].sla.threshold).service_level
    reps = run_replications(scenario, RUNS * PER_RUN, 7, "kernel", workers=2,
                            model=compile_scenario(scenario))
    values = np.array([r.totals.set_index("channel").loc["phone", "service_level"]
                       for r in reps]).reshape(RUNS, PER_RUN)
    covered = 0
    for run in values:
        iv = t_interval(run)
        covered += iv.low <= exact <= iv.high
    se = np.sqrt(RUNS * 0.95 * 0.05)
    print(f"coverage {covered}/{RUNS}")
    assert abs(covered - 0.95 * RUNS) <= 4 * se, f"{covered}/{RUNS} intervals cover {exact}"
