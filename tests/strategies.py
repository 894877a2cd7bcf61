"""Hypothesis strategies: small scenarios that are valid by construction.

Every feature of the model can be switched on or off: several channels (live and deferred),
chat concurrency and slowdown, patience, opening hours with lost calls or voicemail,
multi-skill teams with proficiency and speed, shifts, breaks, lunch, meetings, absence, and
every routing policy: arrival and pull policies (with channels without an SLA threshold and
queue weights), the reservation of agents for live work, overflow rules to extra teams; and
customer journeys: first-contact resolution with repeats (on the same or other channels),
escalations to tier-2/3 teams with severities, refunds by authority, transfers, retrials
after abandonment and callbacks at the opening; and channel outages (random and scheduled).
Sizes are small (a day or two, a few hundred contacts) so the SimPy engine stays quick.
"""

from __future__ import annotations

import numpy as np
import yaml
from hypothesis import strategies as st

from sim.experiment import prepare
from sim.scenario import parse_scenario

ARRIVAL_POLICIES = ("longest_idle", "skill_priority", "most_proficient", "random")
PULL_POLICIES = ("queue_priority", "oldest", "sla_urgency", "weighted_wait")


def seeds():
    return st.integers(min_value=0, max_value=2**32 - 1)


@st.composite
def _distribution(draw, lo_s=30.0, hi_s=900.0):
    mean = draw(st.floats(lo_s, hi_s))
    kind = draw(st.sampled_from(["exponential", "lognormal", "deterministic", "uniform",
                                 "erlang"]))
    if kind == "exponential":
        return {"dist": "exponential", "mean": mean}
    if kind == "lognormal":
        return {"dist": "lognormal", "mean": mean, "cv": draw(st.floats(0.2, 1.5))}
    if kind == "erlang":
        return {"dist": "erlang", "mean": mean, "k": draw(st.integers(1, 4))}
    if kind == "uniform":
        return {"dist": "uniform", "low": mean / 2, "high": mean * 1.5}
    return {"dist": "deterministic", "value": mean}


@st.composite
def scenario_dicts(draw, max_channels=3, max_skills=3, max_teams=3, journeys=None):
    n_ch = draw(st.integers(1, max_channels))
    kinds = ["live"] + [draw(st.sampled_from(["live", "deferred"])) for _ in range(n_ch - 1)]
    names = [f"c{i}" for i in range(n_ch)]
    deferred = [n for n, k in zip(names, kinds, strict=True) if k == "deferred"]
    channels = {}
    for name, kind in zip(names, kinds, strict=True):
        ch = {"kind": kind}
        if draw(st.integers(0, 3)):  # sometimes no SLA (sla_urgency: such heads come last)
            ch["sla"] = {"threshold": draw(st.sampled_from([20, 60, 3600]))}
        if kind == "live":
            ch["concurrency"] = draw(st.sampled_from([1, 1, 2, 3]))
            if ch["concurrency"] > 1 and draw(st.booleans()):
                ch["slowdown"] = draw(st.floats(0.0, 0.5))
            if draw(st.booleans()):
                ch["patience"] = _plain(draw(_distribution(10.0, 400.0)))
            if draw(st.integers(0, 4)) == 0:  # outages: contacts arriving in one are lost
                ch["outages"] = {"availability": draw(st.sampled_from([0.9, 0.99])),
                                 "mean_duration": draw(st.sampled_from([600, 3600]))}
                if draw(st.booleans()):
                    ch["outages"]["scheduled"] = {"mon-sun": "12:00-12:30"}
            if draw(st.integers(0, 3)) == 0:
                o = draw(st.integers(0, 10))
                ch["hours"] = {"mon-sun": f"{o:02d}:00-{o + draw(st.integers(4, 13)):02d}:30"}
                if deferred and draw(st.booleans()):
                    ch["when_closed"] = "voicemail"
                    ch["voicemail_to"] = draw(st.sampled_from(deferred))
        channels[name] = ch
    n_sk = draw(st.integers(1, max_skills))
    skills = [f"q{i}" for i in range(n_sk)]
    queues = {s: {"priority": draw(st.integers(0, 2))} for s in skills}
    for q in queues.values():
        if draw(st.booleans()):  # weighted_wait; 0.1 and 3.0 make inexact products
            q["weight"] = draw(st.sampled_from([0.1, 0.5, 1.0, 2.0, 3.0]))
    contact_types = {}
    shares = {}
    for name in names:
        w = [draw(st.integers(1, 5)) for _ in skills]
        shares[name] = [x / sum(w) for x in w]
    for i, s in enumerate(skills):
        ct = {"queue": s, "share": {n: shares[n][i] for n in names},
              "handle_time": _plain(draw(_distribution()))}
        if draw(st.integers(0, 3)) == 0:
            ct["wrap_up"] = {"dist": "deterministic", "value": draw(st.floats(1, 60))}
        contact_types[f"t{i}"] = ct
    demand = {"daily": {n: draw(st.integers(10, 250)) for n in names}}
    if draw(st.booleans()):
        demand["intraday"] = {"default": [draw(st.integers(0, 5)) + (h == 12) for h in
                                          range(24)]}
    n_teams = draw(st.integers(1, max_teams))
    teams = {}
    for t in range(n_teams):
        if t == 0:  # team 0 serves everything, so every queue has someone
            team_skills, team_channels = skills, names
        else:
            team_skills = draw(st.lists(st.sampled_from(skills), min_size=1, unique=True))
            team_channels = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
        team = {
            "skills": {s: {"proficiency": draw(st.sampled_from([0.5, 1.0, 1.25])),
                           "priority": draw(st.integers(1, 3))} for s in team_skills},
            "channels": list(team_channels),
            "speed": draw(st.sampled_from([0.8, 1.0, 1.2])),
            "tier": 1,
        }
        if draw(st.booleans()):
            team["headcount"] = draw(st.integers(1, 4))
        else:
            team["shifts"] = [
                {"start": f"{draw(st.integers(0, 20)):02d}:{draw(st.sampled_from([0, 30])):02d}",
                 "length": draw(st.sampled_from([14400, 28800, 30600, 36000])),
                 "days": "daily", "agents": draw(st.integers(1, 3))}
                for _ in range(draw(st.integers(1, 2)))]
        teams[f"team{t}"] = team
    shrinkage = {}
    if draw(st.booleans()):
        shrinkage["breaks"] = [{"after": 3600, "length": 900, "jitter": draw(st.sampled_from(
            [0, 1800]))}]
        if draw(st.booleans()):
            shrinkage["lunch"] = {"after": 10800, "length": 1800, "jitter": 1800}
        if draw(st.booleans()):
            shrinkage["meetings"] = {"length": 1800, "per_week": draw(st.sampled_from([1, 3]))}
        shrinkage["absence"] = draw(st.sampled_from([0.0, 0.1, 0.3]))
    routing = {"on_arrival": draw(st.sampled_from(ARRIVAL_POLICIES)),
               "on_free": draw(st.sampled_from(PULL_POLICIES))}
    if draw(st.booleans()):
        routing["reserve_for_live"] = draw(st.integers(0, 3))
    if draw(st.booleans()):
        if len(skills) > 1 and draw(st.booleans()):  # a one-skill team to overflow to
            teams["spare"] = {"skills": {skills[0]: 1.0}, "channels": list(names),
                              "headcount": draw(st.integers(1, 2))}
        rules = []
        for q in skills:
            extra = [t for t, team in teams.items() if q not in team["skills"]]
            if extra and draw(st.integers(0, 3)):
                rules.append({"queue": q, "after": draw(st.sampled_from([0, 20, 60, 300, 1800])),
                              "teams": draw(st.lists(st.sampled_from(extra), min_size=1,
                                                     unique=True)),
                              **({"proficiency": 0.8} if draw(st.booleans()) else {})})
        if rules:
            routing["overflow"] = rules
    escalation = _journeys(draw, names, kinds, skills, channels, contact_types, teams,
                           journeys)
    return {
        **({"escalation": escalation} if escalation else {}),
        "name": "generated",
        "horizon": {"start": "2026-01-05", "days": draw(st.integers(1, 2)),
                    "interval": draw(st.sampled_from([900, 1800, 3600]))},
        "channels": channels,
        "queues": queues,
        "contact_types": contact_types,
        "demand": demand,
        "teams": teams,
        "shrinkage": shrinkage,
        "routing": routing,
    }


def _journeys(draw, names, kinds, skills, channels, contact_types, teams, force=None
              ) -> dict | None:
    """Sometimes switch journeys on: first-contact resolution, repeats (same channel, another
    one or a mix), escalations with severities, refunds, transfers, retrials and callbacks;
    adds the tier teams and returns the ``escalation`` section (None when not needed)."""
    if force is False or (force is None and not draw(st.booleans())):
        return None
    tiers: set[int] = set()
    refunds = False
    for ct in contact_types.values():
        if draw(st.booleans()):
            ct["fcr"] = draw(st.sampled_from([0.5, 0.8, 0.95]))
            if draw(st.integers(0, 3)):
                repeat = {"delay": _plain(draw(_distribution(60.0, 7200.0))),
                          "max_repeats": draw(st.integers(0, 3))}
                pick = draw(st.integers(0, 2))
                if pick == 1:
                    repeat["channel"] = draw(st.sampled_from(names))
                elif pick == 2 and len(names) > 1:
                    repeat["channel"] = {names[0]: 0.5, names[1]: 0.5}
                ct["repeat"] = repeat
        if draw(st.integers(0, 2)) == 0:
            to_tier = draw(st.sampled_from([2, 3, "by_severity"]))
            sev = draw(st.sampled_from(["routine", "critical", "mix"]))
            if to_tier == "by_severity":
                to_tier = {"critical": 3}
                tiers |= {2, 3} if sev == "mix" else {3} if sev == "critical" else {2}
            else:
                tiers.add(to_tier)
            ct["escalation"] = {"rate": draw(st.sampled_from([0.05, 0.2])), "to_tier": to_tier,
                                "severity": ({"routine": 0.6, "urgent": 0.3, "critical": 0.1}
                                             if sev == "mix" else sev)}
        if draw(st.integers(0, 3)) == 0:
            refunds = True
            ct["refund"] = {"probability": 0.3,
                            "amount": {"dist": "uniform", "low": 10.0, "high": 900.0}}
        others = [q for q in skills if q != ct["queue"]]
        if others and draw(st.integers(0, 2)) == 0:
            ct["transfer"] = {"to": draw(st.sampled_from(others)),
                              "probability": draw(st.sampled_from([0.1, 0.3]))}
    for name, kind in zip(names, kinds, strict=True):
        ch = channels[name]
        if kind == "live" and draw(st.integers(0, 2)) == 0:
            retrial = {"probability": draw(st.sampled_from([0.3, 0.8, 1.0])),
                       "delay": _plain(draw(_distribution(10.0, 1800.0))),
                       "max_retrials": draw(st.integers(0, 3))}
            if draw(st.booleans()):
                retrial["channel"] = draw(st.sampled_from(names))
            ch["retrial"] = retrial
        if kind == "live" and draw(st.integers(0, 2)) == 0:
            if "hours" not in ch:
                o = draw(st.integers(0, 10))
                ch["hours"] = {"mon-sun": f"{o:02d}:00-{o + draw(st.integers(4, 13)):02d}:30"}
            ch.pop("voicemail_to", None)
            ch["when_closed"] = "callback"
    if force and not any(k in ct for ct in contact_types.values()
                         for k in ("fcr", "escalation", "refund", "transfer")) \
            and not any("retrial" in ch or ch.get("when_closed") == "callback"
                        for ch in channels.values()):
        next(iter(contact_types.values()))["fcr"] = 0.8  # journeys asked for: at least one
    if refunds:
        tiers |= {2, 3}
    escalation: dict = {}
    for tier in sorted(tiers):
        team = {"tier": tier, "speed": draw(st.sampled_from([0.8, 1.0]))}
        if draw(st.booleans()):
            team["headcount"] = draw(st.integers(1, 2))
        else:
            team["shifts"] = [{"start": f"{draw(st.integers(0, 12)):02d}:00",
                               "length": 36000, "days": "daily", "agents": 1}]
        if draw(st.booleans()):  # a lead who also takes first-line work
            team["skills"] = {skills[0]: 1.0}
            team["channels"] = [names[0]]
        teams[f"tier{tier}"] = team
        spec = {"team": f"tier{tier}", "handle_time": _plain(draw(_distribution(300.0, 3600.0)))}
        if tier == 2 and draw(st.booleans()):
            spec["escalate"] = draw(st.sampled_from([0.1, 0.5]))
        escalation.setdefault("tiers", {})[tier] = spec
    if 2 in tiers and escalation["tiers"][2].get("escalate") and 3 not in tiers:
        del escalation["tiers"][2]["escalate"]
    if refunds:
        escalation["refund_authority"] = {"agent": 50, "team_lead": 500}
    return escalation or None


def _plain(d):
    return {k: (float(v) if isinstance(v, float) else v) for k, v in d.items()}


@st.composite
def small_scenarios(draw, **kw):
    """A validated :class:`~sim.scenario.Scenario` (through the YAML path, cross-checks too)."""
    data = draw(scenario_dicts(**kw))
    return parse_scenario(yaml.safe_dump(data), "<generated>")


def outcome_arrays(o):
    return {k: getattr(o, k) for k in ("outcome", "agent", "start_s", "end_s", "release_s",
                                       "fate")}


def first_difference(a, b, workload) -> str | None:
    """A readable description of the first contact (or segment) where two outcomes differ."""
    for key in ("outcome", "agent", "start_s", "end_s"):
        x, y = getattr(a, key), getattr(b, key)
        same = (x == y) | (np.isnan(x) & np.isnan(y)) if x.dtype.kind == "f" else x == y
        if not same.all():
            c = int(np.flatnonzero(~same)[0])
            rows = {k: (getattr(a, k)[c], getattr(b, k)[c]) for k in
                    ("outcome", "agent", "start_s", "end_s")}
            return (f"contact {c} (arrival {workload.arrival_s[c]!r}, queue "
                    f"{workload.queue[c]}) differs in {key}: {rows}")
    x, y = a.release_s, b.release_s
    same = (x == y) | (np.isnan(x) & np.isnan(y))
    if not same.all():
        s = int(np.flatnonzero(~same)[0])
        return f"segment {s} differs in release_s: {x[s]!r} vs {y[s]!r}"
    if not np.array_equal(a.fate, b.fate):
        c = int(np.flatnonzero(a.fate != b.fate)[0])
        return f"contact {c} differs in fate: {a.fate[c]} vs {b.fate[c]}"
    fa, fb = a.followups, b.followups
    if (fa is None) != (fb is None):
        return "one engine made follow-ups, the other did not"
    if fa is not None:
        if fa.n != fb.n:
            n = min(fa.n, fb.n)
            where = next((i for i in range(n) if any(
                not np.array_equal(fa.columns[k][i:i + 1], fb.columns[k][i:i + 1],
                                   equal_nan=True) for k in fa.columns)), n)
            return f"{fa.n} vs {fb.n} follow-ups; first difference at follow-up {where}"
        for k in fa.columns:
            if not np.array_equal(fa.columns[k], fb.columns[k], equal_nan=True):
                i = int(np.flatnonzero(~((fa.columns[k] == fb.columns[k]) | (
                    (fa.columns[k] != fa.columns[k]) & (fb.columns[k] != fb.columns[k]))))[0])
                return (f"follow-up {i} (id {fa.id[i]}, kind {fa.kind[i]}) differs in {k}: "
                        f"{fa.columns[k][i]!r} vs {fb.columns[k][i]!r}")
    return None


__all__ = ["first_difference", "outcome_arrays", "prepare", "scenario_dicts", "seeds",
           "small_scenarios"]
