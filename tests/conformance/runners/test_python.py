"""Runs every conformance scenario through the Python package (format: ../README.md)."""

from __future__ import annotations

import asyncio
import base64
import inspect
import itertools
import json
import math
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, Optional

import pytest
import redis
import redis.asyncio

import tenure
import tenure.aio
from tenure.redis import AsyncRedisStore, RedisStore
from tenure.stores import AsyncDictStore

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "python" / "tests"))
from redis_server import RedisServer  # noqa: E402

SCENARIOS = sorted((Path(__file__).parent.parent / "scenarios").glob("*.json"))


def test_there_are_enough_scenarios() -> None:
    assert len(SCENARIOS) >= 40


def to_py(j: Any) -> Any:
    """Scenario JSON (with $f, $i, $b, $k tags) to a Python value."""
    if isinstance(j, list):
        return [to_py(x) for x in j]
    if isinstance(j, dict):
        if len(j) == 1:
            (k, v), = j.items()
            if k == "$f":
                return {"NaN": math.nan, "inf": math.inf, "-inf": -math.inf}.get(v, v) if isinstance(v, str) else float(v)
            if k == "$i":
                return int(v)
            if k == "$b":
                return base64.b64decode(v)
            if k == "$k":
                return {kk: to_py(vv) for kk, vv in v.items()}
        return {k: to_py(v) for k, v in j.items()}
    return j


def same(a: Any, b: Any) -> bool:
    """Equal, with exact types (an int is not a float, a bool is not an int)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return a == b


def ms(v: Optional[int]) -> Any:
    return None if v is None else timedelta(milliseconds=v)


class Blocking:
    """A ``tenure.aio.SessionManager`` driven from the synchronous steps below: each
    coroutine runs to completion on the run's own event loop."""

    def __init__(self, manager: tenure.aio.SessionManager, loop: asyncio.AbstractEventLoop) -> None:
        self.manager = manager
        self.loop = loop

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.manager, name)
        if inspect.iscoroutinefunction(attr):
            return lambda *a, **k: self.loop.run_until_complete(attr(*a, **k))
        return attr


#: The managers every scenario runs through: the sync one, and tenure.aio on the memory
#: store and on an asynchronous store (every request yields to the event loop); both over
#: a real redis-server (tenure.redis, each manager under a key prefix of its own).
DRIVERS = ["sync", "aio-memory", "aio-store", "sync-redis", "aio-redis"]

_prefixes = itertools.count()
#: The port of the redis-server the `redis_port` fixture started.
_redis_port: list[int] = []


@pytest.fixture(scope="module")
def redis_port() -> Iterator[int]:
    with RedisServer() as server:
        _redis_port.append(server.port)
        yield server.port
        _redis_port.remove(server.port)


def make_manager(policy: dict[str, Any], clock: tenure.ManualClock, driver: str = "sync",
                 loop: Optional[asyncio.AbstractEventLoop] = None) -> Any:
    kw: dict[str, Any] = {"clock": clock}
    for key in ("idle_timeout", "absolute_timeout", "touch_interval"):
        if key in policy:
            kw[key] = ms(policy[key])
    for key in ("max_sessions", "max_data_bytes", "max_key_bytes", "max_depth", "id_bytes", "on_full"):
        if key in policy:
            kw[key] = policy[key]
    prefix = f"conf{next(_prefixes)}:"
    if driver == "sync":
        return tenure.SessionManager(**kw)
    if driver == "sync-redis":
        return tenure.SessionManager(store=RedisStore(redis.Redis(port=_redis_port[-1]), prefix=prefix), **kw)
    if driver == "aio-store":
        kw["store"] = AsyncDictStore()
    if driver == "aio-redis":
        kw["store"] = AsyncRedisStore(redis.asyncio.Redis(port=_redis_port[-1]), prefix=prefix)
    assert loop is not None
    return Blocking(tenure.aio.SessionManager(**kw), loop)


class Run:
    def __init__(self, doc: dict[str, Any], driver: str = "sync", loop: Optional[asyncio.AbstractEventLoop] = None) -> None:
        self.policy = doc.get("policy", {})
        self.start = doc.get("start", 1_000_000)
        self.clock = tenure.ManualClock(self.start / 1000)
        self.driver, self.loop = driver, loop
        self.m = make_manager(self.policy, self.clock, driver, loop)
        self.handles: dict[str, tenure.Session] = {}
        self.ids: dict[str, str] = {}

    def id(self, step: dict[str, Any]) -> str:
        return step["id_literal"] if "id_literal" in step else self.ids[step["id"]]

    def off(self, seconds: Optional[float]) -> Optional[int]:
        return None if seconds is None else round(seconds * 1000) - self.start

    def bind(self, step: dict[str, Any], s: Optional[tenure.Session]) -> str:
        if s is None:
            return "absent"
        if "as" in step:
            self.handles[step["as"]] = s
            self.ids[step["as"]] = s.id
        return "found"

    def step(self, step: dict[str, Any]) -> Any:
        op = step["do"]
        s = self.handles.get(step.get("session", ""))
        m = self.m
        if op == "advance":
            self.clock.advance(step["ms"] / 1000)
        elif op == "set_time":
            self.clock.set((self.start + step["ms"]) / 1000)
        elif op == "create":
            data = to_py(step["data"]) if "data" in step else None
            self.bind(step, m.create(step.get("principal"), data))
        elif op in ("open", "peek"):
            return self.bind(step, (m.open if op == "open" else m.peek)(self.id(step)))
        elif op == "get":
            return s[step["key"]] if step["key"] in s else {"absent": True}
        elif op == "set":
            s[step["key"]] = to_py(step["value"])
        elif op == "delete":
            s.discard(step["key"])
        elif op == "has":
            return step["key"] in s
        elif op == "keys":
            return list(s)
        elif op == "len":
            return len(s)
        elif op == "clear":
            s.clear()
        elif op == "update":
            s.update(to_py(step["data"]))
        elif op == "increment":
            return s.increment(step["key"], step.get("by", 1))
        elif op == "flash":
            s.flash(step["category"], step["message"])
        elif op == "take_flashes":
            return [list(f) for f in s.take_flashes()]
        elif op == "set_principal":
            s.principal = step["principal"]
        elif op == "set_idle_timeout":
            m.set_idle_timeout(s, ms(step["ms"]))
        elif op == "info":
            idle, absolute = s.idle_timeout, s.absolute_timeout
            return {
                "principal": s.principal, "version": s.version, "created": self.off(s.created_at),
                "last_access": self.off(s.last_access), "expires_at": self.off(s.expires_at),
                "idle_timeout": None if idle is None else round(idle.total_seconds() * 1000),
                "absolute_timeout": None if absolute is None else round(absolute.total_seconds() * 1000),
            }
        elif op == "commit":
            m.commit(s)
            self.ids[step["session"]] = s.id
        elif op == "regenerate":
            m.regenerate(s, step.get("clear", False))
            self.ids[step["session"]] = s.id
        elif op == "remember":
            self.ids[step["as"]] = s.id
        elif op == "destroy":
            return m.destroy(self.id(step))
        elif op == "destroy_all_of":
            return m.destroy_all_of(step["principal"], self.ids[step["except"]] if "except" in step else None)
        elif op == "sessions_of":
            return len(m.sessions_of(step["principal"]))
        elif op == "count":
            return m.count()
        elif op == "sweep":
            return m.sweep()
        elif op == "next_deadline":
            return self.off(m.next_deadline())
        elif op == "metrics":
            # The vectors use the core's names (ms); Python gives its durations in seconds.
            got = dict(m.metrics())
            for name in ("max_alive", "avg_alive"):
                got[f"{name}_ms"] = round(got.pop(name) * 1000)
            return got
        elif op == "restart":
            blob = m.export()
            self.m = make_manager(self.policy, self.clock, self.driver, self.loop)
            return self.m.import_(blob)
        elif op == "sign":
            return tenure.sign_cookie(step["id"], step["secret"])
        elif op == "unsign":
            return tenure.unsign_cookie(step["value"], step["secrets"])
        elif op == "parse_cookie":
            found = tenure.find_session_id(step["header"], step["name"], step["secrets"])
            return None if found is None else found[0]
        else:
            raise AssertionError(f"unknown step {op}")
        return None


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(path: Path, driver: str, request: pytest.FixtureRequest) -> None:
    if "redis" in driver:
        request.getfixturevalue("redis_port")
    loop = asyncio.new_event_loop()
    try:
        run_scenario(path, driver, loop)
    finally:
        loop.close()


def run_scenario(path: Path, driver: str, loop: asyncio.AbstractEventLoop) -> None:
    doc = json.loads(path.read_text())
    if "policy_error" in doc:
        with pytest.raises(tenure.TenureError) as info:
            make_manager(doc.get("policy", {}), tenure.ManualClock(0), driver, loop)
        assert info.value.code == doc["policy_error"]
        return
    run = Run(doc, driver, loop)
    for i, step in enumerate(doc["steps"]):
        try:
            got = run.step(step)
        except tenure.TenureError as e:
            got = {"error": e.code}
        where = f"{path.name} [{driver}] step {i} ({step['do']})"
        if "expect" not in step:
            assert not (isinstance(got, dict) and "error" in got), f"{where}: unexpected {got}"
            continue
        expected = step["expect"]
        if step["do"] in ("info", "metrics") and isinstance(got, dict):
            for k, v in expected.items():
                assert same(to_py(v), got.get(k)), f"{where}: {k}: expected {v!r}, got {got.get(k)!r}"
        elif isinstance(expected, dict) and "error" in expected:
            assert got == expected, f"{where}: expected {expected}, got {got!r}"
        elif step["do"] == "get" and got == {"absent": True}:
            assert expected == got, f"{where}: expected {expected!r}, got absent"
        else:
            assert same(to_py(expected), got), f"{where}: expected {expected!r}, got {got!r}"
