"""The kernel's enums (ext/_types.pxd, via sim._kernel) mirror sim.model exactly."""

from __future__ import annotations

import pytest

from sim.model import (
    CAPACITY_UNITS,
    FOLLOWUP_BASE,
    NO_AGENT,
    POOL_BLOCK,
    ArrivalPolicy,
    ContactKind,
    EventKind,
    Fate,
    Outcome,
    PullPolicy,
)

_kernel = pytest.importorskip("sim._kernel", reason="compiled kernel not built")


def _names_in_value_order(enum) -> tuple[str, ...]:
    # The kernel's tuples list names in value order (index == value); so must the model's
    # enums be 0..n-1 for the comparison to cover the values too.
    members = sorted(enum, key=lambda m: m.value)
    assert [m.value for m in members] == list(range(len(members)))
    return tuple(m.name for m in members)


def test_event_order_mirrors_model():
    assert _kernel.EVENT_ORDER == tuple(k.name for k in EventKind)
    assert _kernel.EVENT_ORDER == _names_in_value_order(EventKind)


@pytest.mark.parametrize(
    ("kernel_attr", "enum"),
    [
        ("OUTCOME_NAMES", Outcome),
        ("ARRIVAL_POLICY_NAMES", ArrivalPolicy),
        ("PULL_POLICY_NAMES", PullPolicy),
    ],
)
def test_enum_mirrors_model(kernel_attr, enum):
    assert getattr(_kernel, kernel_attr) == _names_in_value_order(enum)


def test_constants_mirror_model():
    assert _kernel.CAPACITY_UNITS == CAPACITY_UNITS
    assert _kernel.NO_AGENT == NO_AGENT


@pytest.mark.parametrize(("kernel_attr", "enum"), [("CONTACT_KIND_NAMES", ContactKind),
                                                   ("FATE_NAMES", Fate)])
def test_journey_enums_mirror_model(kernel_attr, enum):
    assert getattr(_kernel, kernel_attr) == _names_in_value_order(enum)


def test_journey_constants_mirror_model():
    assert _kernel.FOLLOWUP_BASE == FOLLOWUP_BASE
    assert _kernel.POOL_BLOCK == POOL_BLOCK
