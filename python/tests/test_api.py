import threading
from collections.abc import MutableMapping
from datetime import timedelta

import pytest

import tenure
from tenure import SessionManager


def test_session_is_a_mutable_mapping_with_exact_types(manager):
    s = manager.create(principal="ann")
    assert isinstance(s, MutableMapping)
    values = {
        "str": "héllo 😀", "int": -(2**63), "big": 2**63 - 1, "float": 1.5, "whole_float": 2.0,
        "true": True, "none": None, "bytes": b"\x00\xff", "list": [1, "two", [3.0]],
        "dict": {"a": {"b": None}, "$b": "not bytes"}, "tuple": (1, 2),
    }
    for k, v in values.items():
        s[k] = v
    manager.commit(s)
    back = dict(manager.open(s.id))
    for k, v in values.items():
        expected = list(v) if isinstance(v, tuple) else v
        assert back[k] == expected and type(back[k]) is type(expected), k
    assert type(back["whole_float"]) is float and type(back["true"]) is bool
    assert sorted(s) == sorted(values)
    assert len(s) == len(values) and "str" in s and 3 not in s
    del s["str"]
    assert "str" not in s
    with pytest.raises(KeyError):
        del s["str"]
    with pytest.raises(KeyError):
        s["missing"]
    assert s.get("missing", 7) == 7


@pytest.mark.parametrize(
    "value, exc",
    [
        ({1, 2}, tenure.InvalidType),
        (object(), tenure.InvalidType),
        (float("nan"), tenure.InvalidValue),
        (float("inf"), tenure.InvalidValue),
        (2**63, tenure.LimitExceeded),
        (-(2**63) - 1, tenure.LimitExceeded),
        ({1: "non-str key"}, tenure.InvalidType),
        ([1, {2, 3}], tenure.InvalidType),
        (memoryview(b"x"), tenure.InvalidType),
    ],
)
def test_refused_values_change_nothing(manager, value, exc):
    s = manager.create()
    s["keep"] = 1
    manager.commit(s)
    with pytest.raises(exc) as info:
        s["bad"] = value
    assert isinstance(info.value, tenure.TenureError)
    assert "bad" in str(info.value)
    assert isinstance(info.value, (TypeError, ValueError))
    assert dict(s) == {"keep": 1} and not s.modified


def test_cycles_and_depth_are_refused(manager):
    s = manager.create()
    s["keep"] = 1
    cyclic: list = []
    cyclic.append(cyclic)
    with pytest.raises(tenure.InvalidValue, match=r'session\["c"\]\[0\]: cyclic structure \(this list contains itself\)'):
        s["c"] = cyclic
    a: dict = {"x": 1}
    b = [a]
    a["b"] = b
    with pytest.raises(tenure.InvalidValue, match=r'\["b"\]\[0\]: cyclic structure \(this dict'):
        s["m"] = {"a": a}
    shared = [1, 2]
    s["diamond"] = [shared, shared, {"again": shared}]  # shared, not cyclic: fine
    assert s["diamond"] == [[1, 2], [1, 2], {"again": [1, 2]}]
    deep: list = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(tenure.LimitExceeded, match="max_depth exceeded"):
        s["d"] = deep
    with pytest.raises(tenure.InvalidType, match="keys must be str"):
        s[1] = "x"  # type: ignore[index]
    assert sorted(s) == ["diamond", "keep"]


def test_depth_limit_is_the_policys():
    m = SessionManager(max_depth=2)
    s = m.create()
    s["ok"] = [[1]]
    s["ok2"] = {"a": {"b": 1}}
    with pytest.raises(tenure.LimitExceeded, match=r'session\["no"\]\[0\]\[0\]: max_depth exceeded \(nesting deeper than 2\)'):
        s["no"] = [[[1]]]
    with pytest.raises(tenure.LimitExceeded, match="max_depth"):
        m.create(data={"no": {"a": {"b": {}}}})
    assert m.count() == 1 and sorted(s) == ["ok", "ok2"]


def test_increment_rules(manager):
    s = manager.create()
    assert s.increment("n") == 1 and s.increment("n", by=5) == 6 and s.increment("n", -10) == -4
    s["text"] = "x"
    with pytest.raises(tenure.InvalidValue, match="text"):
        s.increment("text")
    s["max"] = 2**63 - 1
    with pytest.raises(tenure.InvalidValue, match="overflow"):
        s.increment("max")
    with pytest.raises(tenure.InvalidType):
        s.increment("n", by=True)
    assert s["max"] == 2**63 - 1 and s["n"] == -4


def test_concurrent_copies_merge(manager):
    sid = manager.create().id
    a, b = manager.open(sid), manager.open(sid)
    a["a"] = 1
    a.increment("hits")
    b["b"] = 2
    b.increment("hits")
    manager.commit(a)
    manager.commit(b)
    assert dict(manager.peek(sid)) == {"a": 1, "b": 2, "hits": 2}


def test_expiry_with_a_manual_clock(clock):
    m = SessionManager(idle_timeout=timedelta(minutes=10), absolute_timeout=3600, clock=clock)
    s = m.create()
    assert s.expires_at == pytest.approx(clock.now() + 600)
    clock.advance(timedelta(minutes=10) - timedelta(milliseconds=1))
    assert m.peek(s.id) is not None
    clock.advance(0.001)
    assert m.open(s.id) is None
    s2 = m.create()
    with pytest.raises(tenure.SessionGone):
        clock.advance(601)
        s2["x"] = 1
        m.commit(s2)
    assert m.metrics()["expired_total"] == 2


def test_regenerate_destroy_and_principals(manager):
    s = manager.create(principal="ann", data={"cart": [1]})
    old = s.id
    manager.regenerate(s)
    assert s.id != old and manager.open(old) is None and manager.open(s.id)["cart"] == [1]
    other = manager.create(principal="ann")
    assert {i["id"] for i in manager.sessions_of("ann")} == {s.id, other.id}
    assert manager.destroy_all_of("ann", except_id=s.id) == 1
    assert manager.count() == 1
    assert manager.destroy(s.id) and not manager.destroy(s.id)


def test_events_and_metrics(manager, clock):
    seen = []
    manager.on("created", lambda i: seen.append(("created", i)))
    manager.on("destroyed", lambda i: seen.append(("destroyed", i)))
    manager.on("regenerated", lambda o, n: seen.append(("regenerated", o, n)))
    manager.on("expired", lambda i: seen.append(("expired", i)))
    s = manager.create()
    first = s.id
    manager.regenerate(s)
    manager.destroy(s.id)
    t = manager.create()
    clock.advance(3600)
    assert manager.sweep() == 1
    assert seen == [("created", first), ("regenerated", first, s.id), ("destroyed", s.id),
                    ("created", t.id), ("expired", t.id)]
    m = manager.metrics()
    assert m["created_total"] == 2 and m["destroyed_total"] == 1 and m["expired_total"] == 1
    assert m["active"] == 0 and m["peak_active"] == 1
    with pytest.raises(tenure.InvalidValue):
        manager.on("nope", print)


def test_policy_errors():
    with pytest.raises(tenure.InvalidPolicy, match="idle_timeout"):
        SessionManager(idle_timeout=0)
    with pytest.raises(tenure.InvalidPolicy, match="id_bytes"):
        SessionManager(id_bytes=8)
    with pytest.raises(tenure.InvalidPolicy):
        SessionManager(on_full="panic")
    with pytest.raises(tenure.InvalidPolicy, match="store"):
        SessionManager(store=object())
    with pytest.raises(tenure.TooManySessions):
        m = SessionManager(max_sessions=1)
        m.create()
        m.create()


def test_flashes_and_limits(manager):
    s = manager.create()
    s.flash("info", "saved")
    manager.commit(s)
    o = manager.open(s.id)
    assert o.take_flashes() == [("info", "saved")]
    manager.commit(o)
    assert manager.open(s.id).take_flashes() == []
    small = SessionManager(max_data_bytes=64)
    t = small.create()
    with pytest.raises(tenure.LimitExceeded, match="max_data_bytes"):
        t["big"] = "x" * 100
    assert len(t) == 0


def test_export_import_and_per_session(manager, clock):
    carts = manager.per_session(list)
    s = manager.create(data={"k": b"v"})
    carts(s).append("item1")
    assert carts(s) == ["item1"]
    old = s.id
    manager.regenerate(s)
    assert carts(s) == ["item1"] and old not in carts
    blob = manager.export()
    fresh = SessionManager(clock=clock)
    assert fresh.import_(blob) == 1 and fresh.open(s.id)["k"] == b"v"
    with pytest.raises(tenure.DecodeError):
        fresh.import_(b"garbage")
    manager.regenerate(s, clear=True)
    assert s.id not in carts and len(carts) == 0
    carts(s).append("x")
    manager.destroy(s.id)
    assert len(carts) == 0


def test_eight_threads_increment_one_session_exactly():
    m = SessionManager()
    sid = m.create().id
    n_threads, per_thread = 8, 10_000

    def work() -> None:
        for _ in range(per_thread):
            s = m.open(sid)
            assert s is not None
            s.increment("n")
            m.commit(s)

    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert m.peek(sid)["n"] == n_threads * per_thread


def test_no_panic_reaches_python(manager):
    # Hostile inputs through every entry point end as Python exceptions or None.
    assert manager.open("") is None and manager.open("x" * 10_000) is None
    assert manager.open(None) is None  # type: ignore[arg-type]
    assert not manager.destroy("../../etc/passwd")
    with pytest.raises(tenure.DecodeError):
        manager.import_(b"{" * 100_000)
    with pytest.raises(tenure.DecodeError):
        tenure.decode_record(b"\xff\xfe")
    assert tenure.unsign_cookie("s:" + "." * 1000, ["k"]) is None
    assert tenure.parse_cookie_header("\x00;=;" * 5000) is not None
