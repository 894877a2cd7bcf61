"""Journey rules hold for every generated scenario (sim.model, "Journeys").

The scenarios of ``tests/strategies.py`` with journeys switched on: first-contact
resolution, repeats, escalations with severities, refunds by authority, transfers, retrials
and callbacks. The kernel's outcomes are checked here; ``tests/engines/test_equivalence.py``
shows the SimPy engine makes the same ones.
"""

from __future__ import annotations

import numpy as np
import yaml
from hypothesis import given
from hypothesis import strategies as st

from sim.engines import simulate
from sim.experiment import prepare
from sim.model import FOLLOWUP_BASE, ContactKind, Fate, Outcome
from sim.scenario import parse_scenario
from tests.strategies import scenario_dicts, seeds

#: Fates that create exactly one follow-up, and the kind of that follow-up.
CHILD_KIND = {Fate.REPEAT: ContactKind.REPEAT, Fate.ESCALATED: ContactKind.TASK,
              Fate.TRANSFERRED: ContactKind.TRANSFER, Fate.RETRIED: ContactKind.RETRIAL,
              Fate.CALLBACK: ContactKind.CALLBACK}


@st.composite
def journey_scenarios(draw):
    return parse_scenario(yaml.safe_dump(draw(scenario_dicts(journeys=True))), "<generated>")


def _all_contacts(workload, outcomes) -> dict:
    """First contacts and follow-ups as one table (columns of sim.model.Followups)."""
    f = outcomes.followups
    n = workload.n_contacts
    first = dict(id=np.arange(n, dtype=np.int64), journey=np.arange(n, dtype=np.int64),
                 parent=np.full(n, -1, dtype=np.int64), kind=np.zeros(n, dtype=np.int8),
                 ctype=workload.ctype, severity=workload.severity,
                 auth_tier=workload.auth_tier, repeats=np.zeros(n, np.int8),
                 retrials=np.zeros(n, np.int8), transfers=np.zeros(n, np.int8),
                 arrival_s=workload.arrival_s, queue=workload.queue,
                 abandon_at_s=workload.abandon_at_s, outcome=outcomes.outcome,
                 start_s=outcomes.start_s, end_s=outcomes.end_s, fate=outcomes.fate)
    return {k: np.concatenate([v, f.columns[k]]) for k, v in first.items()}


def _open_at(model, ch, t) -> bool:
    j = model.journeys
    lo, hi = j.open_ptr[ch], j.open_ptr[ch + 1]
    return bool(np.any((j.open_lo_s[lo:hi] <= t) & (t < j.open_hi_s[lo:hi])))


@given(scenario=journey_scenarios(), seed=seeds())
def test_journey_rules(scenario, seed):
    model, workload, roster = prepare(scenario, seed)
    out = simulate(model, workload, roster, engine="kernel")
    j = model.journeys
    assert j is not None and out.followups is not None
    c = _all_contacts(workload, out)
    row = {int(i): r for r, i in enumerate(c["id"])}
    children: dict[int, list[int]] = {}
    for r in range(workload.n_contacts, c["id"].shape[0]):
        children.setdefault(int(c["parent"][r]), []).append(r)

    for r, ident in enumerate(c["id"]):
        fate = Fate(int(c["fate"][r]))
        kids = children.get(int(ident), [])
        # a contact makes one follow-up exactly when its fate says so, of the right kind
        if fate in CHILD_KIND:
            assert len(kids) == 1, (ident, fate, kids)
            assert c["kind"][kids[0]] == CHILD_KIND[fate]
        else:
            assert not kids, (ident, fate)
        # fates are decided only at an end: answered ones at completion, abandoned ones
        outcome = Outcome(int(c["outcome"][r]))
        if fate in (Fate.RETRIED, Fate.GAVE_UP):
            assert outcome == Outcome.ABANDONED
        elif fate == Fate.CALLBACK:
            assert outcome == Outcome.LOST_CLOSED and workload.closed[r] == 2
        elif fate != Fate.NONE:
            assert outcome == Outcome.ANSWERED and c["end_s"][r] < model.horizon_s
        # refunds above the agent's authority are never closed at tier 1, nor above the
        # team lead's at tier 2
        tier = j.queue_tier[c["queue"][r]]
        if fate not in (Fate.NONE, Fate.RETRIED, Fate.GAVE_UP, Fate.CALLBACK):
            if c["auth_tier"][r] >= 2 and tier == 1:
                assert fate == Fate.ESCALATED, (ident, fate)
            if c["auth_tier"][r] == 3 and tier == 2:
                assert fate == Fate.ESCALATED, (ident, fate)

    for r in range(workload.n_contacts, c["id"].shape[0]):
        p = row[int(c["parent"][r])]
        kind = ContactKind(int(c["kind"][r]))
        arrival = c["arrival_s"][r]
        # journeys and their counters are inherited; limits hold
        assert c["journey"][r] == c["journey"][p]
        k = c["ctype"][r]
        assert c["repeats"][r] <= j.max_repeats[k]
        assert c["transfers"][r] <= 1
        assert c["retrials"][r] <= max(int(j.max_retrials.max()), 0)
        # no follow-up arrives before what created it; a task never starts before its
        # parent contact ended
        if kind in (ContactKind.REPEAT, ContactKind.TASK, ContactKind.TRANSFER):
            assert arrival >= c["end_s"][p]
        elif kind == ContactKind.RETRIAL:
            assert arrival >= c["abandon_at_s"][p]
        else:
            assert arrival >= c["arrival_s"][p] and np.isinf(c["abandon_at_s"][r])
        if c["outcome"][r] == Outcome.ANSWERED:
            assert c["start_s"][r] >= arrival
        if kind == ContactKind.TASK:
            assert j.queue_tier[c["queue"][r]] in (2, 3)
        # a live follow-up arrives while its channel is open (or never, +inf)
        ch = model.queue_channel[c["queue"][r]]
        if model.channel_live[ch] and np.isfinite(arrival) and arrival < model.horizon_s:
            assert _open_at(model, ch, arrival), (int(c["id"][r]), arrival)
    assert np.all(c["id"][workload.n_contacts:] >= FOLLOWUP_BASE)
