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

Interrupts: a command runs inside `sigterm_interrupts` (SIGTERM raises `Interrupted`
anywhere in it, as SIGINT raises KeyboardInterrupt); inside `interrupts_stop_the_sweep`,
SIGINT and SIGTERM raise `Interrupted` in
the coordinator and set a flag that no later code can lose: a run that fails while the
flag is set (an interrupt surfacing from compiled code as another exception) re-raises
`Interrupted` instead of being stored as failed, and the runner checks the flag between
runs. Local workers ignore SIGINT (the coordinator stops them) and exit by themselves
when the coordinator dies, even by kill -9 (Linux: parent-death signal; elsewhere a
watcher thread).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..core.errors import InputError, check_int

__all__ = ["DaskExecutor", "InProcessExecutor", "Interrupted", "LocalProcessExecutor",
           "check_interrupted", "interrupt_status", "interrupts_stop_the_sweep", "make_executor",
           "run_isolated", "sigterm_interrupts"]

#: Set by the coordinator's signal handler; cleared when a sweep starts.
_INTERRUPTED = threading.Event()
_SIGNUM = [int(signal.SIGINT)]


class Interrupted(KeyboardInterrupt):
    """The sweep was interrupted by signal `signum` (SIGINT or SIGTERM)."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)


def interrupt_status(exc: BaseException) -> signal.Signals:
    """The signal behind an interrupt (SIGINT for a plain KeyboardInterrupt)."""
    return signal.Signals(getattr(exc, "signum", signal.SIGINT))


def check_interrupted() -> None:
    """Raise `Interrupted` if an interrupt arrived (even one swallowed on its way)."""
    if _INTERRUPTED.is_set():
        raise Interrupted(_SIGNUM[0])


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """For a whole command: SIGTERM raises `Interrupted(SIGTERM)` (and sets the flag of
    `check_interrupted`), as Ctrl-C raises KeyboardInterrupt, so that a command
    terminated outside a sweep (while it renders its report, say) ends with its one line
    and status 143 instead of dying silently. Only on the main thread and only where
    SIGTERM still has its default action (a host that handles SIGTERM itself, e.g. a
    program calling `cli.main` in-process, keeps its handler); the previous handler is
    restored afterwards. Cost: O(1)."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield
        return

    def handler(signum, frame):
        _SIGNUM[0] = signum
        _INTERRUPTED.set()
        raise Interrupted(signum)

    _INTERRUPTED.clear()
    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def interrupts_stop_the_sweep(executor):
    """Run a sweep with SIGINT/SIGTERM turned into `Interrupted`, and close `executor`
    afterwards: normally (waiting for its workers), or on an interrupt by terminating
    them at once. Only the first signal raises; later ones are absorbed while the sweep
    cleans up (leases are released by the runner's own cleanup)."""
    def handler(signum, frame):
        first = not _INTERRUPTED.is_set()
        _SIGNUM[0] = signum
        _INTERRUPTED.set()
        if first:
            raise Interrupted(signum)

    _INTERRUPTED.clear()
    main = threading.current_thread() is threading.main_thread()
    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)} \
        if main else {}
    try:
        yield
        check_interrupted()
    except BaseException:
        executor.terminate()
        raise
    else:
        executor.close()
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)


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
    except Exception as exc:  # recorded as a failed run, unless an interrupt caused it
        if _INTERRUPTED.is_set():
            raise Interrupted(_SIGNUM[0]) from exc
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

    terminate = close


def _exit_with_parent(parent: int, setup: tuple | None = None) -> None:
    """Worker initializer: ignore SIGINT (the coordinator decides), and die with the
    coordinator: PR_SET_PDEATHSIG on Linux, plus a watcher thread everywhere (it covers
    a parent that died before the signal was armed, and other systems). Then
    ``setup = (function, args)``, if given, is called (the coordinator's plugins are
    loaded so, so that their experiments unpickle in the worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):    # born with SIGINT blocked: see submit()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watch, daemon=True, name="parent-watch").start()
    if setup is not None:
        setup[0](*setup[1])


class LocalProcessExecutor:
    """A pool of `jobs` worker processes on this machine (spawned, one thread each).
    Workers exit when the coordinator dies (see `_exit_with_parent`); `setup`, a
    picklable (function, args), runs in each worker as it starts."""

    def __init__(self, jobs: int, setup: tuple | None = None):
        self.slots = check_int("--jobs", jobs, minimum=1)
        self._pool = cf.ProcessPoolExecutor(max_workers=self.slots,
                                            mp_context=mp.get_context("spawn"),
                                            initializer=_exit_with_parent,
                                            initargs=(os.getpid(), setup))

    def submit(self, *args) -> cf.Future:
        """Queue a run. Workers are spawned inside this call; SIGINT is blocked meanwhile
        (as multiprocessing does for its resource tracker), so a worker is born with it
        blocked and a Ctrl-C during its start-up cannot print a traceback from it; the
        coordinator receives a pending SIGINT as soon as the call returns."""
        if not hasattr(signal, "pthread_sigmask"):
            return self._pool.submit(run_isolated, *args)
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            return self._pool.submit(run_isolated, *args)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    @staticmethod
    def as_completed(futures):
        return cf.as_completed(futures)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def terminate(self) -> None:
        """Stop the workers now (runs in progress are abandoned, not stored)."""
        procs = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            with contextlib.suppress(Exception):
                proc.terminate()
        for proc in procs:
            with contextlib.suppress(Exception):
                proc.join(5)


class DaskExecutor:
    """Runs tasks on a Dask distributed cluster (the coordinator keeps the store). The
    sweep's plugin files (`plugins`) are sent to every worker, running or joining later,
    and loaded there by `loader` (`dask_plugins.PluginFiles`), as local workers load them."""

    def __init__(self, address: str, plugins=(), loader=None):
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
        if loader is not None:
            from .dask_plugins import PluginFiles
            self._client.register_plugin(PluginFiles(plugins, loader))
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

    terminate = close


def make_executor(jobs: int = 1, scheduler: str | None = None, plugins=(), loader=None):
    """The executor for `--jobs N` / `--scheduler ADDRESS` (in-process for jobs = 1);
    every worker, local or on the cluster, calls ``loader(plugins)`` as it starts (the
    caller passes `verify_sublin.plugins.load_plugins`, which also loads the installed
    entry points), so that plugin methods and experiments run there too. Without a
    loader the workers load nothing."""
    plugins = [str(Path(p).resolve()) for p in plugins]
    if scheduler:
        return DaskExecutor(scheduler, plugins, loader)
    jobs = check_int("--jobs", jobs, minimum=1)
    if jobs == 1:
        return InProcessExecutor()
    return LocalProcessExecutor(jobs, None if loader is None else (loader, (plugins,)))
