"""Where experiment runs execute: in-process, local worker processes, or a Dask cluster.

The coordinator alone writes to the results store; executors only compute. Every
non-timing run executes with BLAS and numba limited to one thread (`run_isolated`), in
the coordinator and in any worker alike, so a run's figures are identical whichever
executor made it. Timing runs never go to an executor: the coordinator makes them
itself, one at a time, after everything else has finished (nothing runs beside them).

Starting a Dask cluster on real machines::

    dask scheduler --host 0.0.0.0 --port 8786                     # on one machine
    dask worker tcp://SCHEDULER:8786 --nworkers 2 --nthreads 1   # on each worker
    verify-sublin run --profile full --scheduler tcp://SCHEDULER:8786

Every worker needs the same verify_sublin version installed (pip install .), since runs
are sent as (experiment function, parameters, seed) and the function travels by its
qualified name. This module knows nothing of the experiments: the caller (the claims
runner, `reproduce`) passes the function in.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
from collections.abc import Callable, Iterator
from typing import Any

from .errors import InputError, check_int

__all__ = ["DaskExecutor", "InProcessExecutor", "LocalProcessExecutor", "make_executor",
           "run_isolated"]


def run_isolated(experiment: Callable[[dict, int], Any], params: dict, seed: int,
                 threads: int | None = 1, backend: str = "numpy") -> tuple:
    """Run one experiment; returns ("done", result) or ("failed", reason).

    `experiment` is the experiment function, called as ``experiment(params, seed)``
    (a module-level function, so that it pickles by name for worker processes).
    `threads` limits BLAS (threadpoolctl) and numba to that many threads (None: no limit,
    for timing runs); `backend` is the array backend the experiment trains on. Never
    raises for an experiment's own failure.
    """
    import traceback

    import numba
    from threadpoolctl import threadpool_limits

    old = numba.get_num_threads()
    args = dict(params, _backend=backend)
    try:
        if threads is not None:
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            with threadpool_limits(limits=threads):
                return "done", experiment(args, seed)
        return "done", experiment(args, seed)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # recorded as a failed run
        last = traceback.extract_tb(exc.__traceback__)[-1]
        return "failed", (f"{type(exc).__name__}: {exc} "
                          f"(at {last.filename.rsplit('/', 1)[-1]}:{last.lineno})")
    finally:
        numba.set_num_threads(old)


class InProcessExecutor:
    """Runs tasks one at a time in this process."""

    slots = 1

    def submit(self, *args) -> cf.Future:
        fut: cf.Future = cf.Future()
        fut.set_result(run_isolated(*args))
        return fut

    @staticmethod
    def as_completed(futures) -> Iterator[Any]:
        return iter(list(futures))

    def close(self) -> None:
        pass


class LocalProcessExecutor:
    """A pool of `jobs` worker processes on this machine (spawned, one thread each)."""

    def __init__(self, jobs: int):
        self.slots = check_int("--jobs", jobs, minimum=1)
        self._pool = cf.ProcessPoolExecutor(max_workers=self.slots,
                                            mp_context=mp.get_context("spawn"))

    def submit(self, *args) -> cf.Future:
        return self._pool.submit(run_isolated, *args)

    @staticmethod
    def as_completed(futures):
        return cf.as_completed(futures)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """Runs tasks on a Dask distributed cluster (the coordinator keeps the store)."""

    def __init__(self, address: str):
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise InputError("--scheduler", repr(address),
                             "a Dask scheduler address, with the 'distributed' package "
                             "installed (pip install 'verify_sublin[cluster]')") from exc
        try:
            self._client = Client(address, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise InputError("--scheduler", repr(address),
                             f"a reachable Dask scheduler ({type(exc).__name__}: {exc})") from None
        info = self._client.scheduler_info()
        self.slots = max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))

    def submit(self, *args):
        return self._client.submit(run_isolated, *args, pure=False)

    @staticmethod
    def as_completed(futures):
        from distributed import as_completed
        return as_completed(list(futures))

    def close(self) -> None:
        self._client.close()


def make_executor(jobs: int = 1, scheduler: str | None = None):
    """The executor for `--jobs N` / `--scheduler ADDRESS` (in-process for jobs = 1)."""
    if scheduler:
        return DaskExecutor(scheduler)
    jobs = check_int("--jobs", jobs, minimum=1)
    return InProcessExecutor() if jobs == 1 else LocalProcessExecutor(jobs)
