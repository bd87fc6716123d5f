"""Python API throughput next to a pure-Python baseline with the same semantics, measured in
the same run: ops/s (median of rounds) for create (with data, and as a web request does it:
create, three sets, commit), open+set+commit and open+increment+commit.

The baseline is what a careful pure-Python server-side session store does: records kept as
JSON strings in a dict (like starsessions' InMemoryStore with its JSON serializer), idle and
absolute expiry checked on every open and commit, touches persisted, and commits that
re-read the stored record and re-apply the change log (so concurrent requests merge);
values refused as tenure refuses them (NaN, infinities, oversized data).
"""

from __future__ import annotations

import json
import secrets
import statistics
import time
from typing import Any, Callable

import tenure

IDLE, ABSOLUTE, TOUCH = 1800.0, 86400.0, 60.0
MAX_DATA_BYTES = 256 * 1024


def dump(rec: dict[str, Any]) -> str:
    """Encodes a record, refusing NaN/infinities and oversized data as tenure does."""
    raw = json.dumps(rec, allow_nan=False, separators=(",", ":"))
    if len(raw) > MAX_DATA_BYTES + 4096:
        raise ValueError("max_data_bytes exceeded")
    return raw


class BaselineSession:
    __slots__ = ("rec", "ops")

    def __init__(self, rec: dict[str, Any]) -> None:
        self.rec = rec
        self.ops: list[tuple[str, str, Any]] = []

    def __setitem__(self, k: str, v: Any) -> None:
        self.rec["data"][k] = v
        self.ops.append(("set", k, v))

    def increment(self, k: str, by: int = 1) -> int:
        cur = self.rec["data"].get(k, 0)
        if type(cur) is not int:
            raise ValueError(k)
        self.rec["data"][k] = cur + by
        self.ops.append(("inc", k, by))
        return cur + by


class Baseline:
    def __init__(self) -> None:
        self.store: dict[str, str] = {}

    @staticmethod
    def _alive(rec: dict[str, Any], now: float) -> bool:
        return now < min(rec["accessed"] + rec["idle"], rec["created"] + rec["absolute"])

    def create(self, data: dict[str, Any] | None = None) -> BaselineSession:
        now = time.time()
        sid = secrets.token_urlsafe(16)
        while sid in self.store:
            sid = secrets.token_urlsafe(16)
        rec = {"v": 1, "id": sid, "created": now, "accessed": now, "idle": IDLE,
               "absolute": ABSOLUTE, "principal": None, "version": 1, "data": dict(data or {}),
               "flash": []}
        self.store[sid] = dump(rec)
        return BaselineSession(rec)

    def open(self, sid: str) -> BaselineSession | None:
        raw = self.store.get(sid)
        if raw is None:
            return None
        rec = json.loads(raw)
        now = time.time()
        if not self._alive(rec, now):
            del self.store[sid]
            return None
        if now - rec["accessed"] >= TOUCH:
            rec["accessed"] = now
            self.store[sid] = dump(rec)
        return BaselineSession(rec)

    def commit(self, s: BaselineSession) -> None:
        raw = self.store.get(s.rec["id"])
        if raw is None:
            raise KeyError("gone")
        cur = json.loads(raw)
        now = time.time()
        if not self._alive(cur, now):
            raise KeyError("gone")
        for op, k, v in s.ops:
            if op == "set":
                cur["data"][k] = v
            else:
                base = cur["data"].get(k, 0)
                if type(base) is not int:
                    raise ValueError(k)
                cur["data"][k] = base + v
        cur["version"] += 1
        if now - cur["accessed"] >= TOUCH:
            cur["accessed"] = now
        self.store[cur["id"]] = dump(cur)
        s.rec, s.ops = cur, []


def ops_per_second(fn: Callable[[int], Any], n: int, rounds: int = 7) -> float:
    rates = []
    for _ in range(rounds):
        t = time.perf_counter()
        for i in range(n):
            fn(i)
        rates.append(n / (time.perf_counter() - t))
    return statistics.median(rates)


def main() -> None:
    n = 20_000
    data = {"user": "u1", "views": 3, "theme": "dark"}
    results = []

    m = tenure.SessionManager()
    ids = [m.create(data=data).id for _ in range(n)]
    b = Baseline()
    bids = []
    for _ in range(n):
        bids.append(b.create(data).rec["id"])

    def t_create(_: int) -> None:
        m.create(data=data)

    def b_create(_: int) -> None:
        b.create(data)

    def t_lazy(_: int) -> None:
        s = m.create()
        for k, v in data.items():
            s[k] = v
        m.commit(s)

    def b_lazy(_: int) -> None:
        s = b.create()
        for k, v in data.items():
            s[k] = v
        b.commit(s)

    def t_set(i: int) -> None:
        s = m.open(ids[i % n])
        s["theme"] = "light"
        m.commit(s)

    def b_set(i: int) -> None:
        s = b.open(bids[i % n])
        s["theme"] = "light"
        b.commit(s)

    def t_inc(i: int) -> None:
        s = m.open(ids[i % n])
        s.increment("views")
        m.commit(s)

    def b_inc(i: int) -> None:
        s = b.open(bids[i % n])
        s.increment("views")
        b.commit(s)

    for name, ours, base in (("create(data=3 keys)", t_create, b_create),
                             ("create + 3 sets + commit", t_lazy, b_lazy),
                             ("open + set + commit", t_set, b_set),
                             ("open + increment + commit", t_inc, b_inc)):
        r_ours = ops_per_second(ours, n)
        r_base = ops_per_second(base, n)
        results.append((name, r_ours, r_base))

    print(f"tenure Python API vs pure-Python baseline (median of 7 rounds of {n:,} ops)")
    print(f"  {'operation':<28}{'tenure ops/s':>14}{'baseline ops/s':>16}{'ratio':>8}")
    for name, r_ours, r_base in results:
        ratio = r_ours / r_base
        verdict = "met" if ratio >= 3 else "NOT met"
        print(f"  {name:<28}{r_ours:>14,.0f}{r_base:>16,.0f}{ratio:>7.1f}x  (3x target {verdict})")


if __name__ == "__main__":
    main()
