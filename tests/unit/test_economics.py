"""Economics (sim/economics.py): identities as properties, a case checked by hand, the run
folder contract, and schema errors with line numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.compile import compile_scenario
from sim.economics import TIER_KPIS, compute, months_of
from sim.errors import ScenarioError
from sim.results import PERIOD_WEIGHTS
from sim.scenario import Economics, load_scenario, parse_scenario
from tests.report.helpers import SCENARIOS, short_scenario

# One agent, 08:00-16:00 every day, at 10/h; one skill queue on a live and a deferred channel.
BASE = """\
name: economics
horizon: {start: 2026-01-01, days: DAYS, warmup: 0s, interval: 24h}
channels:
  phone: {kind: live, sla: {threshold: 20s, target: 0.8}}
  email: {kind: deferred, sla: {threshold: 24h, target: 0.9}}
contact_types:
  general:
    queue: q
    share: {phone: 1.0, email: 1.0}
    handle_time: {dist: exponential, mean: 4min}
demand: {daily: {phone: 10, email: 5}}
teams:
  agents:
    skills: {q: 1.0}
    channels: [phone, email]
    cost_per_hour: 10
    shifts: [{start: "08:00", length: 8h, days: daily, agents: 1}]
"""

HAND = BASE.replace("DAYS", "59") + """\
economics:
  costs:
    overtime_multiplier: 2
    licences_per_seat_per_month: {telephony: 20, crm: 11}
    qa_audit_per_year: 1200
    implementation: {cost: 600, months: 1}
  pricing:
    basic: {fee_per_placement: 10, placements_per_month: 30, channels: [email],
            targets: {sla_compliance: {min: 0.9}}}
    premium: {fee_per_placement: 100, placements_per_month: 10,
              targets: {service_level: {min: 0.8, channels: [phone]}}}
  sla_credits:
    max_share: 0.15
    rules:
      - {kpi: sla_compliance, share: 0.05}
      - {kpi: service_level, share: 0.10}
      - {kpi: service_level, miss_by: 0.1, share: 0.20}
"""


def frames(model, days: int, reps: int, values) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Synthetic ``totals`` and ``intervals`` shaped like sim.kpi's.

    ``values(rep, day) -> dict`` gives phone (answered, aht_s, offered, service_level) and
    email (answered, aht_s, sla_compliance), and the replication's overtime cost at base rate.
    """
    rows, totals = [], []
    for r in range(reps):
        answered_all = 0.0
        for day in range(days):
            v = values(r, day)
            start = day * 86400.0
            for ch, queue, answered, aht, extra in (
                    ("phone", "phone/q", v["phone_answered"], v["phone_aht_s"],
                     {"offered": v["phone_offered"], "service_level": v["service_level"]}),
                    ("email", "email/q", v["email_answered"], v["email_aht_s"],
                     {"offered": v["email_answered"], "sla_compliance": v["sla_compliance"]})):
                rows.append({"interval": day, "interval_start": start, "channel": ch,
                             "queue": queue, "answered": answered, "aht_s": aht,
                             "replication": r, **extra})
                # channel and whole-center rows must be ignored: give them nonsense
                rows.append({"interval": day, "interval_start": start, "channel": ch,
                             "queue": "all", "answered": 1e6, "aht_s": 1e6, "offered": 1e6,
                             "service_level": 0.0, "sla_compliance": 0.0, "replication": r})
                answered_all += answered
        shift_cost = 10.0 * 8 * days
        cost = shift_cost + values(r, 0)["overtime_base"]
        totals.append({"channel": "all", "answered": answered_all,
                       "cost_per_contact": cost / answered_all if answered_all else np.nan,
                       "overtime_h": values(r, 0)["overtime_base"] / 10.0, "replication": r})
    intervals = pd.DataFrame(rows)
    for kpi in TIER_KPIS:
        if kpi not in intervals:
            intervals[kpi] = np.nan
    intervals["offered"] = intervals["offered"].fillna(0.0)
    return pd.DataFrame(totals), intervals


def test_tier_kpi_weights_match_the_period_weights():
    for kpi, weight in TIER_KPIS.items():
        assert PERIOD_WEIGHTS[kpi] == weight


def test_months_cover_the_window():
    scn = parse_scenario(BASE.replace("DAYS", "40").replace("warmup: 0s", "warmup: 1d"))
    months = months_of(scn, compile_scenario(scn))
    assert months.label == ("2026-01", "2026-02")
    np.testing.assert_allclose(months.coverage, [30 / 31, 9 / 28])
    assert months.bounds_s.tolist() == [86400.0, 31 * 86400.0, 40 * 86400.0]


def test_a_case_checked_by_hand():
    scn = parse_scenario(HAND)
    model = compile_scenario(scn)

    def values(rep, day):
        jan = day < 31
        return {"phone_answered": 10, "phone_aht_s": 360.0, "phone_offered": 12,
                "service_level": 0.75 if jan else 0.65,
                "email_answered": 5, "email_aht_s": 720.0,
                "sla_compliance": 0.85 if jan else 0.95, "overtime_base": 47.2}

    totals, intervals = frames(model, 59, 1, values)
    result = compute(scn, model, totals, intervals)
    f = result.frame.set_index(["month", "tier"])
    # Labour: 8 h x 31 days x 10/h = 2480 in January, 2240 in February; overtime 47.2 at
    # the base rate, spread by shift cost (24.8 and 22.4) and doubled.
    assert f.loc[("2026-01", "all"), "labour_cost"] == pytest.approx(2480 + 49.6)
    assert f.loc[("2026-02", "all"), "labour_cost"] == pytest.approx(2240 + 44.8)
    assert f.loc[("2026-01", "all"), "overtime_cost"] == pytest.approx(49.6)
    # Licences: 1 seat (one agent) x (20 + 11); fixed: QA 1200/12, implementation 600 in
    # the first month only.
    assert f.loc[("2026-01", "all"), "licence_cost"] == pytest.approx(31)
    assert f.loc[("2026-01", "all"), "fixed_cost"] == pytest.approx(100 + 600)
    assert f.loc[("2026-02", "all"), "fixed_cost"] == pytest.approx(100)
    jan_cost, feb_cost = 2529.6 + 31 + 700, 2284.8 + 31 + 100
    assert f.loc[("2026-01", "all"), "cost"] == pytest.approx(jan_cost)
    # Work: 1 h of phone and 1 h of email a day. Email is shared basic:premium = 30:10, so
    # basic has 0.75 h a day, premium 1.25 h: cost shares 0.375 and 0.625.
    assert f.loc[("2026-01", "basic"), "work_h"] == pytest.approx(31 * 0.75)
    assert f.loc[("2026-01", "premium"), "work_h"] == pytest.approx(31 * 1.25)
    assert f.loc[("2026-01", "basic"), "cost"] == pytest.approx(0.375 * jan_cost)
    assert f.loc[("2026-02", "premium"), "cost"] == pytest.approx(0.625 * feb_cost)
    # Revenue: 30 x 10 = 300 and 10 x 100 = 1000 a month.
    assert f.loc[("2026-01", "basic"), "revenue"] == 300
    assert f.loc[("2026-01", "premium"), "revenue"] == 1000
    # Credits: January's SLA compliance 0.85 < 0.9: 5% of 300; February's 0.95 meets it.
    # Phone service level 0.75 misses 0.8 by 0.05: 10%; 0.65 misses by 0.15: 20%, capped
    # at 15%.
    assert f.loc[("2026-01", "basic"), "sla_credits"] == pytest.approx(15)
    assert f.loc[("2026-02", "basic"), "sla_credits"] == 0
    assert f.loc[("2026-01", "premium"), "sla_credits"] == pytest.approx(100)
    assert f.loc[("2026-02", "premium"), "sla_credits"] == pytest.approx(150)
    assert f.loc[("2026-01", "basic"), "margin"] == pytest.approx(300 - 15 - 0.375 * jan_cost)
    assert f.loc[("2026-01", "all"), "margin"] == pytest.approx(1300 - 115 - jan_cost)
    t = result.targets.set_index(["tier", "kpi"])
    assert t.loc[("basic", "sla_compliance"), "p_met"] == 0.5
    assert t.loc[("premium", "service_level"), "p_met"] == 0.0
    assert t.loc[("premium", "service_level"), "n"] == 2
    s = result.summary.set_index(["scope", "name", "kpi"])["mean"]
    assert s[("all", "all", "full_cost_per_contact")] == pytest.approx(
        (jan_cost + feb_cost) / (15 * 59))
    assert s[("team", "agents", "paid_h")] == 8 * 59
    # per channel: phone and email have equal work, so equal cost
    assert s[("channel", "phone", "cost")] == pytest.approx((jan_cost + feb_cost) / 2)
    assert s[("channel", "email", "full_cost_per_contact")] == pytest.approx(
        (jan_cost + feb_cost) / 2 / (5 * 59))


# ------------------------------------------------------------------ identities (hypothesis)

SMALL = parse_scenario(BASE.replace("DAYS", "40").replace("start: 2026-01-01",
                                                          "start: 2026-01-20"))
SMALL_MODEL = compile_scenario(SMALL)

money = st.floats(0, 1000, allow_nan=False)
share = st.floats(0, 1, allow_nan=False)
tier_kpis = st.sampled_from(["service_level", "sla_compliance", "asa_s", "aht_s"])


@st.composite
def economics(draw):
    n_tiers = draw(st.integers(0, 3))
    kpis = ["service_level", "sla_compliance", "aht_s"]
    pricing = {}
    for k in range(n_tiers):
        chosen = draw(st.lists(st.sampled_from(kpis), unique=True, max_size=3))
        bound = {}
        for kpi in chosen:
            lo = draw(st.floats(0, 1) if kpi != "aht_s" else st.floats(0, 600))
            bound[kpi] = {"min": lo} if draw(st.booleans()) else {"max": lo}
        pricing[f"t{k}"] = {
            "fee_per_placement": draw(money), "placements_per_month": draw(money),
            "channels": draw(st.sampled_from([None, ["phone"], ["email"],
                                              ["phone", "email"]])),
            "targets": bound}
    rules = [{"kpi": draw(st.sampled_from(kpis)), "share": draw(share),
              "miss_by": draw(st.floats(0, 0.5)), "months_running": draw(st.integers(1, 3))}
             for _ in range(draw(st.integers(1, 4)))]
    return Economics.model_validate({
        "costs": {"overtime_multiplier": draw(st.floats(0, 3)),
                  "licences_per_seat_per_month": {"a": draw(money)},
                  "lms_per_agent_per_year": draw(money), "qa_audit_per_year": draw(money),
                  "onboarding": {"hours_per_new_agent": draw(money),
                                 "attrition_per_year": draw(share)},
                  "implementation": {"cost": draw(money), "months": draw(st.integers(1, 3))}},
        "pricing": {k: {kk: vv for kk, vv in v.items() if vv is not None}
                    for k, v in pricing.items()},
        "sla_credits": {"max_share": draw(share), "rules": rules}})


@st.composite
def measured(draw):
    reps = draw(st.integers(1, 3))
    days = 40
    n = reps * days
    ints = st.lists(st.integers(0, 30), min_size=n, max_size=n)
    fracs = st.lists(share, min_size=n, max_size=n)
    pa, ea, po = draw(ints), draw(ints), draw(ints)
    sl, sc = draw(fracs), draw(fracs)
    ot = draw(st.lists(st.floats(0, 100), min_size=reps, max_size=reps))
    aht = draw(st.floats(30, 900))

    def values(r, d):
        i = r * days + d
        return {"phone_answered": pa[i], "phone_aht_s": aht if pa[i] else np.nan,
                "phone_offered": po[i], "service_level": sl[i] if po[i] else np.nan,
                "email_answered": ea[i], "email_aht_s": 2 * aht if ea[i] else np.nan,
                "sla_compliance": sc[i] if ea[i] else np.nan, "overtime_base": ot[r]}

    return frames(SMALL_MODEL, days, reps, values)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(economics(), measured())
def test_economics_identities(econ, data):
    totals, intervals = data
    scn = SMALL.model_copy(update={"economics": econ})
    result = compute(scn, SMALL_MODEL, totals, intervals)
    f = result.frame
    tol = 1e-9 * (1 + f[["revenue", "cost"]].abs().to_numpy().max())
    # revenue - credits - cost = margin, per tier and overall
    np.testing.assert_allclose(f.margin, f.revenue - f.sla_credits - f.cost, atol=tol)
    # credits never exceed the configured maximum share of the fee
    tiers = f[f.tier != "all"]
    cap = econ.sla_credits.max_share
    assert (tiers.sla_credits <= cap * tiers.revenue + tol).all()
    assert ((tiers.credit_share >= 0) & (tiers.credit_share <= cap + 1e-12)).all()
    # tiers add up to the whole
    if econ.pricing:
        sums = tiers.groupby(["replication", "month"])[
            ["revenue", "sla_credits", "cost", "margin"]].sum()
        whole = f[f.tier == "all"].set_index(["replication", "month"])[sums.columns]
        np.testing.assert_allclose(sums.to_numpy(), whole.to_numpy(), atol=tol)
    # cost components add up; cost per contact = cost / handled
    whole = f[f.tier == "all"]
    np.testing.assert_allclose(whole.cost, whole.labour_cost + whole.licence_cost
                               + whole.fixed_cost, atol=tol)
    per_rep = whole.groupby("replication")[["cost", "answered"]].sum()
    s = result.summary
    cpc = s[(s.scope == "all") & (s.kpi == "full_cost_per_contact")]["mean"].iloc[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = (per_rep.cost / per_rep.answered.where(per_rep.answered > 0)).mean()
    assert cpc == pytest.approx(expected, nan_ok=True, rel=1e-9)
    assert (per_rep.answered.to_numpy() == totals.answered.to_numpy()).all()
    # channel costs add up to the total cost (summary means over the same replications)
    ch_cost = s[(s.scope == "channel") & (s.kpi == "cost")]["mean"].sum()
    total = s[(s.scope == "all") & (s.kpi == "cost")]["mean"].iloc[0]
    assert ch_cost == pytest.approx(total, rel=1e-9, abs=1e-9)
    # every target's p_met is a share of replication x months
    for row in result.targets.itertuples():
        assert row.n <= len(totals) * 2
        assert np.isnan(row.p_met) or 0 <= row.p_met <= 1


# ------------------------------------------------------------------ whole runs


def test_run_writes_economics_and_matches_the_cost_kpi(tmp_path):
    text = BASE.replace("DAYS", "3").replace("warmup: 0s", "warmup: 1d").replace(
        "interval: 24h", "interval: 1h") + """\
economics:
  pricing:
    only: {fee_per_placement: 50, placements_per_month: 31,
           targets: {service_level: {min: 0.8, channels: [phone]}}}
  sla_credits: {max_share: 0.1, rules: [{kpi: service_level, share: 0.1}]}
"""
    path = tmp_path / "econ.yaml"
    path.write_text(text)
    out = tmp_path / "run"
    res = sim.run(path, replications=2, seed=5, out=out)
    assert (out / "economics.parquet").exists()
    frame = pd.read_parquet(out / "economics.parquet")
    pd.testing.assert_frame_equal(frame, res.economics)
    assert set(frame.tier) == {"only", "all"} and set(frame.replication) == {0, 1}
    summary = json.loads((out / "summary.json").read_text())
    stats = summary["economics"]["tiers"]["only"]["margin"]
    assert set(stats) == {"mean", "se", "ci95_low", "ci95_high", "n"} and stats["n"] == 2
    assert summary["economics"]["targets"][0]["tier"] == "only"
    table = pd.read_csv(out / "summary.csv")
    assert "tier:only" in set(table.channel) and "team:agents" in set(table.channel)
    # overtime at 1x and no other cost: the economics cost is the KPI's agent cost
    all_rows = res.totals[res.totals.channel == "all"]
    kpi_cost = (all_rows.cost_per_contact * all_rows.answered).to_numpy()
    whole = res.economics[res.economics.tier == "all"].groupby("replication").cost.sum()
    np.testing.assert_allclose(whole.to_numpy(), kpi_cost, rtol=1e-12)
    # 2 days measured of January: revenue 31 x 50 x 2/31
    assert res.economics[res.economics.tier == "only"].groupby(
        "replication").revenue.sum().tolist() == pytest.approx([100.0, 100.0])


def test_no_economics_section_no_economics_output(tmp_path):
    path = tmp_path / "plain.yaml"
    path.write_text(BASE.replace("DAYS", "2"))
    out = tmp_path / "run"
    res = sim.run(path, replications=1, seed=1, out=out)
    assert res.economics is None and not (out / "economics.parquet").exists()
    assert "economics" not in json.loads((out / "summary.json").read_text())


# ------------------------------------------------------------------ schema errors


def test_bad_pricing_section_names_file_line_and_field():
    text = BASE.replace("DAYS", "7") + """\
economics:
  pricing:
    basic:
      fee_per_placement: 125
      placements_per_month: 300
      channels: [emial]
      targets: {sla_compliance: {min: 0.95}}
  sla_credits:
    rules: [{kpi: asa, share: 0.02}]
"""
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "pricing.yaml")
    lines = str(info.value).splitlines()
    assert lines == [
        "pricing.yaml:23: economics.pricing.basic.channels[0]: unknown channel 'emial' "
        "(did you mean 'email'?)",
        "pricing.yaml:26: economics.sla_credits.rules[0].kpi: 'asa' cannot be a tier target "
        "(did you mean 'asa_s'?)",
    ]


def test_onboarding_needs_one_rate():
    text = BASE.replace("DAYS", "7") + """\
economics:
  costs:
    onboarding: {hours_per_new_agent: 120}
"""
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "x.yaml")
    assert str(info.value).startswith("x.yaml:20: economics.costs.onboarding: give exactly "
                                      "one of new_agents_per_year or attrition_per_year")


def test_example_scenarios_have_economics():
    root = Path(__file__).resolve().parents[2] / "scenarios"
    ce = load_scenario(root / "clinical_exchange.yaml")
    fees = {k: t.fee_per_placement for k, t in ce.economics.pricing.items()}
    assert fees == {"basic": 125, "standard": 225, "premium": 420}
    assert ce.economics.sla_credits.max_share == 0.10
    assert {r.share for r in ce.economics.sla_credits.rules} <= {0.02, 0.05, 0.10}
    cc = load_scenario(root / "careconnect.yaml")
    assert cc.economics.costs.licences_per_seat_per_month == {"telephony": 75, "crm": 95}


def test_seats_by_team_price_the_licences():
    scn = parse_scenario(HAND.replace("    overtime_multiplier: 2\n",
                                      "    overtime_multiplier: 2\n"
                                      "    seats_by_team: {agents: 3}\n"))
    model = compile_scenario(scn)
    totals, intervals = frames(model, 59, 1, lambda r, d: {
        "phone_answered": 1, "phone_aht_s": 60.0, "phone_offered": 1, "service_level": 1.0,
        "email_answered": 1, "email_aht_s": 60.0, "sla_compliance": 1.0,
        "overtime_base": 0.0})
    f = compute(scn, model, totals, intervals).frame
    assert f[f.tier == "all"].licence_cost.tolist() == pytest.approx([3 * 31, 3 * 31])
    with pytest.raises(ScenarioError, match="give seats or seats_by_team, not both"):
        parse_scenario(HAND.replace("    overtime_multiplier: 2\n",
                                    "    seats: 2\n    seats_by_team: {agents: 3}\n"))


def test_credits_for_misses_in_a_row():
    rules = """      - {kpi: service_level, share: 0.10}
      - {kpi: service_level, miss_by: 0.1, share: 0.20}
"""
    scn = parse_scenario(HAND.replace(rules, """      - {kpi: service_level, share: 0.02}
      - {kpi: service_level, share: 0.12, months_running: 2}
"""))
    model = compile_scenario(scn)
    totals, intervals = frames(model, 59, 1, lambda r, d: {
        "phone_answered": 10, "phone_aht_s": 60.0, "phone_offered": 10,
        "service_level": 0.75, "email_answered": 1, "email_aht_s": 60.0,
        "sla_compliance": 1.0, "overtime_base": 0.0})
    f = compute(scn, model, totals, intervals).frame
    # January: a first miss, 2% of 1000; February: the second in a row, 12%
    assert f[f.tier == "premium"].sla_credits.tolist() == pytest.approx([20, 120])


def test_worker_sums_give_the_bits_of_the_client_sums():
    """Each worker sums its own replication's per-queue rows (queue_month_sums); economics
    from those sums must equal, bit for bit, economics from all replications' rows."""
    from sim.economics import queue_month_sums

    # two calendar months
    scenario = short_scenario(SCENARIOS / "clinical_exchange.yaml", days=40)
    model = compile_scenario(scenario)
    res = sim.run(scenario, replications=3, queue_intervals=True)
    assert (res.intervals["queue"] != "all").any()
    from_rows = compute(scenario, model, res.totals, res.intervals)
    sums = pd.concat([queue_month_sums(scenario, model, part)
                      for _, part in res.intervals.groupby("replication", sort=True)],
                     ignore_index=True)
    from_sums = compute(scenario, model, res.totals, sums)
    for name in ("frame", "summary", "targets"):
        pd.testing.assert_frame_equal(getattr(from_rows, name), getattr(from_sums, name),
                                      check_exact=True)
    pd.testing.assert_frame_equal(from_sums.frame, res.economics, check_exact=True)


def test_month_sums_of_interval_blocks_are_the_row_sums(monkeypatch):
    """The workers' rows (one replication, the same queues in every interval) are summed by
    month block by block; the same bits as the generic per-row sums."""
    import sim.economics as economics

    # two calendar months
    scenario = short_scenario(SCENARIOS / "clinical_exchange.yaml", days=40)
    model = compile_scenario(scenario)
    res = sim.run(scenario, replications=1, queue_intervals=True)
    rows = res.intervals[(res.intervals["queue"] != "all")
                         & (res.intervals["channel"] != "all")].reset_index(drop=True)
    rows = rows.assign(aht_s=rows["aht_s"].to_numpy() * np.tile([1.0, -1.0], len(rows))[
        :len(rows)])  # signed zeros and negative values too
    (q_code, q_names), (c_code, c_names) = (economics._codes(rows[c])
                                            for c in ("queue", "channel"))
    assert economics._interval_blocks(rows, q_code, c_code, q_names, c_names) is not None
    blocks = economics.queue_month_sums(scenario, model, rows)
    monkeypatch.setattr(economics, "_interval_blocks", lambda *args: None)
    generic = economics.queue_month_sums(scenario, model, rows)
    pd.testing.assert_frame_equal(blocks, generic, check_exact=True)
    for name in blocks.columns[4:]:
        assert np.array_equal(blocks[name].to_numpy().view(np.int64),
                              generic[name].to_numpy().view(np.int64)), name


def test_work_s_compiled_is_numpys():
    import sim.economics as economics

    if economics._accumulate is None:
        pytest.skip("sim._accumulate not built")
    rng = np.random.default_rng(5)
    n = 5000
    answered = rng.integers(-1, 4, n).astype(float)
    answered[::97] = np.nan
    answered[::89] = np.inf
    aht = rng.normal(100.0, 80.0, n)
    aht[::3] = np.nan
    aht[::7] = np.inf
    aht[::11] = -np.inf
    aht[::13] = -0.0
    aht[::17] = 1e308
    with np.errstate(all="ignore"):
        ref = np.where(answered > 0, answered * np.nan_to_num(aht), 0.0)
        got = economics._work_s(answered, aht)
    assert np.array_equal(ref.view(np.int64), got.view(np.int64))
