"""Scenario loading by hand: units, days, opening hours, schema, YAML and error reporting."""

from __future__ import annotations

import json
import textwrap

import pydantic
import pytest

from sim.errors import ScenarioError
from sim.scenario import (
    Channel,
    Horizon,
    Scenario,
    distribution_mean_s,
    json_schema,
    load_scenario,
    parse_days,
    parse_duration_s,
    parse_opening_hours,
    parse_scenario,
    scenario_base_dir,
)

MINIMAL = """\
name: unit
horizon: {start: 2026-01-05, days: 7}
channels:
  phone: {kind: live}
contact_types:
  call: {queue: general, share: {phone: 1.0}, handle_time: {dist: exponential, mean: 4min}}
demand: {daily: {phone: 500}}
teams:
  agents: {headcount: 5, skills: {general: 1.0}, channels: [phone]}
"""


def problems(text: str, file: str = "s.yaml") -> list[str]:
    """The lines of the ScenarioError raised by ``text``."""
    with pytest.raises(ScenarioError) as info:
        parse_scenario(textwrap.dedent(text), file)
    return str(info.value).splitlines()


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(("text", "seconds"), [
    ("20s", 20.0), ("15 min", 900.0), ("8h", 28800.0), ("2d", 172800.0), (90, 90.0),
    ("1.5h", 5400.0), ("90", 90.0), (2.5, 2.5), ("45 seconds", 45.0), ("3 hours", 10800.0),
    ("1e3", 1000.0), ("-5 min", -300.0),
])
def test_durations_accept_units(text, seconds):
    assert parse_duration_s(text) == seconds


def test_duration_with_misspelt_unit_has_hint():
    with pytest.raises(ValueError, match=r"unknown time unit 'minuts'.*did you mean 'minutes'"):
        parse_duration_s("4 minuts")


@pytest.mark.parametrize("bad", ["fast", True, None, [1], "4 min 3 s"])
def test_duration_rejects_non_durations(bad):
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration_s(bad)


def test_duration_error_in_file_names_field_line_and_hint():
    text = MINIMAL.replace("mean: 4min", "mean: 4 hrz")
    assert problems(text) == [
        "s.yaml:6: contact_types.call.handle_time.mean: unknown time unit 'hrz' in '4 hrz' "
        "(did you mean 'hr'?)"]


# --------------------------------------------------------------------------- days


@pytest.mark.parametrize(("text", "days"), [
    ("mon-fri", (0, 1, 2, 3, 4)),
    ("sat,sun", (5, 6)),
    ("daily", tuple(range(7))),
    ("weekdays", (0, 1, 2, 3, 4)),
    ("weekend", (5, 6)),
    (["Monday", "tues", "WED"], (0, 1, 2)),
    ("fri-mon", (0, 4, 5, 6)),
    ("thursday", (3,)),
    ("mon - wed, sat", (0, 1, 2, 5)),
])
def test_parse_days(text, days):
    assert parse_days(text) == days


@pytest.mark.parametrize(("bad", "match"), [
    ("mon-fry", r"unknown weekday 'fry'.*did you mean 'fri'"),
    ("monkey", "unknown weekday 'monkey'"),
    ("mo", "unknown weekday 'mo'"),
    ([], "no weekdays given"),
    (5, "expected weekdays"),
])
def test_parse_days_rejects(bad, match):
    with pytest.raises(ValueError, match=match):
        parse_days(bad)


# --------------------------------------------------------------------------- opening hours


def test_opening_hours_24_7():
    assert parse_opening_hours("24/7") == tuple(((0.0, 86400.0),) for _ in range(7))


def test_opening_hours_by_day_with_split_spans_and_closed_days():
    week = parse_opening_hours({"mon-fri": "08:00-12:00, 13:00-18:30", "sat": "09:00-24:00",
                                "sun": "closed"})
    assert week[0] == ((8 * 3600.0, 12 * 3600.0), (13 * 3600.0, 18.5 * 3600.0))
    assert week[4] == week[0]
    assert week[5] == ((9 * 3600.0, 86400.0),)
    assert week[6] == ()


@pytest.mark.parametrize(("spec", "match"), [
    ({"mon": "08:00-25:00"}, "expected a time of day 'HH:MM', got '25:00'"),
    ({"mon": "8-17"}, "expected a time of day"),
    ({"mon": "20:00-06:00"}, "closing time before opening time"),
    ({"mon": "all day"}, "expected 'HH:MM-HH:MM' or 'closed'"),
    ({"mun": "08:00-17:00"}, "unknown weekday 'mun'"),
])
def test_opening_hours_rejects(spec, match):
    with pytest.raises(ValueError, match=match):
        parse_opening_hours(spec)


def test_opening_hours_in_a_channel_off_and_unquoted_times():
    """``off`` is a closed day and 7:30 stays a time of day (not YAML 1.1's base 60)."""
    text = MINIMAL.replace("phone: {kind: live}",
                           "phone: {kind: live, hours: {mon-fri: 7:30-19:00, sat: off}}")
    week = parse_opening_hours(parse_scenario(text).channels["phone"].hours)
    assert week[0] == ((7.5 * 3600.0, 19 * 3600.0),)
    assert week[5] == week[6] == ()


def test_channel_closed_every_day_is_rejected():
    text = MINIMAL.replace("phone: {kind: live}", "phone: {kind: live, hours: {daily: closed}}")
    assert problems(text) == [
        "s.yaml:4: channels.phone.hours: the channel is closed every day "
        "(e.g. {mon-fri: '08:00-20:00', sat: '09:00-13:00', sun: closed})"]


# --------------------------------------------------------------------------- schema


def test_minimal_scenario_and_defaults():
    s = parse_scenario(MINIMAL)
    assert s.horizon.interval == 1800.0
    assert s.horizon.horizon_s == 7 * 86400.0
    assert s.channels["phone"].hours == "24/7"
    assert s.queue_names == ("general",)
    assert distribution_mean_s(s.contact_types["call"].handle_time) == 240.0
    assert s.teams["agents"].n_agents == 5
    assert scenario_base_dir(s).is_dir()


def test_scenario_remembers_its_file_and_lines():
    s = parse_scenario(MINIMAL, "m.yaml")
    assert s._file == "m.yaml"
    assert s.line_of("teams", "agents", "skills") == 9
    assert s.line_of("demand", "daily", "phone", "nowhere") == 7


def test_json_schema_is_json_with_top_level_properties():
    schema = json.loads(json.dumps(json_schema()))
    assert schema["type"] == "object"
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert set(schema["properties"]) == set(Scenario.model_fields)
    assert set(schema["required"]) == {"name", "horizon", "channels", "contact_types",
                                       "demand", "teams"}
    assert schema["additionalProperties"] is False


def test_scenario_is_frozen():
    s = parse_scenario(MINIMAL)
    with pytest.raises(pydantic.ValidationError):
        s.name = "other"
    with pytest.raises(pydantic.ValidationError):
        s.channels["phone"].kind = "deferred"


def test_unknown_keys_are_forbidden_with_hint():
    assert problems(MINIMAL.replace("kind: live", "kind: live, patiense: 3min")) == [
        "s.yaml:4: channels.phone.patiense: unknown key 'patiense' (did you mean 'patience'?)"]
    with pytest.raises(pydantic.ValidationError):
        Channel(kind="live", colour="red")


def test_months_horizon_clamps_to_month_end():
    h = Horizon(start="2026-01-31", months=1)
    assert str(h.end) == "2026-02-28"
    assert Horizon(start="2026-01-05", months=12).horizon_s == 365 * 86400.0


# --------------------------------------------------------------------------- YAML


def test_yaml_syntax_error_gives_line():
    text = "name: x\nhorizon: {days: 7\nchannels: {}\n"
    (line,) = problems(text)
    assert line.startswith("s.yaml:3: not valid YAML: ")
    assert "(while parsing a flow mapping at line 2)" in line


def test_tab_indentation_gives_line():
    (line,) = problems("name: x\nhorizon:\n\tdays: 7\n")
    assert line.startswith("s.yaml:3: not valid YAML: found character '\\t'")


def test_duplicate_key_reported_with_both_lines():
    text = MINIMAL + "name: again\n"
    assert problems(text) == [
        "s.yaml:10: name: duplicate key (first at line 1) "
        "(remove one of them; the last one would win)"]


def test_duplicate_key_reported_with_schema_problems():
    text = MINIMAL.replace("days: 7", "days: 0") + "name: again\n"
    assert problems(text) == [
        "s.yaml:2: horizon.days: must be at least 1, got 0",
        "s.yaml:10: name: duplicate key (first at line 1) "
        "(remove one of them; the last one would win)"]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file(text):
    assert problems(text) == ["s.yaml:1: the file is empty (a scenario starts with 'name:')"]


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "42\n"])
def test_not_a_mapping(text):
    assert problems(text) == [
        "s.yaml:1: a scenario is a mapping of keys to values (start with 'name:')"]


def test_impossible_date_is_a_field_problem_not_a_crash():
    assert problems(MINIMAL.replace("2026-01-05", "2026-02-30")) == [
        "s.yaml:2: horizon.start: expected a date YYYY-MM-DD, got '2026-02-30' "
        "(day value is outside expected range)"]


def test_odd_yaml_never_crashes():
    for text in ["? [a, b]\n: 1\n", "name: &a [*a]\n", "a: b: c\n", "name: x\n---\nname: y\n",
                 "\x00", "name: !!python/object:os.system {}\n", "1: 2\n"]:
        with pytest.raises(ScenarioError):
            parse_scenario(text, "s.yaml")


def test_anchors_and_merge_keys():
    text = MINIMAL.replace(
        "  agents: {headcount: 5, skills: {general: 1.0}, channels: [phone]}",
        "  day: &t {headcount: 5, skills: {general: 1.0}, channels: [phone]}\n"
        "  night: {<<: *t, headcount: 2, speed: 0.9}")
    s = parse_scenario(text)
    assert s.teams["night"].headcount == 2
    assert s.teams["night"].channels == ("phone",)
    assert s.teams["night"].speed == 0.9


# --------------------------------------------------------------------------- reporting


def test_all_problems_at_once_sorted_by_line():
    text = (MINIMAL.replace("days: 7", "days: 7, interval: 7min")
            .replace("phone: 500", "phone: -1")
            .replace("skills: {general: 1.0}", "skills: {general: 1.0, genral: 1.0}"))
    assert problems(text) == [
        "s.yaml:2: horizon.interval: an interval of 7min does not divide a day "
        "(use 15min, 30min or 60min)",
        "s.yaml:7: demand.daily.phone: must not be negative, got -1",
        "s.yaml:9: teams.agents.skills.genral: unknown queue 'genral' (did you mean 'general'?)",
    ]


def test_a_typo_is_not_echoed_as_an_unserved_queue():
    text = MINIMAL.replace("skills: {general: 1.0}", "skills: {generl: 1.0}")
    assert problems(text) == [
        "s.yaml:9: teams.agents.skills.generl: unknown queue 'generl' (did you mean 'general'?)"]


def test_queue_nobody_serves():
    text = MINIMAL.replace("skills: {general: 1.0}", "skills: {sales: 1.0}")
    assert problems(text) == [
        "s.yaml:6: contact_types.call.queue: no team has the skill 'general' "
        "(add it to a team's skills)",
        "s.yaml:9: teams.agents.skills.sales: unknown queue 'sales' (known: general)"]


def test_voicemail_pair_must_be_served():
    text = MINIMAL.replace(
        "  phone: {kind: live}",
        "  phone: {kind: live, hours: {mon-fri: '08:00-18:00'}, when_closed: voicemail,\n"
        "          voicemail_to: email}\n"
        "  email: {kind: deferred}")
    assert problems(text) == [
        "s.yaml:5: channels.phone.voicemail_to: no team serves queue 'general' on channel "
        "'email', where voicemail left on 'phone' waits "
        "(give a team with the skill 'general' the channel 'email')"]
    served = text.replace("channels: [phone]", "channels: [phone, email]")
    assert parse_scenario(served).channels["phone"].voicemail_to == "email"


def test_voicemail_to_without_voicemail_is_flagged():
    text = MINIMAL.replace("  phone: {kind: live}",
                           "  phone: {kind: live, voicemail_to: email}\n"
                           "  email: {kind: deferred}")
    assert problems(text) == [
        "s.yaml:4: channels.phone.voicemail_to: voicemail_to is set but closed-hours contacts "
        "are lost (add when_closed: voicemail)"]


def test_no_pydantic_wording_leaks():
    text = MINIMAL.replace("days: 7", "days: seven").replace("kind: live", "kind: lve")
    for line in problems(text):
        assert "Input should" not in line and "input_value" not in line
    assert problems(text) == [
        "s.yaml:2: horizon.days: expected a whole number, got 'seven'",
        "s.yaml:4: channels.phone.kind: unknown value 'lve' (did you mean 'live'?)"]


# --------------------------------------------------------------------------- files


def test_load_scenario_checks_csv_files(tmp_path):
    (tmp_path / "aht.csv").write_text("talk_s,wrap_s\n200,20\n300,30\n", encoding="utf-8")
    good = MINIMAL.replace("{dist: exponential, mean: 4min}",
                           "{dist: empirical, csv: aht.csv, column: talk_s}")
    path = tmp_path / "s.yaml"
    path.write_text(good, encoding="utf-8")
    assert load_scenario(path).contact_types["call"].handle_time.column == "talk_s"
    assert scenario_base_dir(load_scenario(path)) == tmp_path.resolve()

    path.write_text(good.replace("column: talk_s", "column: talks"), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == (f"{path}:6: contact_types.call.handle_time.column: no column "
                               "'talks' in 'aht.csv' (did you mean 'talk_s'?)")

    path.write_text(good.replace("aht.csv", "gone.csv"), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"s\.yaml:6: contact_types\.call\.handle_time\.csv: "
                                            r"cannot read 'gone\.csv'"):
        load_scenario(path)


def test_load_scenario_unreadable_files(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read file"):
        load_scenario(tmp_path / "missing.yaml")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ScenarioError, match="not UTF-8 text"):
        load_scenario(latin)
