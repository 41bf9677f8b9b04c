"""Running the collector: in the foreground (``activations collect serve``) or
in a daemon thread of this process (tests, the demo, the generator's
``--via-collector`` against a local warehouse)."""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from activations.collect.app import create_app


@dataclass
class CollectorServer:
    url: str
    write_key: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        """Graceful: the gathered batch is written before the thread ends."""
        self.server.should_exit = True
        self.thread.join(timeout=30)


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def start_in_thread(
    warehouse: str | None, *, write_key: str | None = None, port: int = 0, **options: Any
) -> CollectorServer:
    """Start a collector on 127.0.0.1 (``port`` 0: a free one) in a daemon thread;
    returns once it answers. ``options`` go to ``create_app``."""
    key = write_key or f"wk_{secrets.token_hex(12)}"
    app = create_app(warehouse, write_keys=[key], **options)
    sock = _bind("127.0.0.1", port)
    actual = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"collector-{actual}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the collector did not start")
        time.sleep(0.01)
    return CollectorServer(f"http://127.0.0.1:{actual}", key, server, thread)


@contextmanager
def collector_in_thread(
    warehouse: str | None, *, write_key: str | None = None, **options: Any
) -> Iterator[CollectorServer]:
    """A collector for the duration of a ``with`` block (stopped gracefully after)."""
    server = start_in_thread(warehouse, write_key=write_key, **options)
    try:
        yield server
    finally:
        server.stop()


def serve_forever(warehouse: str | None, *, host: str, port: int, **options: Any) -> None:
    """The CLI: run in the foreground until interrupted (SIGINT/SIGTERM flush the
    gathered batch before exiting)."""
    app = create_app(warehouse, **options)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
