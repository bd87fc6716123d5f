"""One session, three languages: Python creates, Node changes, Rust reads, through one
FileStore folder; and every language writes the same bytes for the same record."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import tenure

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = sorted((ROOT / "tests/golden/records").glob("*.json"))


def rust(*args: str) -> str:
    out = subprocess.run(
        ["cargo", "run", "-q", "-p", "tenure", "--example", "interop", "--", *args],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )
    return out.stdout.strip()


def node(script: str, **env: str) -> str:
    out = subprocess.run(
        ["node", "-e", script], cwd=ROOT / "js", check=True, capture_output=True, text=True,
        env={**os.environ, **env},
    )
    return out.stdout.strip()


def test_python_creates_node_changes_rust_reads(tmp_path: Path) -> None:
    py = tenure.SessionManager(store=tenure.FileStore(tmp_path))
    s = py.create(principal="ann", data={"n": 1, "bytes": b"\x00\xff", "f": 1.5, "whole": 2.0,
                                          "list": [1, "x", None], "$b": "not bytes"})
    node("""
      const { SessionManager, FileStore } = require('tenure');
      const m = new SessionManager({ store: new FileStore(process.env.DIR) });
      const s = m.open(process.env.ID);
      s.increment('n');
      s.set('from_node', true);
      s.flash('info', 'hi from node');
      m.commit(s);
    """, DIR=str(tmp_path), ID=s.id)
    record_bytes = (tmp_path / f"{s.id}.json").read_bytes()
    from_rust = rust("read", str(tmp_path), s.id)
    assert from_rust.encode() == record_bytes, "Rust re-encodes the stored record byte for byte"
    record = json.loads(from_rust)
    assert record["principal"] == "ann" and record["version"] == 2
    assert record["data"]["n"] == 2 and record["data"]["from_node"] is True
    assert record["data"]["bytes"] == {"$b": "AP8="} and record["data"]["$$b"] == "not bytes"
    assert record["flash"] == [["info", "hi from node"]]
    back = py.open(s.id)
    assert dict(back) == {"n": 2, "bytes": b"\x00\xff", "f": 1.5, "whole": 2.0, "list": [1, "x", None],
                          "$b": "not bytes", "from_node": True}
    assert type(back["whole"]) is float and type(back["n"]) is int
    assert back.take_flashes() == [("info", "hi from node")]


@pytest.mark.parametrize("golden", GOLDEN, ids=[g.stem for g in GOLDEN])
def test_every_language_writes_the_same_bytes(golden: Path, tmp_path: Path) -> None:
    raw = golden.read_bytes()
    record = json.loads(raw)
    now = record["accessed"]
    blob = tmp_path / "blob.json"
    blob.write_bytes(b'{"v":1,"sessions":[' + raw + b"]}")
    name = f"{record['id']}.json"
    # Python
    py_dir = tmp_path / "py"
    m = tenure.SessionManager(store=tenure.FileStore(py_dir), clock=tenure.ManualClock(now / 1000))
    assert m.import_(blob.read_bytes()) == 1
    # Node
    js_dir = tmp_path / "js"
    node("""
      const fs = require('node:fs');
      const { SessionManager, FileStore, ManualClock } = require('tenure');
      const m = new SessionManager({ store: new FileStore(process.env.DIR), clock: new ManualClock(Number(process.env.NOW)) });
      if (m.import(new Uint8Array(fs.readFileSync(process.env.BLOB))) !== 1) process.exit(1);
    """, DIR=str(js_dir), NOW=str(now), BLOB=str(blob))
    # Rust
    rs_dir = tmp_path / "rs"
    assert rust("import", str(rs_dir), str(now), str(blob)) == "1"
    for d in (py_dir, js_dir, rs_dir):
        assert (d / name).read_bytes() == raw, f"{d.name} wrote different bytes"


def test_a_cookie_signed_anywhere_verifies_everywhere() -> None:
    secret = "interop-secret-0123456789-0123456789"
    sid = "3q2-7wAAAAAAAAAAAAAAAA"
    from_py = tenure.sign_cookie(sid, secret)
    from_node = node("""
      const t = require('tenure');
      console.log(t.signCookie(process.env.SID, process.env.SECRET));
      if (t.unsignCookie(process.env.PYSIGNED, [process.env.SECRET]) !== process.env.SID) process.exit(1);
    """, SID=sid, SECRET=secret, PYSIGNED=from_py)
    assert from_node == from_py
    assert tenure.unsign_cookie(from_node, [secret]) == sid
