"""Engines that turn shards into parquet files: ``local`` (this process, or worker processes that die with it) and
``ray`` (one Ray task per shard, on a cluster or a local ``ray.init()``).

Both write each shard with ``lcgen.shards.write_shard`` from the same rows, so their files are byte-identical; the
driver only gathers the shards' records, in layout order, for the card.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .errors import ParamError
from .shards import Shard, ShardStats, write_shard

ENGINES = ("local", "ray")
RAY_RETRIES = 3  # a task whose worker died (killed, out of memory, a lost node) is run again this many times

Progress = Callable[[int, int], None]  # (rows, tokens) newly written


def run_local(folder: Path, shards: Sequence[Shard], workers: int, difficulty: tuple[str, ...], schema: Any,
              progress: Progress | None = None) -> Iterator[tuple[Shard, ShardStats]]:
    """Shards in layout order; their samples are built by ``workers`` processes (in this one for 1), at most a few
    per worker in flight, so memory does not grow with the run."""
    from .make import build_sample

    specs = (spec for shard in shards for spec in shard.specs())
    total = sum(shard.n for shard in shards)
    rows = _rows(specs, build_sample, workers, total)
    try:
        for shard in shards:
            taken = itertools.islice(rows, shard.n)
            yield shard, write_shard(folder, shard, _reported(taken, progress), difficulty, schema)
    finally:
        rows.close()  # on an error or Ctrl-C: stops the workers now


def _reported(rows: Iterator[dict[str, Any]], progress: Progress | None) -> Iterator[dict[str, Any]]:
    for row in rows:
        yield row
        if progress is not None:
            progress(1, row["length"])


def _rows(specs: Iterator[Any], build: Callable[[Any], dict[str, Any]], workers: int,
          total: int) -> Iterator[dict[str, Any]]:
    if workers <= 1 or total <= 1:
        for spec in specs:
            yield build(spec)
        return
    from .workers import ordered_map, worker_pool

    with worker_pool(min(workers, total)) as pool:
        yield from ordered_map(pool, build, specs, window=4 * min(workers, total))


def run_ray(folder: Path, shards: Sequence[Shard], address: str | None, difficulty: tuple[str, ...], schema: Any,
            progress: Progress | None = None) -> Iterator[tuple[Shard, ShardStats]]:
    """Shards as their Ray tasks finish (any order). Each task builds its slice of samples and writes its shard
    into ``folder``, which every node must see (one machine, or a shared file system)."""
    ray = _ray()
    started_here = False
    if not ray.is_initialized():
        _init_ray(ray, address)
        started_here = True
    try:
        tracker = ray.remote(num_cpus=0)(_Tracker).remote()
        task = ray.remote(max_retries=RAY_RETRIES, retry_exceptions=False)(_shard_task)
        cwd = os.getcwd()  # a files: haystack given as a relative path reads from here on every worker
        window = max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
        queue = list(shards)
        running: dict[Any, Shard] = {}
        seen = (0, 0)
        while queue or running:
            while queue and len(running) < window:
                shard = queue.pop(0)
                running[task.remote(str(folder), shard, difficulty, schema, tracker, cwd)] = shard
            done, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
            if progress is not None:
                now = ray.get(tracker.totals.remote())
                if now != seen:
                    progress(now[0] - seen[0], now[1] - seen[1])
                    seen = now
            for ref in done:
                shard = running.pop(ref)
                try:
                    stats = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:  # the generator's own error, raised on the worker
                    raise exc.as_instanceof_cause() from None
                except ray.exceptions.WorkerCrashedError:
                    raise RuntimeError(f"--engine ray: shard {shard.key} failed {RAY_RETRIES + 1} times (its "
                                       f"worker died each time)") from None
                yield shard, stats
    finally:
        if started_here:
            ray.shutdown()


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ParamError("--engine ray: Ray is not installed; pip install 'lcgen[ray]'") from None
    return ray


def _init_ray(ray: Any, address: str | None) -> None:
    """Join ``--ray-address`` (or RAY_ADDRESS), or start a local Ray for this run."""
    import logging
    import signal

    address = address or os.environ.get("RAY_ADDRESS") or None
    if address is not None:
        _check_reachable(address)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                 configure_logging=True)
    except ConnectionError as exc:
        raise ParamError(f"--ray-address: cannot reach a Ray cluster at {address} "
                         f"({str(exc).splitlines()[0]})") from None
    finally:
        for sig, handler in handlers.items():  # Ray's driver takes SIGTERM for itself; lcgen's own cleanup stays
            if handler is not None:
                signal.signal(sig, handler)


def _check_reachable(address: str) -> None:
    """A HOST:PORT that nothing answers on is refused in one line (Ray itself would retry for minutes, logging)."""
    import socket

    host, sep, port = address.rpartition(":")
    if address in ("auto", "local") or "://" in address or not sep or not port.isdigit():
        return  # Ray's own forms: it resolves and reports them
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        raise ParamError(f"--ray-address: nothing answers at {address} ({exc.strerror or exc}); start the cluster "
                         f"(ray start --head) or give its address") from None


class _Tracker:
    """Rows and tokens each shard has written so far (a retried shard starts again from 0)."""

    def __init__(self) -> None:
        self.by_shard: dict[str, tuple[int, int]] = {}

    def set(self, key: str, rows: int, tokens: int) -> None:
        self.by_shard[key] = (rows, tokens)

    def totals(self) -> tuple[int, int]:
        return (sum(r for r, _ in self.by_shard.values()), sum(t for _, t in self.by_shard.values()))


def _shard_task(folder: str, shard: Shard, difficulty: tuple[str, ...], schema: Any, tracker: Any,
                cwd: str) -> ShardStats:
    """One Ray task: build the shard's samples and write its file (under a temporary name, renamed at the end)."""
    from .make import build_sample

    if os.path.isdir(cwd):
        os.chdir(cwd)
    done = [0, 0, time.monotonic()]

    def reported(rows: int, tokens: int) -> None:
        done[0] += rows
        done[1] += tokens
        if time.monotonic() - done[2] > 0.5 or done[0] == shard.n:
            tracker.set.remote(shard.key, done[0], done[1])
            done[2] = time.monotonic()

    rows = (build_sample(spec) for spec in shard.specs())
    return write_shard(Path(folder), shard, _reported(rows, reported), difficulty, schema)
