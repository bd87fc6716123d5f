"""One FileStore folder written by Rust, Node and Python processes at once: the lock protocol
of docs/stores.md ("The file layout") is one protocol, so no update is lost whichever language
writes, and a lock left by a process of one language killed with SIGKILL is broken by the
others.

Workers: crates/tenure/examples/file_counter.rs (Rust), js/examples/file-counter.cjs (Node,
sync and async), and Python's tenure.FileStore (the Rust store through PyO3).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tenure

ROOT = Path(__file__).resolve().parents[2]
ID = "AAAAAAAAAAAAAAAAAAAAAA"
CREATED = 1_700_000_000_000

PY_WORKER = """
import json, sys, tenure
store = tenure.FileStore(sys.argv[1])
conflicts = 0
for _ in range(int(sys.argv[3])):
    while True:
        r = json.loads(store.get(sys.argv[2]))
        expected = r["version"]
        r["version"] += 1
        r["data"]["n"] += 1
        if store.replace(sys.argv[2], json.dumps(r, separators=(",", ":")).encode(), expected):
            break
        conflicts += 1
print(conflicts)
"""


@pytest.fixture(scope="module")
def rust_counter() -> Path:
    subprocess.run(["cargo", "build", "-q", "-p", "tenure", "--example", "file_counter"],
                   cwd=ROOT, check=True)
    return ROOT / "target/debug/examples/file_counter"


def seed(folder: Path) -> None:
    record = {"v": 1, "id": ID, "created": CREATED, "accessed": CREATED, "idle": None,
              "absolute": None, "principal": None, "version": 1, "data": {"n": 0}, "flash": []}
    assert tenure.FileStore(folder).insert(ID, json.dumps(record, separators=(",", ":")).encode())


def worker(kind: str, rust_counter: Path, folder: Path, cycles: int) -> subprocess.Popen[str]:
    args = {
        "rust": [str(rust_counter)],
        "node": ["node", str(ROOT / "js/examples/file-counter.cjs")],
        "python": [sys.executable, "-c", PY_WORKER],
    }[kind.split("-")[0]]
    tail = ["async"] if kind == "node-async" else []
    return subprocess.Popen([*args, str(folder), ID, str(cycles), *tail],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(procs: list[subprocess.Popen[str]], timeout: float) -> int:
    conflicts = 0
    for p in procs:
        out, err = p.communicate(timeout=timeout)
        assert p.returncode == 0, err
        conflicts += int(out.strip())
    return conflicts


def assert_counter(folder: Path, n: int) -> None:
    # The record decodes through the core and holds every increment.
    m = tenure.SessionManager(store=tenure.FileStore(folder), clock=tenure.ManualClock(CREATED / 1000))
    s = m.open(ID)
    assert s is not None
    assert s["n"] == n
    assert sorted(n for n in os.listdir(folder) if n != ".index") == [f"{ID}.json"], "no lock or temporary file left"


def test_rust_node_and_python_processes_lose_no_update(tmp_path: Path, rust_counter: Path) -> None:
    seed(tmp_path)
    kinds = ["rust", "rust", "node", "node-async", "python", "python"]
    started = time.perf_counter()
    conflicts = finish([worker(k, rust_counter, tmp_path, 100) for k in kinds], timeout=60)
    print(f"\n{len(kinds)} x 100 cycles in {time.perf_counter() - started:.2f} s, "
          f"{conflicts} lost races retried")
    assert_counter(tmp_path, 100 * len(kinds))


def test_a_node_holder_killed_with_sigkill_does_not_block_rust_or_python(
        tmp_path: Path, rust_counter: Path) -> None:
    seed(tmp_path)
    holder = subprocess.Popen(
        ["node", "-e", """
          const { FileStore } = require(process.argv[1]);
          new FileStore(process.argv[2])._holdLock(process.argv[3]);
          console.log('locked');
          setInterval(() => {}, 1000);
        """, str(ROOT / "js/src/file-store.cjs"), str(tmp_path), ID],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    started = time.perf_counter()
    procs = [worker(k, rust_counter, tmp_path, 100) for k in ["rust", "python"]]
    time.sleep(0.3)
    assert json.loads((tmp_path / f"{ID}.json").read_bytes())["data"]["n"] == 0, \
        "nobody wrote while the holder lived"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    finish(procs, timeout=30)
    assert time.perf_counter() - started < 5
    assert_counter(tmp_path, 200)
