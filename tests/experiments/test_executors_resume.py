"""Replications: same bytes whatever the executor or worker count, incremental run folders,
resume after an interruption (in-process and a real Ctrl-C on ``ccsim run``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings

import sim
from sim.api import resume
from sim.executors import ExecutorSpec
from sim.experiment import ReplicationStore, run_replications
from tests.strategies import seeds, small_scenarios

ROOT = Path(__file__).resolve().parents[2]
MM1 = ROOT / "scenarios" / "textbook" / "mmc_single.yaml"
FINAL = ("summary.json", "summary.csv", "totals.parquet", "intervals.parquet", "scenario.yaml")


def short_mm1(tmp_path: Path, days: int = 3) -> Path:
    """The M/M/1 scenario over ``days`` days (warm-up 1 day), with a target."""
    text = MM1.read_text().replace("days: 6,", f"days: {days},")
    path = tmp_path / "mm1.yaml"
    path.write_text(text + "targets: {phone: {service_level: {min: 0.5}}}\n")
    return path


def same_files(a: Path, b: Path) -> None:
    for name in FINAL:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@settings(max_examples=6)
@given(small_scenarios(), seeds())
def test_same_replications_whatever_the_executor(scn, seed):
    by_spec = {}
    for spec in (ExecutorSpec("in-process"), ExecutorSpec("processes", 2),
                 ExecutorSpec("processes", 3)):
        reps = run_replications(scn, 4, seed, "kernel", executor=spec)
        by_spec[spec] = reps
    base = by_spec[ExecutorSpec("in-process")]
    for reps in by_spec.values():
        assert [r.index for r in reps] == [0, 1, 2, 3]
        for a, b in zip(base, reps, strict=True):
            assert a.totals.equals(b.totals) and a.intervals.equals(b.intervals)


def test_run_folder_bytes_whatever_the_workers(tmp_path):
    scenario = short_mm1(tmp_path)
    sim.run(scenario, replications=7, workers=1, out=tmp_path / "w1")
    sim.run(scenario, replications=7, workers=2, out=tmp_path / "w2")
    same_files(tmp_path / "w1", tmp_path / "w2")
    # the in-memory path gives the same summary as the incremental one
    mem = sim.run(scenario, replications=7, workers=2)
    mem.write(tmp_path / "mem")
    same_files(tmp_path / "w1", tmp_path / "mem")
    assert not (tmp_path / "w1" / ".replications").exists()


def test_resume_after_an_interruption_is_byte_identical(tmp_path, monkeypatch):
    scenario = short_mm1(tmp_path)
    sim.run(scenario, replications=8, out=tmp_path / "whole")
    saved = []
    real_save = ReplicationStore.save

    def save_then_stop(self, rep):
        real_save(self, rep)
        saved.append(rep.index)
        if len(saved) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(ReplicationStore, "save", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        sim.run(scenario, replications=8, out=tmp_path / "cut")
    monkeypatch.setattr(ReplicationStore, "save", real_save)
    cut = tmp_path / "cut"
    kept = ReplicationStore(cut).done()
    assert len(kept) == 3
    assert not (cut / "summary.json").exists()

    ran = []
    real_run = sim.experiment.run_replication

    def counting(*args, **kw):
        ran.append(args[3])
        return real_run(*args, **kw)

    monkeypatch.setattr(sim.experiment, "run_replication", counting)
    resume(cut, workers=1)
    assert sorted(ran) == sorted(set(range(8)) - kept)  # nothing repeated, nothing lost
    same_files(tmp_path / "whole", cut)
    with pytest.raises(sim.errors.CcsimError, match="already complete"):
        resume(cut)


def test_ctrl_c_keeps_finished_replications_and_resume_finishes(tmp_path):
    scenario = short_mm1(tmp_path, days=4)
    out = tmp_path / "run"
    cmd = [sys.executable, "-c", "import sys; from sim.cli import main; sys.exit(main())",
           "run", str(scenario), "-n", "150", "--workers", "2", "--out", str(out), "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(ReplicationStore(out).done()) < 5 and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, err
    assert "resume" in err and "Traceback" not in err
    kept = ReplicationStore(out).done()
    assert 5 <= len(kept) < 150
    assert not (out / "summary.json").exists()
    from sim.cli import main

    assert main(["run", "--resume", str(out), "--workers", "2", "--quiet"]) == 0
    assert main(["run", "--resume", str(out), "--quiet"]) == 1  # already complete
    sim.run(scenario, replications=150, workers=2, out=tmp_path / "whole")
    same_files(tmp_path / "whole", out)
