"""Fixtures for the report tests: short runs of the seed scenarios written to run folders.

Horizons are shortened for speed by loading the scenario, changing ``horizon`` in its
``model_dump(mode="json")`` and parsing it again; two replications each.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sim.report import build_report  # noqa: E402
from tests.report.helpers import SCENARIOS, SCRIPT_NAME, short_scenario, write_run  # noqa: E402


@pytest.fixture(scope="session")
def careconnect_run(tmp_path_factory) -> Path:
    """CareConnect over 8 days (1 warm-up day + one full week), 2 replications."""
    scenario = short_scenario(SCENARIOS / "careconnect.yaml", days=8)
    return write_run(scenario, tmp_path_factory.mktemp("cc") / "run")


@pytest.fixture(scope="session")
def clinical_exchange_run(tmp_path_factory) -> Path:
    """My Clinical Exchange over 3 months (monthly figures), 2 replications."""
    scenario = short_scenario(SCENARIOS / "clinical_exchange.yaml", months=3)
    return write_run(scenario, tmp_path_factory.mktemp("cx") / "run")


@pytest.fixture(scope="session")
def script_named_run(tmp_path_factory) -> Path:
    """CareConnect (8 days) renamed to a ``<script>`` tag, with HTML in its description."""
    scenario = short_scenario(SCENARIOS / "careconnect.yaml", name=SCRIPT_NAME,
                              description='Hostile <img src=x onerror="alert(2)"> & co',
                              days=8)
    return write_run(scenario, tmp_path_factory.mktemp("xss") / "run")


@pytest.fixture(scope="session")
def built_report():
    """``build(run_dir) -> (html text, path)``: each run folder's report built once per
    session (building one takes seconds), for the tests that only read it."""
    cache: dict[Path, tuple[str, Path]] = {}

    def build(run: Path) -> tuple[str, Path]:
        if run not in cache:
            path = build_report(run)
            cache[run] = (path.read_text(encoding="utf-8"), path)
        return cache[run]

    return build


@pytest.fixture(autouse=True)
def no_show(monkeypatch):
    """Any call to show() fails the test; every figure is closed afterwards."""

    def boom(*args, **kwargs):
        raise AssertionError("a figure function called show()")

    monkeypatch.setattr(plt, "show", boom)
    monkeypatch.setattr(Figure, "show", boom)
    yield
    plt.close("all")
