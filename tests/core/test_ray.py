"""``--engine ray`` on a local Ray cluster the test starts: the same bytes as the local engine, also when a worker
is killed in the middle of its shard."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import threading
import time
from pathlib import Path

import pytest

from lcgen.make import MakeRequest, make
from lcgen.shards import ShardSize

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def sha256s(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def request(samples: int, shard_rows: int, length: int = 2000) -> MakeRequest:
    return MakeRequest(family="needles", lengths=[length], seed=5, variants=["single_retrieval", "multi_reasoning"],
                       depths=[10.0, 90.0], samples=samples, shard_size=ShardSize(rows=shard_rows),
                       command="lcgen make needles (test)")


def test_ray_writes_the_local_engines_bytes(cluster, tmp_path):
    make(request(7, 4), tmp_path / "local", workers=1)
    seen: list[tuple[int, int]] = []
    result = make(request(7, 4), tmp_path / "ray", engine="ray", progress=lambda r, t: seen.append((r, t)))
    assert sha256s(tmp_path / "ray") == sha256s(tmp_path / "local")
    assert len([k for k in sha256s(tmp_path / "ray") if k.endswith(".parquet")]) == 8  # 14 rows a config, 4 a shard
    assert result.samples == 28 and result.tokens == 28 * 2000
    assert sum(r for r, _ in seen) == 28 and sum(t for _, t in seen) == 28 * 2000
    assert ray.is_initialized()  # a cluster the caller started is left running


def test_a_worker_killed_mid_shard_is_retried_to_the_same_bytes(cluster, tmp_path):
    req = request(15, 15, length=8000)  # four shards of 15 rows, about half a second each
    make(req, tmp_path / "local", workers=2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            make(request(15, 15, length=8000), tmp_path / "ray", engine="ray")
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    killed = None
    deadline = time.time() + 120
    while killed is None and time.time() < deadline and thread.is_alive():
        for partial in tmp_path.glob(".ray.incomplete-*/data/*/.*.partial-*"):
            pid = int(re.search(r"\.partial-(\d+)$", partial.name).group(1))
            assert pid != os.getpid()  # the shard is written by a Ray worker, not the driver
            os.kill(pid, signal.SIGKILL)
            killed = pid
            break
        time.sleep(0.005)
    thread.join(timeout=300)
    assert killed is not None, "no shard was caught while being written"
    assert not errors, errors
    assert sha256s(tmp_path / "ray") == sha256s(tmp_path / "local")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["local", "ray"]


def test_ray_missing_is_one_line(tmp_path, monkeypatch):
    import builtins

    from lcgen.errors import ParamError

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray":
            raise ImportError("no ray")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(ParamError, match=r"pip install 'lcgen\[ray\]'"):
        make(request(1, 1), tmp_path / "x", engine="ray")
    assert not list(tmp_path.iterdir())


def test_an_unreachable_ray_address_is_one_line(tmp_path):
    import socket
    import subprocess
    import sys

    from tests.checks import assert_one_line

    with socket.socket() as s:  # a port on this machine that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = subprocess.run([sys.executable, "-c", "from lcgen.cli.main import main; main()", "make", "needles",
                          "--len", "2k", "--engine", "ray", "--ray-address", f"127.0.0.1:{port}", "--out", "x"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert_one_line(res, "--ray-address", f"127.0.0.1:{port}")
    assert sorted(p.name for p in tmp_path.iterdir()) == []
