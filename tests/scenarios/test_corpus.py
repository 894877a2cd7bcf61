"""The scenario corpus: every valid file loads; every invalid file reports what it expects.

Each file in ``invalid/`` starts with one or more ``# expect: LINE: field.path: message``
comments; the error must contain ``f"{path}:{expect}"`` for each, and read as plain lines.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.errors import ScenarioError
from sim.scenario import Scenario, load_scenario

HERE = Path(__file__).parent
VALID = sorted((HERE / "valid").glob("*.yaml"))
INVALID = sorted((HERE / "invalid").glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (.+)$")
PYDANTIC_NOISE = ("Traceback", "input_value=", "For further information visit",
                  "validation error", "Input should be", "Value error,")


def _needs_kpi(path: Path) -> None:
    """Targets are checked against ``sim.kpi.KPI_KEYS``; skip if that module is not built."""
    if re.search(r"^targets:", path.read_text(encoding="utf-8"), re.MULTILINE):
        pytest.importorskip("sim.kpi")


def _expects(path: Path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = EXPECT.match(line)
        if not m:
            break
        out.append(m.group(1))
    return out


def test_corpus_is_there():
    assert len(VALID) >= 6
    assert len(INVALID) >= 30


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_scenario_loads(path):
    _needs_kpi(path)
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_scenario_reports_expected_problems(path):
    _needs_kpi(path)
    expects = _expects(path)
    assert expects, f"{path.name} must start with '# expect: LINE: field: message'"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    for expect in expects:
        assert f"{path}:{expect}" in message, f"expected\n  {path}:{expect}\ngot\n{message}"
    for line in message.splitlines():
        assert line.startswith(f"{path}:"), line
        assert not any(noise in line for noise in PYDANTIC_NOISE), line
    # one line per problem: every expected problem is its own line, nothing is repeated
    assert len(set(message.splitlines())) == len(message.splitlines())
    assert len(info.value.problems) == len(message.splitlines())


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_scenario_reports_nothing_unexpected(path):
    """Each file is about its expected problems only: no echoes of them."""
    _needs_kpi(path)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert len(info.value.problems) == len(_expects(path)), str(info.value)
