"""The resolved scenario written to a run folder loads again to the same scenario."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sim.scenario import load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted([*ROOT.glob("scenarios/**/*.yaml"), *ROOT.glob("tests/scenarios/valid/*.yaml"),
                *ROOT.glob("benchmarks/*.yaml")])


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_resolved_scenario_roundtrips(path):
    original = load_scenario(path)
    text = yaml.safe_dump(original.model_dump(mode="json"), sort_keys=False)
    again = parse_scenario(text, "<resolved>", base_dir=path.parent)
    assert again.model_dump() == original.model_dump()
