"""tenure.redis against a real redis-server (started by the fixtures, see conftest.py)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import redis.asyncio
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry
from flask import Flask, jsonify, session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import tenure
import tenure.aio
import tenure.asgi
import tenure.flask
from tenure.redis import AsyncRedisStore, RedisStore

from conftest import SECRET
from redis_server import RedisServer, free_port

GOLDEN = Path(__file__).resolve().parents[2] / "tests" / "golden" / "redis" / "session.json"


#: Outage tests give up at once instead of riding out redis-py's own retries with backoff.
NO_RETRY: dict[str, Any] = {"retry": Retry(NoBackoff(), 0)}
ASYNC_NO_RETRY: dict[str, Any] = {"retry": AsyncRetry(NoBackoff(), 0)}


def sync_manager(server: RedisServer, prefix: str, client: Any = None, **kw: Any) -> tenure.SessionManager:
    client = client or redis.Redis(port=server.port, **NO_RETRY)
    return tenure.SessionManager(store=RedisStore(client, prefix=prefix), **kw)


def aio_manager(server: RedisServer, prefix: str, **kw: Any) -> tenure.aio.SessionManager:
    client = redis.asyncio.Redis(port=server.port, **ASYNC_NO_RETRY)
    return tenure.aio.SessionManager(store=AsyncRedisStore(client, prefix=prefix), **kw)


def hash_of(server: RedisServer, prefix: str, id: str) -> dict[str, str]:
    raw = redis.Redis(port=server.port, decode_responses=True).hgetall(f"{prefix}s:{{{id}}}")
    return dict(raw)


# -- what is refused ---------------------------------------------------------------------

def test_other_clients_and_bad_options_are_refused(redis_server: RedisServer) -> None:
    sync, aio = redis.Redis(port=redis_server.port), redis.asyncio.Redis(port=redis_server.port)
    with pytest.raises(TypeError, match="RedisStore takes a redis.client.Redis client, not builtins.dict"):
        RedisStore({})
    with pytest.raises(TypeError, match="use tenure.redis.AsyncRedisStore"):
        RedisStore(aio)
    with pytest.raises(TypeError, match="use tenure.redis.RedisStore"):
        AsyncRedisStore(sync)
    with pytest.raises(TypeError, match="prefix must be a str, not int"):
        RedisStore(sync, prefix=3)  # type: ignore[arg-type]
    with pytest.raises(tenure.InvalidValue, match="prefix") as e:
        RedisStore(sync, prefix="app {x}")
    assert e.value.code == "INVALID_VALUE"
    with pytest.raises(tenure.LimitExceeded, match="prefix"):
        RedisStore(sync, prefix="p" * 10_000)
    with pytest.raises(tenure.InvalidPolicy, match="grace"):
        RedisStore(sync, grace=-1)
    with pytest.raises(tenure.InvalidPolicy, match="tenure.aio.SessionManager"):
        tenure.SessionManager(store=AsyncRedisStore(aio))
    with pytest.raises(tenure.InvalidPolicy, match="blocking Redis client"):
        tenure.aio.SessionManager(store=RedisStore(sync))


def test_odd_replies_are_store_errors_not_crashes(redis_server: RedisServer, prefix: str) -> None:
    """A client answering with something that is not a Redis reply fails the operation
    with StoreError naming it; nothing panics."""

    class Odd(RedisStore):
        def __init__(self, reply: Any) -> None:
            super().__init__(redis.Redis(port=redis_server.port), prefix=prefix)
            self.reply = reply

        def execute(self, batch: list[list[str]]) -> list[Any]:
            return self.reply  # type: ignore[no-any-return]

    for reply, message in (
        (object(), "not a list of replies"),
        ([object()], "object, which is not a Redis reply"),
        ([b"\xff"], "not UTF-8"),
        ([2**70], "beyond i64"),
        ([], "answered 0 of 1"),
    ):
        m = tenure.SessionManager(store=Odd(reply))
        with pytest.raises(tenure.StoreError, match=message) as e:
            m.open("A" * 22)
        assert e.value.code == "STORE_ERROR"


# -- the basics, sync and asyncio ------------------------------------------------------

VALUES: dict[str, Any] = {
    "s": "text ✓", "i": -(2**63), "f": 2.0, "b": True, "n": None, "by": b"\x00\xff",
    "l": [1, [2, {"x": 1}]], "d": {"$b": "not bytes"},
}


@pytest.mark.parametrize("options", [{}, {"protocol": 2}, {"protocol": 3, "decode_responses": True}],
                         ids=["default", "resp2", "resp3-decoded"])
def test_sync_round_trip_and_every_operation(redis_server: RedisServer, prefix: str, options: dict[str, Any]) -> None:
    """Every operation over each reply shape redis-py has (RESP2, RESP3, bytes or str)."""
    clock = tenure.ManualClock(1_700_000_000)
    client = redis.Redis(port=redis_server.port, **options)
    m = sync_manager(redis_server, prefix, client, clock=clock, idle_timeout=60)
    s = m.create(principal="ann", data=VALUES)
    s.increment("views", 2)
    m.commit(s)
    got = m.open(s.id)
    assert got is not None and dict(got) == {**VALUES, "views": 2}
    assert type(got["f"]) is float and type(got["b"]) is bool
    other = m.create(principal="ann")
    assert m.count() == 2
    assert {i["id"] for i in m.sessions_of("ann")} == {s.id, other.id}
    assert m.metrics()["active"] == 2
    old = got.id
    m.regenerate(got)
    assert m.open(old) is None and m.open(got.id) is not None
    assert m.destroy_all_of("ann", except_id=got.id) == 1
    blob = m.export()
    assert m.next_deadline() == pytest.approx(clock.now() + 60)
    clock.advance(61)
    assert m.open(got.id) is None, "expired by the core's clock"
    assert m.sweep() == 0  # open already reaped it
    assert m.count() == 0
    # The export of before comes back into a fresh prefix (the clock went back).
    clock.set(1_700_000_000)
    m2 = sync_manager(redis_server, prefix + "copy:", client, clock=clock, idle_timeout=60)
    assert m2.import_(blob) == 1
    copy = m2.open(got.id)
    assert copy is not None and copy["l"] == VALUES["l"]


def test_asyncio_round_trip(redis_server: RedisServer, prefix: str) -> None:
    async def main() -> None:
        m = aio_manager(redis_server, prefix)
        s = await m.create(principal="bob", data=VALUES)
        s["more"] = 1
        await m.commit(s)
        got = await m.open(s.id)
        assert got is not None and dict(got) == {**VALUES, "more": 1}
        assert await m.count() == 1
        assert await m.destroy(s.id) is True
        assert await m.open(s.id) is None
        assert hash_of(redis_server, prefix, s.id) == {}

    asyncio.run(main())


def test_the_hash_is_the_one_rust_writes(redis_server: RedisServer) -> None:
    """tests/golden/redis/session.json is what the Rust core wrote for this session (there
    with a seeded id; the hash holds no id, so every field must match)."""
    golden = json.loads(GOLDEN.read_text())
    prefix = "tenure:"
    clock = tenure.ManualClock(1_700_000_000)
    m = tenure.SessionManager(store=RedisStore(redis.Redis(port=redis_server.port)), clock=clock)
    s = m.create(principal="ann")
    s["name"] = "Ann"
    s["cart"] = [1, 2.5]
    s.increment("views", 3)
    s.flash("info", "welcome")
    m.commit(s)
    assert sorted(hash_of(redis_server, prefix, s.id).items()) == [tuple(p) for p in golden["fields"]]
    r = redis.Redis(port=redis_server.port, decode_responses=True)
    assert r.zscore("tenure:{index}:ids", s.id) == 0
    assert s.id in r.smembers("tenure:{index}:p:ann") or any(s.id in r.smembers(k) for k in r.keys("tenure:*ann*"))
    m.destroy(s.id)


# -- concurrency -----------------------------------------------------------------------

def test_300_threads_increment_one_session(redis_server: RedisServer, prefix: str) -> None:
    """Three managers (as if three processes) share the session; 300 threads each open,
    increment and commit. Every increment counts."""
    managers = [sync_manager(redis_server, prefix) for _ in range(3)]
    sid = managers[0].create(data={"n": 0}).id
    start = threading.Barrier(300)

    def bump(i: int) -> None:
        m = managers[i % 3]
        start.wait()
        s = m.open(sid)
        assert s is not None
        s.increment("n")
        m.commit(s)

    with ThreadPoolExecutor(300) as pool:
        list(pool.map(bump, range(300)))
    final = managers[1].open(sid)
    assert final is not None and final["n"] == 300
    assert final.version >= 301


def test_300_asyncio_tasks_increment_one_session(redis_server: RedisServer, prefix: str) -> None:
    async def main() -> None:
        managers = [aio_manager(redis_server, prefix) for _ in range(3)]
        sid = (await managers[0].create(data={"n": 0})).id

        async def bump(i: int) -> None:
            m = managers[i % 3]
            s = await m.open(sid)
            assert s is not None
            s.increment("n")
            await m.commit(s)

        await asyncio.gather(*(bump(i) for i in range(300)))
        final = await managers[2].open(sid)
        assert final is not None and final["n"] == 300

    asyncio.run(main())


def test_logout_racing_increments_is_never_undone(redis_server: RedisServer, prefix: str) -> None:
    managers = [sync_manager(redis_server, prefix) for _ in range(2)]
    sid = managers[0].create(data={"n": 0}).id
    opened = [s for s in (managers[i % 2].open(sid) for i in range(200)) if s is not None]
    assert len(opened) == 200
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(201)

    def bump(i: int) -> None:
        start.wait()
        s = opened[i]
        s.increment("n")
        try:
            managers[i % 2].commit(s)
            r = "ok"
        except tenure.SessionGone:
            r = "gone"
        with lock:
            outcomes.append(r)

    def logout() -> None:
        start.wait()
        assert managers[1].destroy(sid) is True

    with ThreadPoolExecutor(201) as pool:
        futures = [pool.submit(bump, i) for i in range(200)] + [pool.submit(logout)]
        for f in futures:
            f.result()
    assert len(outcomes) == 200 and "gone" in outcomes
    assert managers[0].open(sid) is None
    assert hash_of(redis_server, prefix, sid) == {}, "a commit after the logout resurrected it"
    late = opened[0]
    late.increment("n")
    with pytest.raises(tenure.SessionGone):
        managers[0].commit(late)
    assert hash_of(redis_server, prefix, sid) == {}


# -- Redis failing -----------------------------------------------------------------------

def test_script_flush_mid_run(redis_server: RedisServer, prefix: str) -> None:
    m = sync_manager(redis_server, prefix)
    s = m.create(data={"n": 0})
    for _ in range(3):
        redis.Redis(port=redis_server.port).script_flush()
        s.increment("n")
        m.commit(s)

    async def main() -> int:
        a = aio_manager(redis_server, prefix)
        t = await a.open(s.id)
        assert t is not None
        redis.Redis(port=redis_server.port).script_flush()
        t.increment("n")
        await a.commit(t)
        u = await a.open(s.id)
        assert u is not None
        return int(u["n"])

    assert asyncio.run(main()) == 4


def test_redis_down_is_store_error_then_service_resumes() -> None:
    with RedisServer() as server:
        m = sync_manager(server, "down:")
        s = m.create(data={"n": 1})
        server.stop()
        with pytest.raises(tenure.StoreError) as e:
            m.open(s.id)
        assert e.value.code == "STORE_ERROR"
        assert isinstance(e.value.__cause__, redis.ConnectionError)
        s.increment("n")
        with pytest.raises(tenure.StoreError):
            m.commit(s)
        assert s["n"] == 2 and s.modified, "a failed commit leaves the session as it was"
        server.start()  # same port, empty (no persistence)
        assert m.open(s.id) is None
        fresh = m.create(data={"n": 5})
        assert m.open(fresh.id) is not None

        async def main() -> None:
            a = aio_manager(server, "down:")
            t = await a.create()
            server.stop()
            with pytest.raises(tenure.StoreError) as e:
                await a.open(t.id)
            assert isinstance(e.value.__cause__, redis.ConnectionError)
            server.start()
            assert await a.open(t.id) is None
            assert (await a.open((await a.create()).id)) is not None

        asyncio.run(main())


def test_asgi_answers_500_while_redis_is_down_and_recovers() -> None:
    async def views(request: Request) -> JSONResponse:
        request.session["views"] = request.session.get("views", 0) + 1
        return JSONResponse({"views": request.session["views"]})

    with RedisServer() as server:
        store = AsyncRedisStore(redis.asyncio.Redis(port=server.port, **ASYNC_NO_RETRY), prefix="asgi:")
        app = Starlette(routes=[Route("/", views)])
        app = tenure.asgi.SessionMiddleware(app, SECRET, store=store)  # type: ignore[assignment]

        async def main() -> None:
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                assert (await c.get("/")).json() == {"views": 1}
                assert (await c.get("/")).json() == {"views": 2}
                server.stop()
                r = await c.get("/")
                assert r.status_code == 500 and "set-cookie" not in r.headers
                server.start()
                # The old session died with Redis's memory: a fresh one, and the app serves.
                assert (await c.get("/")).json() == {"views": 1}
                assert (await c.get("/")).json() == {"views": 2}

        asyncio.run(main())


def test_flask_answers_500_while_redis_is_down_and_recovers() -> None:
    with RedisServer() as server:
        manager = sync_manager(server, "flask:")
        app = Flask(__name__)
        app.secret_key = SECRET
        app.permanent_session_lifetime = timedelta(minutes=30)  # the manager's idle timeout
        app.session_interface = tenure.flask.SessionInterface(manager)

        @app.route("/")
        def views():  # type: ignore[no-untyped-def]
            session["views"] = session.get("views", 0) + 1
            return jsonify(views=session["views"])

        c = app.test_client()
        assert c.get("/").json == {"views": 1}
        assert c.get("/").json == {"views": 2}
        server.stop()
        r = c.get("/")
        assert r.status_code == 500
        server.start()
        assert c.get("/").json == {"views": 1}
        assert c.get("/").json == {"views": 2}


def test_grace_keeps_the_hash_past_its_deadline_for_sweep(redis_server: RedisServer, prefix: str) -> None:
    m = tenure.SessionManager(
        store=RedisStore(redis.Redis(port=redis_server.port), prefix=prefix, grace=timedelta(minutes=5)),
        idle_timeout=60,
    )
    s = m.create()
    ttl = redis.Redis(port=redis_server.port).pttl(f"{prefix}s:{{{s.id}}}")
    assert 60_000 + 5 * 60_000 - 2_000 < ttl <= 60_000 + 5 * 60_000


# -- the demo on Redis -----------------------------------------------------------------

DEMO = Path(__file__).resolve().parents[1] / "examples" / "sessions" / "server.py"


def start_demo(redis_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(os.environ, PORT=str(port), HOST="127.0.0.1", REDIS_URL=redis_url, TENURE_SECRET=SECRET)
    proc = subprocess.Popen([sys.executable, str(DEMO)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the demo server exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}/root"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the demo server did not start")


def test_two_demo_servers_share_sessions_through_redis() -> None:
    with RedisServer() as server:
        a, url_a = start_demo(server.url)
        b, url_b = start_demo(server.url)
        try:
            with httpx.Client(timeout=10) as c:
                r = c.post(f"{url_a}/Auth", json={"UserName": "user1", "PassWord": "pass1"})
                assert r.status_code == 200
                auth = {"Authorization": f"Bearer {r.json()['session']}"}
                assert c.post(f"{url_a}/SessionApi.SetValue", json={"key": "k", "value": [1, "x"]}, headers=auth).status_code == 200
                got = c.post(f"{url_b}/SessionApi.GetValue", json={"key": "k"}, headers=auth)
                assert got.json() == {"key": "k", "value": [1, "x"]}, "server B reads what A wrote"

            def bump(i: int) -> int:
                with httpx.Client(timeout=30) as c:
                    url = url_a if i % 2 else url_b
                    r = c.post(f"{url}/SessionApi.IncrementCounter", json={"key": "n"}, headers=auth)
                    assert r.status_code == 200, r.text
                    return int(r.json()["value"])

            with ThreadPoolExecutor(50) as pool:
                values = list(pool.map(bump, range(50)))
            assert max(values) == 50
            with httpx.Client(timeout=10) as c:
                got = c.post(f"{url_a}/SessionApi.GetValue", json={"key": "n"}, headers=auth)
                assert got.json()["value"] == 50
                assert c.post(f"{url_b}/Logout", headers=auth).status_code == 200
                assert c.post(f"{url_a}/SessionApi.ListKeys", headers=auth).status_code == 401
        finally:
            for p in (a, b):
                p.terminate()
                p.wait(10)


def test_a_failed_op_collected_by_another_thread_is_not_reported(redis_server: RedisServer) -> None:
    """A StoreError kept in a reference cycle (here: a traceback through a frame that holds
    it) may be collected by any thread; the op it came from must not be part of it (an op
    dropped on another thread would be leaked and reported as an unraisable error)."""
    import gc

    reported: list[Any] = []
    hook = sys.unraisablehook
    sys.unraisablehook = reported.append
    try:
        with RedisServer() as server:
            m = sync_manager(server, "cycle:")
            s = m.create()
            server.stop()

            def fail() -> None:
                try:
                    m.open(s.id)
                except tenure.StoreError as e:
                    kept = e  # noqa: F841 (a cycle: e -> traceback -> this frame -> e)
                    return
                raise AssertionError("no StoreError")

            fail()
            gc.disable()  # collect in the other thread only
            try:
                fail()
                t = threading.Thread(target=gc.collect)
                t.start()
                t.join()
            finally:
                gc.enable()
    finally:
        sys.unraisablehook = hook
    assert not [r for r in reported if "unsendable" in str(r.exc_value)], reported


def test_sweep_reports_expiry_and_prunes_the_indexes(redis_server: RedisServer, prefix: str) -> None:
    clock = tenure.ManualClock(1_700_000_000)
    m = sync_manager(redis_server, prefix, clock=clock, idle_timeout=60)
    expired: list[str] = []
    m.on("expired", expired.append)
    old = [m.create(principal="ann").id for _ in range(3)]
    clock.advance(30)
    young = m.create(principal="ann").id
    clock.advance(31)
    assert m.sweep() == 3
    assert sorted(expired) == sorted(old)
    r = redis.Redis(port=redis_server.port, decode_responses=True)
    assert r.zrange(f"{prefix}{{index}}:ids", 0, -1) == [young]
    assert [i["id"] for i in m.sessions_of("ann")] == [young]
    assert all(hash_of(redis_server, prefix, i) == {} for i in old)
    assert m.metrics()["expired_total"] == 3
