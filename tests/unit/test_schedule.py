"""Shift schedules as an integer program (sim.schedule), checked by hand and by brute force."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from sim.errors import CcsimError
from sim.scenario import load_scenario
from sim.schedule import (
    ShiftTemplate,
    coverage_matrix,
    shift_templates,
    solve_schedule,
    staffed_scenario,
    write_staffed_scenario,
)

ROOT = Path(__file__).resolve().parents[2]
H = 3600.0


def test_coverage_of_a_shift_with_a_break_by_hand():
    # 08:00 + 3h with a 30-min break 1h in, hourly intervals: 1, 0.5, 1 from 08:00
    a = coverage_matrix([ShiftTemplate(8 * H, 3 * H, ((H, 1800.0),))], H, 24)
    expected = np.zeros(24)
    expected[8:11] = [1.0, 0.5, 1.0]
    np.testing.assert_allclose(a[:, 0], expected)


def test_coverage_wraps_around_midnight():
    # 22:00 + 4h covers 22:00-24:00 and, the next day being the same, 00:00-02:00
    a = coverage_matrix([ShiftTemplate(22 * H, 4 * H)], H, 24)
    assert a[:, 0].sum() == 4.0
    assert a[[22, 23, 0, 1], 0].tolist() == [1.0, 1.0, 1.0, 1.0]


def test_templates_keep_only_breaks_that_fit():
    tpl = shift_templates([4 * H, 8 * H], 6 * H, [(2 * H, 900.0), (6 * H, 900.0)])
    assert len(tpl) == 2 * 4  # two lengths x starts 00:00, 06:00, 12:00, 18:00
    assert {t.length_s: len(t.breaks) for t in tpl} == {4 * H: 1, 8 * H: 2}


def _brute_force(requirement, templates, interval_s, other=0.0, top=7):
    """Least paid hours over every count vector in 0..top-1 that covers the requirement."""
    a = coverage_matrix(templates, interval_s, len(requirement))
    target = np.asarray(requirement, float) / (1.0 - other)
    lengths = np.array([t.length_s / H for t in templates])
    x = np.array(list(itertools.product(range(top), repeat=len(templates))))
    feasible = np.all(x @ a.T >= target - 1e-9, axis=1)
    assert feasible.any()
    return float((x[feasible] @ lengths).min())


# A 6-hour "day" of hourly intervals, shifts of 2 h or 3 h starting every 2 h (6 templates),
# with and without a 30-min break 1 h into the 3-h shifts, and with 10% other shrinkage.
CASES = [
    ([1, 2, 3, 2, 1, 0], ()),
    ([2, 2, 1, 0, 1, 3], ()),
    ([1, 2, 3, 2, 1, 1], ((H, 1800.0),)),
    ([0, 1, 1, 2, 2, 1], ((H, 1800.0),)),
]


@pytest.mark.parametrize("requirement, breaks", CASES)
@pytest.mark.parametrize("other", [0.0, 0.1])
def test_milp_covers_every_interval_and_is_minimal(requirement, breaks, other):
    templates = shift_templates([2 * H, 3 * H], 2 * H, breaks, period_s=6 * H)
    sched = solve_schedule(requirement, templates, H, other_shrinkage=other)
    # covers the inflated requirement in every interval
    assert np.all(sched.coverage >= np.asarray(requirement) / (1 - other) - 1e-9)
    np.testing.assert_allclose(sched.coverage,
                               coverage_matrix(templates, H, 6) @ sched.agents)
    # and no cheaper combination does (brute force over 0..6 agents per template)
    assert sched.paid_hours == pytest.approx(_brute_force(requirement, templates, H, other))


def test_milp_rounds_up_a_fractional_requirement():
    # 1 agent needed all day with 25% other shrinkage: 1.33 on average needs 2 agents
    templates = shift_templates([24 * H], 24 * H, ())
    sched = solve_schedule(np.ones(24), templates, H, other_shrinkage=0.25)
    assert sched.agents.tolist() == [2]
    assert sched.shifts() == [{"start": "00:00", "length": 24 * H, "days": "daily",
                               "agents": 2}]


def test_milp_refuses_what_no_shift_can_cover():
    templates = [ShiftTemplate(8 * H, 4 * H)]
    with pytest.raises(CcsimError, match="no allowed shift covers the interval at 07:00"):
        solve_schedule([0] * 7 + [1] + [0] * 16, templates, H)


@pytest.mark.parametrize("lengths, step, message", [
    ([], H, "at least one shift length"),
    ([25 * H], H, "at most 24h"),
    ([8 * H], 7 * H, "does not divide the day"),
])
def test_bad_templates_are_one_line(lengths, step, message):
    with pytest.raises(ValueError, match=message):
        shift_templates(lengths, step)


def test_staffed_scenario_replaces_the_shifts_and_loads(tmp_path):
    scn = load_scenario(ROOT / "tests" / "scenarios" / "valid" / "mmc_plus_m.yaml")
    shifts = {"agents": [{"start": "00:00", "length": 8 * H, "days": "daily", "agents": 5},
                         {"start": "08:00", "length": 8 * H, "days": "daily", "agents": 6},
                         {"start": "16:00", "length": 8 * H, "days": "mon-fri", "agents": 4}]}
    data, staffed = staffed_scenario(scn, shifts)
    assert staffed.teams["agents"].headcount is None
    assert staffed.teams["agents"].n_agents == 15
    assert staffed.teams["agents"].shifts[2].days == (0, 1, 2, 3, 4)
    path = write_staffed_scenario(tmp_path / "staffed.yaml", scn, shifts)
    again = load_scenario(path)
    assert again.model_dump() == staffed.model_dump()
    with pytest.raises(CcsimError, match="has no shift"):
        staffed_scenario(scn, {"agents": []})
