"""Analytic staffing: minimal agents per target, blended workload, FTE, requirements, verbs.

Minimality is checked the way planners would: the staffing found meets every target and one
agent fewer misses at least one of them (or is below the least allowed staffing: an Erlang C
queue must be stable, ``c > a``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.erlang import (
    StaffingTargets,
    _smallest,
    agents_for_abandon_rate,
    agents_for_asa,
    agents_for_occupancy,
    agents_for_service_level,
    blended_workload,
    erlang_a_staffing,
    erlang_c_measures,
    erlang_c_staffing,
    fte_from_agent_hours,
    fte_from_agents,
    queue_measures,
    required_agents,
)
from sim.scenario import load_scenario
from sim.staffing import (
    interval_requirements,
    parse_fraction,
    parse_service_target,
    profile_requirements,
    requirement_fte,
    staffed_on_duty,
)

ROOT = Path(__file__).resolve().parents[2]
CARECONNECT = ROOT / "scenarios" / "careconnect.yaml"
CLINICAL = ROOT / "scenarios" / "clinical_exchange.yaml"
MMC = ROOT / "scenarios" / "textbook" / "mmc_medium.yaml"

# (calls per hour, AHT s): loads from 0.1 to 2,000 Erlangs
LOADS = [(6, 60), (60, 300), (60, 330), (200, 240), (1500, 300), (24000, 300)]
PATIENCE_S = [None, 30.0, 180.0]


def assert_minimal(c, lam, aht_s, targets, patience_mean_s=None):
    """``c`` meets every target; ``c - 1`` misses one or is below the least allowed."""
    t = targets.threshold_s if targets.threshold_s is not None else 0.0
    assert targets.missed(queue_measures(c, lam, aht_s, t, patience_mean_s)) == ()
    lowest = 1 if patience_mean_s is not None else math.floor(lam * aht_s) + 1
    if c - 1 >= lowest:
        assert targets.missed(queue_measures(c - 1, lam, aht_s, t, patience_mean_s)) != ()
    else:
        assert c == lowest


# ------------------------------------------------------------------------------ minimality


@pytest.mark.parametrize("per_h, aht_s", LOADS)
@pytest.mark.parametrize("patience_mean_s", PATIENCE_S)
@pytest.mark.parametrize("target", [0.5, 0.8, 0.95])
def test_service_level_staffing_is_minimal(per_h, aht_s, patience_mean_s, target):
    lam = per_h / 3600
    c = agents_for_service_level(lam, aht_s, 20.0, target, patience_mean_s)
    assert_minimal(c, lam, aht_s, StaffingTargets(service_level=target, threshold_s=20.0),
                   patience_mean_s)


@pytest.mark.parametrize("per_h, aht_s", LOADS)
@pytest.mark.parametrize("patience_mean_s", PATIENCE_S)
@pytest.mark.parametrize("max_asa_s", [5.0, 20.0, 60.0])
def test_asa_staffing_is_minimal(per_h, aht_s, patience_mean_s, max_asa_s):
    lam = per_h / 3600
    c = agents_for_asa(lam, aht_s, max_asa_s, patience_mean_s)
    assert_minimal(c, lam, aht_s, StaffingTargets(max_asa_s=max_asa_s), patience_mean_s)


@pytest.mark.parametrize("per_h, aht_s", LOADS)
@pytest.mark.parametrize("patience_mean_s", [30.0, 180.0, 600.0])
@pytest.mark.parametrize("max_abandon", [0.01, 0.05, 0.2])
def test_abandonment_staffing_is_minimal(per_h, aht_s, patience_mean_s, max_abandon):
    lam = per_h / 3600
    c = agents_for_abandon_rate(lam, aht_s, patience_mean_s, max_abandon)
    assert_minimal(c, lam, aht_s, StaffingTargets(max_abandon_rate=max_abandon),
                   patience_mean_s)


@pytest.mark.parametrize("per_h, aht_s", LOADS)
@pytest.mark.parametrize("patience_mean_s", PATIENCE_S)
def test_occupancy_ceiling_is_minimal(per_h, aht_s, patience_mean_s):
    lam = per_h / 3600
    c = agents_for_occupancy(lam, aht_s, 0.85, patience_mean_s)
    assert_minimal(c, lam, aht_s, StaffingTargets(max_occupancy=0.85), patience_mean_s)
    if patience_mean_s is None:  # Erlang C occupancy is a / c
        a = lam * aht_s
        assert c == max(math.ceil(a / 0.85 - 1e-12), math.floor(a) + 1)


@pytest.mark.parametrize("per_h, aht_s", LOADS)
@pytest.mark.parametrize("patience_mean_s", [None, 180.0])
def test_all_targets_together_is_the_largest_single_minimum(per_h, aht_s, patience_mean_s):
    lam = per_h / 3600
    targets = StaffingTargets(service_level=0.8, threshold_s=20.0, max_asa_s=15.0,
                              max_occupancy=0.9,
                              max_abandon_rate=0.03 if patience_mean_s else None)
    c = required_agents(lam, aht_s, targets, patience_mean_s)
    assert_minimal(c, lam, aht_s, targets, patience_mean_s)
    singles = [agents_for_service_level(lam, aht_s, 20.0, 0.8, patience_mean_s),
               agents_for_asa(lam, aht_s, 15.0, patience_mean_s),
               agents_for_occupancy(lam, aht_s, 0.9, patience_mean_s)]
    if patience_mean_s:
        singles.append(agents_for_abandon_rate(lam, aht_s, patience_mean_s, 0.03))
    assert c == max(singles)


@pytest.mark.parametrize("per_h, aht_s", LOADS)
@pytest.mark.parametrize("target", [0.0, 0.5, 0.8, 0.99])
def test_erlang_c_service_level_staffing_matches_the_incremental_search(per_h, aht_s, target):
    lam = per_h / 3600
    assert agents_for_service_level(lam, aht_s, 20.0, target) == \
        erlang_c_staffing(lam, aht_s, 20.0, target)


@pytest.mark.parametrize("per_h, aht_s", LOADS)
def test_erlang_a_needs_no_more_agents_than_erlang_c(per_h, aht_s):
    lam = per_h / 3600
    assert erlang_a_staffing(lam, aht_s, 180.0, 20.0, 0.8) <= \
        erlang_c_staffing(lam, aht_s, 20.0, 0.8)


def test_published_example_60_calls_an_hour_5_minutes():
    # a = 60/h x 5 min = 5 Erlangs. By hand (textbook sums): C(8, 5) = 0.16727, so
    # SL = 1 - C exp(-(8 - 5) 20 / 300) = 0.86305 and ASA = C 300 / 3 = 16.73 s;
    # C(7, 5) = 0.32415, SL = 1 - C exp(-2 x 20 / 300) = 0.71631, ASA = C 300 / 2 = 48.62 s.
    # So 8 agents is the minimum for 80/20 (and for ASA <= 20 s), as calculators show.
    lam = 60 / 3600
    assert agents_for_service_level(lam, 300, 20, 0.8) == 8
    assert agents_for_asa(lam, 300, 20) == 8
    m8, m7 = erlang_c_measures(8, lam, 300, 20), erlang_c_measures(7, lam, 300, 20)
    assert m8.p_wait == pytest.approx(0.16727, abs=1e-5)
    assert m8.service_level == pytest.approx(0.86305, abs=1e-5)
    assert m8.asa_s == pytest.approx(16.73, abs=0.01)
    assert m7.service_level == pytest.approx(0.71631, abs=1e-5)
    assert m7.asa_s == pytest.approx(48.62, abs=0.01)


def test_the_service_level_definition_matters_in_erlang_a():
    # Answered within / answered is higher than answered within / offered, so it needs fewer.
    lam, aht_s, pat = 300 / 3600, 300.0, 60.0
    offered = agents_for_service_level(lam, aht_s, 20, 0.8, pat, "service_level")
    answered = agents_for_service_level(lam, aht_s, 20, 0.8, pat, "service_level_answered")
    assert answered <= offered


def test_unstable_erlang_c_is_a_limit_not_an_error():
    m = queue_measures(5, 60 / 3600, 300, 20)  # a = 5 = c
    assert m.p_wait == 1 and m.occupancy == 1 and math.isinf(m.asa_s)
    assert m.service_level == 0 and m.abandon_rate == 0


@pytest.mark.parametrize("kwargs, message", [
    (dict(targets=StaffingTargets()), "at least one target"),
    (dict(targets=StaffingTargets(max_abandon_rate=0.05)), "needs a mean patience"),
])
def test_required_agents_rejects(kwargs, message):
    with pytest.raises(ValueError, match=message):
        required_agents(60 / 3600, 300, **kwargs)


def test_the_search_stops_at_its_cap():
    with pytest.raises(ValueError, match="not reachable with up to 100 agents"):
        _smallest(lambda c: False, 1, 5, 100)
    assert _smallest(lambda c: c >= 100, 1, 5, 100) == 100
    assert _smallest(lambda c: c >= 37, 1, 500, 1000) == 37
    assert _smallest(lambda c: True, 3, 50, 1000) == 3


@pytest.mark.parametrize("kwargs", [
    dict(service_level=1.0, threshold_s=20), dict(service_level=0.8),
    dict(max_abandon_rate=0.0), dict(max_occupancy=1.5), dict(max_asa_s=0.0),
    dict(service_level=0.8, threshold_s=20, service_level_kpi="sl"),
])
def test_staffing_targets_validate(kwargs):
    with pytest.raises(ValueError):
        StaffingTargets(**kwargs)


# ------------------------------------------------------------------------------ workload, FTE


def test_blended_workload_uses_the_careconnect_conversion():
    # 60 calls + 0.6 x 20 chats + 0.4 x 10 emails = 60 + 12 + 4 = 76 call equivalents
    assert blended_workload(60, 20, 10) == pytest.approx(76.0)
    assert blended_workload(60) == 60.0
    assert blended_workload(0, 10, 0, chat_equiv=1.0) == 10.0
    np.testing.assert_allclose(blended_workload(np.array([1.0, 2.0]), np.array([10, 0]),
                                                np.array([0, 5])), [7.0, 4.0])
    with pytest.raises(ValueError):
        blended_workload(-1, 0, 0)
    with pytest.raises(ValueError):
        blended_workload(1, 1, 1, chat_equiv=-0.1)


def test_fte_arithmetic():
    # 8 agents around the clock: 8 x 168 h = 1,344 h/week; one FTE gives 40 x (1 - 0.3) = 28 h
    assert fte_from_agents(8, 168, 40, 0.3) == pytest.approx(48.0)
    # 5 agents for a 60 h week (08-20 Mon-Fri), no shrinkage: 300 / 40 = 7.5
    assert fte_from_agents(5, 60, 40) == pytest.approx(7.5)
    assert fte_from_agent_hours(924, 40, 0.25) == pytest.approx(30.8)
    np.testing.assert_allclose(fte_from_agents(np.array([1, 2]), 168, 42, 0.0), [4.0, 8.0])
    for bad in (dict(shrinkage=1.0), dict(shrinkage=-0.1), dict(paid_hours_per_fte_week=0)):
        with pytest.raises(ValueError):
            fte_from_agents(1, 168, **bad)
    with pytest.raises(ValueError):
        fte_from_agents(1, 169)


def test_parsers():
    assert parse_fraction("30%", "x") == pytest.approx(0.3)
    assert parse_fraction("0.3", "x") == pytest.approx(0.3)
    assert parse_fraction("30", "x") == pytest.approx(0.3)
    assert parse_service_target("80/20s") == (pytest.approx(0.8), 20.0)
    assert parse_service_target("0.9/1min") == (pytest.approx(0.9), 60.0)
    for bad in ("80", "100/20s", "80/20x", "a/20s"):
        with pytest.raises(ValueError):
            parse_service_target(bad)


# ------------------------------------------------------------------------------ requirements


def test_profile_requirements_per_interval():
    targets = StaffingTargets(max_asa_s=20.0)
    req = profile_requirements([0.0, 60.0, 60.0, 12.0], 3600.0, 300.0, targets)
    assert list(req["agents"]) == [0, agents_for_asa(60 / 3600, 300, 20),
                                   agents_for_asa(60 / 3600, 300, 20),
                                   agents_for_asa(12 / 3600, 300, 20)]
    assert np.isnan(req["asa_s"][0]) and req["asa_s"][1] <= 20.0
    assert req["load_erlangs"][1] == pytest.approx(5.0)
    # two chats at once per agent: servers = 2 x agents
    chat = profile_requirements([60.0], 3600.0, 300.0, targets, servers_per_agent=2)
    assert chat["agents"][0] == math.ceil(agents_for_asa(60 / 3600, 300, 20) / 2)


def test_interval_requirements_careconnect():
    s = load_scenario(CARECONNECT)
    req = interval_requirements(s)
    assert set(req.channel) == {"phone", "chat"}  # the live channels
    phone = req[req.channel == "phone"]
    assert len(phone) == 28 * 48
    # expected calls: 1,000 a day, weekday factors average 1 over the week -> 28,000
    assert phone["offered"].sum() == pytest.approx(28000.0)
    # AHT: shares .45/.25/.20/.10 of (5 + 0.5), (6 + 0.5), (13 + 1), (4 + 1/3) min
    aht_min = 0.45 * 5.5 + 0.25 * 6.5 + 0.20 * 14.0 + 0.10 * (4 + 1 / 3)
    assert phone["aht_s"].iloc[0] == pytest.approx(aht_min * 60)
    assert set(phone["queueing"]) == {"erlang_a"}  # the phone has patience
    shrink = req.attrs["shrinkage"]
    np.testing.assert_allclose(req["scheduled_agents"], req["agents"] / (1 - shrink))
    # every interval is minimal for the phone's targets (SLA 80/20, ASA <= 20 s, abandon <= 5%)
    targets = StaffingTargets(service_level=0.8, threshold_s=20.0, max_asa_s=20.0,
                              max_abandon_rate=0.05)
    for row in phone.iloc[::97].itertuples():
        assert_minimal(row.agents, row.offered / 1800, row.aht_s, targets, 180.0)
    by_queue = interval_requirements(s, by="queue")
    assert set(by_queue[by_queue.channel == "phone"].queue) == {
        "clinical_triage", "scheduling", "billing", "general"}
    # separate pools never need fewer agents than the pooled channel
    pooled = phone.set_index("interval")["agents"]
    split = by_queue[by_queue.channel == "phone"].groupby("interval")["agents"].sum()
    assert (split >= pooled).all()


def test_interval_requirements_respect_opening_hours():
    s = load_scenario(CLINICAL)
    req = interval_requirements(s, queueing="erlang_c")
    hours = req["start"].dt.hour
    weekend = req["start"].dt.day_of_week >= 5
    closed = weekend | (hours < 8) | (hours >= 20)
    assert (req.loc[closed, "offered"] == 0).all() and (req.loc[closed, "agents"] == 0).all()
    assert (req.loc[~closed, "agents"] >= 1).all()
    assert set(req["queueing"]) == {"erlang_c"}


def test_requirement_fte_sums_agent_hours():
    s = load_scenario(MMC)  # 2,880 calls a day, 4 min, SLA 80/20, 8 days, no shrinkage
    req = interval_requirements(s)
    c = agents_for_service_level(2880 / 86400, 240, 20, 0.8)
    assert (req["agents"] == c).all()
    fte = requirement_fte(req, 40.0)
    phone = fte[fte.channel == "phone"].iloc[0]
    assert phone.agent_hours_per_week == pytest.approx(c * 168)
    assert phone.fte == pytest.approx(c * 168 / 40)
    assert fte.iloc[-1].channel == "all"


def test_staffed_on_duty_counts_agents():
    s = load_scenario(MMC)  # a fixed headcount of 10 always on duty, no shrinkage
    duty = staffed_on_duty(s)
    assert len(duty) == 8 * 24
    np.testing.assert_allclose(duty["on_shift"], 10.0)
    np.testing.assert_allclose(duty["available"], 10.0)
    cc = staffed_on_duty(load_scenario(CARECONNECT))
    assert (cc["available"] <= cc["on_shift"] + 1e-9).all()


# ------------------------------------------------------------------------------ verbs


def test_cli_erlang_prints_the_calculator(capsys):
    code = main(["erlang", "--calls-per-hour", "60", "--aht", "5min", "--target", "80/20s",
                 "--shrinkage", "0.3"])
    out = capsys.readouterr().out
    assert code == 0
    assert "5.00 Erlangs" in out and "minimal agents  8" in out
    assert "misses service level" in out  # the row of 7 agents
    assert "= 48.0 FTE" in out  # 8 x 168 / (40 x 0.7)


def test_cli_erlang_erlang_a_blended(capsys):
    code = main(["erlang", "--calls-per-hour", "60", "--chats-per-hour", "20",
                 "--emails-per-hour", "10", "--aht", "5min", "--target", "80/20s",
                 "--abandon", "5%", "--patience", "3min", "--hours-per-week", "60"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Erlang A" in out and "76 call equivalents/h" in out and "6.33 Erlangs" in out
    c = required_agents(76 / 3600, 300, StaffingTargets(
        service_level=0.8, threshold_s=20, max_abandon_rate=0.05), 180.0)
    assert f"minimal agents  {c}" in out
    assert f"{c * 60 / 40:.1f} FTE" in out


def test_cli_erlang_profile(capsys):
    code = main(["erlang", "--calls-per-day", "240", "--profile", "1,1,1,1,1,1,1,1,1,1,1,1,"
                 "1,1,1,1,1,1,1,1,1,1,1,1", "--aht", "5min", "--asa", "20s"])
    out = capsys.readouterr().out
    assert code == 0
    c = agents_for_asa(10 / 3600, 300, 20)
    assert f"{24 * c:g} h/day on the floor" in out


@pytest.mark.parametrize("argv", [
    ["--calls-per-hour", "60", "--aht", "5min"],  # no target
    ["--calls-per-hour", "60", "--aht", "5 minutes please", "--asa", "20s"],
    ["--calls-per-hour", "-3", "--aht", "5min", "--asa", "20s"],
    ["--calls-per-hour", "60", "--aht", "5min", "--target", "80"],
    ["--calls-per-hour", "60", "--aht", "5min", "--abandon", "5%"],  # no patience
    ["--calls-per-hour", "60", "--aht", "5min", "--asa", "20s", "--shrinkage", "100%"],
    ["--calls-per-hour", "60", "--aht", "5min", "--asa", "20s", "--hours-per-week", "200"],
    ["--calls-per-day", "60", "--aht", "5min", "--asa", "20s"],  # no profile
    ["--aht", "5min", "--asa", "20s"],  # no volume
    ["--calls-per-hour", "0", "--aht", "5min", "--asa", "20s"],
    ["--calls-per-hour", "60", "--asa", "20s"],  # no AHT
])
def test_cli_erlang_bad_input_is_one_line_exit_2(argv, capsys):
    assert main(["erlang", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ccsim erlang: ") and "\n" not in err


def test_cli_staff(tmp_path, capsys):
    csv = tmp_path / "req.csv"
    code = main(["staff", str(CARECONNECT), "--date", "2026-01-07", "--csv", str(csv)])
    out = capsys.readouterr().out
    assert code == 0
    assert "2026-01-07 (Wed" in out
    assert "`ccsim staff --simulate` corrects it by simulation" in out
    assert csv.exists() and "available" in csv.read_text().splitlines()[0]


@pytest.mark.parametrize("argv", [
    ["--date", "2025-01-01"], ["--date", "soon"], ["--by", "team"], ["--queueing", "mmc"],
])
def test_cli_staff_bad_input(argv, capsys):
    assert main(["staff", str(CARECONNECT), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ccsim staff: ") and "\n" not in err


def test_cli_staff_invalid_scenario(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(MMC.read_text().replace("kind: live", "kind: alive"))
    assert main(["staff", str(bad)]) == 2
