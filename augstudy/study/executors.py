"""Where cells run: in this process, in local joblib (loky) worker processes, or on a Dask cluster.

Each executor takes tasks (a cell's config as a dict plus its id) and yields outcome dicts as cells
finish, in completion order; the driver (``runner.py``) writes them into the store. A cell that
raises becomes an outcome with ``metrics: None`` and its error; the grid goes on.
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time
import traceback
import uuid
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
             gpu_lock_dir: Optional[str] = None, gpus: Optional[list[int]] = None) -> dict:
    """Run one cell; never raises (an exception becomes an outcome with its error and traceback)."""
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
        with _cell_lock:
            if cell_fn is None:
                result = _default_cell_fn()(cfg, dataset=_dataset_for(cfg),
                                            progress=lambda epoch, loss: log.append(f"epoch {epoch} loss {loss:.4f}"))
            else:
                result = cell_fn(cfg)
        metrics = result.to_dict() if hasattr(result, "to_dict") else dict(result)
        log.append(f"status {metrics.get('status')} after {time.time() - started:.1f} s")
        if metrics.get("error"):
            log.append(f"error {metrics['error']}")
        return {"cell_id": cell_id, "metrics": metrics, "log": "\n".join(log) + "\n", "device": metrics.get("device"),
                "predictions": getattr(result, "predictions", None)}  # per-example records (augstudy/records.py)
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


def run_local(tasks: list[dict], workers: int, gpus: Optional[list[int]] = None,
              lock_dir: Optional[str] = None) -> Iterator[dict]:
    """Run tasks here (one worker) or in ``workers`` loky processes; with several GPUs, one cell per GPU.

    At most ``workers`` cells are handed out at a time, so when the driver stops (a signal, an error,
    the generator closed) no further cell starts, and the workers' process trees are killed at once.
    """
    if gpus and len(gpus) > 1:
        tasks = [{**t, "gpus": gpus, "gpu_lock_dir": lock_dir} for t in tasks]
        workers = len(gpus)
    elif gpus:
        os.environ.setdefault("CUDA_VISIBLE_DEVICES", str(gpus[0]))
    if workers <= 1 or len(tasks) <= 1:
        for t in tasks:
            yield run_task(**t)
        return
    from concurrent.futures import FIRST_COMPLETED, wait

    from joblib.externals.loky import get_reusable_executor

    executor = get_reusable_executor(max_workers=min(workers, len(tasks)), timeout=300, initializer=_init_worker)
    queue, running = list(reversed(tasks)), {}

    def submit() -> None:
        if queue:
            t = queue.pop()
            running[executor.submit(run_task, **t)] = t["cell_id"]

    finished = False
    try:
        for _ in range(min(workers, len(tasks))):
            submit()
        while running:
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for fut in done:
                cell_id = running.pop(fut)
                submit()  # before handing the outcome over: a worker does not wait for the store
                try:
                    outcome = fut.result()
                except Exception as e:  # noqa: BLE001 - a worker killed (out of memory), an unpicklable result
                    outcome = failed_outcome(cell_id, e)
                yield outcome
        finished = True
    finally:
        if not finished:  # interrupted, or the consumer stopped early: no cell may keep running
            from ..signals import kill_trees

            pids = [p.pid for p in list(getattr(executor, "_processes", {}).values())]
            executor.shutdown(wait=False, kill_workers=True)
            kill_trees(pids)


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


def run_dask(tasks: list[dict], address: str) -> Iterator[dict]:
    """Submit each task to the Dask cluster at ``address``; yield outcomes as they complete."""
    from dask.distributed import Client, as_completed

    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError) as e:
        raise AugstudyError(f"cannot reach the Dask scheduler at {address!r}: {e}") from None
    run = uuid.uuid4().hex[:8]
    try:
        futures = {client.submit(run_task, **t, pure=False, key=f"augstudy-cell-{t['cell_id']}-{run}"): t["cell_id"]
                   for t in tasks}
        try:
            for fut in as_completed(list(futures), loop=client.loop):
                try:
                    yield fut.result()
                except Exception as e:  # noqa: BLE001 - a lost worker, an unpicklable result
                    yield failed_outcome(futures[fut], e)
        finally:
            client.cancel(list(futures))
    finally:
        client.close()


def visible_gpus() -> list[int]:
    """Indices of the CUDA devices this process can see (empty without CUDA)."""
    try:
        import torch

        return list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    except Exception:  # noqa: BLE001 - no usable CUDA
        return []
