"""Where cells run: in this process, in local joblib (loky) worker processes, or on a Dask cluster.

Each executor is a pool (:class:`LocalPool`, :class:`DaskPool`): the driver (``runner.py``) submits
tasks (a cell's config as a dict plus its id) one at a time and takes outcome dicts back as cells
finish, in completion order, so a new cell can start as soon as any one finishes (a search asks its next
trial then, not after a whole wave). A cell that raises becomes an outcome with ``metrics: None`` and
its error; the grid goes on. A task may carry ``stop_at_epoch`` and ``resume`` (a checkpoint's bytes):
the cell then trains that far and comes back ``paused`` with its ``checkpoint``.
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time
import traceback
import uuid
from collections import deque
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from ..errors import AugstudyError

CellFn = Callable[..., Any]

_dataset_cache: dict[str, Any] = {}  # per process: the last dataset loaded, by its config
_gpu_claim: Optional[Any] = None  # per process: the open lock file of the GPU this worker owns
#: One cell at a time per process: a multi-threaded Dask worker must not interleave cells, which set
#: process-wide state (torch threads, the global RNG while initialising weights).
_cell_lock = threading.Lock()


def _default_cell_fn() -> CellFn:
    from ..train import run_cell

    return run_cell


def _dataset_for(config) -> Any:
    """The cell's dataset, loaded (or opened for streaming) once per process and reused by the following cells."""
    from ..data import open_dataset

    d = config.dataset
    key = json.dumps(d.model_dump(mode="json"), sort_keys=True)
    if key not in _dataset_cache:
        _dataset_cache.clear()
        _dataset_cache[key] = open_dataset(d.name, d.params, d.stream, d.memory_budget, d.loader_workers)
    return _dataset_cache[key]


def _claim_gpu(lock_dir: str, gpus: list[int]) -> int:
    """Own one GPU slot for the life of this worker process (an flock, freed when the process dies)."""
    global _gpu_claim
    import fcntl

    if _gpu_claim is not None:
        return _gpu_claim[1]
    for slot, gpu in enumerate(gpus):  # a GPU listed twice takes two cells at once
        f = open(Path(lock_dir) / f".gpu-slot{slot}.lock", "w")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            continue
        _gpu_claim = (f, gpu)
        os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu)  # before this process first touches CUDA
        return gpu
    raise RuntimeError(f"no free GPU among {gpus}: each worker process owns one")


def run_task(config: dict, cell_id: str, cell_fn: Optional[CellFn] = None,
             gpu_lock_dir: Optional[str] = None, gpus: Optional[list[int]] = None,
             stop_at_epoch: Optional[int] = None, resume: Optional[bytes] = None) -> dict:
    """Run one cell; never raises (an exception becomes an outcome with its error and traceback).

    ``stop_at_epoch`` / ``resume`` go to the trainer (a ``cell_fn`` gets them as keywords, only when set).
    """
    from ..ops import load_plugins
    from ..train.config import CellConfig

    started = time.time()
    log = [f"cell {cell_id} on {socket.gethostname()} pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}"]
    try:
        if gpus:
            log.append(f"gpu {_claim_gpu(gpu_lock_dir or '.', gpus)}")
        if config["training"].get("threads") is None:
            config = {**config, "training": {**config["training"], "threads": _dask_worker_threads()}}
        cfg = CellConfig.model_validate(config)
        log.append(f"config {json.dumps(cfg.canonical(), sort_keys=True)}")
        if cfg.plugins:
            load_plugins(cfg.plugins)
        segment = {k: v for k, v in (("stop_at_epoch", stop_at_epoch), ("resume", resume)) if v is not None}
        if segment:
            log.append(f"segment: up to epoch {stop_at_epoch or 'the last'}" + (", resumed" if resume else ""))
        with _cell_lock:
            if cell_fn is None:
                result = _default_cell_fn()(cfg, dataset=_dataset_for(cfg), **segment,
                                            progress=lambda epoch, loss: log.append(f"epoch {epoch} loss {loss:.4f}"))
            else:
                result = cell_fn(cfg, **segment)
        metrics = result.to_dict() if hasattr(result, "to_dict") else dict(result)
        checkpoint = getattr(result, "checkpoint", None) if hasattr(result, "to_dict") else metrics.pop("checkpoint", None)
        log.append(f"status {metrics.get('status')} after {time.time() - started:.1f} s")
        if metrics.get("error"):
            log.append(f"error {metrics['error']}")
        return {"cell_id": cell_id, "metrics": metrics, "log": "\n".join(log) + "\n", "device": metrics.get("device"),
                "predictions": getattr(result, "predictions", None),  # per-example records (augstudy/records.py)
                "checkpoint": checkpoint}
    except Exception as e:  # noqa: BLE001 - recorded as a failed cell
        tb = traceback.format_exc()
        log += [f"failed after {time.time() - started:.1f} s", tb]
        return {"cell_id": cell_id, "metrics": None, "error": f"{type(e).__name__}: {e}", "traceback": tb,
                "log": "\n".join(log) + "\n"}


def _dask_worker_threads() -> Optional[int]:
    """Inside a Dask worker: its thread count (cells run one at a time, each using all of them)."""
    try:
        from distributed import get_worker

        return get_worker().state.nthreads
    except (ImportError, ValueError, AttributeError):
        return None


def failed_outcome(cell_id: str, error: BaseException) -> dict:
    msg = f"{type(error).__name__}: {error}"
    return {"cell_id": cell_id, "metrics": None, "error": msg, "traceback": msg, "log": msg + "\n"}


class LocalPool:
    """Cells here (``workers`` <= 1: one at a time, in this process) or in ``workers`` loky processes; with
    several GPUs, one cell per GPU. ``submit`` queues a task, ``next`` returns the next outcome to finish.

    At most ``workers`` cells are handed out at a time, so when the driver stops (a signal, an error,
    the pool closed with work left) no further cell starts, and the workers' process trees are killed at once.
    """

    def __init__(self, workers: int, gpus: Optional[list[int]] = None, lock_dir: Optional[str] = None) -> None:
        self.extra: dict = {}
        if gpus and len(gpus) > 1:
            self.extra = {"gpus": gpus, "gpu_lock_dir": lock_dir}
            workers = len(gpus)
        elif gpus:
            os.environ.setdefault("CUDA_VISIBLE_DEVICES", str(gpus[0]))
        self.workers = max(1, workers)
        self._queue: deque = deque()
        self._running: dict = {}  # future -> cell id
        self._executor = None

    def __len__(self) -> int:
        """Tasks submitted and not yet returned by :meth:`next`."""
        return len(self._queue) + len(self._running)

    def submit(self, task: dict) -> None:
        self._queue.append({**task, **self.extra})
        self._dispatch()

    def _dispatch(self) -> None:
        if self.workers <= 1:
            return
        if self._executor is None:
            from joblib.externals.loky import get_reusable_executor

            # loky keeps its workers between studies of one process (a notebook, the tests) and reuses them
            # while its arguments are the same; the environment is one of them, so workers never run a cell
            # under variables from before they changed (CUDA_VISIBLE_DEVICES, a plugin's settings)
            self._executor = get_reusable_executor(max_workers=self.workers, timeout=300, initializer=_init_worker,
                                                   env=dict(os.environ))
        while self._queue and len(self._running) < self.workers:
            t = self._queue.popleft()
            self._running[self._executor.submit(run_task, **t)] = t["cell_id"]

    def next(self) -> dict:
        """The outcome of the next cell to finish (blocks); a freed worker gets the next queued task first."""
        if self.workers <= 1:
            return run_task(**self._queue.popleft())
        from concurrent.futures import FIRST_COMPLETED, wait

        done, _ = wait(list(self._running), return_when=FIRST_COMPLETED)
        fut = min(done, key=lambda f: list(self._running).index(f))  # of several done, the first submitted
        cell_id = self._running.pop(fut)
        self._dispatch()  # before handing the outcome over: a worker does not wait for the store
        try:
            return fut.result()
        except Exception as e:  # noqa: BLE001 - a worker killed (out of memory), an unpicklable result
            return failed_outcome(cell_id, e)

    def close(self) -> None:
        """Drop queued tasks; with cells still running (interrupted), kill the workers' process trees."""
        self._queue.clear()
        if self._running and self._executor is not None:
            from ..signals import kill_trees

            pids = [p.pid for p in list(getattr(self._executor, "_processes", {}).values())]
            self._executor.shutdown(wait=False, kill_workers=True)
            kill_trees(pids)
        self._running.clear()


def run_local(tasks: list[dict], workers: int, gpus: Optional[list[int]] = None,
              lock_dir: Optional[str] = None) -> Iterator[dict]:
    """Run ``tasks`` in a :class:`LocalPool` of ``workers`` (at most one a task); yield outcomes as they finish."""
    yield from _drain(LocalPool(min(workers, len(tasks)), gpus=gpus, lock_dir=lock_dir), tasks)


def _drain(pool, tasks: list[dict]) -> Iterator[dict]:
    try:
        for t in tasks:
            pool.submit(t)
        while len(pool):
            yield pool.next()
    finally:
        pool.close()


def _init_worker() -> None:
    """Each loky worker: Ctrl-C is the driver's to handle; no restart on loky's memory-growth heuristic.

    loky restarts a worker whose memory grew by 300 MB since its first task and warns "A worker
    stopped while some jobs were given to the executor". Our workers grow by design (each keeps its
    dataset cache and torch's allocator pools across cells): a restart only costs a torch import and a
    dataset load, and the warning interleaves with the progress display.
    """
    from ..signals import ignore_interrupts_in_worker

    ignore_interrupts_in_worker()
    try:
        from joblib.externals.loky import process_executor

        process_executor._USE_PSUTIL = False  # the leak check runs only where psutil is importable
    except (ImportError, AttributeError):  # pragma: no cover - another loky
        pass


class DaskPool:
    """Cells on the Dask cluster at ``address``: ``submit`` sends a task, ``next`` returns the next to finish."""

    def __init__(self, address: str) -> None:
        from dask.distributed import Client, as_completed

        try:
            self.client = Client(address, timeout="10s", set_as_default=False)
        except (OSError, TimeoutError) as e:
            raise AugstudyError(f"cannot reach the Dask scheduler at {address!r}: {e}") from None
        self._run = uuid.uuid4().hex[:8]
        self._futures: dict = {}  # future -> cell id
        self._done = as_completed([], loop=self.client.loop)
        self._n = 0

    def __len__(self) -> int:
        return len(self._futures)

    def submit(self, task: dict) -> None:
        self._n += 1  # a cell resubmitted (its next segment) gets a key of its own
        fut = self.client.submit(run_task, **task, pure=False, key=f"augstudy-cell-{task['cell_id']}-{self._run}-{self._n}")
        self._futures[fut] = task["cell_id"]
        self._done.add(fut)

    def next(self) -> dict:
        fut = next(self._done)
        cell_id = self._futures.pop(fut)
        try:
            return fut.result()
        except Exception as e:  # noqa: BLE001 - a lost worker, an unpicklable result
            return failed_outcome(cell_id, e)

    def close(self) -> None:
        try:
            if self._futures:
                self.client.cancel(list(self._futures))
            self._futures.clear()
        finally:
            self.client.close()


def run_dask(tasks: list[dict], address: str) -> Iterator[dict]:
    """Submit each task to the Dask cluster at ``address``; yield outcomes as they complete."""
    yield from _drain(DaskPool(address), tasks)


def visible_gpus() -> list[int]:
    """Indices of the CUDA devices this process can see (empty without CUDA)."""
    try:
        import torch

        return list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    except Exception:  # noqa: BLE001 - no usable CUDA
        return []
