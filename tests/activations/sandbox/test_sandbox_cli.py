"""``activations sandbox serve`` as a real subprocess, and its clear input errors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from activations.sandbox.server import serve_in_thread

CLI = [sys.executable, "-m", "activations.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_and_keeps_state(tmp_path: Path) -> None:
    port = free_port()
    state = tmp_path / "state"
    process = subprocess.Popen([*CLI, "sandbox", "serve", "--port", str(port), "--state-dir",
                                str(state), "--webhook-url", "http://127.0.0.1:9/{provider}"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "the sandbox did not start"
                time.sleep(0.2)
        assert page.status_code == 200 and "ESP sandbox" in page.text
        config = httpx.post(f"http://127.0.0.1:{port}/_sandbox/config", json={}).json()
        assert config["webhook_url"] == "http://127.0.0.1:9/{provider}"
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=20)[0]
    assert f"http://localhost:{port}/" in output
    assert (state / "sandbox.sqlite3").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--port", "70000"], "--port 70000 is not a TCP port"),
    (["--port", "0", "--webhook-url", "ftp://example.com"], "is not an http(s) URL"),
])
def test_bad_options_are_one_clear_message(args: list[str], message: str, tmp_path: Path) -> None:
    done = subprocess.run([*CLI, "sandbox", "serve", "--state-dir", str(tmp_path), *args],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "NO_COLOR": "1"})
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_port_in_use_is_a_clear_message(tmp_path: Path) -> None:
    with serve_in_thread() as running:
        done = subprocess.run([*CLI, "sandbox", "serve", "--port", str(running.port),
                               "--state-dir", str(tmp_path)],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{running.port}" in done.stderr
    assert "Traceback" not in done.stderr
