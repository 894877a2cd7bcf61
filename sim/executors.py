"""Where replications run: in this process, on local processes, or on a Dask cluster.

This module owns the one code path every experiment (run, precision, compare, sweep) goes
through. Work is a list of *units* ``(key, index)``: replication ``index`` of the job
``key`` (a scenario, a sweep point). Units are grouped into tasks of several replications
of one job, so that each task runs for about :data:`TARGET_TASK_S` seconds (the first task
of each worker holds one replication, to measure their cost); a Dask scheduler spends about
1.5 ms per task, a process pool less, so tasks of a second keep the overhead negligible.

The seeds travel with each task: a task holds the job's payload (scenario, compiled model,
seed, engine) and its replication indices, and replication *i* always draws from
``SeedSequence(seed).spawn(n)[i]`` (:func:`sim.experiment.replication_seed`), so results do
not depend on the executor, the number of workers or the grouping. Only the client (this
process) handles the results; workers never write files (local workers may write interval
columns into memory the client shares with them: :mod:`sim.shared`).

Executors are ``concurrent.futures`` executors:

- ``in-process``: tasks run one at a time in this process (no pickling);
- ``processes`` (default): :class:`concurrent.futures.ProcessPoolExecutor`, one
  single-threaded worker per core; workers ignore Ctrl-C, which the client handles;
- ``dask``: a ``dask.distributed`` client's ``get_executor(pure=False)`` (identical tasks are
  otherwise merged), on an existing scheduler (``tcp://host:8786``) or a ``LocalCluster``
  (``local``: one thread per worker, no dashboard). Tasks lost with a dying worker are
  retried by the scheduler.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import gc
import math
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sim.errors import CcsimError

#: Wall time (s) a task should take at least: replications are grouped to reach it.
TARGET_TASK_S = 1.0

EXECUTORS = ("in-process", "processes", "dask")


@dataclass(frozen=True)
class ExecutorSpec:
    """Which executor to use.

    Attributes
    ----------
    kind : {"in-process", "processes", "dask"}
    workers : int
        Local processes (``processes``), or LocalCluster workers (``dask`` with ``local``).
    address : str or None
        Dask scheduler address ``tcp://host:port`` or ``"local"``.
    """

    kind: str = "processes"
    workers: int = 1
    address: str | None = None

    @classmethod
    def choose(cls, workers: int = 1, dask: str | None = None) -> ExecutorSpec:
        """``dask`` when an address is given, else processes (in-process for one worker)."""
        if dask:
            return cls("dask", max(1, workers), dask)
        return cls("processes" if workers > 1 else "in-process", max(1, workers))

    @property
    def label(self) -> str:
        return f"dask {self.address}" if self.kind == "dask" else self.kind


class InProcessExecutor(cf.Executor):
    """Runs each task when it is submitted, in this process."""

    def submit(self, fn, /, *args, **kwargs):
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future


def _worker_init() -> None:
    # One thread per process: the engines are single-threaded and numpy's BLAS is unused.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # Ctrl-C goes to the whole process group: the client stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # NOTE: the objects inherited from the client (modules, the scenario) live as long as
    # the worker: frozen, the garbage collector's full passes no longer walk them.
    gc.freeze()
    _keep_freed_memory()


def _keep_freed_memory() -> None:
    """Ask glibc's malloc to keep freed memory for reuse instead of returning it at once.

    # NOTE: every replication allocates the same large arrays again (a month of contacts,
    # the KPI arrays of a year). By default glibc maps large blocks afresh (over a threshold
    # of 128 KB that grows as they are freed) and trims the heap's top as soon as 128 KB
    # are free, so each replication faults much of its memory in again; on VMs whose freed
    # memory goes back to the host (free page reporting) a page faulted afresh costs
    # several times its copy. Kept, the pages are reused warm. Only in worker processes
    # (ours); a no-op without glibc.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 32 * 1024 * 1024)  # glibc's maximum on 64-bit systems
    mallopt(m_trim_threshold, 1024 * 1024 * 1024)


@contextlib.contextmanager
def open_executor(spec: ExecutorSpec) -> Iterator[tuple[cf.Executor, int]]:
    """Yield ``(executor, slots)``: a ``concurrent.futures`` executor and its parallelism.

    On any exception (Ctrl-C included) the executor is shut down without waiting for the
    tasks still running, and local worker processes are stopped.
    """
    if spec.kind == "in-process":
        yield InProcessExecutor(), 1
        return
    if spec.kind == "processes":
        pool = cf.ProcessPoolExecutor(max_workers=spec.workers, initializer=_worker_init)
        try:
            yield pool, spec.workers
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            # NOTE: private attribute; stops tasks already running instead of waiting for them.
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.terminate()
            raise
        else:
            pool.shutdown(wait=True)
        return
    if spec.kind == "dask":
        with _dask_client(spec) as client:
            slots = max(1, sum(client.nthreads().values()))
            yield client.get_executor(pure=False), slots
        return
    raise ValueError(f"unknown executor {spec.kind!r}; choose one of {', '.join(EXECUTORS)}")


@contextlib.contextmanager
def _dask_client(spec: ExecutorSpec):
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise CcsimError("--dask needs dask.distributed: pip install 'ccsim[dask]'") from None
    if spec.address == "local":
        cluster = LocalCluster(n_workers=spec.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, host="127.0.0.1",
                               scheduler_kwargs={"dashboard": False})
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()
        return
    try:
        client = Client(spec.address, timeout="20s")
    except OSError as exc:
        raise CcsimError(f"cannot reach the Dask scheduler at {spec.address}: {exc}") from None
    try:
        client.wait_for_workers(1, timeout=60)
        yield client
    finally:
        client.close()


def _timed(fn, payload, indices):
    t0 = time.perf_counter()
    out = fn(payload, indices)
    return out, time.perf_counter() - t0


def execute(fn: Callable, payloads: dict, units: list[tuple], spec: ExecutorSpec,
            on_result: Callable, progress: bool = False, desc: str = "replications",
            target_task_s: float = TARGET_TASK_S) -> None:
    """Run every unit through ``fn`` on the executor of ``spec``; hand results to ``on_result``.

    Parameters
    ----------
    fn : callable
        ``fn(payload, indices) -> list`` of one result per index; a module-level function
        (it is pickled to the workers).
    payloads : dict
        ``key -> payload`` (what every task of that job needs).
    units : list of (key, int)
        The replications to run; tasks take consecutive units of one key.
    spec : ExecutorSpec
    on_result : callable
        ``on_result(key, result)`` in this process, as each replication's task completes
        (in completion order, which varies; callers order by index).
    progress : bool
        Show a tqdm bar (replications done, rate, ETA) when standard error is a terminal.

    Raises
    ------
    KeyboardInterrupt
        After stopping the workers; results already handed over are kept by the caller.
    """
    queue = deque(units)
    bar = progress_bar(len(units), progress, desc)
    per_rep_s: float | None = None
    try:
        with open_executor(spec) as (executor, slots):
            inflight: dict = {}
            # in-process tasks run at submission: one at a time, so Ctrl-C loses at most one
            limit = 1 if isinstance(executor, InProcessExecutor) else 2 * slots

            def next_task():
                key = queue[0][0]
                if per_rep_s is None:
                    size = 1
                else:
                    size = math.ceil(target_task_s / max(per_rep_s, 1e-6))
                    # keep about two tasks per slot to the end, so no worker idles
                    size = max(1, min(size, len(queue) // (2 * slots)))
                indices = []
                while queue and len(indices) < size and queue[0][0] == key:
                    indices.append(queue.popleft()[1])
                return key, indices

            def fill():
                while queue and len(inflight) < limit:
                    key, indices = next_task()
                    fut = executor.submit(_timed, fn, payloads[key], indices)
                    inflight[fut] = (key, indices)

            fill()
            while inflight:
                done, _ = cf.wait(list(inflight), return_when=cf.FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: inflight[f][1][0]):
                    key, indices = inflight.pop(fut)
                    results, elapsed_s = fut.result()
                    rate = elapsed_s / len(indices)
                    per_rep_s = rate if per_rep_s is None else 0.5 * (per_rep_s + rate)
                    for res in results:
                        on_result(key, res)
                    bar.update(len(indices))
                fill()
    finally:
        bar.close()


class _NoBar:
    def update(self, n):
        pass

    def close(self):
        pass


def progress_bar(total: int, enabled: bool, desc: str = "replications"):
    """A tqdm bar on standard error (done, rate, ETA), or nothing when not a terminal."""
    if not enabled or not sys.stderr.isatty():
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="rep", desc=desc, file=sys.stderr)
