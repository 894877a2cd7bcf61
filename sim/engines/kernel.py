"""The compiled engine: a thin wrapper over the Cython event loop ``sim._kernel``.

This module owns the boundary between the model objects and the kernel: it coerces every
array of :class:`~sim.model.Model`, :class:`~sim.model.Workload` and
:class:`~sim.model.Roster` to the C-contiguous dtype the kernel's typed memoryviews expect,
prepares the event-stream orders, allocates the outcome arrays and wraps them in
:class:`~sim.model.Outcomes`. The semantics are those documented in :mod:`sim.model`.
"""

from __future__ import annotations

import numpy as np

from sim.errors import EngineError
from sim.model import Model, Outcomes, Roster, Workload, empty_outcomes

try:
    from sim import _kernel
except ImportError as exc:  # the extension is not built (or built for another Python)
    _kernel = None
    _IMPORT_ERROR = str(exc)
else:
    _IMPORT_ERROR = ""


def _c(array, dtype) -> np.ndarray:
    """``array`` as a C-contiguous array of ``dtype`` (no copy when it already is one)."""
    return np.ascontiguousarray(array, dtype=dtype)


def simulate(model: Model, workload: Workload, roster: Roster) -> Outcomes:
    """Run one replication on the compiled kernel.

    Parameters
    ----------
    model : Model
    workload : Workload
        Contacts sorted by ``(arrival_s, id)`` (unsorted input is accepted and ordered).
    roster : Roster

    Returns
    -------
    Outcomes
        Per contact (shape ``N``) and per roster segment (shape ``S``).

    Raises
    ------
    EngineError
        If the compiled kernel is not built.
    """
    if _kernel is None:
        raise EngineError(
            "the compiled kernel is not built: run `pip install -e .` (or "
            "`python setup.py build_ext --inplace`) in the ccsim source tree, "
            f"or use --engine simpy ({_IMPORT_ERROR})"
        )
    f8, i4, i1 = np.float64, np.int32, np.int8

    arrival_s = _c(workload.arrival_s, f8)
    # NOTE: the kernel merges the arrival stream in row order when the rows are sorted by
    # arrival time (the Workload contract); an explicit order is only built otherwise.
    if arrival_s.size < 2 or bool(np.all(arrival_s[1:] >= arrival_s[:-1])):
        arrival_order = np.empty(0, dtype=i4)
    else:
        arrival_order = np.argsort(arrival_s, kind="stable").astype(i4)
    seg_start_s = _c(roster.seg_start_s, f8)

    out = empty_outcomes(workload.n_contacts, roster.n_segments)
    _kernel.simulate(
        float(model.horizon_s),
        int(model.arrival_policy),
        int(model.pull_policy),
        _c(model.channel_live, i1),
        _c(model.channel_units, i4),
        _c(model.channel_slowdown, f8),
        _c(model.queue_channel, i4),
        _c(model.queue_priority, i4),
        _c(model.time_factor, f8),
        _c(model.proficiency, f8),
        _c(model.skill_priority, i4),
        _c(model.agent_team, i4),
        _c(model.agent_queue_rank, i4),
        arrival_s,
        _c(workload.queue, i4),
        _c(workload.work_s, f8),
        _c(workload.abandon_at_s, f8),
        _c(workload.u_route, f8),
        _c(workload.closed, i1),
        arrival_order,
        _c(roster.seg_agent, i4),
        seg_start_s,
        _c(roster.seg_end_s, f8),
        np.argsort(seg_start_s, kind="stable").astype(i4),
        out["outcome"],
        out["agent"],
        out["start_s"],
        out["end_s"],
        out["release_s"],
    )
    return Outcomes(**out)
