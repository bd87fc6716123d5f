"""Sessions in Redis behind a real ASGI server: tenure.asgi + tenure.redis versus
starsessions' RedisStore + Starlette (the Python half of ``make bench-redis``).

Each round starts, per library, a fresh redis-server (no persistence) and a uvicorn
server process, then measures against it:

- bytes sent to Redis and commands per request, for a request that changes 1 key of a
  10-key session (``INFO stats``: total_net_input_bytes and total_commands_processed,
  after ``CONFIG RESETSTAT``; the one INFO command that reads them is subtracted). Redis
  counts the commands a Lua script runs inside it too (tenure's EVALSHA runs HGET + HSET),
  so "cmds" is Redis's work; "client cmds" counts only what the app sent (seen with
  MONITOR over 100 more requests);
- lost increments: 50 concurrent requests bump one counter of one session, each library
  its own idiomatic way (tenure: ``request.session.increment``; starsessions, which has
  no merge: ``session["n"] = session.get("n", 0) + 1``); lost = 50 - final value;
- requests per second: 2,000 such 1-key requests from 16 concurrent clients, each on its
  own session.

Printed, not asserted: medians of ROUNDS rounds (default 3, env ROUNDS) and the ratios.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python" / "tests"))
from redis_server import RedisServer, free_port  # noqa: E402

SECRET = "bench-secret-0123456789-0123456789-abcdef"
KINDS = ("tenure", "starsessions")
#: 10 keys of modest size (a user id, a name, flags, a small cart...).
INITIAL: dict[str, Any] = {f"k{i}": f"value-{i}-" + "x" * 40 for i in range(9)}
SEQUENTIAL = 500
CONCURRENT_BUMPS = 50
RPS_REQUESTS = 2_000
RPS_CLIENTS = 16


# -- the two apps (run in the server process) ---------------------------------------------

def make_app(kind: str, redis_port: int) -> Any:
    import redis.asyncio
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    client = redis.asyncio.Redis(port=redis_port)

    if kind == "tenure":
        import tenure.aio
        import tenure.asgi
        from tenure.redis import AsyncRedisStore

        manager = tenure.aio.SessionManager(store=AsyncRedisStore(client))

        async def init(request: Request) -> JSONResponse:
            request.session.update(INITIAL)
            request.session["n"] = 0
            return JSONResponse({"ok": True})

        async def bump(request: Request) -> JSONResponse:
            return JSONResponse({"n": request.session.increment("n")})

        async def read(request: Request) -> JSONResponse:
            return JSONResponse({"n": request.session.get("n")})

        middleware = [Middleware(tenure.asgi.SessionMiddleware, secret_key=SECRET, https_only=False, manager=manager,
                                 max_age=None)]  # the manager's 30 idle minutes rule
    else:
        from starsessions import SessionAutoloadMiddleware, SessionMiddleware
        from starsessions.stores.redis import RedisStore

        async def init(request: Request) -> JSONResponse:
            request.session.update(INITIAL)
            request.session["n"] = 0
            return JSONResponse({"ok": True})

        async def bump(request: Request) -> JSONResponse:
            request.session["n"] = request.session.get("n", 0) + 1
            return JSONResponse({"n": request.session["n"]})

        async def read(request: Request) -> JSONResponse:
            return JSONResponse({"n": request.session.get("n")})

        middleware = [
            Middleware(SessionMiddleware, store=RedisStore(connection=client), cookie_https_only=False, lifetime=3600),
            Middleware(SessionAutoloadMiddleware),
        ]
    return Starlette(
        routes=[Route("/init", init), Route("/bump", bump), Route("/read", read)], middleware=middleware
    )


def serve(kind: str, port: int, redis_port: int) -> None:
    import uvicorn

    uvicorn.run(make_app(kind, redis_port), host="127.0.0.1", port=port, log_level="warning",
                access_log=False, lifespan="off")


# -- the client side ---------------------------------------------------------------------

class Target:
    """A redis-server and a uvicorn process running one library's app."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.redis = RedisServer().start()
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "serve", kind, str(self.port), str(self.redis.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    async def ready(self) -> None:
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient() as c:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the {self.kind} server exited")
                try:
                    await c.get(self.url + "/read")
                    return
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"the {self.kind} server did not start") from None
                    await asyncio.sleep(0.05)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.redis.close()


async def new_session(c: httpx.AsyncClient, url: str) -> None:
    r = await c.get(url + "/init")
    r.raise_for_status()
    assert c.cookies, "no session cookie"


async def client_commands(t: Target, c: httpx.AsyncClient, n: int) -> int:
    """Commands the app sent Redis over ``n`` requests (MONITOR lines not from a script)."""
    out = Path(t.redis.dir) / "monitor.txt"
    with open(out, "w") as f:
        mon = subprocess.Popen(["redis-cli", "-p", str(t.redis.port), "monitor"], stdout=f)
        await asyncio.sleep(0.3)
        for _ in range(n):
            (await c.get("/bump")).raise_for_status()
        await asyncio.sleep(0.3)
        mon.terminate()
        mon.wait(5)
    return sum(1 for line in out.read_text().splitlines() if "127.0.0.1:" in line and '"monitor"' not in line.lower())


async def measure(t: Target) -> dict[str, float]:
    out: dict[str, float] = {}
    await t.ready()
    # 1. Redis traffic of a 1-key change to a 10-key session.
    async with httpx.AsyncClient(base_url=t.url) as c:
        await new_session(c, t.url)
        await c.get("/bump")
        t.redis.command("CONFIG", "RESETSTAT")
        for _ in range(SEQUENTIAL):
            (await c.get("/bump")).raise_for_status()
        stats = t.redis.stats()
        # The INFO that read them: one command, its bytes on the wire.
        info_bytes = len("*2\r\n$4\r\nINFO\r\n$5\r\nstats\r\n")
        out["bytes/req"] = (stats["total_net_input_bytes"] - info_bytes) / SEQUENTIAL
        out["cmds/req"] = (stats["total_commands_processed"] - 1) / SEQUENTIAL
        out["client cmds/req"] = await client_commands(t, c, 100) / 100
    # 2. Lost increments: 50 concurrent bumps of one session's counter.
    async with httpx.AsyncClient(base_url=t.url, limits=httpx.Limits(max_connections=CONCURRENT_BUMPS)) as c:
        await new_session(c, t.url)
        rs = await asyncio.gather(*(c.get("/bump") for _ in range(CONCURRENT_BUMPS)))
        failed = sum(r.status_code != 200 for r in rs)
        final = (await c.get("/read")).json()["n"]
        out["lost"] = CONCURRENT_BUMPS - final
        out["failed"] = failed
    # 3. Throughput: 16 clients, each its own session.
    clients = [httpx.AsyncClient(base_url=t.url) for _ in range(RPS_CLIENTS)]
    try:
        await asyncio.gather(*(new_session(c, t.url) for c in clients))

        async def worker(c: httpx.AsyncClient, n: int) -> None:
            for _ in range(n):
                (await c.get("/bump")).raise_for_status()

        await asyncio.gather(*(worker(c, 10) for c in clients))  # warm up
        start = time.perf_counter()
        await asyncio.gather(*(worker(c, RPS_REQUESTS // RPS_CLIENTS) for c in clients))
        out["req/s"] = RPS_REQUESTS // RPS_CLIENTS * RPS_CLIENTS / (time.perf_counter() - start)
    finally:
        for c in clients:
            await c.aclose()
    return out


async def main() -> None:
    rounds = int(os.environ.get("ROUNDS", "3"))
    results: dict[str, list[dict[str, float]]] = {k: [] for k in KINDS}
    for i in range(rounds):
        for kind in KINDS:
            t = Target(kind)
            try:
                r = await measure(t)
            finally:
                t.close()
            results[kind].append(r)
            print(f"round {i + 1} {kind:12} " + "  ".join(f"{k} {v:,.1f}" for k, v in r.items()), flush=True)
    med = {k: {m: statistics.median(r[m] for r in results[k]) for m in results[k][0]} for k in KINDS}
    print(f"\nmedians of {rounds} rounds (a request changing 1 key of a 10-key session; "
          f"{CONCURRENT_BUMPS} concurrent increments; {RPS_CLIENTS} clients for req/s):")
    print(f"{'':14}{'bytes/req':>12}{'cmds/req':>10}{'client cmds/req':>17}{'lost':>7}{'failed':>8}{'req/s':>10}")
    for k in KINDS:
        m = med[k]
        print(f"{k:14}{m['bytes/req']:>12,.0f}{m['cmds/req']:>10.2f}{m['client cmds/req']:>17.2f}"
              f"{m['lost']:>7.0f}{m['failed']:>8.0f}{m['req/s']:>10,.0f}")
    t, s = med["tenure"], med["starsessions"]
    print(f"ratios tenure/starsessions: bytes {t['bytes/req'] / s['bytes/req']:.2f}x, "
          f"commands {t['cmds/req'] / s['cmds/req']:.2f}x, req/s {t['req/s'] / s['req/s']:.2f}x; "
          f"lost increments {t['lost']:.0f} vs {s['lost']:.0f} of {CONCURRENT_BUMPS}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        asyncio.run(main())
