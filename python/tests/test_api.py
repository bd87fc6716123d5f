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


class _Thing:
    pass


def _gen():
    yield 1


@pytest.mark.parametrize(
    "value, exc, words",
    [
        ({1, 2}, tenure.InvalidType, ["set"]),
        (frozenset({1}), tenure.InvalidType, ["frozenset"]),
        (1 + 2j, tenure.InvalidType, ["complex"]),
        (_Thing(), tenure.InvalidType, ["_Thing"]),
        (print, tenure.InvalidType, ["builtin_function_or_method"]),
        (_gen(), tenure.InvalidType, ["generator"]),
        (range(3), tenure.InvalidType, ["range"]),
        (__import__("decimal").Decimal("1.5"), tenure.InvalidType, ["Decimal"]),
        (__import__("datetime").datetime(2024, 1, 1), tenure.InvalidType, ["datetime"]),
        (float("-inf"), tenure.InvalidValue, ["-inf", "not finite"]),
        ([1, [2, float("nan")]], tenure.InvalidValue, ['session["bad"][1][1]', "nan"]),
        ({"ok": 1, "deep": {"x": {3}}}, tenure.InvalidType, ['session["bad"]["deep"]["x"]', "set"]),
        ({(1, 2): "tuple key"}, tenure.InvalidType, ["(1, 2)", "tuple", "not a str"]),
        ({None: 1}, tenure.InvalidType, ["None", "NoneType"]),
        ({b"k": 1}, tenure.InvalidType, ["b'k'", "bytes"]),
        ({"outer": {2: 1}}, tenure.InvalidType, ['session["bad"]["outer"]', "int"]),
        ([2**64], tenure.LimitExceeded, ['session["bad"][0]', str(2**64), "i64"]),
        (-(2**100), tenure.LimitExceeded, [str(-(2**100))]),
    ],
)
def test_every_refused_type_names_the_key_path_and_type(manager, value, exc, words):
    s = manager.create(data={"keep": [1]})
    with pytest.raises(exc) as info:
        s["bad"] = value
    message = str(info.value)
    for w in words:
        assert w in message, (w, message)
    assert isinstance(info.value, TypeError if exc is tenure.InvalidType else ValueError)
    assert info.value.code in ("INVALID_VALUE", "LIMIT_EXCEEDED")
    with pytest.raises(exc):
        s.update({"fine": 1, "bad": value})
    with pytest.raises(exc):
        manager.create(data={"bad": value})
    assert dict(s) == {"keep": [1]} and not s.modified
    assert manager.count() == 1


def test_subclasses_and_bytearray_are_stored_as_their_base_type(manager):
    import enum
    from collections import OrderedDict

    class Color(enum.IntEnum):
        RED = 1

    class Name(str):
        pass

    s = manager.create()
    s.update(e=Color.RED, n=Name("ann"), o=OrderedDict(a=1), ba=bytearray(b"\x01"), t=(1, (2,)))
    manager.commit(s)
    back = manager.open(s.id).to_dict()
    assert back == {"e": 1, "n": "ann", "o": {"a": 1}, "ba": b"\x01", "t": [1, [2]]}
    assert [type(back[k]) for k in ("e", "n", "o", "ba", "t")] == [int, str, dict, bytes, list]


def test_error_classes_and_codes():
    expected = {
        tenure.SessionGone: "SESSION_GONE", tenure.InvalidValue: "INVALID_VALUE",
        tenure.InvalidType: "INVALID_VALUE", tenure.LimitExceeded: "LIMIT_EXCEEDED",
        tenure.TooManySessions: "TOO_MANY_SESSIONS", tenure.StoreError: "STORE_ERROR",
        tenure.InvalidPolicy: "INVALID_POLICY", tenure.DecodeError: "DECODE_ERROR",
        tenure.EntropyError: "ENTROPY_ERROR",
    }
    for cls, code in expected.items():
        assert issubclass(cls, tenure.TenureError) and cls.code == code
    assert issubclass(tenure.InvalidType, TypeError) and issubclass(tenure.InvalidType, ValueError)
    for cls in (tenure.InvalidValue, tenure.LimitExceeded, tenure.InvalidPolicy, tenure.DecodeError):
        assert issubclass(cls, ValueError)


def test_errors_leave_the_stored_session_unchanged(manager):
    s = manager.create(data={"n": 1, "text": "x"})
    manager.commit(s)
    stored = manager.export()
    for bad in (lambda: s.increment("text"), lambda: s.__setitem__("k", {1}),
                lambda: s.update({"a": 1, "b": float("nan")}), lambda: s.flash("c", "x" * 300_000)):
        with pytest.raises(tenure.TenureError):
            bad()
    assert not s.modified and dict(s) == {"n": 1, "text": "x"}
    manager.destroy(s.id)
    s["n"] = 2
    with pytest.raises(tenure.SessionGone):
        manager.commit(s)
    assert manager.open(s.id) is None, "never resurrected"
    assert stored != manager.export()


def test_listener_errors_are_logged_and_do_not_fail_the_operation(manager, caplog):
    seen = []

    def broken(sid):
        raise RuntimeError("listener bug")

    manager.on("created", broken)
    manager.on("created", seen.append)
    carts = manager.per_session(list)
    s = manager.create()
    carts(s).append(1)
    manager.on("regenerated", lambda old, new: 1 / 0)
    old = s.id
    manager.regenerate(s)
    assert seen == [old] and carts(s) == [1], "later listeners and per-session objects still ran"
    messages = [r.getMessage() for r in caplog.records if r.name == "tenure"]
    assert any("created listener" in m for m in messages)
    assert any("regenerated listener" in m for m in messages)


def test_durations_are_timedeltas_or_seconds(clock):
    a = SessionManager(idle_timeout=timedelta(minutes=2), absolute_timeout=None, clock=clock)
    b = SessionManager(idle_timeout=120, absolute_timeout=None, clock=clock)
    c = SessionManager(idle_timeout=120.0, absolute_timeout=timedelta(days=365), clock=clock)
    for m in (a, b, c):
        s = m.create()
        assert s.idle_timeout == timedelta(minutes=2) and s.expires_at == clock.now() + 120
    assert a.create().absolute_timeout is None
    assert c.create().absolute_timeout == timedelta(days=365)
    s = a.create()
    a.set_idle_timeout(s, timedelta(hours=1))
    a.commit(s)
    clock.advance(600)
    assert a.open(s.id) is not None
    for bad in (-1, float("nan"), float("inf"), 1e300, "60", True):
        with pytest.raises(tenure.InvalidPolicy, match="idle_timeout"):
            SessionManager(idle_timeout=bad)
    with pytest.raises(tenure.InvalidPolicy, match="touch_interval"):
        SessionManager(idle_timeout=60, touch_interval=60)


def test_manual_clock_in_seconds():
    from datetime import datetime, timezone

    c = tenure.ManualClock(10.5)
    assert c.now() == 10.5
    c.advance(1.25)
    c.advance(timedelta(milliseconds=250))
    assert c.now() == 12.0
    c.set(datetime(2024, 1, 1, tzinfo=timezone.utc))
    assert c.now() == 1_704_067_200.0
    assert tenure.ManualClock().now() == 0.0
    for bad in (-1, float("nan"), 1e300, "x"):
        with pytest.raises(tenure.TenureError):
            tenure.ManualClock(bad)  # type: ignore[arg-type]
    with pytest.raises(tenure.InvalidValue, match="advance"):
        c.advance(-5)
    m = SessionManager(clock=c)
    assert m.now() == c.now()


def test_metrics_keys(manager):
    assert set(manager.metrics()) == {
        "active", "peak_active", "created_total", "expired_total", "destroyed_total",
        "rejected_total", "evicted_total", "max_alive", "avg_alive",
    }


def test_times_are_seconds_and_named_as_the_session_names_them(manager, clock):
    """One unit (seconds) and one name per concept across the Python API (#17): a listed
    session has the Session's created_at / last_access / expires_at; metrics' durations are
    max_alive / avg_alive in seconds."""
    s = manager.create("ann")
    clock.advance(5)
    (info,) = manager.sessions_of("ann")
    assert set(info) == {"id", "public_id", "principal", "created_at", "last_access", "expires_at", "version"}
    assert (info["created_at"], info["last_access"], info["expires_at"]) == (s.created_at, s.last_access, s.expires_at)
    assert info["created_at"] == clock.now() - 5 and info["expires_at"] == info["last_access"] + 30 * 60
    assert manager.list()[0] == [info]
    clock.advance(10)
    manager.destroy(s.id)
    m = manager.metrics()
    assert m["max_alive"] == 15.0 and m["avg_alive"] == 15.0


def test_per_session_objects_end_with_their_session(clock):
    m = SessionManager(idle_timeout=60, max_sessions=2, on_full="evict_lru", clock=clock)
    made = []

    def factory() -> dict:
        made.append(1)
        return {}

    carts = m.per_session(factory)
    a = m.create()
    assert len(made) == 0, "created on first use only"
    carts(a)["x"] = 1
    assert carts(a) == {"x": 1} and len(made) == 1
    clock.advance(61)
    assert m.sweep() == 1 and a.id not in carts, "dropped on expiry"
    b, c = m.create(), m.create()
    carts(b)
    clock.advance(1)
    carts(c)
    m.open(c.id)
    m.create()  # evicts b, the least recently used
    assert b.id not in carts and c.id in carts, "dropped on eviction"
    clock.advance(61)
    assert m.open(c.id) is None and c.id not in carts, "dropped when found expired on open"


def test_many_threads_through_a_python_store():
    # The core calls back into Python while other threads wait for its lock: no deadlock.
    from tenure.stores import DictStore

    m = SessionManager(store=DictStore())
    sid = m.create().id
    errors = []

    def work() -> None:
        try:
            for _ in range(300):
                s = m.open(sid)
                s.increment("n")
                m.commit(s)
                m.count()
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in threads)
    assert m.peek(sid)["n"] == 1800


def test_fuzzed_inputs_never_panic(manager):
    # A Rust panic would surface as pyo3's PanicException, a BaseException that the
    # `except Exception` below does not catch: the test would fail.
    import random

    rng = random.Random(1234)
    alphabet = "sS:.=;\" ,\x00\x7fé😀%+/-_aAzZ09\\"

    def text(n: int) -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(n)))

    def blob(n: int) -> bytes:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(n)))

    s = manager.create()
    record = manager.export()
    calls = [
        lambda: manager.open(text(40)), lambda: manager.peek(text(40)),
        lambda: manager.destroy(text(40)), lambda: manager.sessions_of(text(10)),
        lambda: manager.import_(blob(200)), lambda: manager.import_(record[: rng.randrange(len(record))]),
        lambda: tenure.decode_record(blob(200)), lambda: tenure.unsign_cookie(text(80), [text(40) or "k"]),
        lambda: tenure.unsign_cookie_index(text(80), text(40) or "k"),
        lambda: tenure.find_session_id(text(200), text(5) or "sid", ["k" * 32]),
        lambda: tenure.parse_cookie_header(text(300)), lambda: tenure.parse_bearer(text(60)),
        lambda: tenure.unsign_token(text(80), ["k" * 32]), lambda: tenure.encode_uri_component(text(60)),
        lambda: tenure.build_set_cookie(text(20), name=text(10) or "n", path=text(10), domain=text(10) or None,
                                        max_age=rng.choice([None, 0, 2**53, 1e300, -1, float("nan")]),
                                        now=rng.choice([0, 2**53, -1, float("inf")])),
        lambda: tenure.sign_cookie(text(40), text(40)),
        lambda: s.__setitem__(text(300) or "k", rng.choice([2**70, float("nan"), {1}, [[[[]]]] * 3, text(50)])),
        lambda: s.increment(text(10) or "n", rng.choice([2**63 - 1, -(2**63), 1])),
        lambda: s.flash(text(100), text(100)), lambda: manager.commit(s),
        lambda: manager.list(text(30) or None, rng.choice([0, 1, 10**6])),
        lambda: manager.destroy_all_of(text(10), text(10)),
    ]
    for _ in range(3000):
        try:
            rng.choice(calls)()
        except Exception:
            pass
    assert tenure.ManualClock is not None  # the interpreter is alive and well
