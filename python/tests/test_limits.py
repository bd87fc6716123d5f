"""Issue #16: the value limits stop the conversion of a Python value early (the walk charges
the core's Budget as it goes), so a refusal costs at most the limit, not the size of the
value; lone surrogates are tenure's InvalidValue, never Python's UnicodeEncodeError.

The conversion reads lists and dicts through the C API (no Python code of the value runs),
so its work is bounded by the memory it takes, measured in a fresh interpreter: before, the
2^24-leaf structure below took 10 s and 1.5 GB, and the 10-million-item list ~300 MB."""

from __future__ import annotations

import subprocess
import sys
from typing import Iterator

import pytest

import tenure
from tenure import SessionManager


def peak_growth_mb(build: str, action: str) -> tuple[float, str]:
    """Runs `build` then `action` in a fresh interpreter; the growth of its peak RSS (MB)
    during `action`, and what `action` printed."""
    code = "\n".join(
        [
            "import resource, tenure",
            build,
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss",
            action,
            "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss",
            "print((after - before) / 1024)",
        ]
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    lines = out.stdout.strip().splitlines()
    return float(lines[-1]), "\n".join(lines[:-1])


ATTEMPT = """
try:
    s["v"] = value
    print("stored")
except tenure.LimitExceeded as e:
    print("refused:", e)
"""


def test_a_ten_million_item_list_is_refused_from_its_length() -> None:
    build = "m = tenure.SessionManager(); s = m.create(); value = [1] * 10_000_000"
    grew, said = peak_growth_mb(build, ATTEMPT)
    assert said.startswith('refused: session["v"]: larger than max_data_bytes (262144'), said
    assert grew < 16, f"the refusal took {grew:.0f} MB"


def test_shared_references_expanding_to_2_to_the_24_leaves_stop_at_the_limit() -> None:
    build = "m = tenure.SessionManager(max_depth=30); s = m.create()\nvalue = [1]\nfor _ in range(24): value = [value, value]"
    grew, said = peak_growth_mb(build, ATTEMPT)
    assert said.startswith('refused: session["v"][0]'), said
    assert "larger than max_data_bytes" in said
    assert grew < 16, f"the refusal took {grew:.0f} MB"


def test_budgets_are_per_call_and_shared_by_an_update() -> None:
    m = SessionManager(max_data_bytes=1000)
    s = m.create()
    s["a"] = "x" * 900  # fits alone
    with pytest.raises(tenure.LimitExceeded, match=r'session\["big"\]\["k"\]\[1\]: larger than max_data_bytes \(1000'):
        s["big"] = {"k": ["y" * 600, "z" * 600]}
    # update: all values of one call share one budget (each fits alone, not together).
    with pytest.raises(tenure.LimitExceeded, match=r"larger than max_data_bytes \(1000"):
        s.update({"b": "y" * 600, "c": "z" * 600})
    with pytest.raises(tenure.LimitExceeded, match=r'data\["c"\]: larger than max_data_bytes'):
        m.create(data={"b": "y" * 600, "c": "z" * 600})
    assert sorted(s) == ["a"]
    # What fits to the byte is the core's exact count to decide, as before.
    s.clear()
    s["fits"] = "y" * 987
    with pytest.raises(tenure.LimitExceeded, match=r"max_data_bytes exceeded \(1001 > 1000\)"):
        s["fits"] = "y" * 988
    m.commit(s)


@pytest.mark.parametrize(
    "call",
    [
        lambda m, s: s.__setitem__("v", "x\ud800"),
        lambda m, s: s.__setitem__("k\udc00", 1),
        lambda m, s: s.__setitem__("n", {"list": ["ok", {"\udbff": 1}]}),
        lambda m, s: s.update({"u": "\ud800"}),
        lambda m, s: s["k\ud800"],
        lambda m, s: s.get("k\ud800"),
        lambda m, s: s.increment("k\ud800"),
        lambda m, s: s.flash("c", "m\ud800"),
        lambda m, s: setattr(s, "principal", "p\ud800"),
        lambda m, s: m.create(principal="p\ud800"),
        lambda m, s: m.create(data={"d": ["\udfff"]}),
    ],
)
def test_lone_surrogates_are_invalid_value_never_unicode_encode_error(call: object) -> None:
    m = SessionManager()
    s = m.create()
    s["keep"] = 1
    with pytest.raises(tenure.InvalidValue, match="lone surrogate") as e:
        call(m, s)  # type: ignore[operator]
    assert not isinstance(e.value, UnicodeError)
    assert sorted(s) == ["keep"] and m.count() == 1


def test_lone_surrogate_errors_name_the_key() -> None:
    s = SessionManager().create()
    with pytest.raises(tenure.InvalidValue, match=r"session key 'k\\udc00'"):
        s["k\udc00"] = 1
    with pytest.raises(tenure.InvalidValue, match=r'session\["n"\]\["list"\]\[1\]'):
        s["n"] = {"list": ["ok", "\ud800"]}


def test_nesting_far_past_the_recursion_limit_is_limit_exceeded() -> None:
    m = SessionManager()
    s = m.create()
    deep: list[object] = []
    cur = deep
    for _ in range(50_000):
        nxt: list[object] = []
        cur.append(nxt)
        cur = nxt
    for call in (lambda: s.__setitem__("d", deep), lambda: s.update({"d": deep}), lambda: m.create(data={"d": deep})):
        with pytest.raises(tenure.LimitExceeded, match="max_depth exceeded"):
            call()
    # An export blob nested that deep is untrusted input: a DecodeError, not a RecursionError.
    s["ok"] = [[1]]
    m.commit(s)
    blob = m.export().replace(b"[[1]]", b"[" * 50_000 + b"]" * 50_000)
    with pytest.raises(tenure.DecodeError, match="nesting deeper"):
        SessionManager().import_(blob)


def test_web_config_find_reads_no_more_cookie_headers_than_the_core_looks_at() -> None:
    from itertools import count

    from tenure import _native

    cfg = _native.WebConfig("x" * 32, secure=False)
    read: list[int] = []

    def endless() -> Iterator[str]:
        for i in count():  # before: read until memory ran out
            read.append(i)
            yield "other=1"

    assert cfg.find(endless()).id is None  # type: ignore[arg-type]
    assert len(read) == 16
    with pytest.raises(tenure.InvalidType, match="cookie_headers"):
        cfg.find(["ok=1", "\ud800"])
