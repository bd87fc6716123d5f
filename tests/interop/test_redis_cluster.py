"""Demo servers in three languages (two Node, one Python, one Rust) sharing one Redis, as a
deployment with several machines would: concurrent increments all count, a logout is never
undone, every language writes the same bytes, and Redis stopped and restarted mid-run costs
errors while it is down (never a crash) and nothing after.

The redis-server and the demo servers are started here on free ports.
"""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "demo"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from redis_server import RedisServer  # noqa: E402
from test_sessions_demo import Server  # noqa: E402


@pytest.fixture
def cluster():
    redis = RedisServer()
    servers = []
    try:
        for kind in ["node", "node", "python", "rust"]:
            servers.append(Server(kind, redis_url=redis.url))
        yield redis, servers
    finally:
        for s in servers:
            s.stop()
        redis.close()


def increment(server: Server, token: str, key: str = "hits"):
    status, body, _ = server.call("SessionApi.IncrementCounter", {"key": key}, token)
    return status, body


def session_key(token: str) -> str:
    return "tenure:s:{" + token.split(".")[0] + "}"


def test_four_processes_in_three_languages_count_every_one_of_300_concurrent_increments(cluster):
    redis, servers = cluster
    token = servers[0].login("user1", "pass1")
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=40) as pool:
        results = list(pool.map(lambda i: increment(servers[i % 4], token), range(300)))
    elapsed = time.perf_counter() - started
    failures = [r for r in results if r[0] != 200]
    assert not failures, failures[:5]
    values = sorted(body["value"] for _, body in results)
    assert values == list(range(1, 301)), "an increment was lost or applied twice"
    for s in servers:
        assert s.call("SessionApi.GetValue", {"key": "hits"}, token)[1] == {"key": "hits", "value": 300}
    assert redis.command("HGET", session_key(token), "d:hits") == "300"
    print(f"\n300 increments over 4 processes (Node, Node, Python, Rust) on Redis in {elapsed:.2f} s")


def test_every_language_writes_the_same_bytes(cluster):
    redis, servers = cluster
    token = servers[0].login("user1", "pass1")
    value = {"b": [1, 2.5, None, True], "a": "Ann \u00e9", "n": -7}
    for s in servers[1:]:
        status, _, _ = s.call("SessionApi.SetValue", {"key": f"k_{s.kind}", "value": value}, token)
        assert status == 200
    fields = redis.command("HGETALL", session_key(token))
    stored = dict(zip(fields[::2], fields[1::2]))
    texts = {stored[f"d:k_{s.kind}"] for s in servers[1:]}
    assert len(texts) == 1, texts
    assert stored["principal"] == "user1"
    # Every server reads what the others wrote.
    for s in servers:
        for w in servers[1:]:
            assert s.call("SessionApi.GetValue", {"key": f"k_{w.kind}"}, token)[1]["value"] == value


def test_a_logout_racing_other_processes_is_never_undone(cluster):
    redis, servers = cluster
    token = servers[0].login("user1", "pass1")
    assert increment(servers[1], token)[0] == 200
    logged_out = threading.Event()
    after_logout: list[int] = []

    def hammer(i: int) -> int:
        seen_logout = logged_out.is_set()
        status, _ = increment(servers[1 + i % 3], token)
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
    time.sleep(0.2)
    for s in servers:
        assert s.call("SessionApi.ListKeys", {}, token)[0] == 401
    assert redis.command("EXISTS", session_key(token)) == 0, "the session came back"


def test_redis_stopped_and_restarted_mid_run(cluster):
    redis, servers = cluster
    token = servers[0].login("user1", "pass1")
    assert increment(servers[1], token)[0] == 200
    redis.stop()
    down = [increment(s, token)[0] for s in servers]
    assert all(500 <= st < 600 for st in down), down
    assert all(s.proc.poll() is None for s in servers), "a server crashed"
    redis.start()
    # This Redis keeps nothing across restarts: the session is gone, and service resumes.
    deadline = time.time() + 15
    while True:
        statuses = [increment(s, token)[0] for s in servers]
        if all(st == 401 for st in statuses):
            break
        assert time.time() < deadline, statuses
        time.sleep(0.2)
    token = servers[2].login("user2", "pass2")
    for i in range(8):
        status, body = increment(servers[i % 4], token)
        assert status == 200, body
    assert servers[3].call("SessionApi.GetValue", {"key": "hits"}, token)[1]["value"] == 8
