"""Pricing tiers as demand segments: each tier's customers, their volume, channels and priority.

When the pricing tiers of ``economics.pricing`` state ``contacts_per_placement``, the tiers
*shape the simulated work*, not only its price: :func:`expand_tiers` rewrites the scenario
(once, when it is loaded) so that

* the monthly demand of each channel is the sum over tiers of ``placements_per_month x
  contacts_per_placement x`` the tier's channel mix (``demand.monthly`` restricted to the
  tier's ``channels`` and renormalised: it gives the mix, the tiers give the volume);
* every contact type becomes one contact type per tier, ``<type>@<tier>``, with its share of
  each channel in proportion to the tier's volume there, on the tier's own skill queue
  ``<queue>@<tier>`` (priority: the tier's ``priority``, else the queue's); a tier's customers
  arrive only on its channels;
* every team skill, overflow rule and transfer target for a queue is repeated for each tier's
  queue, so the same agents serve every tier (the tier's priority decides who goes first);
* repeat contacts stay on the tier's channels (the repeat channel mix is restricted to them
  and renormalised); retrials follow the channel's rule, which is not per tier;
* each tier's ``contact_types`` become its expanded types, so economics reads its work, KPIs
  and SLA credits from its own queues.

The rewritten scenario is a plain scenario (its tiers no longer carry
``contacts_per_placement``): the resolved ``scenario.yaml`` of a run reloads to the same
model without expanding twice. Channel SLA thresholds stay per channel (a tier's SLA is a
contractual target of its own queues, ``economics.pricing.<tier>.targets``).
"""

from __future__ import annotations

from sim.scenario import Queue, Scenario

#: Separator between a contact type or queue and its tier in expanded names.
TIER_SEP = "@"


def uses_segments(s: Scenario) -> bool:
    econ = s.economics
    return econ is not None and any(t.contacts_per_placement is not None
                                    for t in econ.pricing.values())


def tier_volumes(s: Scenario) -> dict[str, dict[str, float]]:
    """Per tier, its contacts per month on each of its channels."""
    mix = s.demand.monthly or {}
    out = {}
    for name, tier in s.economics.pricing.items():
        chans = [c for c in (tier.channels or s.channels) if mix.get(c, 0.0) > 0]
        total = sum(mix[c] for c in chans)
        volume = tier.placements_per_month * tier.contacts_per_placement
        out[name] = {c: volume * mix[c] / total for c in chans} if total > 0 else {}
    return out


def _within(choice, channels) -> str | dict | None:
    """A repeat channel choice kept to the tier's channels (renormalised), or None (the
    channel of the unresolved contact) when none of its channels is the tier's."""
    if isinstance(choice, str):
        return choice if choice in channels else None
    kept = {c: v for c, v in choice.items() if c in channels and v > 0}
    total = sum(kept.values())
    return {c: v / total for c, v in kept.items()} if total > 0 else None


def expand_tiers(s: Scenario) -> Scenario:
    """The scenario with its pricing tiers as demand segments (see the module docstring);
    ``s`` itself when no tier states ``contacts_per_placement``."""
    if not uses_segments(s):
        return s
    econ = s.economics
    tiers = list(econ.pricing)
    vol_t = tier_volumes(s)
    vol = {c: sum(v.get(c, 0.0) for v in vol_t.values()) for c in s.channels}
    monthly = {c: v for c, v in vol.items() if v > 0}

    def key(name: str, tier: str) -> str:
        return f"{name}{TIER_SEP}{tier}"

    contact_types, tier_types = {}, {t: [] for t in tiers}
    for name, ct in s.contact_types.items():
        for t in tiers:
            share = {c: ct.share.get(c, 0.0) * vol_t[t][c] / vol[c]
                     for c in vol_t[t] if ct.share.get(c, 0.0) > 0}
            if not any(v > 0 for v in share.values()):
                continue
            update = {"queue": key(ct.queue, t), "share": share}
            if ct.repeat is not None and ct.repeat.channel is not None:
                update["repeat"] = ct.repeat.model_copy(
                    update={"channel": _within(ct.repeat.channel, vol_t[t])})
            if ct.transfer is not None:
                update["transfer"] = ct.transfer.model_copy(
                    update={"to": key(ct.transfer.to, t)})
            contact_types[key(name, t)] = ct.model_copy(update=update)
            tier_types[t].append(key(name, t))

    queues = {}
    for q in s.queue_names:
        spec = (s.queues or {}).get(q) or Queue(priority=s.queue_priority(q))
        for t in tiers:
            prio = econ.pricing[t].priority
            queues[key(q, t)] = spec if prio is None else spec.model_copy(
                update={"priority": prio})
    teams = {}
    for name, team in s.teams.items():
        skills = {key(q, t): skill for q, skill in team.skills.items() for t in tiers}
        teams[name] = team.model_copy(update={"skills": skills})
    routing = s.routing
    if routing.overflow:
        rules = tuple(rule.model_copy(update={"queue": key(rule.queue, t)})
                      for rule in routing.overflow for t in tiers)
        routing = routing.model_copy(update={"overflow": rules})
    pricing = {t: tier.model_copy(update={"contact_types": tuple(tier_types[t]),
                                          "queues": None, "contacts_per_placement": None})
               for t, tier in econ.pricing.items()}
    demand = s.demand.model_copy(update={"monthly": monthly})
    out = s.model_copy(update={
        "contact_types": contact_types, "queues": queues, "teams": teams,
        "routing": routing, "demand": demand,
        "economics": econ.model_copy(update={"pricing": pricing})})
    return out
