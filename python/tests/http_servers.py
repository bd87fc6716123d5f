"""Real HTTP servers for the drop-in tests, each in a thread on a free port of 127.0.0.1:
uvicorn for ASGI apps (Starlette, FastAPI), Werkzeug's ``make_server`` for Flask."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable

import httpx
import uvicorn
from werkzeug.serving import make_server


@contextmanager
def uvicorn_server(app: Any) -> Iterator[str]:
    """Serves ``app`` with uvicorn until the block ends; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextmanager
def werkzeug_server(app: Any) -> Iterator[str]:
    """Serves the WSGI ``app`` with Werkzeug's threaded server; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


@contextmanager
def clients(server: Callable[[Any], Any]) -> Iterator[Callable[[Any], httpx.Client]]:
    """``start(app)`` serves ``app`` with ``server`` (``uvicorn_server``, ``werkzeug_server``)
    until the block ends and returns an httpx client for it (cookies kept)."""
    running: list[Any] = []

    def start(app: Any) -> httpx.Client:
        cm = server(app)
        client = httpx.Client(base_url=cm.__enter__(), timeout=10)
        running.append((cm, client))
        return client

    try:
        yield start
    finally:
        for cm, client in reversed(running):
            client.close()
            cm.__exit__(None, None, None)
