"""tenure.aio: the async manager over asynchronous stores."""

from __future__ import annotations

import asyncio
import random
from typing import Any, Optional

import pytest

import tenure
import tenure.aio
from tenure.stores import AsyncDictStore, AsyncFileStore, DictStore


class Jittery(AsyncDictStore):
    """Every call waits a random fraction of a millisecond, so operations interleave."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def _pause(self) -> None:
        self.calls += 1
        await asyncio.sleep(random.random() / 1000)


def test_200_concurrent_increments_on_one_session_add_up() -> None:
    async def main() -> None:
        store = Jittery()
        m = tenure.aio.SessionManager(store=store)
        sid = (await m.create(data={"n": 0})).id

        async def bump() -> None:
            s = await m.open(sid)
            assert s is not None
            s.increment("n")
            await m.commit(s)

        await asyncio.gather(*(bump() for _ in range(200)))
        s = await m.open(sid)
        assert s is not None and s["n"] == 200
        assert tenure.decode_record(store.data[sid])["data"]["n"] == 200

    asyncio.run(main())


def test_two_managers_on_one_store_merge_through_conflicts() -> None:
    """Two managers (as two processes would) commit to one session at once: the
    conditional writes conflict, re-merge and retry; nothing is lost."""

    async def main() -> None:
        store = Jittery()
        a = tenure.aio.SessionManager(store=store)
        b = tenure.aio.SessionManager(store=store)
        sid = (await a.create()).id

        async def bump(m: tenure.aio.SessionManager, key: str) -> None:
            s = await m.open(sid)
            assert s is not None
            s.increment(key)
            s.increment("total")
            await m.commit(s)

        await asyncio.gather(*(bump(m, k) for _ in range(20) for m, k in ((a, "a"), (b, "b"))))
        s = await b.peek(sid)
        assert s is not None and dict(s) == {"a": 20, "b": 20, "total": 40}

    asyncio.run(main())


def test_a_destroy_racing_with_commits_is_never_undone() -> None:
    async def main() -> None:
        store = Jittery()
        m = tenure.aio.SessionManager(store=store)
        sid = (await m.create(data={"n": 0})).id
        destroyed = asyncio.Event()
        outcomes: list[str] = []

        async def bump(i: int) -> None:
            s = await m.open(sid)
            if s is None:
                outcomes.append("absent")
                return
            s.increment("n")
            await asyncio.sleep(random.random() / 200)
            after = destroyed.is_set()
            try:
                await m.commit(s)
                assert not after, "a commit begun after the destroy succeeded"
                outcomes.append("committed")
            except tenure.SessionGone:
                outcomes.append("gone")

        async def logout() -> None:
            await asyncio.sleep(0.002)
            assert await m.destroy(sid)
            destroyed.set()

        await asyncio.gather(logout(), *(bump(i) for i in range(50)))
        assert store.data == {}, "the session was resurrected"
        assert await m.open(sid) is None
        assert len(outcomes) == 50 and ("gone" in outcomes or "absent" in outcomes), outcomes

    asyncio.run(main())


class Failing(AsyncDictStore):
    def __init__(self) -> None:
        super().__init__()
        self.broken: set[str] = set()

    async def _check(self, name: str) -> None:
        await asyncio.sleep(0)
        if name in self.broken:
            raise OSError(f"{name}: disk on fire")

    async def get(self, id: str) -> Optional[bytes]:
        await self._check("get")
        return await super().get(id)

    async def insert(self, id: str, data: bytes) -> bool:
        await self._check("insert")
        return await super().insert(id, data)

    async def replace(self, id: str, data: bytes, expected: int) -> bool:
        await self._check("replace")
        return await super().replace(id, data, expected)

    async def delete(self, id: str, expected: Optional[int] = None) -> bool:
        await self._check("delete")
        return await super().delete(id, expected)

    async def ids(self) -> list[str]:
        await self._check("ids")
        return await super().ids()


def test_a_failing_store_raises_store_error_and_changes_nothing() -> None:
    async def main() -> None:
        store = Failing()
        m = tenure.aio.SessionManager(store=store)
        s = await m.create(data={"k": 1})
        before = dict(store.data)
        store.broken = {"replace"}
        s["k"] = 2
        with pytest.raises(tenure.StoreError, match="disk on fire") as info:
            await m.commit(s)
        assert isinstance(info.value.__cause__, OSError)
        assert "store.replace" in str(info.value)
        assert store.data == before and s.modified and s["k"] == 2
        store.broken = {"insert"}
        with pytest.raises(tenure.StoreError) as info:
            await m.regenerate(s)
        assert isinstance(info.value.__cause__, OSError) and store.data == before
        store.broken = set()
        await m.commit(s)
        again = await m.open(s.id)
        assert again is not None and again["k"] == 2

    asyncio.run(main())


@pytest.mark.parametrize("method", ["get", "insert", "replace", "delete", "ids"])
def test_every_operation_reports_a_failing_async_store(method: str) -> None:
    operations: dict[str, Any] = {
        "create": lambda m, s: m.create(data={"x": 1}),
        "open": lambda m, s: m.open(s.id),
        "commit": lambda m, s: (s.__setitem__("k", 2), m.commit(s))[1],
        "regenerate": lambda m, s: m.regenerate(s),
        "destroy": lambda m, s: m.destroy(s.id),
        "sessions_of": lambda m, s: m.sessions_of("ann"),
        "sweep": lambda m, s: m.sweep(),
        "count": lambda m, s: m.count(),
        "metrics": lambda m, s: m.metrics(),
    }

    async def main() -> list[str]:
        failed = []
        for name, operation in operations.items():
            store = Failing()
            m = tenure.aio.SessionManager(store=store, max_sessions=100)
            s = await m.create(principal="ann", data={"k": 1})
            before, old_id = dict(store.data), s.id
            store.broken = {method}
            try:
                await operation(m, s)
            except tenure.StoreError as e:
                assert isinstance(e.__cause__, OSError) and f"store.{method}" in str(e), (name, str(e))
                if (name, method) != ("regenerate", "delete"):
                    assert store.data == before, f"{name} changed the store although {method} failed"
                assert s.id == old_id
                failed.append(name)
        return failed

    failed = asyncio.run(main())
    assert failed, f"nothing uses {method}?"


def test_wrong_replies_are_store_errors() -> None:
    class Forgetful(AsyncDictStore):
        async def insert(self, id: str, data: bytes) -> bool:
            await super().insert(id, data)
            return None  # type: ignore[return-value]

    class Weird(AsyncDictStore):
        async def get(self, id: str) -> Optional[bytes]:
            return 42  # type: ignore[return-value]

    class BadIds(AsyncDictStore):
        async def ids(self) -> list[str]:
            return [1, 2]  # type: ignore[list-item]

    async def main() -> None:
        with pytest.raises(tenure.StoreError, match="store.insert returned None, not True or False"):
            await tenure.aio.SessionManager(store=Forgetful()).create()
        with pytest.raises(tenure.StoreError, match="store.get returned a int, not bytes"):
            await tenure.aio.SessionManager(store=Weird()).open("A" * 22)
        with pytest.raises(tenure.StoreError, match="store.ids") as info:
            await tenure.aio.SessionManager(store=BadIds()).count()
        assert isinstance(info.value.__cause__, TypeError)

    asyncio.run(main())


def test_a_sync_manager_given_an_async_store_says_so() -> None:
    with pytest.raises(tenure.InvalidPolicy, match="tenure.aio.SessionManager"):
        tenure.SessionManager(store=AsyncDictStore())

    class Sneaky(DictStore):
        def get(self, id: str) -> Any:
            async def later() -> None:
                return None
            coro = later()
            coro.close()
            return coro

    with pytest.raises(tenure.StoreError, match="tenure.aio.SessionManager"):
        tenure.SessionManager(store=Sneaky()).open("A" * 22)


def test_plain_function_stores_work_too_and_events_fire() -> None:
    async def main() -> None:
        m = tenure.aio.SessionManager(store=DictStore())
        seen: list[tuple[str, ...]] = []
        m.on("created", lambda sid: seen.append(("created", sid)))
        m.on("regenerated", lambda old, new: seen.append(("regenerated", old, new)))
        m.on("destroyed", lambda sid: seen.append(("destroyed", sid)))
        carts = m.per_session(list)
        s = await m.create(principal="ann")
        carts.get(s).append("book")
        old = s.id
        await m.regenerate(s)
        assert carts.get(s) == ["book"] and s.id != old
        assert await m.destroy(s.id)
        assert seen == [("created", old), ("regenerated", old, s.id), ("destroyed", s.id)]
        assert s.id not in carts
        metrics = await m.metrics()
        assert metrics["created_total"] == 1 and metrics["destroyed_total"] == 1 and metrics["active"] == 0

    asyncio.run(main())


def test_changes_made_during_a_commit_stay_pending() -> None:
    async def main() -> None:
        m = tenure.aio.SessionManager(store=AsyncDictStore(delay=0.01))
        s = await m.create()
        s["a"] = 1
        task = asyncio.ensure_future(m.commit(s))
        await asyncio.sleep(0.005)
        s["b"] = 2
        await task
        assert s.modified and dict(s) == {"a": 1, "b": 2}
        stored = await m.peek(s.id)
        assert stored is not None and dict(stored) == {"a": 1}
        await m.commit(s)
        stored = await m.peek(s.id)
        assert stored is not None and dict(stored) == {"a": 1, "b": 2} and not s.modified

    asyncio.run(main())


def test_memory_manager_without_a_store(clock: tenure.ManualClock) -> None:
    async def main() -> None:
        m = tenure.aio.SessionManager(clock=clock, idle_timeout=60)
        s = await m.create(data={"x": 1})
        s["y"] = 2
        await m.commit(s)
        assert await m.count() == 1
        clock.advance(61)
        assert await m.open(s.id) is None
        assert (await m.metrics())["expired_total"] == 1

    asyncio.run(main())


def test_async_file_store_shares_the_folder_with_file_store(tmp_path: Any, clock: tenure.ManualClock) -> None:
    async def main() -> None:
        m = tenure.aio.SessionManager(store=AsyncFileStore(tmp_path), clock=clock)
        s = await m.create(principal="ann", data={"n": 1})
        assert (tmp_path / f"{s.id}.json").exists()
        sync = tenure.SessionManager(store=tenure.FileStore(tmp_path), clock=clock)
        t = sync.open(s.id)
        assert t is not None
        t.increment("n")
        sync.commit(t)
        s.increment("n")
        await m.commit(s)
        assert s["n"] == 3
        assert [i["id"] for i in await m.sessions_of("ann")] == [s.id]
        blob = await m.export()
        assert await m.destroy_all() == 1 and await m.count() == 0
        assert await m.import_(blob) == 1 and (await m.list())[0][0]["id"] == s.id

    asyncio.run(main())
