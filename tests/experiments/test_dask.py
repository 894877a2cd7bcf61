"""Dask for real: a scheduler and two workers on 127.0.0.1, the same bytes as local processes,
and a worker killed mid-run without losing or repeating a replication.

Skipped when ``dask.distributed`` is not installed (``pip install -e ".[dask]"``). Every
process started here is stopped in a ``finally``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("distributed", reason="dask.distributed is not installed "
                    "(optional extra: pip install -e '.[dask]')")

import sim  # noqa: E402
from sim.experiment import ReplicationStore  # noqa: E402
from sim.sweep import sweep  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MM1 = ROOT / "scenarios" / "textbook" / "mmc_single.yaml"
FINAL = ("summary.json", "summary.csv", "totals.parquet", "intervals.parquet")


def _dask_cli() -> list[str]:
    exe = Path(sys.executable).with_name("dask")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "dask"]


def _start(args, log: Path) -> subprocess.Popen:
    return subprocess.Popen([*_dask_cli(), *args], cwd=ROOT, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture
def cluster(tmp_path):
    """``(address, workers)``: a scheduler and two single-threaded workers, no dashboard."""
    file = tmp_path / "scheduler.json"
    procs = [_start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(file)], tmp_path / "scheduler.log")]
    try:
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            assert procs[0].poll() is None, (tmp_path / "scheduler.log").read_text()
            time.sleep(0.1)
        time.sleep(0.2)
        address = json.loads(file.read_text())["address"]
        workers = [_start(["worker", "--scheduler-file", str(file), "--nthreads", "1",
                           "--no-dashboard", "--no-nanny", "--host", "127.0.0.1"],
                          tmp_path / f"worker{i}.log") for i in range(2)]
        procs += workers
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address, workers
    finally:
        for proc in reversed(procs):
            _stop(proc)


def test_dask_cluster_same_bytes_and_survives_a_dead_worker(tmp_path, cluster):
    address, workers = cluster
    scenario = tmp_path / "mm1.yaml"
    scenario.write_text(MM1.read_text().replace("days: 6,", "days: 3,"))

    # a small sweep: the same table as local processes
    sets = ["teams.agent.headcount=1..2"]
    local = sweep(scenario, sets, replications=4, workers=2)
    remote = sweep(scenario, sets, replications=4, dask=address)
    pd.testing.assert_frame_equal(local, remote)

    # a run with a worker killed mid-way: completes, nothing lost or repeated
    n = 120
    sim.run(scenario, replications=n, workers=2, out=tmp_path / "local")
    out = tmp_path / "dask"
    cmd = [sys.executable, "-c", "import sys; from sim.cli import main; sys.exit(main())",
           "run", str(scenario), "-n", str(n), "--dask", address, "--out", str(out),
           "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(ReplicationStore(out).done()) < 10 and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.05)
        os.kill(workers[0].pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=180)
    finally:
        _stop(proc)
    assert proc.returncode == 0, err
    for name in FINAL:
        assert (out / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["replications"] == n and manifest["executor"].startswith("dask")
