"""Engine throughput: contacts simulated per CPU-second, kernel vs SimPy reference.

Workloads (built directly as numpy arrays, seeded; no scenario file):

* W1: one live phone queue, 50 agents always on duty (one segment each spanning the horizon),
  Poisson arrivals 9/min, exponential work_s with mean 300 s (offered load 45 Erlang,
  occupancy 0.9), no patience (``abandon_at_s = inf``), ~1,000,000 contacts.
* W2: W1 with ``abandon_at_s = arrival_s + Exp(mean 120 s)``.

The kernel runs on every contact; the SimPy engine on a prefix (20,000 contacts by default)
with the horizon cut just after it. Throughput is ``n_contacts / process CPU time`` of the
``simulate`` call (wrapper included). Targets (issue): kernel >= 5 M contacts/CPU-s on W1 and
>= 4 M on W2.

Memory section: whole replications (sampling, simulation and KPIs) of the scenario files
``benchmarks/w1.yaml`` (W1 as a scenario, ~1 M contacts) and ``benchmarks/w10m.yaml`` (the
same over 780 days, ~10 M contacts), each in a fresh subprocess that prints its peak RSS
(``getrusage(RUSAGE_SELF).ru_maxrss``) and contacts per CPU-second of the replication:
the streaming path (``sim.stream.simulate_and_measure``, chunks of ``CHUNK_DAYS``, what
``ccsim run`` uses for the kernel without ``--contacts``) on both, the one-shot path
(whole workload, one ``simulate``, ``measure``) on W1. Target (issue): a 10-million-contact
run under 500 MB.

Usage::

    python benchmarks/engines.py [--contacts 1000000] [--simpy-contacts 20000] [--repeat 3]
                                 [--sections engines,memory] [--one-shot-10m]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from sim.model import WORKLOAD_ARRAYS, ArrivalPolicy, Model, PullPolicy, Roster, Workload

RATE_PER_S = 9.0 / 60.0
MEAN_WORK_S = 300.0
MEAN_PATIENCE_S = 120.0
N_AGENTS = 50
TARGETS = {"W1": 5e6, "W2": 4e6}


def build(n_contacts: int, patience: bool, seed: int = 2024):
    """(model, workload, roster) of W1 (``patience=False``) or W2 (``patience=True``)."""
    rng = np.random.default_rng(seed)
    arrival_s = np.cumsum(rng.exponential(1.0 / RATE_PER_S, n_contacts))
    work_s = rng.exponential(MEAN_WORK_S, n_contacts)
    patience_s = rng.exponential(MEAN_PATIENCE_S, n_contacts)
    abandon_at_s = arrival_s + patience_s if patience else np.full(n_contacts, np.inf)
    horizon_s = float(arrival_s[-1]) + 1.0
    model = _model(horizon_s)
    workload = Workload(
        arrival_s=arrival_s,
        queue=np.zeros(n_contacts, dtype=np.int32),
        channel=np.zeros(n_contacts, dtype=np.int32),
        ctype=np.zeros(n_contacts, dtype=np.int32),
        work_s=work_s,
        abandon_at_s=abandon_at_s,
        u_route=rng.uniform(size=n_contacts),
        closed=np.zeros(n_contacts, dtype=np.int8),
    )
    return model, workload, _roster(horizon_s)


def prefix(model: Model, workload: Workload, n: int):
    """The first ``n`` contacts, with the horizon and roster cut just after the last one."""
    horizon_s = float(workload.arrival_s[n - 1]) + 1.0
    cut = workload.rows(slice(0, n))
    fields = {k: getattr(cut, k).copy() for k in WORKLOAD_ARRAYS}
    return _model(horizon_s), Workload(**fields), _roster(horizon_s)


def _model(horizon_s: float) -> Model:
    one = np.ones((1, 1))
    return Model(
        horizon_s=horizon_s,
        warmup_s=0.0,
        interval_s=900.0,
        start="2024-01-01T00:00:00",
        channel_names=("phone",),
        queue_names=("phone",),
        team_names=("agents",),
        channel_live=np.ones(1, dtype=np.int8),
        channel_units=np.full(1, 60, dtype=np.int32),
        channel_slowdown=np.zeros(1),
        channel_sla_s=np.full(1, 20.0),
        channel_sla_target=np.full(1, 0.8),
        queue_channel=np.zeros(1, dtype=np.int32),
        queue_priority=np.zeros(1, dtype=np.int32),
        team_tier=np.ones(1, dtype=np.int32),
        team_cost_per_h=np.full(1, 30.0),
        time_factor=one,
        proficiency=one.copy(),
        skill_priority=np.zeros((1, 1), dtype=np.int32),
        agent_team=np.zeros(N_AGENTS, dtype=np.int32),
        agent_queue_rank=np.zeros((N_AGENTS, 1), dtype=np.int32),
        arrival_policy=int(ArrivalPolicy.LONGEST_IDLE),
        pull_policy=int(PullPolicy.QUEUE_PRIORITY),
    )


def _roster(horizon_s: float) -> Roster:
    agents = np.arange(N_AGENTS, dtype=np.int32)
    start = np.zeros(N_AGENTS)
    end = np.full(N_AGENTS, horizon_s + 1.0)
    return Roster(
        seg_agent=agents,
        seg_start_s=start,
        seg_end_s=end,
        shift_agent=agents.copy(),
        shift_start_s=start.copy(),
        shift_end_s=end.copy(),
        shrink_agent=np.zeros(0, dtype=np.int32),
        shrink_start_s=np.zeros(0),
        shrink_end_s=np.zeros(0),
        shrink_kind=np.zeros(0, dtype=np.int32),
    )


def cpu_rate(simulate, model, workload, roster, repeat: int) -> tuple[float, object]:
    """Best contacts per CPU-second of ``repeat`` runs, and the last outcomes."""
    best = np.inf
    out = None
    for _ in range(repeat):
        t0 = time.process_time()
        out = simulate(model, workload, roster)
        best = min(best, time.process_time() - t0)
    return workload.n_contacts / max(best, 1e-9), out


HERE = Path(__file__).resolve().parent
MEMORY_TARGET_MB = 500.0


def _peak_rss_mb() -> float:
    """``ru_maxrss`` in MB (Linux reports KiB).

    On Linux it survives ``execve``: a child's value starts at its parent's RSS when forked.
    The memory section therefore runs before anything big is allocated in the parent, and
    also reports ``VmHWM`` (the high-water mark of this process image only) as a check.
    """
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _vm_hwm_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def replication_child(path: str, mode: str, chunk_days: int | None = None, seed: int = 1
                      ) -> dict:
    """One whole replication of the scenario file ``path`` (run in a fresh process).

    ``mode`` is ``"streaming"`` or ``"one-shot"``. CPU time covers sampling, simulation and
    KPIs (not imports and compilation); ``base_mb`` is the peak RSS before the replication.
    """
    from sim.compile import compile_scenario
    from sim.experiment import prepare, replication_seed
    from sim.scenario import load_scenario

    scenario = load_scenario(path)
    model = compile_scenario(scenario)
    ss = replication_seed(seed, 0)
    base_mb = _peak_rss_mb()
    t0 = time.process_time()
    if mode == "streaming":
        from sim.stream import CHUNK_DAYS, simulate_and_measure

        measured = simulate_and_measure(scenario, model, ss, chunk_days or CHUNK_DAYS)
    else:
        from sim.engines.kernel import simulate
        from sim.kpi import measure

        _, workload, roster = prepare(scenario, ss, model)
        measured = measure(model, workload, roster, simulate(model, workload, roster))
    cpu_s = time.process_time() - t0
    total = measured.totals.set_index("channel").loc["all"]
    return dict(mode=mode, scenario=Path(path).name, contacts=measured.n_contacts,
                cpu_s=cpu_s, base_mb=base_mb, peak_mb=_peak_rss_mb(), hwm_mb=_vm_hwm_mb(),
                occupancy=float(total["occupancy"]), asa_s=float(total["asa_s"]))


def memory_section(one_shot_10m: bool) -> None:
    """Peak RSS and contacts per CPU-second of whole replications, each in a subprocess."""
    cases = [("w1.yaml", "one-shot"), ("w1.yaml", "streaming"), ("w10m.yaml", "streaming")]
    if one_shot_10m:
        cases.append(("w10m.yaml", "one-shot"))
    print(f"{'scenario':10} {'path':10} {'contacts':>10} {'peak RSS MB':>12} {'VmHWM MB':>9} "
          f"{'before MB':>10} {'contacts/CPU-s':>15}  occupancy asa_s")
    for name, mode in cases:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", mode, str(HERE / name)],
            capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(f"{name:10} {mode:10} failed: {proc.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        flag = ""
        if r["contacts"] >= 5_000_000:
            flag = "ok" if r["peak_mb"] < MEMORY_TARGET_MB else "OVER"
            flag += f" (target < {MEMORY_TARGET_MB:.0f} MB)"
        print(f"{name:10} {mode:10} {r['contacts']:10d} {r['peak_mb']:12.0f} "
              f"{r['hwm_mb']:9.0f} {r['base_mb']:10.0f} {r['contacts'] / r['cpu_s']:15,.0f}  "
              f"{r['occupancy']:.4f} {r['asa_s']:6.2f} {flag}")
    print("peak RSS: whole process (interpreter, numpy, pandas, sim: 'before MB' is the peak "
          "before the replication)")
    print()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--simpy-contacts", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sections", default="engines,memory",
                        help="comma-separated: engines, memory")
    parser.add_argument("--one-shot-10m", action="store_true",
                        help="also run the one-shot path on the 10 M scenario (> 1 GB)")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "SCENARIO"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(replication_child(args.child[1], args.child[0])))
        return 0
    sections = {s.strip() for s in args.sections.split(",")}
    # Memory first: the children's ru_maxrss would start at this process's RSS (see
    # _peak_rss_mb), which is small only before the engine section builds its workloads.
    if "memory" in sections:
        memory_section(args.one_shot_10m)
    if "engines" in sections:
        engines_section(args)
    return 0


def engines_section(args) -> None:
    """Contacts per CPU-second of the ``simulate`` call, kernel and SimPy, on W1 and W2."""
    from sim.engines.kernel import simulate as kernel

    try:
        from sim.engines.simpy_engine import simulate as simpy
    except ImportError:
        simpy = None

    print(f"{'workload':8} {'engine':6} {'contacts':>9} {'contacts/CPU-s':>15} {'target':>8}"
          f"  answered abandoned")
    for name, patience in (("W1", False), ("W2", True)):
        m, w, r = build(args.contacts, patience)
        k_rate, out = cpu_rate(kernel, m, w, r, args.repeat)
        ok = "ok" if k_rate >= TARGETS[name] else "SHORT"
        print(f"{name:8} {'kernel':6} {w.n_contacts:9d} {k_rate:15,.0f} {TARGETS[name]:8.0e} "
              f"{ok:5} {np.mean(out.outcome == 1):.3f} {np.mean(out.outcome == 2):.3f}")
        if simpy is None:
            continue
        pm, pw, pr = prefix(m, w, min(args.simpy_contacts, w.n_contacts))
        s_rate, s_out = cpu_rate(simpy, pm, pw, pr, 1)
        k_out = kernel(pm, pw, pr)
        same = all(np.array_equal(getattr(k_out, f), getattr(s_out, f), equal_nan=True)
                   for f in ("outcome", "agent", "start_s", "end_s", "release_s"))
        print(f"{name:8} {'simpy':6} {pw.n_contacts:9d} {s_rate:15,.0f} {'':8} "
              f"{'':5} {np.mean(s_out.outcome == 1):.3f} {np.mean(s_out.outcome == 2):.3f}")
        print(f"{name:8} kernel/simpy = {k_rate / s_rate:,.0f}x; outcomes on the prefix "
              f"{'identical' if same else 'DIFFER'}")


if __name__ == "__main__":
    raise SystemExit(main())
