import asyncio
import json
import os

import pytest

import tenure
import tenure.aio
import tenure.stores
from tenure import FileStore, SessionManager
from tenure.stores import DictStore


def test_file_store_layout_and_corruption(tmp_path, clock):
    m = SessionManager(store=FileStore(tmp_path), clock=clock)
    s = m.create(principal="ann", data={"n": 1})
    path = tmp_path / f"{s.id}.json"
    record = json.loads(path.read_bytes())
    assert record["v"] == 1 and record["id"] == s.id and record["data"] == {"n": 1}
    assert tenure.decode_record(path.read_bytes())["principal"] == "ann"
    bad = "B" * 22
    (tmp_path / f"{bad}.json").write_bytes(b"{broken")
    (tmp_path / "README.txt").write_text("ignored")
    with pytest.raises(tenure.StoreError, match=bad):
        m.open(bad)
    assert m.open(s.id)["n"] == 1
    assert [i["id"] for i in m.sessions_of("ann")] == [s.id]
    clock.advance(3600)
    assert m.sweep() == 1 and not path.exists()
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_two_managers_share_one_folder(tmp_path):
    a = SessionManager(store=FileStore(tmp_path))
    b = SessionManager(store=FileStore(tmp_path))
    s = a.create(data={"x": [1, 2]})
    t = b.open(s.id)
    t.increment("hits")
    b.commit(t)
    u = a.open(s.id)
    assert dict(u) == {"x": [1, 2], "hits": 1}


class Flaky(DictStore):
    def __init__(self) -> None:
        super().__init__()
        self.fail = False

    def replace(self, id: str, data: bytes, expected: int) -> bool:
        if self.fail:
            raise OSError("disk on fire")
        return super().replace(id, data, expected)


def test_a_failing_store_loses_nothing():
    store = Flaky()
    m = SessionManager(store=store)
    s = m.create(data={"k": 1})
    before = dict(store.data)
    store.fail = True
    s["k"] = 2
    with pytest.raises(tenure.StoreError, match="disk on fire") as info:
        m.commit(s)
    assert isinstance(info.value.__cause__, OSError)
    assert store.data == before and s.modified and s["k"] == 2
    store.fail = False
    m.commit(s)
    assert m.open(s.id)["k"] == 2


def test_a_store_returning_garbage_is_reported():
    class Weird(DictStore):
        def get(self, id):  # type: ignore[override]
            return 42

    m = SessionManager(store=Weird())
    with pytest.raises(tenure.StoreError, match="not bytes"):
        m.open("A" * 22)


class Breakable(DictStore):
    """Fails the methods named in `broken` with `error`."""

    def __init__(self) -> None:
        super().__init__()
        self.broken: set = set()
        self.error: BaseException = OSError("store down")

    def _check(self, name: str) -> None:
        if name in self.broken:
            raise self.error

    def get(self, id):  # type: ignore[no-untyped-def]
        self._check("get")
        return super().get(id)

    def insert(self, id, data):  # type: ignore[no-untyped-def]
        self._check("insert")
        return super().insert(id, data)

    def replace(self, id, data, expected):  # type: ignore[no-untyped-def]
        self._check("replace")
        return super().replace(id, data, expected)

    def delete(self, id, expected=None):  # type: ignore[no-untyped-def]
        self._check("delete")
        return super().delete(id, expected)

    def ids(self):  # type: ignore[no-untyped-def]
        self._check("ids")
        return super().ids()


OPERATIONS = {
    "create": lambda m, s: m.create(data={"x": 1}),
    "open": lambda m, s: m.open(s.id),
    "commit": lambda m, s: (s.__setitem__("k", 2), m.commit(s)),
    "regenerate": lambda m, s: m.regenerate(s),
    "destroy": lambda m, s: m.destroy(s.id),
    "sessions_of": lambda m, s: m.sessions_of("ann"),
    "sweep": lambda m, s: m.sweep(),
    "count": lambda m, s: m.count(),
}


@pytest.mark.parametrize("method", ["get", "insert", "replace", "delete", "ids"])
def test_every_operation_reports_a_failing_store_and_changes_nothing(method):
    failed = []
    for name, operation in OPERATIONS.items():
        store = Breakable()
        m = SessionManager(store=store, max_sessions=100)
        s = m.create(principal="ann", data={"k": 1})
        before, old_id = dict(store.data), s.id
        store.broken = {method}
        try:
            operation(m, s)
        except tenure.StoreError as e:
            assert isinstance(e.__cause__, OSError) and "store down" in str(e), name
            assert f"store.{method}" in str(e), (name, str(e))
            if (name, method) == ("regenerate", "delete"):
                # The new copy was written; removing the old one failed and so did the
                # rollback's removal of the new one (same broken method). The session and
                # its stored record are untouched; the copy left under an id nobody holds
                # expires like any other.
                assert store.data[old_id] == before[old_id] and len(store.data) == 2
            else:
                assert store.data == before, f"{name} changed the store although {method} failed"
            assert s.id == old_id, f"{name} moved the session although {method} failed"
            failed.append(name)
            store.broken = set()
            m.commit(s)  # the session's own pending changes are still there, and land now
            assert m.open(old_id)["k"] == s["k"]
    assert failed, f"nothing uses {method}?"
    if method == "get":
        assert {"open", "commit", "regenerate"} <= set(failed)
    if method == "insert":
        assert {"create", "regenerate"} <= set(failed)
    if method == "replace":
        assert "commit" in failed


def test_an_interrupt_in_a_store_stays_an_interrupt():
    store = Breakable()
    m = SessionManager(store=store)
    s = m.create()
    store.broken, store.error = {"replace"}, KeyboardInterrupt()
    s["k"] = 1
    with pytest.raises(KeyboardInterrupt):
        m.commit(s)
    store.broken = set()
    m.commit(s)
    assert m.open(s.id)["k"] == 1


def test_a_store_listing_non_str_ids_is_reported():
    class BadIds(DictStore):
        def ids(self):  # type: ignore[no-untyped-def]
            return [1, 2]

    m = SessionManager(store=BadIds())
    with pytest.raises(tenure.StoreError, match="store.ids") as info:
        m.count()
    assert isinstance(info.value.__cause__, TypeError)


def test_corrupt_files_are_skipped_by_listings_and_sweeps(tmp_path, clock):
    m = SessionManager(store=FileStore(tmp_path), clock=clock)
    good = m.create(data={"ok": True})
    (tmp_path / f"{'C' * 22}.json").write_bytes(b'{"v":99}')
    (tmp_path / f"{'D' * 22}.json").write_bytes(b"\x00\xff" * 10)
    (tmp_path / f".{'E' * 22}.1-2-3.tmp").write_bytes(b"half-written")
    page, cursor = m.list()
    assert [i["id"] for i in page] == [good.id] and cursor is None
    assert m.sweep() == 0 and m.next_deadline() is not None
    with pytest.raises(tenure.StoreError, match="DDDD"):
        m.open("D" * 22)
    assert m.open(good.id)["ok"] is True
    assert m.destroy("C" * 22), "a corrupt record can still be destroyed"


def test_file_store_writes_are_atomic_under_threads(tmp_path):
    import threading

    m = SessionManager(store=FileStore(tmp_path))
    sid = m.create().id

    def work() -> None:
        for _ in range(100):
            s = m.open(sid)
            s.increment("n")
            m.commit(s)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert m.open(sid)["n"] == 400
    names = sorted(p.name for p in tmp_path.iterdir() if p.name != ".index")
    assert names == [f"{sid}.json"], "no temporary files left"


def _record(clock: tenure.ManualClock, **data: object) -> tuple[str, bytes]:
    """A real encoded record (made by a manager over a DictStore)."""
    store = DictStore()
    s = SessionManager(store=store, clock=clock).create(data=dict(data))
    return s.id, store.data[s.id]


def test_native_file_store_speaks_the_conditional_protocol(tmp_path, clock):
    assert FileStore is tenure._native.FileStore and tenure.stores.FileStore is FileStore
    store = FileStore(str(tmp_path))
    assert store.path == tmp_path and repr(store).startswith("tenure.FileStore(")
    sid, v1 = _record(clock, n=1)
    assert tenure.record_version(v1) == 1 and tenure.record_version(b"{broken") is None
    assert store.get(sid) is None and store.ids() == []
    assert store.insert(sid, v1) is True
    assert store.insert(sid, b"other") is False, "insert never overwrites"
    assert store.get(sid) == v1
    v2 = v1.replace(b'"version":1', b'"version":2')
    assert store.replace(sid, v2, 7) is False and store.get(sid) == v1, "wrong version: nothing changes"
    assert store.replace(sid, v2, 1) is True and store.get(sid) == v2
    other = "Q" * 22
    assert store.replace(other, v1, 1) is False and store.get(other) is None, "replace never creates"
    assert store.delete(sid, 1) is False and store.get(sid) == v2, "delete of another version: kept"
    assert store.ids() == [sid]
    assert store.delete(sid, 2) is True and store.get(sid) is None
    assert store.insert(sid, v1) and store.delete(sid) is True and store.delete(sid) is False
    assert store.get("../../etc/passwd") is None and store.delete("../x") is False
    with pytest.raises(tenure.StoreError, match="not a session id"):
        store.insert("../x", v1)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_dict_store_speaks_the_conditional_protocol(clock):
    store = DictStore()
    sid, v1 = _record(clock)
    v2 = v1.replace(b'"version":1', b'"version":2')
    assert store.insert(sid, v1) and not store.insert(sid, v2)
    assert not store.replace(sid, v2, 2) and store.get(sid) == v1
    assert store.replace(sid, v2, 1) and not store.replace("Q" * 22, v2, 1)
    assert not store.delete(sid, 1) and store.delete(sid, 2) and store.ids() == []


def test_native_file_store_releases_the_gil(tmp_path, clock):
    """Threads using one FileStore (as AsyncFileStore's worker threads do) all progress."""
    import threading

    store = FileStore(tmp_path)
    records = [_record(clock, i=i) for i in range(40)]

    def work(part: list[tuple[str, bytes]]) -> None:
        for sid, data in part:
            assert store.insert(sid, data)
            assert store.get(sid) == data

    threads = [threading.Thread(target=work, args=(records[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(store.ids()) == sorted(sid for sid, _ in records)


class _CountingFiles:
    """The native FileStore, counting the records read and the listings of the folder."""

    def __init__(self, path: object) -> None:
        self.files = FileStore(path)  # type: ignore[arg-type]
        self.gets = 0
        self.lists = 0

    def get(self, id: str) -> "bytes | None":
        self.gets += 1
        return self.files.get(id)

    def insert(self, id: str, data: bytes) -> bool:
        return self.files.insert(id, data)

    def replace(self, id: str, data: bytes, expected: int) -> bool:
        return self.files.replace(id, data, expected)

    def delete(self, id: str, expected: "int | None" = None) -> bool:
        return self.files.delete(id, expected)

    def ids(self) -> list[str]:
        self.lists += 1
        return self.files.ids()

    def count(self) -> "int | None":
        return self.files.count()

    def due(self, through: "int | None", limit: int) -> "list[tuple[int, str]] | None":
        return self.files.due(through, limit)

    def ids_of(self, principal: str) -> "list[str] | None":
        return self.files.ids_of(principal)

    def unindex(self, id: str, deadline: int) -> bool:
        return self.files.unindex(id, deadline)


def test_file_store_sweeps_and_counts_from_its_index(tmp_path, clock):
    """A sweep, a count and next_deadline never list the folder: they read the index
    (a sweep reads only the records due), in the sync and the async manager alike."""
    store = _CountingFiles(tmp_path)
    m = SessionManager(store=store, clock=clock, idle_timeout=600)
    for i in range(60):
        s = m.create(principal="ann" if i < 3 else None)
        if i % 6 == 0:
            m.set_idle_timeout(s, 60)
            m.commit(s)
    store.gets = store.lists = 0
    assert m.count() == 60
    assert len(m.sessions_of("ann")) == 3
    assert m.next_deadline() is not None
    clock.advance(120)
    assert m.sweep() == 10
    assert m.count() == 50
    assert store.lists == 0, "the folder was never listed"
    assert store.gets <= 3 * 2 + 10, store.gets


def test_async_file_store_sweeps_from_its_index(tmp_path, clock):
    files = tenure.stores.AsyncFileStore(tmp_path)
    listed = []
    original = files.ids

    async def ids() -> list[str]:
        listed.append(1)
        return await original()

    files.ids = ids  # type: ignore[method-assign]

    async def main() -> None:
        m = tenure.aio.SessionManager(store=files, clock=clock, idle_timeout=60)
        for _ in range(20):
            await m.create()
        clock.advance(120)
        assert await m.sweep() == 20
        assert await m.count() == 0

    asyncio.run(main())
    assert listed == []
