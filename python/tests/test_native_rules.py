"""The rules the core owns, seen from the native module: one spelling set for options, the
core's defaults, the core's shapes for listings, and a store's own exception as the cause."""

import pytest

from tenure import _native
from tenure._errors import InvalidPolicy, InvalidValue, StoreError


def manager(**kw):
    return _native.Manager(idle_ms=_native.DEFAULT_IDLE_MS, absolute_ms=_native.DEFAULT_ABSOLUTE_MS,
                           clock=_native.ManualClock(1000), **kw)


def test_the_core_defaults_are_exposed():
    assert _native.DEFAULT_IDLE_MS == 30 * 60 * 1000
    assert _native.DEFAULT_ABSOLUTE_MS == 12 * 60 * 60 * 1000
    assert _native.DEFAULT_TOUCH_MS == 60 * 1000
    assert _native.DEFAULT_ID_BYTES == 16
    assert len(manager().create(None, None).id) == 22  # 16 bytes, base64url


@pytest.mark.parametrize("on_full", ["evict_lru", "evictLru", "evict"])
def test_on_full_takes_the_same_spellings_as_js(on_full):
    m = manager(max_sessions=1, on_full=on_full)
    a = m.create(None, None)
    m.create(None, None)
    assert m.open(a.id) is None


def test_a_misspelled_on_full_is_refused_by_name():
    with pytest.raises(InvalidPolicy, match="on_full.*'reject'.*'evict_lru'.*\"drop\""):
        manager(on_full="drop")


def test_same_site_and_priority_are_parsed_by_the_core():
    assert "SameSite=Strict" in _native.build_set_cookie("v", same_site="STRICT")
    with pytest.raises(InvalidValue, match='same_site.*lax, strict, none.*"auto"'):
        _native.build_set_cookie("v", same_site="auto")
    with pytest.raises(InvalidValue, match='priority.*low, medium, high.*"urgent"'):
        _native.build_set_cookie("v", priority="urgent")


def test_a_zero_idle_timeout_is_refused_by_the_core_rule():
    with pytest.raises(InvalidPolicy, match="idle_timeout must be > 0 ms"):
        _native.Manager(idle_ms=0, absolute_ms=None)
    m = manager()
    s = m.create(None, None)
    with pytest.raises(InvalidValue, match="idle_timeout.*> 0 ms"):
        m.set_idle_timeout(s, 0)


def test_listings_carry_the_core_session_info_fields():
    m = manager()
    s = m.create("ann", None)
    m.commit(s)
    [info] = m.sessions_of("ann")
    assert list(info) == ["id", "public_id", "principal", "created_at", "last_access", "expires_at", "version"]
    assert (info["created_at"], info["last_access"]) == (1000, 1000)
    assert info["expires_at"] == 1000 + _native.DEFAULT_IDLE_MS
    assert list(m.metrics()) == ["active", "peak_active", "created_total", "expired_total", "destroyed_total",
                                 "rejected_total", "evicted_total", "max_alive_ms", "avg_alive_ms"]


class Broken:
    def get(self, id):
        raise OSError(28, "disk full")

    def insert(self, id, data):
        raise OSError(28, "disk full")

    def replace(self, id, data, expected):
        raise OSError(28, "disk full")

    def delete(self, id, expected=None):
        raise OSError(28, "disk full")

    def ids(self):
        raise OSError(28, "disk full")


def test_a_stores_own_exception_is_the_cause_without_a_side_channel():
    m = manager(store=Broken())
    with pytest.raises(StoreError) as info:
        m.create(None, None)
    assert isinstance(info.value.__cause__, OSError) and info.value.__cause__.errno == 28
