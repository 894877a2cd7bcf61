"""The compiled engine: a thin wrapper over the Cython event loop ``sim._kernel``.

This module owns the boundary between the model objects and the kernel: it coerces every
array of :class:`~sim.model.Model`, :class:`~sim.model.Workload` and
:class:`~sim.model.Roster` to the C-contiguous dtype the kernel's typed memoryviews expect,
prepares the event-stream orders, allocates the outcome arrays and wraps them in
:class:`~sim.model.Outcomes`. The semantics are those documented in :mod:`sim.model`.

:func:`simulate` runs a whole workload at once; :class:`KernelStream` runs one replication
fed and drained window by window (the streaming path of :mod:`sim.stream`), with the same
outcomes.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from sim.errors import EngineError
from sim.model import (
    FOLLOWUP_BASE,
    Followups,
    JourneyModel,
    Model,
    Outcomes,
    Roster,
    Workload,
    empty_outcomes,
)

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


def _require_kernel() -> None:
    if _kernel is None:
        raise EngineError(
            "the compiled kernel is not built: run `pip install -e .` (or "
            "`python setup.py build_ext --inplace`) in the ccsim source tree, "
            f"or use --engine simpy ({_IMPORT_ERROR})"
        )


def _model_args(model: Model) -> tuple:
    """The model arguments of ``_kernel.KernelRun``, in order."""
    f8, i4, i1 = np.float64, np.int32, np.int8
    return (
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
        _c(model.channel_sla_s, f8),
        _c(model.queue_weight, f8),
        int(model.reserve_for_live),
        _c(model.overflow_after_s, f8),
        _c(model.agent_overflow, i1),
    )


def _journey_kwargs(model: Model, workload: Workload | None) -> dict:
    """``journeys`` (the JourneyModel's arrays) and ``pools`` for ``_kernel.KernelRun``."""
    j = model.journeys
    if j is None:
        return {}
    if workload is None or workload.pools is None:
        raise ValueError("a model with journeys needs a workload with follow-up pools")
    return dict(journeys={f.name: getattr(j, f.name) for f in fields(JourneyModel)},
                pools=workload.pools)


def _roster_args(roster: Roster) -> tuple:
    """``seg_agent, seg_start_s, seg_end_s, on_order`` for the kernel."""
    seg_start_s = _c(roster.seg_start_s, np.float64)
    return (
        _c(roster.seg_agent, np.int32),
        seg_start_s,
        _c(roster.seg_end_s, np.float64),
        np.argsort(seg_start_s, kind="stable").astype(np.int32),
    )


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
    _require_kernel()
    f8, i4, i1 = np.float64, np.int32, np.int8

    arrival_s = _c(workload.arrival_s, f8)
    # NOTE: the kernel merges the arrival stream in row order when the rows are sorted by
    # arrival time (the Workload contract); an explicit order is only built otherwise.
    if arrival_s.size < 2 or bool(np.all(arrival_s[1:] >= arrival_s[:-1])):
        arrival_order = None
    else:
        arrival_order = np.argsort(arrival_s, kind="stable").astype(i4)

    out = empty_outcomes(workload.n_contacts, roster.n_segments)
    # One replication in one piece: a single advance of a KernelRun over the whole workload
    # up to the horizon (the streaming path makes several; both share one event loop).
    run = _kernel.KernelRun(*_model_args(model), *_roster_args(roster),
                            **_journey_kwargs(model, workload))
    run.advance(
        arrival_s,
        _c(workload.queue, i4),
        _c(workload.work_s, f8),
        _c(workload.abandon_at_s, f8),
        _c(workload.u_route, f8),
        _c(workload.closed, i1),
        out["outcome"],
        out["agent"],
        out["start_s"],
        out["end_s"],
        0,
        float(model.horizon_s),
        arrival_order,
        _c(workload.ctype, i4),
        _c(workload.u_outcome, f8),
        _c(workload.severity, i1),
        _c(workload.auth_tier, i1),
        out["fate"],
    )
    out["release_s"][:] = run.release_s
    followups = None
    if model.journeys is not None:
        followups = Followups(run.take_followups(2**31))
    return Outcomes(**out, followups=followups)


#: Per-contact arrays of a window: the Workload's fields, then the outcomes'.
_WORKLOAD_FIELDS = ("arrival_s", "queue", "channel", "ctype", "work_s", "abandon_at_s",
                    "u_route", "closed", "u_outcome", "severity", "auth_tier")
_OUTCOME_FIELDS = ("outcome", "agent", "start_s", "end_s", "fate")
_DTYPES = dict(arrival_s=np.float64, queue=np.int32, channel=np.int32, ctype=np.int32,
               work_s=np.float64, abandon_at_s=np.float64, u_route=np.float64,
               closed=np.int8, u_outcome=np.float64, severity=np.int8, auth_tier=np.int8,
               outcome=np.int8, agent=np.int32, start_s=np.float64, end_s=np.float64,
               fate=np.int8)
#: The "nothing happened yet" value of each outcome array (sim.model.empty_outcomes).
_EMPTY_OUTCOME = {k: v[0] for k, v in empty_outcomes(1, 0).items() if k in _OUTCOME_FIELDS}


class KernelStream:
    """One replication on the compiled kernel, fed and drained window by window.

    The workload is appended in consecutive pieces (global contact ids in order, arrivals
    sorted), the simulation is advanced to a time, and the contacts that can no longer
    change (``id < oldest_pending_id``) are taken out with their outcomes. Only the window
    from the oldest pending contact on is held, so memory follows the longest wait (and
    service), not the horizon. The
    outcomes are exactly those of :func:`simulate` on the whole workload, whatever the
    pieces and times (see ``sim._kernel.KernelRun``).

    Parameters
    ----------
    model : Model
    roster : Roster

    Examples
    --------
    >>> run = KernelStream(model, roster)              # doctest: +SKIP
    >>> run.append(workload_of_days_0_to_7)             # doctest: +SKIP
    >>> run.advance(7 * 86400.0)                        # doctest: +SKIP
    >>> final_workload, final_outcomes = run.take_final()  # doctest: +SKIP
    """

    def __init__(self, model: Model, roster: Roster, pools=None):
        _require_kernel()
        kwargs = {}
        if model.journeys is not None:
            kwargs = _journey_kwargs(model, Workload(
                *(np.zeros(0, dtype=_DTYPES[k]) for k in _WORKLOAD_FIELDS[:8]), pools=pools))
        self._run = _kernel.KernelRun(*_model_args(model), *_roster_args(roster), **kwargs)
        self._pools = pools
        self._offset = 0  # global id of the window's row 0
        self._window = {k: np.zeros(0, dtype=_DTYPES[k])
                        for k in _WORKLOAD_FIELDS + _OUTCOME_FIELDS}

    @property
    def n_appended(self) -> int:
        """Contacts appended so far (one past the last global id)."""
        return self._offset + self._window["arrival_s"].shape[0]

    @property
    def oldest_pending_id(self) -> int:
        """Smallest global id that may still change (after the last :meth:`advance`)."""
        return int(self._run.oldest_pending_id)

    @property
    def release_s(self) -> np.ndarray:
        """Release time of each roster segment so far (float64[S], NaN if not reached)."""
        return np.array(self._run.release_s)

    def append(self, workload: Workload) -> None:
        """Append the next contacts (global ids ``n_appended ..``), sorted by arrival."""
        arrival_s = workload.arrival_s
        old = self._window["arrival_s"]
        if (arrival_s.shape[0] > 1 and not bool(np.all(arrival_s[1:] >= arrival_s[:-1]))) \
                or (arrival_s.shape[0] and old.shape[0] and not arrival_s[0] >= old[-1]):
            raise ValueError("KernelStream.append: contacts must come in arrival order")
        n = workload.n_contacts
        # NOTE: one concatenation per piece; the window holds only the pending contacts.
        window = {k: np.concatenate([self._window[k], _c(getattr(workload, k), _DTYPES[k])])
                  for k in _WORKLOAD_FIELDS}
        # NOTE: the outcome arrays are made in place (the pending rows copied, the new ones
        # filled with their "nothing happened" value), not as new arrays concatenated.
        n_old = old.shape[0]
        for k in _OUTCOME_FIELDS:
            a = np.empty(n_old + n, dtype=_DTYPES[k])
            a[:n_old] = self._window[k]
            a[n_old:] = _EMPTY_OUTCOME[k]
            window[k] = a
        self._window = window

    def advance(self, until_s: float) -> int:
        """Process every event before ``until_s``; returns :attr:`oldest_pending_id`."""
        w = self._window
        return int(self._run.advance(
            w["arrival_s"], w["queue"], w["work_s"], w["abandon_at_s"], w["u_route"],
            w["closed"], w["outcome"], w["agent"], w["start_s"], w["end_s"],
            self._offset, float(until_s), None, w["ctype"], w["u_outcome"], w["severity"],
            w["auth_tier"], w["fate"]))

    def take_followups(self, everything: bool = False) -> Followups:
        """Remove and return the final follow-ups (ids below the oldest pending one), in id
        order; with ``everything=True`` (at the horizon) all of them."""
        upto = 2**31 if everything else int(self._run.oldest_pending_followup)
        return Followups(self._run.take_followups(max(upto, FOLLOWUP_BASE)))

    def take_final(self, everything: bool = False) -> tuple[Workload, Outcomes]:
        """Remove and return the contacts before :attr:`oldest_pending_id` (in id order).

        With ``everything=True`` (after the last :meth:`advance`, at the horizon) the whole
        window is returned: contacts still waiting or in service then are final too, and
        the run cannot advance any further.

        Returns
        -------
        Workload, Outcomes
            The contacts and their outcomes (``release_s`` is empty: see :attr:`release_s`).
        """
        n = self._window["arrival_s"].shape[0]
        cut = n if everything else min(self.oldest_pending_id - self._offset, n)
        head = {k: v[:cut] for k, v in self._window.items()}
        self._window = {k: v[cut:] for k, v in self._window.items()}
        self._offset += cut
        workload = Workload(**{k: head[k] for k in _WORKLOAD_FIELDS}, pools=self._pools)
        outcomes = Outcomes(**{k: head[k] for k in _OUTCOME_FIELDS},
                            release_s=np.zeros(0))
        return workload, outcomes
