"""Engines: deterministic functions of (model, workload, roster) -> Outcomes.

``kernel`` (the compiled event loop, default) and ``simpy`` (the readable reference) implement
the same semantics, documented in :mod:`sim.model`; they agree contact for contact.
"""

from __future__ import annotations

from sim.model import Model, Outcomes, Roster, Workload

ENGINES = ("kernel", "simpy")
DEFAULT_ENGINE = "kernel"


def simulate(model: Model, workload: Workload, roster: Roster, engine: str = DEFAULT_ENGINE
             ) -> Outcomes:
    """Run one replication on the chosen engine.

    Parameters
    ----------
    model, workload, roster
        From :func:`sim.compile.compile_scenario`, :func:`sim.workload.sample` and
        :func:`sim.roster.sample_roster`.
    engine : {"kernel", "simpy"}

    Returns
    -------
    Outcomes
    """
    if engine == "simpy":
        from sim.engines.simpy_engine import simulate as run
    elif engine == "kernel":
        from sim.engines.kernel import simulate as run
    else:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    return run(model, workload, roster)
