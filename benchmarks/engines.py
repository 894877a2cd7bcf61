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

Usage::

    python benchmarks/engines.py [--contacts 1000000] [--simpy-contacts 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sim.model import ArrivalPolicy, Model, PullPolicy, Roster, Workload

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
    fields = {k: getattr(workload, k)[:n].copy() for k in workload.__dataclass_fields__}
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--simpy-contacts", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
