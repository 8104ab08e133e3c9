"""Running chunks: in this process, on a local process pool, or on a Dask cluster.

Every executor yields (chunk id, table) as chunks finish, in any order; the driver checkpoints each
one at once, so an interrupted scan loses at most the chunks in flight.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from ..errors import SymcheckError
from .analysis import Settings, analyze_chunk


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_serial(chunks: list, settings: Settings, task: Callable = analyze_chunk) -> Iterator:
    """``task(item, settings)`` for each item, in this process."""
    for chunk in chunks:
        yield task(chunk, settings)


def _warm() -> None:
    """Load the group and representation code (torch, e3nn) once, before workers fork from this process."""
    import numpy as np

    from ..fixed import wigner_D

    wigner_D("1o+2e", np.eye(3))


def run_pool(chunks: list, settings: Settings, workers: int, task: Callable = analyze_chunk) -> Iterator:
    """``task(item, settings)`` for each item on a local process pool, results as they finish.

    On Linux workers fork from a warmed-up driver, so they do not import the group code again;
    elsewhere they start fresh."""
    if "fork" in mp.get_all_start_methods():
        _warm()
        ctx = mp.get_context("fork")
    else:
        ctx = mp.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    try:
        pending = set()
        queue = list(chunks)
        # a bounded number of chunks in flight keeps the driver's memory bounded too
        while queue or pending:
            while queue and len(pending) < 2 * workers:
                pending.add(pool.submit(task, queue.pop(0), settings))
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()
    except BaseException:
        # interrupted (Ctrl-C, an error): drop the queued chunks; finished ones are already checkpointed
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def run_dask(chunks: list, settings: Settings, scheduler: str, workers: int | None,
             task: Callable = analyze_chunk) -> Iterator:
    """A Dask cluster: ``"local"`` starts a LocalCluster of ``workers`` single-threaded processes;
    ``"tcp://host:port"`` (or any address dask understands) connects to a running scheduler.

    Workers read their chunks from the files themselves: the paths must be visible to them.
    """
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - a dependency, but say what is missing
        raise SymcheckError("--scheduler needs dask.distributed (pip install distributed)") from None
    cluster = None
    try:
        if scheduler == "local":
            import dask

            method = "spawn"
            if "fork" in mp.get_all_start_methods():
                # as for the process pool: workers fork from a warmed-up driver instead of importing
                # torch and e3nn each (the nannies stay in this process and fork the workers)
                _warm()
                method = "fork"
            with dask.config.set({"distributed.worker.multiprocessing-method": method}):
                cluster = LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1,
                                       processes=True, dashboard_address=None)
            client = Client(cluster)
        else:
            try:
                client = Client(scheduler, timeout="30s")
            except OSError as exc:
                raise SymcheckError(f"cannot connect to the Dask scheduler at {scheduler} ({exc})") from None
        with client:
            run = uuid.uuid4().hex[:12]  # keys unique on a shared scheduler
            futures = [client.submit(task, c, settings, pure=False, key=f"symcheck-scan-{run}-{c.id}")
                       for c in chunks]
            for fut in as_completed(futures):
                yield fut.result()
                fut.release()
    finally:
        if cluster is not None:
            cluster.close()
