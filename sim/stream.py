"""One replication sampled, simulated and measured in chunks of days, in bounded memory.

This module owns the streaming path of the compiled engine. The one-shot path samples the
whole horizon's workload (:func:`sim.workload.sample_workload`), simulates it in one call
and measures every contact at once (:func:`sim.kpi.measure`), so its memory grows with the
horizon. :func:`simulate_and_measure` instead loops over chunks of days:

1. sample the chunk's contacts (:class:`sim.workload.WorkloadSampler`: the draws of a day do
   not depend on the chunking, and global contact ids follow the days);
2. append them to the window of pending contacts of a resumable kernel run
   (:class:`sim.engines.kernel.KernelStream`) and advance it to the end of the chunk (the
   last chunk: the horizon);
3. hand the contacts that became final (ids below the oldest pending one) to a KPI
   :class:`sim.kpi.Accumulator`, and drop them; likewise the follow-up contacts the
   journeys created (below the oldest pending follow-up), whose sums the accumulator keeps
   apart from the first contacts' so that the interleaving does not change them.

Memory is then the window (the contacts of one chunk plus those still waiting or in
service), the per-interval KPI sums and the roster, whatever the horizon.

Exactness: the result equals the one-shot ``measure(model, w, r, simulate(model, w, r))``
to the last bit. The sampled contacts are the same (per-day streams); the kernel processes
the same events in the same order (global ids in every key; a call stops before the first
event at or after its end time, and every contact arriving before it is in the window);
and the accumulator receives every contact once, in id order, in batches of consecutive ids
(its float sums are sequential in contact order, so batching does not change them).
"""

from __future__ import annotations

import numpy as np

from sim.engines.kernel import KernelStream
from sim.kpi import Accumulator, Measured, journey_windows
from sim.model import Model
from sim.roster import sample_roster
from sim.scenario import Scenario
from sim.workload import WorkloadSampler

#: Default chunk length (days): four weeks keep the window small (a month of contacts) and the
#: per-chunk overhead low.
# NOTE: was 7. A year in 13 chunks instead of 53 saves ~0.1 CPU-s per CareConnect-year
# replication (KPI feed and kernel calls have a fixed cost per chunk; the follow-up batches
# span as many intervals whatever their size); the KPIs do not depend on it.
CHUNK_DAYS = 28


def simulate_and_measure(scenario: Scenario, model: Model, seed,
                         chunk_days: int = CHUNK_DAYS, queue_intervals: bool = True,
                         queue_columns: tuple = ()) -> Measured:
    """Sample, simulate (compiled kernel) and measure one replication, chunk by chunk.

    Parameters
    ----------
    scenario : Scenario
    model : Model
        ``compile_scenario(scenario)``.
    seed : int or numpy.random.SeedSequence
        The replication's seed (as for :func:`sim.experiment.prepare`).
    chunk_days : int
        Days sampled and simulated per step (>= 1). The result does not depend on it.
    queue_intervals, queue_columns
        As for :func:`sim.kpi.measure`.

    Returns
    -------
    Measured
        Identical to ``measure(model, workload, roster, simulate(model, workload, roster,
        engine="kernel"))`` on the one-shot sample of the same seed.

    Raises
    ------
    EngineError
        If the compiled kernel is not built.
    """
    if chunk_days < 1:
        raise ValueError(f"chunk_days must be at least 1, got {chunk_days}")
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    roster = sample_roster(scenario, model, ss)
    sampler = WorkloadSampler(scenario, model, ss)
    run = KernelStream(model, roster, pools=sampler.pools)
    acc = Accumulator(model, journey_windows(scenario, model), queue_intervals, queue_columns)
    horizon_s = float(model.horizon_s)
    n_days = sampler.n_days
    for day_lo in range(0, max(n_days, 1), chunk_days):
        day_hi = min(day_lo + chunk_days, n_days)
        chunk = sampler.days(day_lo, day_hi)
        if chunk.outages is not None:
            acc.add_outages(chunk.outages)
        run.append(chunk)
        # Every contact of the days after the chunk arrives at or after its end.
        last = day_hi >= n_days
        run.advance(horizon_s if last else min(day_hi * 86400.0, horizon_s))
        acc.add_contacts(*run.take_final(everything=last))
        if model.journeys is not None:
            acc.add_followups(run.take_followups(everything=last))
    acc.add_roster(roster, run.release_s)
    return acc.result()
