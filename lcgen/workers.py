"""Worker processes that die with their parent.

A killed ``lcgen make`` (``kill -9``, an OOM kill, a closed terminal) must not leave workers running: each worker
asks the kernel for SIGKILL when its parent dies (Linux), and elsewhere watches its parent from a thread. Workers
ignore SIGINT and SIGTERM, so a Ctrl-C in the terminal reaches only the parent, which cleans up and stops them.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from typing import Any

_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int, haystacks: dict[str, Any]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    armed = False
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            armed = ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if haystacks:
        from .haystack import install_haystacks

        install_haystacks(haystacks)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _loaded_haystacks() -> dict[str, Any]:
    """Haystack sources the parent already read and split, handed to each worker instead of re-reading them."""
    try:
        from .haystack import loaded_haystacks
    except ImportError:
        return {}
    return loaded_haystacks()


def ordered_map(pool: ProcessPoolExecutor, fn: Callable[[Any], Any], items: Iterable[Any],
                window: int) -> Iterator[Any]:
    """``pool.map`` in order with at most ``window`` tasks in flight (``Executor.map`` submits every item at once,
    which for a training set of millions holds every result until its turn)."""
    pending: deque[Future] = deque()
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


@contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A spawn-context process pool; on any exception (Ctrl-C, SIGTERM, an error) its workers are killed at once
    instead of finishing the queue."""
    # spawn, not fork: the parent may hold tokenizer threads, and each sample depends only on its spec anyway.
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=_die_with_parent,
        initargs=(os.getpid(), _loaded_haystacks()),
    )
    try:
        yield pool
    except BaseException:
        processes = list((getattr(pool, "_processes", None) or {}).values())
        for proc in processes:
            proc.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            proc.join(timeout=5)
        raise
    else:
        pool.shutdown(wait=True)
