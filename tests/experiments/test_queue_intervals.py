"""Per-queue interval rows: kept for short runs, omitted for long ones, nothing else changes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
from sim.cli import main
from sim.compile import compile_scenario
from sim.experiment import QUEUE_INTERVALS_MAX, keep_queue_intervals
from sim.scenario import load_scenario
from tests.report.helpers import SCENARIOS, short_scenario


def _careconnect(days: int):
    return short_scenario(SCENARIOS / "careconnect.yaml", days=days)


def test_auto_rule_keeps_a_month_and_omits_a_year():
    month = compile_scenario(load_scenario("scenarios/careconnect.yaml"))
    year = compile_scenario(_careconnect(365))
    assert month.n_intervals * month.n_queues <= QUEUE_INTERVALS_MAX
    assert keep_queue_intervals(month) and not keep_queue_intervals(year)
    assert keep_queue_intervals(year, True) and not keep_queue_intervals(month, False)


def _bits_equal(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    for c in a.columns:
        x, y = a[c].to_numpy(), b[c].to_numpy()
        if x.dtype.kind == "f":
            assert np.array_equal(x.view(np.int64), y.view(np.int64)), c
        else:
            assert a[c].astype(str).equals(b[c].astype(str)), c


@pytest.mark.parametrize("engine, workers", [("kernel", 1), ("kernel", 2), ("simpy", 1)])
def test_omitting_queue_rows_changes_nothing_else(engine, workers):
    scenario = _careconnect(2)
    kept = sim.run(scenario, replications=2, engine=engine, workers=1, queue_intervals=True)
    omitted = sim.run(scenario, replications=2, engine=engine, workers=workers,
                      queue_intervals=False)
    assert (kept.intervals["queue"] != "all").any()
    assert (omitted.intervals["queue"] == "all").all()
    channel_rows = kept.intervals[kept.intervals["queue"] == "all"].reset_index(drop=True)
    _bits_equal(channel_rows, omitted.intervals)
    _bits_equal(kept.totals, omitted.totals)
    _bits_equal(kept.summary, omitted.summary)
    _bits_equal(kept.targets, omitted.targets)
    for name in ("economics", "economics_summary", "economics_targets"):
        _bits_equal(getattr(kept, name), getattr(omitted, name))
    assert not any("per-queue" in n for n in kept.manifest["notes"])
    assert any("--queue-intervals" in n for n in omitted.manifest["notes"])


def test_cli_flag_run_folder_and_report(tmp_path):
    out = tmp_path / "run"
    scenario = tmp_path / "short.yaml"
    scenario.write_text(yaml.safe_dump(
        _careconnect(2).model_dump(mode="json", exclude_none=True), sort_keys=False))
    assert main(["run", str(scenario), "-n", "2", "--workers", "1", "--quiet",
                 "--no-queue-intervals", "--out", str(out), "--report"]) == 0
    intervals = pd.read_parquet(out / "intervals.parquet")
    assert set(intervals["queue"].astype(str)) == {"all"}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert any("--queue-intervals" in n for n in summary["notes"])
    assert (out / "report.html").is_file()


@pytest.mark.parametrize("queue_intervals, contacts", [(False, True), (True, False)])
def test_arrow_concatenation_equals_pandas_concat(queue_intervals, contacts):
    from sim.experiment import PackedReplication, concat_frames, run_replication

    scenario = _careconnect(2)
    model = compile_scenario(scenario)
    packed = [PackedReplication.pack(run_replication(
        scenario, model, 3, i, keep_contacts=contacts, queue_intervals=queue_intervals))
        for i in range(3)]
    for name in ("totals", "intervals", "queue_sums", "contacts"):
        frames = [getattr(p.unpack(), name) for p in packed]
        if frames[0] is None:
            continue
        want = pd.concat(frames, ignore_index=True)
        got = concat_frames([p.unpack() for p in packed], name)
        pd.testing.assert_frame_equal(want, got, check_exact=True)
        assert list(want.dtypes) == list(got.dtypes)
        # consume: the same frame, and each replication's bytes dropped once joined
        reps = [p.unpack() for p in packed]
        pd.testing.assert_frame_equal(want, concat_frames(reps, name, consume=True),
                                      check_exact=True)
        assert not any(f"{name}.arrow" in r.files for r in reps)


@pytest.mark.parametrize("workers", [1, 2])
def test_intervals_joined_as_replications_arrive(workers):
    """run_replications joins the interval tables while the replications arrive; the frame
    equals pd.concat of each replication's own, in index order, and a join that does not
    cover exactly the replications asked for is not used."""
    from sim.executors import ExecutorSpec
    from sim.experiment import concat_frames, run_replications
    from sim.shared import available as shared_available

    scenario = _careconnect(2)
    model = compile_scenario(scenario)
    reps = run_replications(scenario, [4, 1, 3], 7, "kernel", model=model,
                            executor=ExecutorSpec.choose(workers), queue_intervals=False)
    assert [r.index for r in reps] == [1, 3, 4]
    joiner = reps[0]._joined["intervals"]
    assert joiner.frame() is not None  # every replication was joined on arrival
    if workers > 1 and shared_available():
        # the local workers wrote their intervals into the client's shared columns
        assert joiner.shared is not None and all("intervals" in r.shared for r in reps)
    want = pd.concat([r.intervals for r in run_replications(
        scenario, [1, 3, 4], 7, "kernel", model=model, queue_intervals=False)],
        ignore_index=True)
    got = concat_frames(reps, "intervals")
    pd.testing.assert_frame_equal(want, got, check_exact=True)
    assert list(want.dtypes) == list(got.dtypes)
    # a subset (or another order) is joined from the bytes instead, with the same result
    part = concat_frames(reps[1:], "intervals")
    pd.testing.assert_frame_equal(want[want.replication != 1].reset_index(drop=True), part,
                                  check_exact=True)


def test_a_stored_run_takes_the_shared_intervals_and_keeps_the_bytes(tmp_path):
    """With a ReplicationStore, local workers write the intervals into the shared columns and
    still send their bytes, which the store keeps (a resume reads them); the frames equal
    the in-process ones."""
    from sim.executors import ExecutorSpec
    from sim.experiment import ReplicationStore, concat_frames, run_replications
    from sim.shared import available as shared_available

    scenario = _careconnect(2)
    model = compile_scenario(scenario)
    store = ReplicationStore(tmp_path)
    reps = run_replications(scenario, 3, 7, "kernel", model=model, store=store,
                            executor=ExecutorSpec.choose(2), queue_intervals=False)
    joiner = reps[0]._joined["intervals"]
    if shared_available():
        assert joiner.shared is not None and joiner.frame() is not None
    assert all((store.path(i) / "intervals.arrow").exists() for i in range(3))
    want = pd.concat([r.intervals for r in run_replications(
        scenario, 3, 7, "kernel", model=model, queue_intervals=False)], ignore_index=True)
    pd.testing.assert_frame_equal(want, concat_frames(reps, "intervals"), check_exact=True)
    again = [store.load(i) for i in range(3)]  # as a resume reads them: from the bytes
    pd.testing.assert_frame_equal(want, concat_frames(again, "intervals"), check_exact=True)
