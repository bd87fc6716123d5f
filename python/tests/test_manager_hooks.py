"""The managers' public hooks for adapters and per-session state (no private attributes)."""

import asyncio
from datetime import timedelta

import tenure
from tenure import aio


def test_idle_timeout_is_the_managers_own() -> None:
    assert tenure.SessionManager().idle_timeout == timedelta(minutes=30)
    assert tenure.SessionManager(idle_timeout=90).idle_timeout == timedelta(seconds=90)
    assert tenure.SessionManager(idle_timeout=None).idle_timeout is None
    assert aio.SessionManager(idle_timeout=5).idle_timeout == timedelta(seconds=5)


def test_on_regenerate_sees_each_move_and_id_changed_reaches_it() -> None:
    m = tenure.SessionManager()
    seen: list[tuple[str, str, bool]] = []
    m.on_regenerate(lambda old, new, cleared: seen.append((old, new, cleared)))
    s = m.create(data={"a": 1})
    old = s.id
    m.regenerate(s, clear=True)
    assert seen == [(old, s.id, True)]
    m.id_changed("draft-id", s.id)
    assert seen[-1] == ("draft-id", s.id, False)


def test_an_async_draft_is_not_stored_until_created() -> None:
    async def go() -> None:
        m = aio.SessionManager()
        d = m.draft()
        assert await m.peek(d.id) is None
    asyncio.run(go())
