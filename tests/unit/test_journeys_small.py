"""Journeys on hand-checked timelines, in both engines, and FCR/repeat rates measured.

Deterministic handle times and delays make every event time computable by hand; the fate of
each first contact follows from its ``u_outcome`` and the thresholds of the scenario.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.compile import compile_scenario
from sim.engines import simulate
from sim.experiment import prepare
from sim.model import FOLLOWUP_BASE, ContactKind, Fate, Outcome, Workload
from sim.roster import sample_roster
from sim.scenario import parse_scenario
from sim.workload import WorkloadSampler

SCENARIO = """
name: journeys by hand
horizon: {days: 1}
channels:
  phone: {kind: live}
  email: {kind: deferred}
contact_types:
  billing:
    queue: general
    share: {phone: 1.0}
    handle_time: {dist: deterministic, value: 100}
    fcr: 0.6
    repeat: {delay: {dist: deterministic, value: 600}, channel: email, max_repeats: 1}
    escalation: {rate: 0.1, severity: urgent}
    refund: {probability: 0.01, amount: {dist: deterministic, value: 10}}
demand: {daily: {phone: 10}}
teams:
  agents: {headcount: 2, skills: {general: 1.0}, channels: [phone, email]}
  leads: {tier: 2, headcount: 1}
  managers: {tier: 3, headcount: 1}
escalation:
  tiers:
    2: {team: leads, handle_time: {dist: deterministic, value: 300}}
    3: {team: managers, handle_time: {dist: deterministic, value: 900}}
  refund_authority: {agent: 50, team_lead: 500}
"""


def _setup(u_outcome, auth_tier=(0, 0, 0, 0), arrivals=(0.0, 10.0, 20.0, 30.0)):
    s = parse_scenario(SCENARIO, "<journeys>")
    model = compile_scenario(s)
    ss = np.random.SeedSequence(7)
    pools = WorkloadSampler(s, model, ss).pools
    n = len(arrivals)
    phone_general = model.queue_names.index("phone/general")
    w = Workload(arrival_s=np.array(arrivals), queue=np.full(n, phone_general, np.int32),
                 channel=np.zeros(n, np.int32), ctype=np.zeros(n, np.int32),
                 work_s=np.full(n, 100.0), abandon_at_s=np.full(n, np.inf),
                 u_route=np.full(n, 0.5), closed=np.zeros(n, np.int8),
                 u_outcome=np.array(u_outcome), severity=np.full(n, 1, np.int8),
                 auth_tier=np.array(auth_tier, np.int8), pools=pools)
    return s, model, w, sample_roster(s, model, ss)


@pytest.mark.parametrize("engine", ["simpy", "kernel"])
def test_resolve_repeat_escalate_by_hand(engine):
    # thresholds: escalate below 0.1, (no transfer), not resolved below 0.1 + 0.4 = 0.5
    s, model, w, roster = _setup([0.99, 0.3, 0.05, 0.7])
    out = simulate(model, w, roster, engine=engine)
    f = out.followups
    assert out.fate.tolist() == [Fate.RESOLVED, Fate.REPEAT, Fate.ESCALATED, Fate.RESOLVED]
    # two agents: contact 0 on 0-100, contact 1 on 10-110, contact 2 waits until 100 and is
    # handled 100-200, contact 3 waits until 110: 110-210
    assert out.start_s.tolist() == [0.0, 10.0, 100.0, 110.0]
    # follow-ups in creation order: contact 1's repeat (at its end, 110), then contact 2's
    # task (at 200)
    assert f.kind.tolist() == [ContactKind.REPEAT, ContactKind.TASK]
    assert f.id.tolist() == [FOLLOWUP_BASE, FOLLOWUP_BASE + 1]
    assert f.parent.tolist() == [1, 2] and f.journey.tolist() == [1, 2]
    # the repeat comes back by e-mail 600 s after the end of contact 1
    assert f.arrival_s[0] == 110.0 + 600.0
    assert model.queue_names[f.queue[0]] == "email/general"
    assert f.repeats[0] == 1
    # the urgent task of contact 2 goes to the tier-2 queue for urgent work, 200-500
    assert model.queue_names[f.queue[1]] == "escalation/tier2_urgent"
    assert (f.arrival_s[1], f.start_s[1], f.end_s[1]) == (200.0, 200.0, 500.0)
    assert f.agent[1] == 2  # the only lead (agents 0-1 first line, 2 lead, 3 manager)
    # the repeat is the last try (max_repeats 1): resolved or unresolved by its own draw
    u = w.pools.block(model.journeys.class_repeat[0, 0], 0)["u_outcome"][0]
    want = Fate.ESCALATED if u < 0.1 else Fate.UNRESOLVED if u < 0.5 else Fate.RESOLVED
    assert f.fate[0] == want
    assert f.outcome.tolist()[:2] == [Outcome.ANSWERED, Outcome.ANSWERED]


@pytest.mark.parametrize("engine", ["simpy", "kernel"])
def test_refund_authority_routes_to_the_right_tier(engine):
    # u = 0.99 would resolve: the refunds above the agent's authority escalate instead, to
    # the team lead (auth 2) or straight to a manager (auth 3); auth 0 is resolved
    s, model, w, roster = _setup([0.99, 0.99, 0.99, 0.99], auth_tier=(0, 2, 3, 0))
    out = simulate(model, w, roster, engine=engine)
    f = out.followups
    assert out.fate.tolist() == [Fate.RESOLVED, Fate.ESCALATED, Fate.ESCALATED, Fate.RESOLVED]
    tiers = [model.journeys.queue_tier[q] for q in f.queue]
    assert tiers[:2] == [2, 3]
    # the tier-2 task of an auth-2 refund closes there (tier_up is 0)
    assert f.fate[0] == Fate.RESOLVED and f.fate[1] == Fate.RESOLVED


def test_fcr_and_repeats_are_measured_not_assumed():
    """Resolved at first contact ~ fcr; repeats per journey ~ (1-p) + (1-p)^2.

    A journey with FCR p and at most 2 repeats has 1 repeat with probability (1-p) p and 2
    with (1-p)^2 (every contact answered: ample staff, no patience). Tolerance: 4 standard
    errors of the sample means (binomial and per-journey repeat count), so a wrong rule
    (say repeats drawn once per journey, or the limit ignored) fails while chance fails in
    fewer than 1 in 10,000 runs.
    """
    text = SCENARIO.replace("fcr: 0.6", "fcr: 0.7").replace("max_repeats: 1", "max_repeats: 2")
    text = text.replace("escalation: {rate: 0.1, severity: urgent}", "")
    text = text.replace("daily: {phone: 10}", "daily: {phone: 3000}").replace(
        "headcount: 2,", "headcount: 20,").replace("days: 1", "days: 3")
    s = parse_scenario(text, "<fcr>")
    model, w, roster = prepare(s, 11)
    out = simulate(model, w, roster, engine="kernel")
    decided = out.fate != Fate.NONE
    resolved = out.fate[decided] == Fate.RESOLVED
    p = 0.7
    n = int(decided.sum())
    assert abs(resolved.mean() - p) < 4 * np.sqrt(p * (1 - p) / n)
    f = out.followups
    repeats = np.bincount(f.journey[f.kind == ContactKind.REPEAT], minlength=w.n_contacts)
    early = w.arrival_s < 2 * 86400  # journeys with time to finish inside the horizon
    counts = repeats[early & decided]
    expected = (1 - p) + (1 - p) ** 2
    se = counts.std(ddof=1) / np.sqrt(counts.shape[0])
    assert abs(counts.mean() - expected) < 4 * se
    assert counts.max() <= 2
