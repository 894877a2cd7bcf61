"""Interval columns in shared memory (sim.shared): the workers' parts and the bytes' parts
join into exactly the frame pd.concat gives, and a part that does not fit is never lost."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from sim.experiment import PackedReplication, ReplicationResult, _Joiner, _to_ipc, concat_frames
from sim.shared import SharedColumns, available, lookup, shareable

CHANNELS = pd.CategoricalDtype(["phone", "chat", "all"])


def part(seed: int, rows: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "interval": np.arange(rows, dtype=np.int64),
        "channel": pd.Categorical(rng.choice(["phone", "chat", "all"], rows), dtype=CHANNELS),
        "offered": rng.integers(0, 9, rows),
        "asa_s": np.where(rng.random(rows) < 0.3, np.nan, rng.random(rows) * 60),
        "replication": np.full(rows, seed, dtype=np.int64),
    })


def test_write_then_frame_and_part():
    parts = [part(i) for i in range(3)]
    columns = SharedColumns(parts[0], 6, 3)
    for p in (2, 0, 1):  # any order
        assert columns.write(p, parts[p])
    want = pd.concat(parts, ignore_index=True)
    pd.testing.assert_frame_equal(columns.frame(), want, check_exact=True)
    pd.testing.assert_frame_equal(columns.part(1), parts[1], check_exact=True)


def test_a_part_that_does_not_fit_is_refused_untouched():
    columns = SharedColumns(part(0), 6, 2)
    assert columns.write(0, part(0))
    before = columns.frame().copy()
    assert not columns.write(1, part(1, rows=5))  # other rows
    assert not columns.write(1, part(1).astype({"offered": np.float64}))  # other dtype
    other = part(1)
    other["channel"] = other["channel"].cat.add_categories(["email"])  # other categories
    assert not columns.write(1, other)
    pd.testing.assert_frame_equal(columns.frame(), before, check_exact=True)
    assert not shareable(pd.DataFrame({"note": ["a", "b"]}))


def test_joiner_takes_written_parts_and_bytes_parts():
    parts = [part(i) for i in range(4)]
    columns = SharedColumns(parts[0], 6, 4)
    joiner = _Joiner(None, 4, order=[0, 1, 2, 3], shared=columns)
    for p in (0, 3):
        assert columns.write(p, parts[p])
        joiner.mark(p)
    assert joiner.frame() is None  # not every part yet
    for p in (1, 2):
        assert joiner.add(p, _to_ipc(parts[p]))
    pd.testing.assert_frame_equal(joiner.frame(), pd.concat(parts, ignore_index=True),
                                  check_exact=True)


def test_a_misfit_bytes_part_falls_back_to_concat():
    """The join fails on a bytes part of another layout; concat_frames then joins every
    replication's own frame, the written ones read back from the shared columns."""
    parts = [part(0), part(1, rows=5)]
    columns = SharedColumns(parts[0], 6, 2)
    joiner = _Joiner(None, 2, order=[0, 1], shared=columns)
    assert columns.write(0, parts[0])
    joiner.mark(0)
    assert not joiner.add(1, _to_ipc(parts[1]))
    reps = []
    for i, frame in enumerate(parts):
        shared = {"intervals": (columns, i)} if i == 0 else {}
        packed = PackedReplication.pack(ReplicationResult(
            i, frame.head(1), None if i == 0 else frame, None, 1))
        packed.shared = ("intervals",) if i == 0 else ()
        rep = packed.unpack(shared)
        rep._joined = {"intervals": joiner}
        reps.append(rep)
    got = concat_frames(reps, "intervals")
    pd.testing.assert_frame_equal(got, pd.concat(parts, ignore_index=True), check_exact=True)


@pytest.mark.skipif(not available(), reason="local workers are not forked here")
def test_a_forked_worker_writes_where_the_client_reads():
    columns = SharedColumns(part(0), 6, 2)
    token = columns.register()
    try:
        pid = os.fork()
        if pid == 0:  # the worker: finds the mapping by its token and writes part 1
            ok = lookup(token) is not None and lookup(token).write(1, part(1))
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
    finally:
        columns.unregister()
    assert os.waitstatus_to_exitcode(status) == 0
    assert lookup(token) is None
    pd.testing.assert_frame_equal(columns.part(1), part(1), check_exact=True)
