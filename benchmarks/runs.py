"""Whole-run benchmarks: ``sim.run`` end to end (sampling, kernel, KPIs, summary).

Run by hand (not in CI):  python benchmarks/runs.py
Prints:
* W1 (benchmarks/w1.yaml, ~1,000,000 contacts, one replication, in-process): contacts per
  CPU-second of the whole run (process CPU time; wall time is noisy on shared machines).
* CareConnect over a year (scenarios/careconnect.yaml with its horizon set to 365 days),
  30 replications on 2 local worker processes: wall time and contacts per wall-second. By
  default (auto) the year's per-queue interval rows are omitted; ``--queue-intervals`` keeps
  them (the behaviour before they were optional).
* With ``--phases``: the same run split into its replication phase (workers: sample,
  simulate, measure, pack; client: receive) and the client's assembly of the final tables
  (concatenation, summary, targets, economics).
* With ``--write``: the same run as ``ccsim run`` does it, writing the run folder (a
  temporary one): the time the folder's files add (mostly ``intervals.parquet``).
"""

from __future__ import annotations

import argparse
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


def _careconnect_year():
    base = load_scenario(ROOT / "scenarios" / "careconnect.yaml")
    data = base.model_dump(mode="json", exclude_none=True)
    data["horizon"]["days"] = 365
    return parse_scenario(yaml.safe_dump(data, sort_keys=False), "careconnect-year")


def careconnect_year(replications: int = 30, workers: int = 2,
                     queue_intervals: bool | None = None, repeat: int = 1) -> None:
    scenario = _careconnect_year()
    walls = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = sim.run(scenario, replications=replications, workers=workers,
                      queue_intervals=queue_intervals)
        walls.append(time.perf_counter() - t0)
        n = res.manifest["contacts_simulated"]
        rows = "with" if res.manifest["queue_intervals"] else "without"
        del res  # (its 1.2 GB of intervals, before the next run)
    wall = min(walls)
    runs = f" (runs: {', '.join(f'{w:.1f}' for w in walls)} s)" if repeat > 1 else ""
    print(f"CareConnect year x {replications} replications on {workers} workers ({rows} "
          f"per-queue interval rows): {n:,} contacts in {wall:.1f} s wall{runs} "
          f"({n / wall / 1e6:.2f} M contacts per wall-second; target < 10 s)")


def careconnect_year_phases(replications: int = 30, workers: int = 2) -> None:
    from sim.api import assemble
    from sim.compile import compile_scenario
    from sim.executors import ExecutorSpec
    from sim.experiment import keep_queue_intervals, run_replications

    scenario = _careconnect_year()
    model = compile_scenario(scenario)
    keep = keep_queue_intervals(model)
    t0 = time.perf_counter()
    reps = run_replications(scenario, replications, scenario.seed, "kernel", model=model,
                            executor=ExecutorSpec.choose(workers), queue_intervals=keep)
    t1 = time.perf_counter()
    assemble(scenario, model, reps, {"contacts": False, "notes": []})
    t2 = time.perf_counter()
    print(f"  phases: replications {t1 - t0:.1f} s wall, client assembly {t2 - t1:.1f} s")


def careconnect_year_write(replications: int = 30, workers: int = 2) -> None:
    import tempfile

    scenario = _careconnect_year()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = sim.run(scenario, replications=replications, workers=workers,
                      out=Path(tmp) / "run")
        wall = time.perf_counter() - t0
        t1 = time.perf_counter()
        res.write(Path(tmp) / "again")
        write = time.perf_counter() - t1
    print(f"  with the run folder written: {wall:.1f} s wall, of which writing the files "
          f"about {write:.1f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queue-intervals", action=argparse.BooleanOptionalAction,
                        default=None, help="CareConnect year: keep per-queue interval rows")
    parser.add_argument("--phases", action="store_true",
                        help="also time the CareConnect year's phases")
    parser.add_argument("--write", action="store_true",
                        help="also time the CareConnect year with its run folder written")
    parser.add_argument("--repeat", type=int, default=1,
                        help="CareConnect year: runs (the best is reported, and every run)")
    args = parser.parse_args()
    w1_whole_run()
    careconnect_year(queue_intervals=args.queue_intervals, repeat=args.repeat)
    if args.phases:
        careconnect_year_phases()
    if args.write:
        careconnect_year_write()
