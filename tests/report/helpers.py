"""Helpers for the report tests: shortened seed scenarios and run folders."""

from __future__ import annotations

from pathlib import Path

import yaml

import sim
from sim.scenario import load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
SCRIPT_NAME = "<script>alert(1)</script>"


def short_scenario(path: Path, name: str | None = None, description: str | None = None,
                   **horizon):
    """The scenario at ``path`` with ``horizon`` keys replaced (and optionally renamed)."""
    data = load_scenario(path).model_dump(mode="json")
    if "days" in horizon:
        data["horizon"]["months"] = None
    if "months" in horizon:
        data["horizon"]["days"] = None
    data["horizon"].update(horizon)
    if name is not None:
        data["name"] = name
    if description is not None:
        data["description"] = description
    return parse_scenario(yaml.safe_dump(data, sort_keys=False), str(path),
                          base_dir=path.parent)


def write_run(scenario, out: Path, replications: int = 2, seed: int | None = None) -> Path:
    """Simulate in-process and write the run folder."""
    return sim.run(scenario, replications=replications, seed=seed, workers=1).write(out)
