import json
import os

import pytest

import tenure
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

    def set(self, id: str, data: bytes) -> None:
        if self.fail:
            raise OSError("disk on fire")
        super().set(id, data)


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
