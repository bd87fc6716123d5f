"""`make soak`: the Node and the Python demo servers under continuous logins and requests
with short timeouts, for SOAK_SECONDS (default 180). Printed, not asserted.

Each server runs on its in-memory store with IDLE_TIMEOUT_MS (default 5000),
ABSOLUTE_TIMEOUT_MS (20000) and a sweep every SWEEP_INTERVAL_MS (5000), and writes a
`tenure-metrics {json}` line on stderr every 10 s (RSS, sessions alive, expired so far, the
longest event-loop stall of the period). The load generator (asyncio, one keep-alive
connection per worker) keeps SOAK_WORKERS (default 8) clients per server busy at about
SOAK_RATE requests a second per server (default 150): each client logs in (a new session),
makes SOAK_CALLS (5) calls with its token (SetValue, GetValue, IncrementCounter, AddItem,
GetCart), then leaves the session to expire. Every 10 s a row per server: RSS, sessions
alive, expired total, requests done and failed, the longest stall.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import httpx

ROOT = Path(__file__).resolve().parents[1]
SECONDS = int(os.environ.get("SOAK_SECONDS", "180"))
WORKERS = int(os.environ.get("SOAK_WORKERS", "8"))
RATE = float(os.environ.get("SOAK_RATE", "150"))
CALLS = int(os.environ.get("SOAK_CALLS", "5"))
PERIOD = 10.0
TIMEOUTS = {
    "IDLE_TIMEOUT_MS": os.environ.get("IDLE_TIMEOUT_MS", "5000"),
    "ABSOLUTE_TIMEOUT_MS": os.environ.get("ABSOLUTE_TIMEOUT_MS", "20000"),
    "SWEEP_INTERVAL_MS": os.environ.get("SWEEP_INTERVAL_MS", "5000"),
    "METRICS_MS": str(int(PERIOD * 1000)),
}
SECRET = "soak-secret-0123456789-0123456789-abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    kind: str
    command: list[str]
    port: int = field(default_factory=free_port)
    proc: Optional[subprocess.Popen[str]] = None
    metrics: list[dict[str, Any]] = field(default_factory=list)
    done: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def start(self) -> None:
        env = dict(os.environ, PORT=str(self.port), HOST="127.0.0.1", TENURE_SECRET=SECRET, **TIMEOUTS)
        for k in ("REDIS_URL", "STORE_DIR"):
            env.pop(k, None)
        self.proc = subprocess.Popen(self.command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read_metrics, daemon=True).start()
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the {self.kind} server exited with {self.proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"the {self.kind} server did not start")

    def _read_metrics(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            if line.startswith("tenure-metrics "):
                self.metrics.append(json.loads(line[len("tenure-metrics "):]))
            elif line.strip() and "TENURE_SECRET" not in line:
                print(f"[{self.kind}] {line.rstrip()}", file=sys.stderr)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


CALL_BODIES: list[tuple[str, dict[str, Any]]] = [
    ("SessionApi.SetValue", {"key": "name", "value": {"first": "soak", "n": [1, 2, 3]}}),
    ("SessionApi.GetValue", {"key": "name"}),
    ("SessionApi.IncrementCounter", {"key": "hits"}),
    ("CartApi.AddItem", {"itemId": "item1", "quantity": 2}),
    ("CartApi.GetCart", {}),
]


async def client(server: Server, stop_at: float, pace: float) -> None:
    """Logs in, makes CALLS calls, starts over; one request every `pace` seconds at most."""
    base = f"http://127.0.0.1:{server.port}/root/"
    async with httpx.AsyncClient(base_url=base, timeout=10.0) as http:

        nxt = time.monotonic()
        i = 0
        token: Optional[str] = None
        while time.monotonic() < stop_at:
            nxt += pace
            delay = nxt - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            if token is None:
                path, body = "Auth?UserName=user1", {"UserName": "user1", "PassWord": "pass1"}
            else:
                path, body = CALL_BODIES[i % len(CALL_BODIES)]
            try:
                r = await http.post(path, json=body, headers=headers)
                # Bearer tokens only: a kept cookie would ride along with the next login,
                # which then regenerates that session instead of making a new one.
                http.cookies.clear()
                ok = r.status_code == 200
                why = f"{r.status_code} {r.text[:80]}"
            except httpx.HTTPError as e:
                ok, why = False, f"{type(e).__name__}: {e}"
            server.done += 1
            if not ok:
                server.failed += 1
                server.errors[why] = server.errors.get(why, 0) + 1
                token = None
                continue
            if token is None:
                token = r.json()["session"]
                i = 0
            else:
                i += 1
                if i >= CALLS:
                    token = None  # the session is left to expire


# The machine's own noise, measured in the same run: an idle event loop in a process of its
# own, probed as the Python demo probes its loop (its `longest_lags`). A stall the servers show and this shows too
# is the scheduler's (2 shared cores), not the servers' work.
PROBE = f"""
import asyncio, json, sys
sys.path.insert(0, "python/examples/sessions")
from server import longest_lags
async def main():
    async for lag in longest_lags({PERIOD}):
        print("tenure-metrics " + json.dumps({{"stallMs": round(lag * 1000, 2)}}), file=sys.stderr, flush=True)
asyncio.run(main())
"""


class Probe(Server):
    def start(self) -> None:
        self.proc = subprocess.Popen(self.command, cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read_metrics, daemon=True).start()


def row(t: float, servers: list[Server], probe: Server) -> str:
    cells = [f"{t:5.0f}"]
    for s in servers:
        m = s.metrics[-1] if s.metrics else {}
        cells.append(
            f"{m.get('rss', 0) / 2**20:7.1f} {m.get('active', 0):6} {m.get('expiredTotal', 0):8} "
            f"{s.done:7} {s.failed:5} {m.get('stallMs', 0):7.1f}"
        )
    cells.append(f"{probe.metrics[-1]['stallMs'] if probe.metrics else 0:7.1f}")
    return " | ".join(cells)


async def main() -> None:
    servers = [
        Server("node", ["node", str(ROOT / "js/examples/sessions/server.mjs")]),
        Server("python", [sys.executable, str(ROOT / "python/examples/sessions/server.py")]),
    ]
    probe = Probe("idle probe", [sys.executable, "-c", PROBE])
    try:
        probe.start()
        for s in servers:
            s.start()
        print(f"soak: {SECONDS} s, {WORKERS} clients a server at ~{RATE:.0f} req/s each server, "
              f"idle {TIMEOUTS['IDLE_TIMEOUT_MS']} ms, absolute {TIMEOUTS['ABSOLUTE_TIMEOUT_MS']} ms, "
              f"sweep every {TIMEOUTS['SWEEP_INTERVAL_MS']} ms")
        head = "RSS MB  alive  expired    done  fail stallms"
        print(f"{'t s':>5} | {'node: ' + head} | {'python: ' + head} | idle probe stallms")
        start = time.monotonic()
        stop_at = start + SECONDS
        tasks = [asyncio.create_task(client(s, stop_at, WORKERS / RATE)) for s in servers for _ in range(WORKERS)]
        seen = 0
        while time.monotonic() < stop_at:
            await asyncio.sleep(0.5)
            n = min(len(s.metrics) for s in servers)
            if n > seen:
                seen = n
                print(row(time.monotonic() - start, servers, probe), flush=True)
        await asyncio.gather(*tasks)
        await asyncio.sleep(PERIOD + 1)  # one more report, after the load
        print(row(time.monotonic() - start, servers, probe) + "   (idle)")
        for s in servers:
            rss = [m["rss"] / 2**20 for m in s.metrics]
            later = rss[len(rss) // 3:] or rss
            # The first period holds the start-up (loading, the first compilations).
            print(f"{s.kind}: requests {s.done}, failed {s.failed}; longest stall after the first period "
                  f"{max((m['stallMs'] for m in s.metrics[1:]), default=0):.1f} ms; RSS over the last two "
                  f"thirds {min(later):.1f}–{max(later):.1f} MB (peak {max(rss, default=0):.1f}); "
                  f"expired {s.metrics[-1]['expiredTotal'] if s.metrics else 0}")
            for why, n in sorted(s.errors.items(), key=lambda e: -e[1])[:5]:
                print(f"  {n} × {why}")
        print(f"idle probe (the machine's own scheduling noise): longest stall after the first period "
              f"{max((m['stallMs'] for m in probe.metrics[1:]), default=0):.1f} ms")
    finally:
        for s in [*servers, probe]:
            s.stop()


if __name__ == "__main__":
    asyncio.run(main())
