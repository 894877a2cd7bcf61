"""Whole-run benchmarks: ``sim.run`` end to end (sampling, kernel, KPIs, summary).

Run by hand (not in CI):  python benchmarks/runs.py
Prints:
* W1 (benchmarks/w1.yaml, ~1,000,000 contacts, one replication, in-process): contacts per
  CPU-second of the whole run (process CPU time; wall time is noisy on shared machines).
* CareConnect over a year (scenarios/careconnect.yaml with its horizon set to 365 days),
  30 replications on 2 local worker processes: wall time and contacts per wall-second.
"""

from __future__ import annotations

import time
from pathlib import Path

import yaml

import sim
from sim.scenario import load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[1]


def w1_whole_run(repeats: int = 3) -> None:
    scenario = load_scenario(ROOT / "benchmarks" / "w1.yaml")
    best = None
    for _ in range(repeats):
        t0 = time.process_time()
        res = sim.run(scenario, replications=1, workers=1)
        cpu = time.process_time() - t0
        n = res.manifest["contacts_simulated"]
        best = max(best or 0.0, n / cpu)
    print(f"W1 whole sim.run: {n:,} contacts, best of {repeats}: {best / 1e6:.2f} M contacts "
          "per CPU-second (target >= 2 M)")


def careconnect_year(replications: int = 30, workers: int = 2) -> None:
    base = load_scenario(ROOT / "scenarios" / "careconnect.yaml")
    data = base.model_dump(mode="json", exclude_none=True)
    data["horizon"]["days"] = 365
    scenario = parse_scenario(yaml.safe_dump(data, sort_keys=False), "careconnect-year")
    t0 = time.perf_counter()
    res = sim.run(scenario, replications=replications, workers=workers)
    wall = time.perf_counter() - t0
    n = res.manifest["contacts_simulated"]
    print(f"CareConnect year x {replications} replications on {workers} workers: {n:,} "
          f"contacts in {wall:.1f} s wall ({n / wall / 1e6:.2f} M contacts per wall-second; "
          "target < 10 s)")


if __name__ == "__main__":
    w1_whole_run()
    careconnect_year()
