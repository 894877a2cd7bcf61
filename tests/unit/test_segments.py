"""Pricing tiers as demand segments (sim/segments.py): volume, channels, priority, reload."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

import sim
from sim.compile import compile_scenario
from sim.errors import ScenarioError
from sim.experiment import prepare
from sim.scenario import parse_scenario

BASE = """
name: tiers
horizon: {{start: 2026-01-05, days: 28, interval: 1h}}
channels:
  phone: {{kind: live, patience: {{dist: exponential, mean: 2min}}}}
  email: {{kind: deferred}}
contact_types:
  ask:
    queue: intake
    share: {{phone: 1.0, email: 1.0}}
    handle_time: {{dist: exponential, mean: 6min}}
    fcr: 0.8
    repeat: {{delay: {{dist: exponential, mean: 1d}}, channel: {{phone: 0.5, email: 0.5}}}}
demand: {demand}
teams:
  agents: {{headcount: {agents}, skills: {{intake: 1.0}}, channels: [phone, email]}}
economics:
  pricing:
    basic: {{fee_per_placement: 100, placements_per_month: 300,
            contacts_per_placement: {cpp_basic}, channels: [email]{basic_extra}}}
    premium: {{fee_per_placement: 400, placements_per_month: 100,
              contacts_per_placement: {cpp_premium}, priority: 0}}
"""


def _scenario(demand="{monthly: {phone: 60, email: 40}}", agents=3, basic_extra="",
              cpp_basic=1.0, cpp_premium=4.0):
    return parse_scenario(BASE.format(demand=demand, agents=agents, basic_extra=basic_extra,
                                      cpp_basic=cpp_basic, cpp_premium=cpp_premium),
                          "<tiers>")


def test_tiers_make_the_demand_and_keep_to_their_channels():
    s = _scenario()
    # premium: 100 x 4 = 400 a month, 60/40 on phone/email; basic: 300 x 1 on email only
    assert s.demand.monthly == pytest.approx({"phone": 240.0, "email": 160.0 + 300.0})
    assert set(s.contact_types) == {"ask@basic", "ask@premium"}
    assert s.contact_types["ask@basic"].share == pytest.approx({"email": 300 / 460})
    assert s.contact_types["ask@premium"].share == pytest.approx({"phone": 1.0,
                                                                  "email": 160 / 460})
    # a basic customer's repeat stays on its channels
    assert s.contact_types["ask@basic"].repeat.channel == {"email": 1.0}
    assert s.economics.pricing["basic"].contact_types == ("ask@basic",)
    assert s.queues["intake@premium"].priority == 0
    model, w, _ = prepare(s, 3)
    basic = [q for q, n in enumerate(model.queue_names) if n.endswith("@basic")]
    assert all(model.channel_names[model.queue_channel[q]] == "email" for q in basic)
    assert np.isin(w.queue[w.channel == 0], basic).sum() == 0


def test_the_resolved_scenario_reloads_without_expanding_twice():
    s = _scenario()
    again = parse_scenario(yaml.safe_dump(s.model_dump(mode="json", exclude_none=True),
                                          sort_keys=False), "<resolved>")
    assert set(again.contact_types) == set(s.contact_types)
    assert again.demand.monthly == pytest.approx(s.demand.monthly)
    assert compile_scenario(again).queue_names == compile_scenario(s).queue_names


def test_a_priority_tier_waits_less():
    """Premium (priority 0) and basic share the e-mail agents; with the agents busy (load about
    0.9), premium e-mails are taken first, so they wait less: in every replication, and the
    mean gap is more than 4 standard errors (over replications) from zero."""
    s = _scenario(agents=2, basic_extra=", priority: 1", cpp_basic=20.0, cpp_premium=50.0)
    res = sim.run(s, replications=3, queue_intervals=True)
    i = res.intervals
    email = i[(i.channel == "email") & (i.queue != "all")].copy()
    email["wait"] = email.mean_wait_s * email.offered
    by = email.groupby(["replication", "queue"], observed=True)[["wait", "offered"]].sum()
    mean_wait = (by.wait / by.offered).unstack("queue")
    gap = mean_wait["email/intake@basic"] - mean_wait["email/intake@premium"]
    assert (gap > 0).all() and gap.mean() > 4 * gap.std(ddof=1) / np.sqrt(len(gap))


def test_segment_tiers_need_every_volume_and_monthly_demand():
    with pytest.raises(ScenarioError, match="demand.monthly"):
        _scenario(demand="{daily: {phone: 2, email: 1}}")
    text = BASE.format(demand="{monthly: {phone: 60, email: 40}}", agents=3,
                       basic_extra="", cpp_basic=1.0, cpp_premium=4.0).replace(
        "contacts_per_placement: 1.0,", "")
    with pytest.raises(ScenarioError, match="contacts_per_placement is missing"):
        parse_scenario(text, "<tiers>")
