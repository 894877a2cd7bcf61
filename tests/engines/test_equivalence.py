"""The compiled kernel and the SimPy reference give the same outcome for every contact.

Generated scenarios switch every feature on and off (tests/strategies.py); both engines run
on the same sampled workload and roster; outcome, agent, start, end and each roster
segment's release time must be identical (bit for bit, NaN equal to NaN).
"""

from __future__ import annotations

from hypothesis import given

from sim.engines import simulate
from tests.strategies import first_difference, prepare, seeds, small_scenarios


@given(scenario=small_scenarios(), seed=seeds())
def test_kernel_matches_simpy(scenario, seed):
    model, workload, roster = prepare(scenario, seed)
    reference = simulate(model, workload, roster, engine="simpy")
    compiled = simulate(model, workload, roster, engine="kernel")
    diff = first_difference(reference, compiled, workload)
    assert diff is None, f"simpy vs kernel: {diff}"
