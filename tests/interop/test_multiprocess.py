"""Several demo servers (two Node, one Python) sharing one FileStore folder, as a deployment
with several workers would: concurrent increments all count, a logout is never undone, and a
server killed with SIGKILL in the middle of its commits blocks nobody and corrupts nothing.

The servers are started here as subprocesses on free ports; only the standard library is
used on the client side.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "demo"))
from test_sessions_demo import Server  # noqa: E402


@pytest.fixture
def cluster():
    with tempfile.TemporaryDirectory() as store:
        servers = [Server("node", store), Server("node", store), Server("python", store)]
        try:
            yield store, servers
        finally:
            for s in servers:
                s.stop()


def increment(server: Server, token: str, key: str = "hits"):
    status, body, _ = server.call("SessionApi.IncrementCounter", {"key": key}, token)
    return status, body


def test_three_processes_count_every_one_of_300_concurrent_increments(cluster):
    store, servers = cluster
    token = servers[0].login("user1", "pass1")
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=30) as pool:
        results = list(pool.map(lambda i: increment(servers[i % 3], token), range(300)))
    elapsed = time.perf_counter() - started
    failures = [r for r in results if r[0] != 200]
    assert not failures, failures[:5]
    values = sorted(body["value"] for _, body in results)
    # Each increment saw a distinct count: none was lost, none applied twice.
    assert values == list(range(1, 301))
    for s in servers:
        assert s.call("SessionApi.GetValue", {"key": "hits"}, token)[1] == {"key": "hits", "value": 300}
    print(f"\n300 increments over 3 processes in {elapsed:.2f} s")


def test_a_logout_racing_other_processes_is_never_undone(cluster):
    store, servers = cluster
    token = servers[0].login("user1", "pass1")
    session_id = token.split(".")[0]
    assert increment(servers[1], token)[0] == 200
    logged_out = threading.Event()
    after_logout: list[int] = []

    def hammer(i: int) -> int:
        seen_logout = logged_out.is_set()
        status, _ = increment(servers[1 + i % 2], token)
        if seen_logout:
            after_logout.append(status)
        return status

    with ThreadPoolExecutor(max_workers=20) as pool:
        futures = [pool.submit(hammer, i) for i in range(200)]
        time.sleep(0.05)
        assert servers[0].call("Logout", {}, token)[0] == 200
        logged_out.set()
        statuses = [f.result() for f in futures]
    assert set(statuses) <= {200, 401}, statuses
    assert after_logout and set(after_logout) == {401}, "requests after the logout must fail"
    for s in servers:
        assert s.call("SessionApi.ListKeys", {}, token)[0] == 401
    # Nothing brought the record back: not in any process, not on disk.
    time.sleep(0.2)
    assert not (Path(store) / f"{session_id}.json").exists()


def test_a_server_killed_mid_commit_blocks_nobody_and_corrupts_nothing(cluster):
    store, servers = cluster
    token = servers[0].login("user1", "pass1")
    victim = servers[1]
    ok = []
    lock = threading.Lock()

    def hammer(i: int) -> None:
        target = servers[i % 3]
        try:
            status, body = increment(target, token)
        except OSError:
            return  # the victim's connections die with it
        if status == 200:
            with lock:
                ok.append(body["value"])

    with ThreadPoolExecutor(max_workers=30) as pool:
        futures = [pool.submit(hammer, i) for i in range(150)]
        time.sleep(0.15)
        os.kill(victim.proc.pid, signal.SIGKILL)
        for f in futures:
            f.result()
    victim.proc.wait(timeout=10)
    # The survivors go on at once, whatever the victim held.
    started = time.perf_counter()
    for i in range(20):
        status, body = increment(servers[0 if i % 2 else 2], token)
        assert status == 200, body
        ok.append(body["value"])
    assert time.perf_counter() - started < 15
    final = servers[2].call("SessionApi.GetValue", {"key": "hits"}, token)[1]["value"]
    # Every answered increment counted; at most the ones the victim never answered extra.
    assert len(set(ok)) == len(ok), "no count was handed out twice"
    assert final >= len(ok) and final == max(ok)
    record = json.loads((Path(store) / f"{token.split('.')[0]}.json").read_bytes())
    assert record["data"]["hits"] == final
    leftovers = [p.name for p in Path(store).iterdir() if p.name.endswith(".lock")]
    print(f"\nkilled mid-run: {len(ok)} increments answered, final {final}, lock files left {leftovers}")
